"""Durations and the probability distributions that describe them.

Every time in journeymap is a float number of **minutes**. Journey files use
human units (``45s``, ``30min``, ``2h``, ``3d``, ``1w``); :func:`parse_duration`
turns them into minutes and :func:`parse_distribution` turns a ``duration:``
value into a distribution object.

Some durations may also be written in working time (issue 12, docs/format.md "Working time"):
``4wh`` (working hours: only minutes in which a calendar is open) and ``2bd`` (business days:
open dates of a calendar, keeping the clock time). They are still stored as minutes (``4wh`` is
240.0, ``2bd`` is 2 x 1440 = 2880.0); what changes is the **basis** the simulator counts them on,
which :func:`parse_timed` and :func:`parse_timed_distribution` return alongside. Where a value may
be written in working time is the caller's choice (``bases``): by default only elapsed time is
accepted, so every duration that knew nothing of calendars still means what it meant.

Each distribution exposes ``mean`` and ``variance`` (exact, from its
parameters) and ``sample(rng)`` with a :class:`random.Random`. The exact
moments are what lets the analysis compute expected touch time without
simulating, and what lets the tests check the simulator against theory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from random import Random
from typing import Any, Literal

__all__ = [
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "YEAR",
    "UNITS",
    "WORKING_UNITS",
    "Basis",
    "BASES",
    "ELAPSED",
    "DurationError",
    "Fixed",
    "Exponential",
    "Triangular",
    "Uniform",
    "LogNormal",
    "Gamma",
    "Weibull",
    "Empirical",
    "MAX_EMPIRICAL",
    "Distribution",
    "DISTRIBUTION_NAMES",
    "parse_duration",
    "parse_distribution",
    "parse_timed",
    "parse_timed_distribution",
    "duration_basis",
    "format_minutes",
    "written_duration",
    "written_distribution",
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

#: How a duration counts time (the same values as :data:`journeymap.model.Basis`): ``elapsed`` every
#: minute of the clock (``3d``), ``working`` the minutes a calendar is open (``4wh``), ``business``
#: open dates of a calendar (``2bd``, stored as days x 1440 minutes).
Basis = Literal["elapsed", "working", "business"]
#: Every basis, and elapsed time only (the default wherever working time means nothing).
BASES: tuple[Basis, ...] = ("elapsed", "working", "business")
ELAPSED: tuple[Basis, ...] = ("elapsed",)

#: The units of working time: minutes per unit and the basis they count on.
WORKING_UNITS: dict[str, tuple[float, Basis]] = {
    "wh": (HOUR, "working"),
    "bd": (DAY, "business"),
}

#: How messages name each basis, with an example.
_BASIS_WORDS: dict[str, str] = {
    "elapsed": "elapsed time (30min, 2h, 3d)",
    "working": "working hours (4wh)",
    "business": "business days (2bd)",
}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]+)\s*$")


class DurationError(ValueError):
    """A duration or distribution that cannot be understood; the message says how to fix it.

    ``where`` is the path of the bad part inside the value (``("empirical", 3)``: its fourth
    duration), so the validator can point at that line and column rather than at the whole mapping.
    """

    where: tuple[Hashable, ...] = ()


def _at(exc: DurationError, *where: Hashable) -> DurationError:
    """``exc`` located at ``where`` inside the value (kept when already set deeper)."""
    exc.where = tuple(where) + exc.where
    return exc


def parse_duration(value: Any, *, bases: tuple[Basis, ...] = ELAPSED) -> float:
    """Parse ``'30min'``, ``'2h'``, ``'1.5d'`` into minutes.

    A bare number is refused: ``30`` could be seconds, minutes or days, and a
    silent guess would put every result out by a factor of 60. Working time
    (``4wh``, ``2bd``) is refused unless ``bases`` allows it (see :func:`parse_timed`).

    >>> parse_duration("2h")
    120.0
    """
    return parse_timed(value, bases=bases)[0]


def parse_timed(value: Any, *, bases: tuple[Basis, ...] = ELAPSED) -> tuple[float, Basis]:
    """Parse a duration into ``(minutes, basis)``: ``'4wh'`` is ``(240.0, 'working')``.

    ``bases`` lists the bases the caller accepts; a duration on another basis is refused with a
    message naming the ones allowed (``2bd`` as a step's duration, ``4wh`` as an arrival gap).

    >>> parse_timed("2bd", bases=BASES)
    (2880.0, 'business')
    """
    if isinstance(value, bool) or value is None:
        raise DurationError(f"expected a duration such as {_examples(bases)}, got {value!r}")
    if isinstance(value, (int, float)):
        if value == 0:
            return 0.0, "elapsed"
        raise DurationError(
            f"duration {value!r} has no unit; write it with one, e.g. {_examples(bases, value)}"
        )
    if not isinstance(value, str):
        raise DurationError(f"expected a duration such as {_examples(bases)}, got {type(value).__name__}")
    match = _DURATION_RE.match(value)
    if not match:
        raise DurationError(
            f"invalid duration {value!r}: write a number then a unit, e.g. 45s, 30min, 2h, 3d, 1w"
            + "".join(f", {_UNIT_EXAMPLES[b]}" for b in bases if b != "elapsed")
        )
    number, unit = match.groups()
    factor, basis = _unit(value, unit.lower(), bases)
    minutes = float(number) * factor
    if minutes > MAX_DURATION:
        raise DurationError(f"duration {value!r} is longer than 10 years; journeys are simulated in calendar "
                            "time, so check the unit")
    return minutes, basis


_UNIT_EXAMPLES: dict[str, str] = {"elapsed": "3d", "working": "4wh", "business": "2bd"}


def _examples(bases: tuple[Basis, ...], number: Any = None) -> str:
    """Example durations for a message: '30min, 2h or 3d', or with a number, '30min, 30h, 30wh or 30d'."""
    if number is None:
        items = ["30min", "2h", "3d"] + [_UNIT_EXAMPLES[b] for b in bases if b != "elapsed"]
    else:
        items = [f"{number}min", f"{number}h", f"{number}d"] + \
                [f"{number}{'wh' if b == 'working' else 'bd'}" for b in bases if b != "elapsed"]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _unit(value: str, unit: str, bases: tuple[Basis, ...]) -> tuple[float, Basis]:
    """Minutes per ``unit`` and its basis; a DurationError when unknown or not allowed here."""
    if unit in UNITS:
        factor, basis = UNITS[unit], "elapsed"
    elif unit in WORKING_UNITS:
        factor, basis = WORKING_UNITS[unit]
    else:
        extra = "".join(f", {u}" for u, (_, b) in WORKING_UNITS.items() if b in bases)
        raise DurationError(f"unknown time unit {unit!r} in {value!r} (must be one of s, min, h, d, w{extra})")
    if basis not in bases:
        allowed = " or ".join(_BASIS_WORDS[b] for b in bases)
        raise DurationError(f"{value!r} is in {_BASIS_WORDS[basis].split(' (')[0]}, which cannot be used here; "
                            f"write {allowed}")
    return factor, basis


def duration_basis(value: Any) -> Basis:
    """The basis a duration is written in (``'4wh'`` -> ``'working'``); ``'elapsed'`` for anything else.

    Reads the unit only; it does not check the value (that is :func:`parse_timed`'s job).
    """
    match = _DURATION_RE.match(value) if isinstance(value, str) else None
    unit = match.group(2).lower() if match else ""
    return WORKING_UNITS[unit][1] if unit in WORKING_UNITS else "elapsed"


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

    def scaled(self, k: float) -> Fixed:
        """The distribution of ``k`` times a value of this one (used by levers and input uncertainty)."""
        return Fixed(self.value * k)


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

    def scaled(self, k: float) -> Exponential:
        return Exponential(self.mean_value * k)


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

    def scaled(self, k: float) -> Triangular:
        return Triangular(self.low * k, self.mode * k, self.high * k)


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

    def scaled(self, k: float) -> Uniform:
        return Uniform(self.low * k, self.high * k)


@dataclass(frozen=True)
class _ByMeanSd:
    """A distribution a file gives by its mean and standard deviation (the lognormal, the gamma): people
    estimate "about 2h, give or take 1h", not shape parameters. The moments are the parameters."""

    mean_value: float
    sd: float

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.sd**2


@dataclass(frozen=True)
class LogNormal(_ByMeanSd):
    """Right-skewed durations given by their mean and standard deviation in time units.

    Designers know "about 2h, give or take 1h", not the log-space parameters,
    so the file gives mean and sd and we derive mu and sigma.
    """


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

    def scaled(self, k: float) -> LogNormal:
        return LogNormal(self.mean_value * k, self.sd * k)


@dataclass(frozen=True)
class Gamma(_ByMeanSd):
    """Right-skewed durations, lighter-tailed than the lognormal, given by mean and sd like it.

    A sum of exponential stages (shape = (mean/sd)^2 of them, when whole) is gamma: a task of
    several similar sub-tasks. The file gives mean and sd for the same reason as the lognormal;
    shape and scale are derived (shape = (mean/sd)^2, scale = sd^2/mean).
    """


    @property
    def shape(self) -> float:
        return (self.mean_value / self.sd) ** 2

    @property
    def scale(self) -> float:
        return self.sd**2 / self.mean_value

    def sample(self, rng: Random) -> float:
        return rng.gammavariate(self.shape, self.scale)

    def describe(self) -> str:
        return f"gamma({format_minutes(self.mean_value)}±{format_minutes(self.sd)})"

    def scaled(self, k: float) -> Gamma:
        return Gamma(self.mean_value * k, self.sd * k)


@dataclass(frozen=True)
class Weibull:
    """Durations whose hazard rises (shape > 1: the longer a task has run, the likelier it ends soon)
    or falls (shape < 1: a task left aside tends to stay aside); shape 1 is the exponential.

    ``shape`` is a plain number and ``scale`` a time (the 63rd percentile), as in reliability texts,
    since those are what a fit reports and what a reader can look up.
    """

    shape: float
    scale: float

    @property
    def mean(self) -> float:
        return self.scale * math.exp(math.lgamma(1 + 1 / self.shape))

    @property
    def variance(self) -> float:
        g1 = math.exp(math.lgamma(1 + 1 / self.shape))
        g2 = math.exp(math.lgamma(1 + 2 / self.shape))
        return self.scale**2 * max(g2 - g1 * g1, 0.0)

    def sample(self, rng: Random) -> float:
        return rng.weibullvariate(self.scale, self.shape)

    def describe(self) -> str:
        return f"weib({self.shape:.3g}, {format_minutes(self.scale)})"

    def scaled(self, k: float) -> Weibull:
        """Times ``k``: the scale only (the shape is a plain number, not a time)."""
        return Weibull(self.shape, self.scale * k)


#: The most values an ``empirical:`` list may hold (enough for percentiles of a thousand points;
#: more only slows loading and says nothing a journey can use).
MAX_EMPIRICAL = 1001


@dataclass(frozen=True)
class Empirical:
    """Durations as observed: quantiles at equally spaced probabilities 0, 1/(n-1), ..., 1.

    A sample interpolates linearly between neighbouring quantiles at a uniform ``u`` (the inverse
    of a piecewise-linear CDF), so each of the n-1 segments holds probability 1/(n-1) spread
    uniformly over it: a continuous distribution bounded by the first and last values. This is
    what a fit falls back to when no parametric family describes the data.
    """

    quantiles: tuple[float, ...]

    @property
    def mean(self) -> float:
        q = self.quantiles
        return math.fsum(a + b for a, b in zip(q, q[1:], strict=False)) / (2 * (len(q) - 1))

    @property
    def variance(self) -> float:
        # law of total variance over the equally likely uniform segments: within + between
        q, m = self.quantiles, self.mean
        terms = ((b - a) ** 2 / 12 + ((a + b) / 2 - m) ** 2 for a, b in zip(q, q[1:], strict=False))
        return math.fsum(terms) / (len(q) - 1)

    def sample(self, rng: Random) -> float:
        q = self.quantiles
        x = rng.random() * (len(q) - 1)
        i = int(x)  # random() < 1, so i <= len(q) - 2
        return q[i] + (x - i) * (q[i + 1] - q[i])

    def describe(self) -> str:
        q = self.quantiles
        return f"emp({format_minutes(q[0])}..{format_minutes(q[-1])}, {len(q)} pts)"

    def scaled(self, k: float) -> Empirical:
        return Empirical(tuple(v * k for v in self.quantiles))


Distribution = Fixed | Exponential | Triangular | Uniform | LogNormal | Gamma | Weibull | Empirical

#: The distribution keys a ``duration:`` mapping may use, with the shape of their value.
DISTRIBUTION_NAMES: dict[str, str] = {
    "fixed": "a duration, e.g. {fixed: 30min}",
    "exponential": "the mean, e.g. {exponential: 2h}",
    "triangular": "[shortest, most likely, longest], e.g. {triangular: [1h, 2h, 5h]}",
    "uniform": "[shortest, longest], e.g. {uniform: [1h, 3h]}",
    "lognormal": "{mean: ..., sd: ...}, e.g. {lognormal: {mean: 2h, sd: 1h}}",
    "gamma": "{mean: ..., sd: ...}, e.g. {gamma: {mean: 2h, sd: 1h}}",
    "weibull": "{shape: a number, scale: a duration}, e.g. {weibull: {shape: 1.5, scale: 2h}}",
    "empirical": "a list of 2 to 1001 durations (quantiles, non-decreasing), e.g. {empirical: [10min, 25min, 1h, 3h]}",
}


def _durations(value: Any, count: int, name: str, bases: tuple[Basis, ...]) -> list[float]:
    if not isinstance(value, list) or len(value) != count:
        raise DurationError(f"{name} needs {DISTRIBUTION_NAMES[name]}")
    return [_located_duration(v, bases, name, i) for i, v in enumerate(value)]


def _located_duration(value: Any, bases: tuple[Basis, ...], *where: Hashable) -> float:
    """:func:`parse_duration`, its error located at ``where`` inside the distribution."""
    try:
        return parse_duration(value, bases=bases)
    except DurationError as exc:
        raise _at(exc, *where) from None


def parse_distribution(value: Any, *, bases: tuple[Basis, ...] = ELAPSED) -> Distribution:
    """Turn a ``duration:`` value (a duration string or a one-key mapping) into a distribution.

    Raises :class:`DurationError` with a message naming the bad value and the
    accepted forms. Working time is refused unless ``bases`` allows it; to know
    the basis of what was written, use :func:`parse_timed_distribution`.
    """
    return parse_timed_distribution(value, bases=bases)[0]


def parse_timed_distribution(value: Any, *, bases: tuple[Basis, ...] = ELAPSED) -> tuple[Distribution, Basis]:
    """A ``duration:`` or ``delay:`` value as ``(distribution, basis)``: ``{exponential: 4wh}`` is working time.

    Every duration in one distribution must be on the same basis (``[1h, 2wh, 3bd]`` is refused:
    a sample could not say what it counts).
    """
    if not isinstance(value, dict):
        return Fixed(parse_duration(value, bases=bases)), duration_basis(value)
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
    basis = _one_basis(value)
    return _distribution(name, arg, bases), basis


def _one_basis(value: Any) -> Basis:
    """The basis of every duration written in ``value``; a DurationError when they differ."""
    found = {duration_basis(v) for v in _written(value) if v != 0}
    if len(found) > 1:
        words = " and ".join(_BASIS_WORDS[b].split(" (")[0] for b in BASES if b in found)
        raise DurationError(f"a distribution mixes {words}; write all its durations in one kind of time")
    return found.pop() if found else "elapsed"


def _written(value: Any) -> list[Any]:
    """The durations written in a ``duration:`` value (the leaves of a distribution mapping; a Weibull's
    ``shape`` is a plain number, not a duration, and has no basis)."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() if k != "shape" for leaf in _written(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _written(v)]
    return [value]


def _distribution(name: str, arg: Any, bases: tuple[Basis, ...]) -> Distribution:
    """The distribution ``name`` with its argument, checked.

    An error about one value (a duration that does not parse, an empirical value out of order, a Weibull
    shape) is located at that value (:attr:`DurationError.where`); one about the whole (the wrong shape of
    argument, triangular bounds out of order) at the distribution.
    """
    if name == "fixed":
        return Fixed(_located_duration(arg, bases, name))
    if name == "exponential":
        mean = _located_duration(arg, bases, name)
        if mean <= 0:
            raise DurationError("exponential needs a mean greater than zero")
        return Exponential(mean)
    if name == "triangular":
        low, mode, high = _durations(arg, 3, name, bases)
        if not low <= mode <= high or low == high:
            raise DurationError(
                "triangular needs shortest <= most likely <= longest, with shortest < longest; "
                f"got {arg}"
            )
        return Triangular(low, mode, high)
    if name == "uniform":
        low, high = _durations(arg, 2, name, bases)
        if not low < high:
            raise DurationError(f"uniform needs shortest < longest; got {arg}")
        return Uniform(low, high)
    if name == "weibull":
        return _weibull(arg, bases)
    if name == "empirical":
        return _empirical(arg, bases)
    # lognormal and gamma: {mean, sd}
    if not isinstance(arg, dict) or set(arg) != {"mean", "sd"}:
        raise DurationError(f"{name} needs {DISTRIBUTION_NAMES[name]}")
    mean, sd = _located_duration(arg["mean"], bases, name, "mean"), _located_duration(arg["sd"], bases, name, "sd")
    if mean <= 0 or sd <= 0:
        raise _at(DurationError(f"{name} needs a mean and an sd greater than zero"),
                  name, "mean" if mean <= 0 else "sd")
    return LogNormal(mean, sd) if name == "lognormal" else Gamma(mean, sd)


def _weibull(arg: Any, bases: tuple[Basis, ...]) -> Weibull:
    """``{shape: 1.5, scale: 2h}``: shape a plain number > 0, scale a duration > 0, a mean under 10 years."""
    if not isinstance(arg, dict) or set(arg) != {"shape", "scale"}:
        raise DurationError(f"weibull needs {DISTRIBUTION_NAMES['weibull']}")
    shape = arg["shape"]
    if isinstance(shape, bool) or not isinstance(shape, (int, float)) or not math.isfinite(shape) or shape <= 0:
        raise _at(DurationError(f"weibull shape must be a plain number greater than zero (no unit), "
                                f"e.g. 1.5; got {shape!r}"), "weibull", "shape")
    scale = _located_duration(arg["scale"], bases, "weibull", "scale")
    if scale <= 0:
        raise _at(DurationError("weibull needs a scale greater than zero"), "weibull", "scale")
    dist = Weibull(float(shape), scale)
    try:
        mean = dist.mean
    except OverflowError:
        mean = math.inf
    if mean > MAX_DURATION:
        raise _at(DurationError(f"weibull with shape {shape!r} has a mean over 10 years; a shape that small "
                                "is almost certainly a mistake (1 is the exponential, 1.5-3 is usual)"),
                  "weibull", "shape")
    return dist


def _empirical(arg: Any, bases: tuple[Basis, ...]) -> Empirical:
    """``[10min, 25min, 1h]``: 2 to :data:`MAX_EMPIRICAL` durations, non-decreasing, first < last."""
    if not isinstance(arg, list) or len(arg) < 2:
        raise DurationError(f"empirical needs {DISTRIBUTION_NAMES['empirical']}")
    if len(arg) > MAX_EMPIRICAL:
        raise _at(DurationError(f"empirical has {len(arg)} values, more than {MAX_EMPIRICAL}; keep evenly "
                                f"spaced quantiles (every k-th value of the sorted data)"),
                  "empirical", MAX_EMPIRICAL)
    values = [_located_duration(v, bases, "empirical", i) for i, v in enumerate(arg)]
    for i in range(1, len(values)):
        if values[i] < values[i - 1]:
            raise _at(DurationError(f"empirical values must not decrease: {str(arg[i])[:20]!r} (value {i + 1}) "
                                    f"is less than {str(arg[i - 1])[:20]!r} before it; sort them"),
                      "empirical", i)
    if values[0] == values[-1]:
        raise DurationError("empirical needs its first value less than its last; for one value "
                            "write a fixed duration")
    return Empirical(tuple(values))


# --------------------------------------------------------------------------- the way back: values a file writes


#: The units a written duration may take on each basis, largest first: (unit, minutes per unit).
_WRITTEN_UNITS: dict[str, tuple[tuple[str, float], ...]] = {
    "elapsed": (("w", WEEK), ("d", DAY), ("h", HOUR), ("min", MINUTE)),
    "working": (("wh", HOUR),),
    "business": (("bd", DAY),),
}


def _decimal(x: float) -> str:
    """``x`` with digits and a point only (the duration parser takes no exponent), shortest first."""
    text = format(Decimal(repr(x)), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def _reads_back(text: str, basis: str) -> float:
    return parse_timed(text, bases=("elapsed", "working", "business"))[0]


def written_duration(minutes: float, basis: str = "elapsed") -> str:
    """``minutes`` as a journey file writes a duration on ``basis``, so that it reads back as ``minutes``.

    Elapsed time takes the largest unit that writes it exactly (``2h``, not ``120min``) and is always exact (in
    minutes at worst). Working hours and business days are a number of hours or days, and not every float is a
    float times 60 or 1440: the nearest value that reads back is written. Every writer of journey text (the
    spreadsheet export, the workshop's what-if overlays) goes through here, so what they write is what is read.
    """
    if minutes == 0:
        return "0min" if basis == "elapsed" else "0" + _WRITTEN_UNITS[basis][0][0]
    units = _WRITTEN_UNITS[basis]
    for unit, size in units:
        x = minutes / size
        if x >= 1 or unit in ("min", "wh", "bd"):
            text = _decimal(x) + unit
            if _reads_back(text, basis) == minutes:
                return text
    unit, size = units[-1]
    x = minutes / size
    candidates = [x]
    for direction in (math.inf, -math.inf):
        y = x
        for _ in range(4):
            y = math.nextafter(y, direction)
            candidates.append(y)
    return min((_decimal(c) + unit for c in candidates), key=lambda t: abs(_reads_back(t, basis) - minutes))


def written_distribution(d: Distribution, basis: str = "elapsed") -> Any:
    """A distribution as a journey file writes it (docs/format.md, "Durations and distributions"): a duration for
    a fixed one, else a one-key mapping, every time through :func:`written_duration`."""
    def t(m: float) -> str:
        return written_duration(m, basis)

    if isinstance(d, Fixed):
        return t(d.value)
    if isinstance(d, Exponential):
        return {"exponential": t(d.mean_value)}
    if isinstance(d, Triangular):
        return {"triangular": [t(d.low), t(d.mode), t(d.high)]}
    if isinstance(d, Uniform):
        return {"uniform": [t(d.low), t(d.high)]}
    if isinstance(d, LogNormal):
        return {"lognormal": {"mean": t(d.mean_value), "sd": t(d.sd)}}
    if isinstance(d, Gamma):
        return {"gamma": {"mean": t(d.mean_value), "sd": t(d.sd)}}
    if isinstance(d, Weibull):
        return {"weibull": {"shape": d.shape, "scale": t(d.scale)}}
    if isinstance(d, Empirical):
        return {"empirical": [t(q) for q in d.quantiles]}
    raise TypeError(f"no way to write {type(d).__name__}")  # pragma: no cover - every family is above
