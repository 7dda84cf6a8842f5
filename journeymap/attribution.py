"""Which change bought what: the difference between two designs split into the contribution of each change.

The after design is an overlay that ``extends:`` the before design (:mod:`journeymap.overlay`). Its
**changes** are the overlay's entries: each department, stage or step entry, each id under ``remove:``,
and each other top-level key (``workload``, ``persona``, ``calendars``, ...); the ``journey:`` key only
names the design and is always kept. A **partial design** is the base with some of the changes applied:
the overlay's data with the other entries left out, checked by the same path as a file
(:func:`journeymap.validation.check_located`), so every partial design is a valid journey or the
changes depend on each other (:class:`ChangesDepend` says which, and ``together`` groups them).

The contribution of each change (player) is its **Shapley value**: the change of the metric when the
change is added, averaged over every order in which the changes could be made. Every partial design
is simulated with the same seed (common random numbers), so replication ``r`` of each partial design
shares its random streams; the Shapley value is a fixed linear combination of the partial designs'
values, computed per replication, and its 95% confidence interval is a Student-t interval over the
replications. Per replication the contributions add up to ``after − before`` exactly (up to float
rounding: ``additivity_error``).

Up to :data:`EXACT_LIMIT` players every one of the ``2**n`` partial designs is simulated (exact). Beyond
that, ``permutations`` random orders of the changes are drawn (from ``seed``) and the same orders are
used in every replication: each contribution is the mean of its marginal changes over those orders. The
contributions still add up exactly, and the t-interval covers the simulation noise; the error of the
sampling of orders is given apart, per player, as ``sampling_se`` (the standard error of the mean over
the orders), see ``docs/explain.md``.

The partial designs are simulated by one function, :func:`run_designs`, which a caller may replace
(``run=``) by another executor that returns the same per-replication metrics.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .comparison import CI_NOTE, METRICS, Metric, metric_of
from .errors import InvalidArgument, JourneyInvalid
from .loading import Located, Path, load_yaml, read_text, resolve_reference
from .overlay import MERGED_BY_ID, entry_id
from .problems import Problem
from .statistics import t_interval

if TYPE_CHECKING:
    from .model import Journey

__all__ = ["Change", "ChangesDepend", "EXACT_LIMIT", "DEFAULT_PERMUTATIONS", "overlay_changes", "group_changes",
           "partial_overlay", "shapley_matrix", "sampled_shapley_matrix", "run_designs", "attribute", "explain",
           "explain_blocks", "explain_method", "format_share"]

#: Most players whose Shapley values are computed exactly (2**8 = 256 partial designs).
EXACT_LIMIT = 8
#: Random orders of the changes drawn beyond :data:`EXACT_LIMIT` players.
DEFAULT_PERMUTATIONS = 32
#: Top-level keys of an overlay that are never a change: the base it extends, the design's name, the schema.
KEPT = ("extends", "journey", "$schema")
#: How each list's entries are named in a change's key.
KIND = {"steps": "step", "departments": "department", "stages": "stage"}

#: A runner of partial designs: the journeys in, one list of replication metrics per journey out.
Runner = Callable[..., list[list[dict[str, float]]]]


@dataclass(frozen=True)
class Change:
    """One player: one entry of the overlay, or several explained together.

    ``key`` is how the command line names it (``department:compliance``, ``step:kyc_check``,
    ``remove-step:legal``, ``workload``; joined by ``+`` for a group), ``paths`` the overlay paths of
    its entries (``("departments", 0)``, ``("remove", "steps", 1)``, ``("workload",)``).
    """

    key: str
    label: str
    paths: tuple[Path, ...]
    #: what it sets, in a few words ("capacity 4"); empty when there is nothing short to say
    detail: str = ""

    @property
    def title(self) -> str:
        """The label with its detail, as tables and charts show it: ``department pricing (capacity 2)``."""
        return f"{self.label} ({self.detail})" if self.detail else self.label


class ChangesDepend(JourneyInvalid):
    """Some partial designs do not validate: the changes named in each problem must be explained together."""

    def __init__(self, problems: Sequence[Problem], groups: Sequence[Sequence[str]]) -> None:
        super().__init__(problems)
        #: the groups of change keys to pass as ``together``
        self.groups = [list(g) for g in groups]


# --------------------------------------------------------------------------- the changes of an overlay


def overlay_changes(loc: Located) -> list[Change]:
    """The changes an overlay makes, in file order: one per list entry, removed id and other top-level key."""
    changes = []
    for key, value in loc.data.items():
        if key in KEPT:
            continue
        if key in MERGED_BY_ID and isinstance(value, list):
            for i, entry in enumerate(value):
                ident = entry_id(entry) or f"#{i + 1}"
                new = isinstance(entry, dict) and "after" in entry
                changes.append(Change(f"{KIND[key]}:{ident}", f"{'new ' if new else ''}{KIND[key]} {ident}",
                                      ((key, i),), "" if new else _what(entry)))
        elif key == "remove" and isinstance(value, dict):
            for kind, ids in value.items():
                for i, ident in enumerate(ids if isinstance(ids, list) else []):
                    word = KIND.get(kind, kind)
                    changes.append(Change(f"remove-{word}:{ident}", f"remove {word} {ident}", (("remove", kind, i),)))
        else:
            changes.append(Change(str(key), str(key), ((key,),)))
    return changes


def _what(entry: Any) -> str:
    """What an entry changes, in a few words: ``capacity 4`` for one or two short values, else the keys."""
    if not isinstance(entry, dict):
        return ""
    changed = {k: v for k, v in entry.items() if k != "id"}
    if len(changed) <= 2 and all(isinstance(v, (int, float, str)) and len(str(v)) <= 12 for v in changed.values()):
        return ", ".join(f"{k} {v}" for k, v in changed.items())
    return ", ".join(changed)


def group_changes(changes: Sequence[Change], together: Sequence[Sequence[str]]) -> list[Change]:
    """The players: ``changes`` with each group of ``together`` (keys, or ids when unambiguous) made one.

    A group takes the place of its first member. Raises :class:`InvalidArgument` for a name that is no
    change, or a change named in two groups.
    """
    index = {c.key: c for c in changes}
    grouped: dict[str, int] = {}
    for g, names in enumerate(together):
        for name in names:
            key = _change_key(name, changes)
            if key in grouped:
                raise InvalidArgument(f"--together: {key} is in two groups; list each change in one group only")
            grouped[key] = g
    players: list[Change] = []
    placed: set[int] = set()
    for c in changes:
        group = grouped.get(c.key)
        if group is None:
            players.append(c)
        elif group not in placed:
            placed.add(group)
            members = [index[k] for k in index if grouped.get(k) == group]
            players.append(Change("+".join(m.key for m in members), " + ".join(m.label for m in members),
                                  tuple(p for m in members for p in m.paths),
                                  "; ".join(m.detail for m in members if m.detail)))
    return players


def _change_key(name: str, changes: Sequence[Change]) -> str:
    """The key of the change ``name`` designates: its key, or its id when only one change has that id."""
    keys = [c.key for c in changes]
    if name in keys:
        return name
    matches = [k for k in keys if k.split(":", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise InvalidArgument(f"--together: {name!r} is {'ambiguous' if matches else 'not a change of the overlay'} "
                          f"(its changes: {', '.join(keys)})")


def partial_overlay(loc: Located, paths: Sequence[Path]) -> Located:
    """The overlay with only the entries at ``paths`` (and the :data:`KEPT` keys); positions follow the entries.

    An empty list (or an empty ``remove:``) is left out, so the result is a valid overlay.
    """
    chosen = set(paths)
    data: dict[str, Any] = {}
    lists: dict[Path, dict[int, int]] = {}  # list path -> old index -> new index
    for key, value in loc.data.items():
        if key in KEPT or (key,) in chosen:
            data[key] = value
        elif key in MERGED_BY_ID and isinstance(value, list):
            kept = _kept_entries(value, (key,), chosen, lists)
            if kept:
                data[key] = kept
        elif key == "remove" and isinstance(value, dict):
            removed = {kind: kept for kind, ids in value.items() if isinstance(ids, list)
                       if (kept := _kept_entries(ids, ("remove", kind), chosen, lists))}
            if removed:
                data[key] = removed
    out = Located(loc.file, data, base=loc.base)
    out.files.update(loc.files)
    for src, dst in ((loc.values, out.values), (loc.keys, out.keys)):
        for p, pos in src.items():
            moved = _moved(p, data, lists)
            if moved is not None:
                dst[moved] = pos
    return out


def _kept_entries(items: list, where: Path, chosen: set[Path], lists: dict[Path, dict[int, int]]) -> list:
    """The entries of the list at ``where`` that are chosen; notes their new indices in ``lists``."""
    old = [i for i in range(len(items)) if where + (i,) in chosen]
    lists[where] = {i: j for j, i in enumerate(old)}
    return [items[i] for i in old]


def _moved(p: Path, data: Mapping[str, Any], lists: Mapping[Path, Mapping[int, int]]) -> Path | None:
    """Where the position recorded at ``p`` goes in the partial overlay; None when its value was left out."""
    if p and p[0] not in data:
        return None
    for where, new in lists.items():
        n = len(where)
        if len(p) > n and p[:n] == where:
            j = new.get(p[n])  # type: ignore[call-overload]
            return None if j is None else where + (j,) + p[n + 1:]
    if p[:1] == ("remove",) and len(p) >= 2 and p[1] not in data["remove"]:
        return None  # a kind of removal none of whose ids was chosen
    return p


# --------------------------------------------------------------------------- Shapley weights


def shapley_matrix(n: int) -> np.ndarray:
    """The ``(n, 2**n)`` matrix ``W`` with Shapley value ``phi = W @ v`` for values ``v`` of every subset.

    Subset ``s`` is the bit mask of its players (player ``i`` is bit ``i``). Each row sums the marginal
    changes ``v(S + i) - v(S)`` weighted by ``|S|! (n - |S| - 1)! / n!``.
    """
    w = np.zeros((n, 1 << n))
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    for s in range(1 << n):
        size = bin(s).count("1")
        for i in range(n):
            if not s >> i & 1:
                w[i, s | 1 << i] += weight[size]
                w[i, s] -= weight[size]
    return w


def sampled_shapley_matrix(n: int, permutations: int, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """Shapley values estimated over ``permutations`` random orders of the ``n`` players.

    Returns the subsets the orders visit (bit masks, sorted) and the ``(permutations, n, len(subsets))``
    array of marginal-change weights: order ``k``'s marginal change of player ``i`` is
    ``M[k, i] @ v``; the estimate is the mean over the orders.
    """
    orders = [rng.permutation(n) for _ in range(permutations)]
    masks: set[int] = set()
    for order in orders:
        s = 0
        masks.add(s)
        for i in order:
            s |= 1 << int(i)
            masks.add(s)
    subsets = sorted(masks)
    column = {s: j for j, s in enumerate(subsets)}
    m = np.zeros((permutations, n, len(subsets)))
    for k, order in enumerate(orders):
        s = 0
        for i in order:
            m[k, i, column[s | 1 << int(i)]] += 1.0
            m[k, i, column[s]] -= 1.0
            s |= 1 << int(i)
    return subsets, m


# --------------------------------------------------------------------------- partial designs


def _paths(players: Sequence[Change], mask: int) -> list[Path]:
    return [p for i, c in enumerate(players) if mask >> i & 1 for p in c.paths]


def _design(loc: Located, players: Sequence[Change], mask: int) -> tuple[Journey | None, list[Problem]]:
    """The partial design with the players of ``mask`` applied, checked like a file."""
    from .validation import check_located

    checked = check_located(partial_overlay(loc, _paths(players, mask)), lint=False)
    return checked.journey, checked.errors


def _designs(loc: Located, players: Sequence[Change], masks: Sequence[int]) -> dict[int, Journey]:
    """Every partial design of ``masks``, or :class:`ChangesDepend` naming the changes that cannot be apart."""
    journeys: dict[int, Journey] = {}
    errors: dict[int, list[Problem]] = {}
    for mask in masks:
        journey, problems = _design(loc, players, mask)
        if journey is None:
            errors[mask] = problems
        else:
            journeys[mask] = journey
    if errors:
        raise _dependent(loc, players, journeys, errors)
    return journeys


def _dependent(loc: Located, players: Sequence[Change], valid: Mapping[int, Any],
               errors: Mapping[int, list[Problem]]) -> ChangesDepend:
    """Each smallest failing set of changes, with the fewest other changes that make it valid."""
    minimal = [m for m in sorted(errors, key=_size) if not any(f != m and f & m == f for f in errors)]
    problems, groups = [], []
    full = (1 << len(players)) - 1
    for m in minimal:
        helpers = min((v for v in valid if v & m == m), key=_size, default=full)
        names = [players[i].key for i in range(len(players)) if helpers >> i & 1 or m >> i & 1]
        need = [players[i].label for i in range(len(players)) if helpers >> i & 1 and not m >> i & 1]
        first = errors[m][0] if errors[m] else None
        line, column = loc.where(players[_bits(m)[0]].paths[0])
        alone = " + ".join(players[i].label for i in _bits(m))
        why = (f"{first.file}:{first.line}:{first.column}: {first.message}" if first else "it is not a journey")
        problems.append(Problem(loc.file, line, column, "error", "dependent-changes",
                                f"{alone} cannot be explained without {', '.join(need) or 'the other changes'}: "
                                f"without {'it' if len(need) == 1 else 'them'} the design does not validate ({why})",
                                f"explain them as one change: --together {','.join(names)}"))
        groups.append(names)
    return ChangesDepend(problems, groups)


def _size(mask: int) -> int:
    return bin(mask).count("1")


def _bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def run_designs(journeys: Sequence[Journey], *, replications: int, seed: int, cases: int | None = None,
                workers: int = 1, progress: Callable[[int, int], None] | None = None, executor: str = "local",
                scheduler: str | None = None, store: str | None = None) -> list[list[dict[str, float]]]:
    """Simulate each journey with the same seed (common random numbers): its replication metrics.

    The one place partial designs are simulated, through :func:`journeymap.sweep.run_sweep`: local
    processes (``workers``), a Dask cluster (``executor="dask"``, ``scheduler``), and a ``store`` to
    resume from; the numbers are the same wherever they are computed. Replications that measured no
    case are left out, as :func:`~journeymap.comparison.replication_metrics` does.
    """
    from .sweep import Scenario, run_sweep

    result = run_sweep([Scenario(f"design {k}", j) for k, j in enumerate(journeys)], replications=replications,
                       seed=seed, cases=cases, workers=workers, executor=executor, scheduler=scheduler, store=store,
                       base=journeys[0], progress=progress)
    return [[m for m in metrics if m] for metrics in result.metrics]


# --------------------------------------------------------------------------- attribution


def _metric(key: str) -> Metric:
    """The metric ``key`` names (as compare reads it), or a plain count for any other replication key."""
    return metric_of(key) or Metric(key, key, "count")


def _check_metric(key: str) -> None:
    """Refuse, before simulating anything, a metric :func:`replication_metrics` never gives."""
    if key not in {m.key for m in METRICS} and not key.startswith(("utilisation:", "cost:")):
        raise InvalidArgument(f"unknown metric {key!r} (one of: {', '.join(m.key for m in METRICS)}, "
                              "utilisation:DEPT, cost:DEPT)")


def _values(metrics: Sequence[Sequence[Mapping[str, float]]], key: str, replications: int) -> np.ndarray:
    """The ``(designs, replications)`` values of ``key``; :class:`InvalidArgument` when one is not measured."""
    rows = []
    for reps in metrics:
        if len(reps) != replications or any(key not in r for r in reps):
            known = sorted({k for r in reps for k in r if not k.startswith(("staff:", "capacity:"))})
            raise InvalidArgument(f"the metric {key!r} is not measured in every replication of every design "
                                  f"(measured: {', '.join(known)})")
        rows.append([float(r[key]) for r in reps])
    return np.asarray(rows, dtype=float)


def _interval(x: np.ndarray) -> list[float | None]:
    lo, hi = t_interval(x.tolist())
    return [lo, hi]


def attribute(loc: Located, players: Sequence[Change], *, metric: str = "cycle_time_mean", replications: int = 10,
              seed: int = 1, cases: int | None = None, workers: int = 1, permutations: int = DEFAULT_PERMUTATIONS,
              progress: Callable[[int, int], None] | None = None, run: Runner = run_designs) -> dict[str, Any]:
    """The Shapley value of each player on ``metric``, per replication and with its 95% CI (JSON-ready).

    ``loc`` is the overlay as parsed; ``players`` its changes (:func:`overlay_changes`, grouped by
    :func:`group_changes`). Raises :class:`ChangesDepend` when a partial design does not validate.
    """
    _check_metric(metric)
    n = len(players)
    full = (1 << n) - 1
    if n <= EXACT_LIMIT:
        subsets, marginals = list(range(1 << n)), shapley_matrix(n)[None]
    else:
        subsets, marginals = sampled_shapley_matrix(n, permutations, np.random.default_rng(seed))
    journeys = _designs(loc, players, subsets)
    values = _values(run([journeys[s] for s in subsets], replications=replications, seed=seed, cases=cases,
                         workers=workers, progress=progress), metric, replications)
    per_order = np.einsum("kis,sr->kir", marginals, values)  # (orders, players, replications)
    phi = per_order.mean(axis=0) if n > EXACT_LIMIT else per_order[0]
    before, after = values[subsets.index(0)], values[subsets.index(full)]
    total = after - before
    out = _summary(players, phi, total, metric)
    out.update(before_value=float(before.mean()), after_value=float(after.mean()),
               method="exact" if n <= EXACT_LIMIT else "sampled", permutations=None if n <= EXACT_LIMIT
               else permutations, designs_simulated=len(subsets), replications=replications, seed=seed,
               cases=cases, additivity_error=float(np.max(np.abs(phi.sum(axis=0) - total))) if n else 0.0,
               ci_note=CI_NOTE)
    if n > EXACT_LIMIT:
        spread = per_order.mean(axis=2).std(axis=0, ddof=1) / math.sqrt(permutations) if permutations > 1 else None
        for row in out["contributions"]:
            row["sampling_se"] = None if spread is None else float(spread[row["index"]])
    return out


def _summary(players: Sequence[Change], phi: np.ndarray, total: np.ndarray, metric: str) -> dict[str, Any]:
    """The contributions (largest first), their CIs and shares of the total change."""
    m = _metric(metric)
    change = float(total.mean())
    rows: list[dict[str, Any]] = []
    for i, c in enumerate(players):
        mean = float(phi[i].mean())
        rows.append({"index": i, "key": c.key, "label": c.label, "detail": c.detail, "title": c.title,
                     "contribution": mean, "ci95": _interval(phi[i]),
                     "share": mean / change if change else None, "per_replication": [float(x) for x in phi[i]]})
    rows.sort(key=lambda r: (-abs(r["contribution"]), r["index"]))
    return {"metric": {"key": m.key, "label": m.label, "unit": m.unit, "lower_is_better": m.lower_is_better},
            "total": {"change": change, "ci95": _interval(total), "per_replication": [float(x) for x in total]},
            "contributions": rows}


# --------------------------------------------------------------------------- from files


def _overlay_of(before: str, after: str) -> tuple[Located, list[str]]:
    """The after file parsed, checked to be a valid overlay that extends ``before`` directly; the names of
    the two designs."""
    from .validation import check_file

    names = []
    for path in (before, after):
        checked = check_file(path, lint=False)
        if checked.journey is None:
            raise JourneyInvalid(checked.problems)
        names.append(checked.journey.name)
    loc, problems = load_yaml(read_text(after), after)
    assert loc is not None  # check_file parsed it
    ref = loc.data.get("extends") if isinstance(loc.data, dict) else None
    if not isinstance(ref, str) or not os.path.samefile(resolve_reference(ref, after), before):
        raise InvalidArgument(f"{after} must be an overlay that extends {before} (extends: "
                              f"{ref if isinstance(ref, str) else 'missing'}); write the after design as an "
                              "overlay of the before design (see docs/format.md, 'Overlays')")
    return loc, names


def explain(before: str, after: str, *, together: Sequence[Sequence[str]] = (), **options: Any) -> dict[str, Any]:
    """Split ``after − before`` into the contribution of each change of the overlay ``after`` (JSON-ready).

    ``options`` go to :func:`attribute` (metric, replications, seed, cases, workers, permutations,
    progress, run). Raises :class:`JourneyInvalid` for an invalid file, :class:`InvalidArgument` when
    ``after`` does not extend ``before`` or a name in ``together`` is no change, and
    :class:`ChangesDepend` when changes must be grouped.
    """
    loc, (before_name, after_name) = _overlay_of(before, after)
    changes = overlay_changes(loc)
    if not changes:
        raise InvalidArgument(f"{after} changes nothing in {before}: there is nothing to explain")
    players = group_changes(changes, together)
    out = attribute(loc, players, **options)
    out["before"] = {"file": before, "name": before_name}
    out["after"] = {"file": after, "name": after_name}
    out["changes"] = [c.key for c in changes]
    return out


# --------------------------------------------------------------------------- the terminal report


def format_share(share: float | None) -> str:
    """A contribution's share of the total change: ``38%``, ``−4%`` (it worked against the total), ``0%``."""
    if share is None:
        return "—"
    text = f"{share:.0%}"
    return "0%" if text in ("0%", "-0%") else text.replace("-", "−")


def explain_method(result: Mapping[str, Any], sampling_se: str = "in --json: sampling_se") -> str:
    """How the contributions were computed, in one sentence (the terminal report and the HTML page say it);
    ``sampling_se`` says where the sampling error of sampled values is shown."""
    if result["method"] == "exact":
        how = f"exact Shapley values over all {result['designs_simulated']} partial designs"
    else:
        how = (f"Shapley values sampled over {result['permutations']} random orders of the changes "
               f"({result['designs_simulated']} partial designs; sampling error per change {sampling_se})")
    return (f"{how}; {result['replications']} replications, seed {result['seed']}, the same random streams in "
            "every design; the contributions add up to the total in every replication.")


def explain_blocks(result: Mapping[str, Any]) -> list[Any]:
    """The terminal report of :func:`explain`: a headline, the table of contributions, the method and the CI note."""
    from .tables import Table, format_change, format_value

    metric = result["metric"]
    unit = metric["unit"]

    def ci(lo_hi: Sequence[float | None]) -> str:
        lo, hi = lo_hi
        return "n/a" if lo is None or hi is None else f"[{format_change(lo, unit)}, {format_change(hi, unit)}]"

    total = result["total"]
    rows = [[row["title"], format_change(row["contribution"], unit), ci(row["ci95"]), format_share(row["share"])]
            for row in result["contributions"]]
    rows.append(["Total (after − before)", format_change(total["change"], unit), ci(total["ci95"]),
                 "100%" if total["change"] else "—"])
    return [
        f"{metric['label']}: {format_value(result['before_value'], unit)} before, "
        f"{format_value(result['after_value'], unit)} after ({format_change(total['change'], unit)})",
        Table(["Change", "Contribution", "95% CI", "Share"], rows, "lrrr"),
        explain_method(result),
        result["ci_note"],
    ]
