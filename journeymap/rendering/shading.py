"""Simulation results read onto the drawings: waiting shades, handoff widths and the bottleneck's marks.

:func:`read_results` reduces a simulation summary (the dict of ``journeymap simulate --json``) to the
figures the views show, once per drawing; the other functions turn those figures into colours, widths
and badges, so every view marks the same thing the same way. Definitions are those of
docs/rendering.md and docs/simulation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ..model import CUSTOMER
from . import palette
from .palette import TEXT_SIZE
from .syntax import Cell

__all__ = [
    "Results",
    "read_results",
    "mean",
    "as_float",
    "flow_numbers",
    "bottleneck_badge",
    "waiting_cell",
    "department_fill",
    "mark_bottleneck_step",
    "handoff_width",
    "pair_width",
]


@dataclass
class Results:
    """Simulation results reduced to what the drawings shade and label.

    Waiting follows the one definition of the bottleneck (docs/rendering.md): the waiting *at a step*
    is the queueing at it plus the inbox delay on the arrows into it, and every share is a share of
    all waiting of the journey. A handoff arrow's time lost is its own ``lost_per_case`` (the
    arrow's inbox delay plus the queueing at the receiving step on the visits it brought), never the
    department pair's total split over its arrows.
    """

    step_share: dict[str, float] = field(default_factory=dict)
    step_wait: dict[str, float] = field(default_factory=dict)
    dept_share: dict[str, float] = field(default_factory=dict)
    dept_util: dict[str, float] = field(default_factory=dict)
    pair_waste: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_lost: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_inbox: dict[tuple[str, str], float] = field(default_factory=dict)
    flow_number: dict[tuple[str, str], int] = field(default_factory=dict)
    bottleneck_step: str | None = None
    bottleneck_dept: str | None = None
    bottleneck: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def max_step_share(self) -> float:
        return max(self.step_share.values(), default=0.0)

    @property
    def max_dept_share(self) -> float:
        return max(self.dept_share.values(), default=0.0)

    @property
    def steady(self) -> bool:
        """False only when the summary says the design is not in steady state (defined in docs/simulation.md)."""
        return self.stability.get("steady", True) is not False


def mean(s: Any) -> float:
    """The mean of an ``S`` record, or the number itself."""
    if isinstance(s, Mapping):
        return float(s.get("mean", 0.0) or 0.0)
    return float(s or 0.0)


def as_float(x: Any) -> float:
    """A figure of the summary as a float; missing (None) is 0."""
    return float(x or 0.0)


def read_results(results: Mapping[str, Any] | None, g: nx.DiGraph | None = None) -> Results | None:
    """Reduce a simulation summary to the figures the drawings show (see :class:`Results`).

    With ``summary["flows"]`` (the per-arrow data) a step's waiting is its queueing plus the inbox
    delay on the arrows into it, and department shares are sums over their steps, the same
    definition as ``summary["bottleneck"]``. Older summaries without flows fall back to their own
    per-step and per-department shares and show no per-arrow time lost.
    """
    if not results:
        return None
    r = Results(summary=dict(results))
    steps = results.get("steps") or {}
    flows = results.get("flows") or []
    _read_flows(r, flows)
    if flows:
        _read_waiting(r, steps, g)
    else:
        for sid, d in steps.items():
            r.step_share[sid] = as_float(d.get("share_of_waiting"))
            r.step_wait[sid] = as_float(d.get("wait_per_case"))
    own_shares = not flows or g is None
    for dept, d in (results.get("departments") or {}).items():
        if own_shares:
            r.dept_share[dept] = as_float(d.get("share_of_waiting"))
        else:
            r.dept_share.setdefault(dept, 0.0)
        r.dept_util[dept] = mean(d.get("utilisation"))
    for p in (results.get("handoff_waste") or {}).get("pairs", []) or []:
        key = (p["from"], p["to"])
        r.pair_waste[key] = as_float(p.get("waste_per_case"))
    _read_bottleneck(r, results.get("bottleneck") or {})
    r.stability = dict(results.get("stability") or {})
    return r


def _read_flows(r: Results, flows: list[Mapping[str, Any]]) -> None:
    """Each arrow's time lost, inbox delay and H-number."""
    for f in flows:
        key = (f["source"], f["target"])
        r.flow_lost[key] = as_float(f.get("lost_per_case"))
        r.flow_inbox[key] = as_float(f.get("inbox_per_case"))
        if f.get("number") is not None:
            r.flow_number[key] = int(f["number"])


def _read_waiting(r: Results, steps: Mapping[str, Any], g: nx.DiGraph | None) -> None:
    """Waiting at each step (its queueing + the inbox delay into it), its share, and each department's share."""
    wait = {sid: as_float(d.get("wait_per_case")) for sid, d in steps.items()}
    for (_, target), inbox in r.flow_inbox.items():
        wait[target] = wait.get(target, 0.0) + inbox
    total = sum(wait.values())
    r.step_wait = wait
    r.step_share = {sid: (w / total if total > 0 else 0.0) for sid, w in wait.items()}
    if g is None:
        return
    for sid, w in wait.items():
        if sid in g and g.nodes[sid]["owner"] != CUSTOMER:
            owner = g.nodes[sid]["owner"]
            r.dept_share[owner] = r.dept_share.get(owner, 0.0) + (w / total if total > 0 else 0.0)


def _read_bottleneck(r: Results, bottleneck: Mapping[str, Any]) -> None:
    b = dict(bottleneck)
    # older summaries named the department's share "share_of_waiting"
    b.setdefault("department_share", b.get("share_of_waiting", 0.0))
    b.setdefault("step_share", b.get("step_share_of_waiting", r.step_share.get(b.get("step") or "", 0.0)))
    r.bottleneck = b
    r.bottleneck_step = b.get("step")
    r.bottleneck_dept = b.get("department")


def flow_numbers(numbers: Mapping[tuple[str, str], int], res: Results | None) -> dict[tuple[str, str], int]:
    """The H-numbers to print: the results' own numbers where they give them, else the graph's."""
    if res is not None and res.flow_number:
        return {k: res.flow_number.get(k, v) for k, v in numbers.items()}
    return dict(numbers)


def bottleneck_badge() -> Cell:
    """The black "⚠ BOTTLENECK" badge on the bottleneck department and its step."""
    return Cell(["\u26a0 BOTTLENECK"], TEXT_SIZE, bold=True, colour="#FFFFFF", fill=palette.BOTTLENECK)


def waiting_cell(res: Results, step: str, wait_text: str) -> Cell:
    """A step's waiting as a shaded cell of its own, so the box keeps the fill of its role (legend)."""
    return Cell([wait_text, f"step share of waiting {100 * res.step_share[step]:.0f}%"], TEXT_SIZE, bold=True,
                fill=palette.waiting_colour(res.step_share[step], res.max_step_share))


def department_fill(res: Results, dept: str) -> str:
    """A department's fill: white to orange by its share of all waiting, relative to the largest."""
    return palette.waiting_colour(res.dept_share[dept], res.max_dept_share)


def mark_bottleneck_step(attrs: dict[str, Any], res: Results | None, step: str) -> None:
    """A thick black border on the bottleneck step."""
    if res is not None and res.bottleneck_step == step:
        attrs["penwidth"] = 6.0
        attrs["color"] = palette.BOTTLENECK


def handoff_width(waste: float | None, max_waste: float, default: float) -> float:
    """A handoff arrow's width on the map: 3 to 12 by its own time lost, ``default`` without results."""
    if waste is not None and max_waste > 0:
        return round(3.0 + 9.0 * waste / max_waste, 2)
    if waste is not None:
        return 3.0
    return default


def pair_width(waste: float | None, max_waste: float, count: int, max_count: int) -> float:
    """A department pair's arrow width on the handoff network: by time lost with results, else by count."""
    if waste is not None and max_waste > 0:
        return round(2.0 + 10.0 * waste / max_waste, 2)
    return round(2.0 + 8.0 * count / max_count, 2)
