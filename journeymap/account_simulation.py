"""Kept for importers until the merge of issue 11: account simulation lives in :mod:`journeymap.simulation.account`.

``load_subject`` (what ``simulate``, ``render`` and ``compare`` work on) is here
until it moves to :mod:`journeymap.loading`; the other names are re-exported
from their new homes so that ``from journeymap.account_simulation import ...``
keeps working.
"""

from __future__ import annotations

from .account import Account
from .model import Journey
from .simulation.account import END, SEPARATOR, START, combined_journey, simulate_account, summarize_account
from .simulation.records import Meeting
from .simulation.text import account_summary_text

__all__ = ["combined_journey", "simulate_account", "summarize_account", "account_summary_text", "load_subject",
           "START", "END", "SEPARATOR"]


def load_subject(path: str) -> tuple[Journey, Meeting | None, Account | None]:
    """What ``simulate``, ``render`` and ``compare`` work on: a journey file, or an account as one journey.

    Returns the journey, the meeting (None for a journey file) and the account (None likewise).
    """
    from .account import is_account_file, load_account
    from .validation import load_journey

    if is_account_file(path):
        account = load_account(path)
        journey, meeting = combined_journey(account)
        return journey, meeting, account
    return load_journey(path), None, None
