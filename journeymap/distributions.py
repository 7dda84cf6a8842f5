"""Durations and the probability distributions that describe them.

Every time in journeymap is a float number of **minutes**. Journey files use
human units (``45s``, ``30min``, ``2h``, ``3d``, ``1w``); :func:`parse_duration`
turns them into minutes and :func:`parse_distribution` turns a ``duration:``
value into a distribution object.

Each distribution exposes ``mean`` and ``variance`` (exact, from its
parameters) and ``sample(rng)`` with a :class:`random.Random`. The exact
moments are what lets the analysis compute expected touch time without
simulating, and what lets the tests check the simulator against theory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from random import Random
from typing import Any

__all__ = [
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "YEAR",
    "UNITS",
    "DurationError",
    "Fixed",
    "Exponential",
    "Triangular",
    "Uniform",
    "LogNormal",
    "Distribution",
    "DISTRIBUTION_NAMES",
    "parse_duration",
    "parse_distribution",
    "format_minutes",
]

#: The time units, in minutes (the one unit of every time in journeymap). A day is a calendar day
#: (24 h) and a week a calendar week: journeys run around the clock in the simulation, so a "3d"
#: wait in an inbox is three calendar days. A year is a mean calendar year (365.25 days).
MINUTE = 1.0
SECOND = MINUTE / 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
YEAR = 365.25 * DAY

#: Minutes per unit, by the names a journey file may use.
UNITS: dict[str, float] = {
    "s": SECOND,
    "sec": SECOND,
    "min": MINUTE,
    "m": MINUTE,
    "h": HOUR,
    "hr": HOUR,
    "d": DAY,
    "day": DAY,
    "days": DAY,
    "w": WEEK,
    "wk": WEEK,
}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]+)\s*$")


class DurationError(ValueError):
    """A duration or distribution that cannot be understood; the message says how to fix it."""


def parse_duration(value: Any) -> float:
    """Parse ``'30min'``, ``'2h'``, ``'1.5d'`` into minutes.

    A bare number is refused: ``30`` could be seconds, minutes or days, and a
    silent guess would put every result out by a factor of 60.

    >>> parse_duration("2h")
    120.0
    """
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration such as 30min, 2h or 3d, got {value!r}")
    if isinstance(value, (int, float)):
        if value == 0:
            return 0.0
        raise DurationError(
            f"duration {value!r} has no unit; write it with one, e.g. {value}min, {value}h or {value}d"
        )
    if not isinstance(value, str):
        raise DurationError(f"expected a duration such as 30min, 2h or 3d, got {type(value).__name__}")
    match = _DURATION_RE.match(value)
    if not match:
        raise DurationError(
            f"invalid duration {value!r}: write a number then a unit, e.g. 45s, 30min, 2h, 3d, 1w"
        )
    number, unit = match.groups()
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise DurationError(
            f"unknown time unit {unit!r} in {value!r} (must be one of s, min, h, d, w)"
        )
    minutes = float(number) * factor
    if minutes > MAX_DURATION:
        raise DurationError(f"duration {value!r} is longer than 10 years; journeys are simulated in calendar "
                            "time, so check the unit")
    return minutes


#: The longest duration a journey may give (10 years, in minutes): anything longer is a typo in a unit.
MAX_DURATION = 10 * YEAR


def format_minutes(minutes: float) -> str:
    """Render minutes with the largest unit that keeps the number readable."""
    if minutes != minutes:  # NaN
        return "n/a"
    sign = "-" if minutes < 0 else ""
    m = abs(minutes)
    if m >= DAY:
        return f"{sign}{m / DAY:.1f}d"
    if m >= HOUR:
        return f"{sign}{m / HOUR:.1f}h"
    if m >= MINUTE:
        return f"{sign}{m:.0f}min"
    return f"{sign}{m * (MINUTE / SECOND):.0f}s"  # MINUTE / SECOND is exactly 60.0


@dataclass(frozen=True)
class Fixed:
    """Always the same duration."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: Random) -> float:
        return self.value

    def describe(self) -> str:
        return format_minutes(self.value)


@dataclass(frozen=True)
class Exponential:
    """Memoryless durations with the given mean: the M in M/M/c."""

    mean_value: float

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.mean_value**2

    def sample(self, rng: Random) -> float:
        return rng.expovariate(1.0 / self.mean_value) if self.mean_value > 0 else 0.0

    def describe(self) -> str:
        return f"exp({format_minutes(self.mean_value)})"


@dataclass(frozen=True)
class Triangular:
    """The classic three-point estimate: shortest, most likely, longest."""

    low: float
    mode: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: Random) -> float:
        return rng.triangular(self.low, self.high, self.mode)

    def describe(self) -> str:
        return f"tri({format_minutes(self.low)}, {format_minutes(self.mode)}, {format_minutes(self.high)})"


@dataclass(frozen=True)
class Uniform:
    """Any duration between two bounds, equally likely."""

    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: Random) -> float:
        return rng.uniform(self.low, self.high)

    def describe(self) -> str:
        return f"uni({format_minutes(self.low)}, {format_minutes(self.high)})"


@dataclass(frozen=True)
class LogNormal:
    """Right-skewed durations given by their mean and standard deviation in time units.

    Designers know "about 2h, give or take 1h", not the log-space parameters,
    so the file gives mean and sd and we derive mu and sigma.
    """

    mean_value: float
    sd: float

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.sd**2

    @property
    def _log_params(self) -> tuple[float, float]:
        m, s = self.mean_value, self.sd
        sigma2 = math.log(1 + (s * s) / (m * m))
        return math.log(m) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: Random) -> float:
        mu, sigma = self._log_params
        return rng.lognormvariate(mu, sigma)

    def describe(self) -> str:
        return f"logn({format_minutes(self.mean_value)}±{format_minutes(self.sd)})"


Distribution = Fixed | Exponential | Triangular | Uniform | LogNormal

#: The distribution keys a ``duration:`` mapping may use, with the shape of their value.
DISTRIBUTION_NAMES: dict[str, str] = {
    "fixed": "a duration, e.g. {fixed: 30min}",
    "exponential": "the mean, e.g. {exponential: 2h}",
    "triangular": "[shortest, most likely, longest], e.g. {triangular: [1h, 2h, 5h]}",
    "uniform": "[shortest, longest], e.g. {uniform: [1h, 3h]}",
    "lognormal": "{mean: ..., sd: ...}, e.g. {lognormal: {mean: 2h, sd: 1h}}",
}


def _durations(value: Any, count: int, name: str) -> list[float]:
    if not isinstance(value, list) or len(value) != count:
        raise DurationError(f"{name} needs {DISTRIBUTION_NAMES[name]}")
    return [parse_duration(v) for v in value]


def parse_distribution(value: Any) -> Distribution:
    """Turn a ``duration:`` value (a duration string or a one-key mapping) into a distribution.

    Raises :class:`DurationError` with a message naming the bad value and the
    accepted forms.
    """
    if not isinstance(value, dict):
        return Fixed(parse_duration(value))
    if len(value) != 1:
        raise DurationError(
            "a distribution is a mapping with exactly one key, one of "
            + ", ".join(DISTRIBUTION_NAMES)
            + f"; got {sorted(map(str, value))}"
        )
    ((name, arg),) = value.items()
    if name not in DISTRIBUTION_NAMES:
        import difflib

        close = difflib.get_close_matches(str(name), DISTRIBUTION_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DurationError(
            f"unknown distribution {name!r}{hint}; must be one of " + ", ".join(DISTRIBUTION_NAMES)
        )
    if name == "fixed":
        return Fixed(parse_duration(arg))
    if name == "exponential":
        mean = parse_duration(arg)
        if mean <= 0:
            raise DurationError("exponential needs a mean greater than zero")
        return Exponential(mean)
    if name == "triangular":
        low, mode, high = _durations(arg, 3, name)
        if not low <= mode <= high or low == high:
            raise DurationError(
                "triangular needs shortest <= most likely <= longest, with shortest < longest; "
                f"got {arg}"
            )
        return Triangular(low, mode, high)
    if name == "uniform":
        low, high = _durations(arg, 2, name)
        if not low < high:
            raise DurationError(f"uniform needs shortest < longest; got {arg}")
        return Uniform(low, high)
    # lognormal
    if not isinstance(arg, dict) or set(arg) != {"mean", "sd"}:
        raise DurationError(f"lognormal needs {DISTRIBUTION_NAMES['lognormal']}")
    mean, sd = parse_duration(arg["mean"]), parse_duration(arg["sd"])
    if mean <= 0 or sd <= 0:
        raise DurationError("lognormal needs a mean and an sd greater than zero")
    return LogNormal(mean, sd)
