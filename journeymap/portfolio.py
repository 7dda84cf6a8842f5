"""Portfolios: a vendor's book of business, account tiers served by the same departments.

A portfolio file (docs/portfolio.md) lists the **tiers** of accounts (strategic, key, growth,
transactional...) with how many accounts each has, their revenue per account per year (a
distribution), the priority class of their cases, their service-level targets, and the
**templates** each account runs (account files or journey files) with how often per year; the
**account managers** by seniority, each with a relationship limit, and the policy that gives
accounts a manager (:mod:`journeymap.assignment`); and the vendor's **departments** every account
shares.

:func:`check_portfolio` checks a portfolio file and every template it names, reporting every
problem with its file, line and column (the checks themselves are in
:mod:`journeymap.validation.portfolio`) and never raises on bad input; :func:`load_portfolio` is
the one way in. The model is frozen records with no I/O; the simulation of a book lives in
:mod:`journeymap.simulation.portfolio`.

**Revenue reuses the duration distributions.** A revenue is money, not time, so the file writes
plain numbers (``{uniform: [5000, 40000]}``) where a duration would carry a unit.
:func:`parse_revenue` checks that every number is a plain, finite, non-negative amount, writes
each one as a duration in minutes (after dividing it by 2**20, which is exact in binary floating
point and keeps a billion-euro account inside the parser's ten-year bound), lets
:func:`journeymap.distributions.parse_distribution` build the distribution, and scales it back by
2**20 (``scaled``, exact). The result is the same ``Fixed``, ``Uniform``, ``LogNormal``... with
``mean``, ``variance`` and ``sample(rng)``, in the portfolio's currency.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .distributions import YEAR, Distribution, DurationError, parse_distribution
from .errors import JourneyInvalid
from .loading import read_text
from .model import Department, Journey, Target
from .problems import Problem, Problems

if TYPE_CHECKING:
    from .simulation import Meeting

__all__ = ["Template", "Tier", "ManagerLevel", "AccountManagement", "Portfolio", "CheckedPortfolio",
           "PortfolioInvalid", "POLICIES", "DEFAULT_POLICY", "DUNBAR", "MAX_REVENUE", "RevenueError",
           "check_portfolio", "load_portfolio", "is_portfolio_file", "parse_revenue", "parse_horizon", "parse_warmup"]

#: The assignment policies (:mod:`journeymap.assignment`), the default first.
POLICIES = ("by_revenue", "by_tier", "round_robin")
DEFAULT_POLICY = "by_revenue"
#: About how many working relationships one person can keep (Dunbar's number): a manager's limit above it warns.
DUNBAR = 150
#: A top-level ``portfolio:`` key, in block style or as the first key of a flow/JSON mapping.
_PORTFOLIO_KEY = re.compile(r'^(?:portfolio|"portfolio"|\{\s*"?portfolio"?)\s*:', re.M)
#: Revenue is divided by this before the duration parser reads it, and multiplied back after (exact: a power of 2).
_REVENUE_SCALE = 2.0 ** 20
#: The largest revenue of one account per year (a trillion): beyond it a number is a typo.
MAX_REVENUE = 1e12


@dataclass(frozen=True)
class Template:
    """What each account of a tier runs: an account file (a deal of its buying group) or a journey file."""

    #: The file as the portfolio names it (relative to the portfolio file); the key of :attr:`Portfolio.journeys`.
    ref: str
    kind: Literal["account", "journey"]
    #: How many of these one account starts per year, on average.
    per_year: float
    #: How results name these cases (``as:`` in the file; default: the file name without .yaml).
    label: str


@dataclass(frozen=True)
class Tier:
    """A group of accounts of similar value, served alike."""

    id: str
    accounts: int
    #: Revenue per account per year in the portfolio's currency: a distribution of numbers (``.mean``, ``.sample``).
    revenue: Any
    #: The priority class of the tier's cases (one of the templates' priorities), or None.
    priority: str | None
    templates: tuple[Template, ...]
    #: Journey-scope service-level targets of the tier's cases.
    targets: tuple[Target, ...] = ()
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class ManagerLevel:
    """One level of account managers: ``people`` managers, each holding at most ``relationships`` accounts."""

    level: str
    people: int
    relationships: int
    cost_per_hour: float = 0.0

    @property
    def capacity(self) -> int:
        """Accounts the whole level can hold."""
        return self.people * self.relationships

    def manager_ids(self) -> tuple[str, ...]:
        """``senior-1``, ``senior-2``, ...: how results name the managers of this level."""
        return tuple(f"{self.level}-{n}" for n in range(1, self.people + 1))


@dataclass(frozen=True)
class AccountManagement:
    """Who is each account's own manager: the steps of ``department`` go to that manager, or to the pool."""

    department: str
    #: Most senior first.
    levels: tuple[ManagerLevel, ...]
    policy: str = DEFAULT_POLICY
    #: The pooled team serving accounts without a manager: its people and their cost per hour.
    pool_capacity: int = 1
    pool_cost_per_hour: float = 0.0

    @property
    def capacity(self) -> int:
        """Accounts all managers together can hold."""
        return sum(level.capacity for level in self.levels)

    @property
    def people(self) -> int:
        return sum(level.people for level in self.levels)


@dataclass(frozen=True)
class Portfolio:
    """A book of business: tiers of accounts, their managers, and the departments they share."""

    id: str
    name: str
    currency: str
    #: How long a run simulates, in minutes.
    horizon: float
    #: The run's minute 0 (aware), or None: the templates' own start.
    start: datetime | None
    #: Every department the templates use, with the portfolio's capacity and cost where it gives them.
    departments: tuple[Department, ...]
    management: AccountManagement | None
    tiers: tuple[Tier, ...]
    #: The ``money:`` block as written (checked: the churn link within 0-100%); :mod:`journeymap.money` reads it.
    money: Mapping[str, Any] | None
    source: str
    #: Each template ref -> its journey (for an account file, the buying group's combined journey).
    journeys: Mapping[str, Journey] = field(default_factory=dict)
    #: Each template ref -> the Meeting of an account template (None for a journey file).
    meetings: Mapping[str, Meeting | None] = field(default_factory=dict)
    description: str = ""
    #: Minutes simulated before the horizon and not measured (the queues fill up), 0 by default.
    warmup: float = 0.0

    @property
    def accounts(self) -> int:
        """Accounts in the book."""
        return sum(t.accounts for t in self.tiers)

    @property
    def priorities(self) -> tuple[str, ...]:
        """The priority classes of the templates, highest first (they all agree)."""
        return next(iter(self.journeys.values())).priorities if self.journeys else ()

    @property
    def tier_by_id(self) -> dict[str, Tier]:
        return {t.id: t for t in self.tiers}


@dataclass
class CheckedPortfolio(Problems):
    portfolio: Portfolio | None
    problems: list[Problem]


class PortfolioInvalid(JourneyInvalid):
    """A portfolio file (or a template it names) has errors; ``problems`` holds every one found."""

    where = "in portfolio file"


class RevenueError(ValueError):
    """A revenue that cannot be read; ``where`` is the path of the bad part inside the value."""

    def __init__(self, message: str, where: tuple[Hashable, ...] = ()):
        super().__init__(message)
        self.where = where


def is_portfolio_file(path: str | os.PathLike) -> bool:
    """True when the file's top level has a ``portfolio:`` key (cheap check, no validation)."""
    try:
        text = read_text(os.fspath(path))
    except (OSError, UnicodeDecodeError):
        return False
    return _PORTFOLIO_KEY.search(text) is not None


def check_portfolio(path: str | os.PathLike, *, lint: bool = True) -> CheckedPortfolio:
    """Check a portfolio file and the templates it names; never raises on bad input."""
    from .validation.portfolio import check_portfolio_file

    return check_portfolio_file(os.fspath(path), lint=lint)


def load_portfolio(path: str | os.PathLike) -> Portfolio:
    """Load and check a portfolio file; raises :class:`PortfolioInvalid` with every problem."""
    checked = check_portfolio(path, lint=False)
    if checked.portfolio is None:
        raise PortfolioInvalid(checked.problems)
    return checked.portfolio


# --------------------------------------------------------------------------- revenue and horizon

_TIME_WORDS = re.compile(r"\d\s*(?:s|sec|min|m|h|hr|d|day|days|w|wk|y|yr|year|mo|month|wh|bd)\b", re.I)
_MONEY_WORDS = re.compile(r"[€$£¥]|\b[A-Z]{3}\b|\d\s*[kKmM](?:n|io)?\b|\b(?:eur|usd|gbp|k|m|bn)\b|/", re.I)


def parse_revenue(value: Any) -> Distribution:
    """Revenue per account per year, as a distribution of plain numbers (see the module docstring for how
    the duration parser is reused). Raises :class:`RevenueError` with the place of the bad part."""
    _check_amounts(value, ())
    _check_order(value)
    try:
        return parse_distribution(_as_minutes(value)).scaled(_REVENUE_SCALE)
    except DurationError as exc:
        message = str(exc)
        for time_word, money_word in (("shortest", "lowest"), ("longest", "highest"), ("most likely", "likely"),
                                      ("durations", "amounts"), ("duration", "amount")):
            message = message.replace(time_word, money_word)
        message = re.sub(r"; got .*$", "", message)
        raise RevenueError(message, exc.where) from None


def _check_amounts(value: Any, where: tuple[Hashable, ...]) -> None:
    """Every amount in ``value`` a plain finite number >= 0 (a distribution's shape is checked by the parser)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_amounts(v, where + (k,))
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_amounts(v, where + (i,))
        return
    if isinstance(value, str):
        text = value.strip()
        if _MONEY_WORDS.search(text) and not _TIME_WORDS.fullmatch(text):
            raise RevenueError(f"revenue {text[:30]!r} has a currency or a multiplier in it: write a plain number "
                               "in the portfolio's currency", where)
        if _TIME_WORDS.search(text):
            raise RevenueError(f"revenue {text[:30]!r} has a time unit: revenue is money per account per year, "
                               "a plain number", where)
        raise RevenueError(f"revenue {text[:30]!r} is not a number", where)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RevenueError(f"revenue must be a number, got {type(value).__name__}", where)
    if not math.isfinite(value):
        raise RevenueError(f"revenue must be a finite number, got {value!r}", where)
    if value < 0:
        raise RevenueError(f"revenue {value!r} is negative", where)
    if value > MAX_REVENUE:
        raise RevenueError(f"revenue {value:g} is more than {MAX_REVENUE:g} per account per year; check the number",
                           where)


def _check_order(value: Any) -> None:
    """An empirical list's amounts must not decrease (checked here so the message quotes the amounts as written)."""
    items = value.get("empirical") if isinstance(value, dict) else None
    if not isinstance(items, list):
        return
    for i in range(1, len(items)):
        if items[i] < items[i - 1]:
            raise RevenueError(f"empirical amounts must not decrease: {items[i]:g} (amount {i + 1}) is less than "
                               f"{items[i - 1]:g} before it; sort them", ("empirical", i))


def _as_minutes(value: Any) -> Any:
    """``value`` with each amount (not a Weibull's shape) written as the duration ``<amount / 2**20>min``.

    The decimal text of a binary float divided by a power of two is exact, so the parser reads back
    exactly ``amount / 2**20`` minutes (1 minute = 1.0), and scaling by 2**20 restores the amount."""
    if isinstance(value, dict):
        return {k: (v if k == "shape" else _as_minutes(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_minutes(v) for v in value]
    return f"{Decimal(float(value) / _REVENUE_SCALE):f}min"


_HORIZON_YEARS = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:y|yr|yrs|year|years)\s*$")


def parse_warmup(value: Any, horizon: float) -> float:
    """A run's warm-up in minutes: a duration (``8w``, ``60d``, ``0d``) or years (``0.5y``), at least zero, and
    with the horizon at most 10 years. Raises :class:`DurationError`."""
    from .distributions import parse_duration

    match = _HORIZON_YEARS.match(value) if isinstance(value, str) else None
    minutes = float(match.group(1)) * YEAR if match else parse_duration(value)
    if minutes < 0:
        raise DurationError("the warm-up cannot be negative, e.g. warmup: 8w")
    if minutes + horizon > 10 * YEAR:
        raise DurationError(f"the warm-up {str(value)[:20]!r} and the horizon together are longer than 10 years")
    return minutes


def parse_horizon(value: Any) -> float:
    """A run's horizon in minutes: ``1y`` (a mean calendar year, 365.25 days), ``2y``, or any duration
    (``26w``, ``90d``), more than zero and at most 10 years. Raises :class:`DurationError`."""
    from .distributions import parse_duration

    match = _HORIZON_YEARS.match(value) if isinstance(value, str) else None
    minutes = float(match.group(1)) * YEAR if match else parse_duration(value)
    if minutes <= 0:
        raise DurationError("the horizon must be longer than zero, e.g. 1y")
    if minutes > 10 * YEAR:
        raise DurationError(f"the horizon {str(value)[:20]!r} is longer than 10 years")
    return minutes
