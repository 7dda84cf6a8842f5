"""The ``money:`` block of a journey (and of a portfolio): its meaning, after the structure pass.

The schema (:data:`journeymap.schema.MONEY`) has already reported wrong types, unknown keys and numbers
out of range (a negative overhead or amount, a churn link outside 0-100 points, ``below`` outside the
index's 0-100) and removed them. What it cannot say is checked here, each at its line and column:

* ``currency`` is there (in the merged journey: an overlay may leave it to its base) and is a three-letter
  ISO 4217 code in capitals (``EUR``, not ``euro`` or ``eur``);
* the churn link's ``per_point: [low, high]`` has ``low <= high``;
* the link never churns more than all of the revenue: ``below × high <= 100`` (at an index of 0 the
  churn would be ``below × high`` points a year);
* the expansion link's ``per_point`` has ``low <= high``, and at an index of 100 it adds at most all of the
  revenue again: ``(100 − above) × high <= 100``.

:func:`check_money` is the one entry point, for a journey's section checker and for a portfolio's
validation alike: it reports through a callback with the path into the file and returns the
:class:`~journeymap.money.Money` (None when absent or wrong).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ..distributions import DurationError, parse_duration
from ..loading import Path
from ..money import HOURS_PER_FTE, ChurnLink, ExpansionLink, Investment, Money
from .context import Context
from .values import is_number, mapping_or_empty

__all__ = ["check_money", "journey_money", "CURRENCY"]

#: An ISO 4217 currency code: three capital letters.
CURRENCY = re.compile(r"[A-Z]{3}")

#: report(path, rule, message, hint)
Report = Callable[[Path, str, str, str], None]


def _number(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def check_money(raw: Any, report: Report, where: Path = ("money",), *, currency: str | None = None) -> Money | None:
    """The :class:`Money` of a ``money:`` mapping, reporting what is wrong at ``where`` + its key; None when
    absent, or when anything in it is wrong (a business case is not made on half its assumptions).

    ``currency``: the currency the file gives elsewhere (a portfolio's ``portfolio: {currency}``), used when
    the block has none; a journey's block must name its own.
    """
    if raw is None:
        return None
    m = mapping_or_empty(raw)
    ok = True
    if "currency" not in m and currency is not None:
        m = {**m, "currency": currency}
    currency = m.get("currency")
    if "currency" not in m:
        report(where, "missing-key", "the money: block has no currency: its amounts (revenue, investment, the "
               "departments' cost_per_hour) would be in no unit", "add currency: EUR (or GBP, USD...)")
        return None
    if not isinstance(currency, str):
        return None  # not text: the schema pass said so
    if not CURRENCY.fullmatch(currency):
        report(where + ("currency",), "invalid-value",
               f"currency {currency[:20]!r} is not a three-letter ISO 4217 code",
               "write the code in capitals, e.g. EUR, GBP or USD")
        ok = False
    overhead = 0.0
    if isinstance(m.get("handoff_overhead"), str):
        try:
            overhead = parse_duration(m["handoff_overhead"])
        except DurationError:
            ok = False  # the schema pass reported it; the rest is still checked
    churn, churn_ok = _churn(m.get("churn"), report, where)
    expansion, expansion_ok = _expansion(m.get("expansion"), report, where)
    ok = ok and churn_ok and expansion_ok
    inv = mapping_or_empty(m.get("investment"))
    investment = (Investment(one_off=_number(inv.get("one_off")) or 0.0,
                             per_month=_number(inv.get("per_month")) or 0.0) if "investment" in m else None)
    if not ok:
        return None
    return Money(currency=currency, handoff_overhead=overhead, cases_per_year=_number(m.get("cases_per_year")),
                 revenue=_number(m.get("revenue")), churn=churn, investment=investment,
                 hours_per_fte=_number(m.get("hours_per_fte")) or HOURS_PER_FTE, expansion=expansion)


def journey_money(ctx: Context, raw: Any) -> None:
    """``money:`` of a journey: the business case's assumptions (docs/money.md)."""
    ctx.draft.money = check_money(raw, lambda path, rule, message, hint: ctx.error(path, rule, message, hint))


def _churn(c: Any, report: Report, where: Path) -> tuple[ChurnLink | None, bool]:
    """The churn link and whether it is valid: low <= high, and never more than all revenue a year."""
    if c is None:
        return None, True
    parts = _link(c, "below")
    if parts is None:
        return None, False  # the schema pass reported it (the shape, or a number out of range)
    below, low, high = parts
    if low > high:
        report(where + ("churn", "per_point"), "out-of-range",
               f"the churn link's low end {low:g} is above its high end {high:g}",
               "give per_point as [low, high], e.g. [0.5, 1.5]")
        return None, False
    if below * high > 100:
        report(where + ("churn", "per_point"), "out-of-range",
               f"the churn link could churn {below * high:g}% of revenue a year (below {below:g} × "
               f"{high:g} points per index point): more than all of it",
               f"churn is 0-100% a year: keep below × high at most 100 (high at most "
               f"{math.floor(10000 / below) / 100:g})")
        return None, False
    return ChurnLink(below, low, high), True


def _link(c: Any, line: str) -> tuple[float, float, float] | None:
    """(line, low, high) of a link the schema pass found well formed and in range; None otherwise."""
    if not (isinstance(c, dict) and is_number(c.get(line)) and isinstance(c.get("per_point"), list)
            and len(c["per_point"]) == 2 and all(is_number(x) for x in c["per_point"])):
        return None
    at, (low, high) = float(c[line]), (float(x) for x in c["per_point"])
    if not (0 <= at <= 100 and 0 <= low <= 100 and 0 <= high <= 100):
        return None
    return at, low, high


def _expansion(c: Any, report: Report, where: Path) -> tuple[ExpansionLink | None, bool]:
    """The expansion link and whether it is valid: low <= high, and at most all of the revenue again a year."""
    if c is None:
        return None, True
    parts = _link(c, "above")
    if parts is None:
        return None, False  # the schema pass reported it
    above, low, high = parts
    if low > high:
        report(where + ("expansion", "per_point"), "out-of-range",
               f"the expansion link's low end {low:g} is above its high end {high:g}",
               "give per_point as [low, high], e.g. [0.2, 0.6]")
        return None, False
    if (100 - above) * high > 100:
        report(where + ("expansion", "per_point"), "out-of-range",
               f"the expansion link could add {(100 - above) * high:g}% of revenue a year (above {above:g}: "
               f"{100 - above:g} index points × {high:g}): more than doubling every account",
               f"keep (100 − above) × high at most 100 (high at most {math.floor(10000 / (100 - above)) / 100:g})")
        return None, False
    return ExpansionLink(above, low, high), True
