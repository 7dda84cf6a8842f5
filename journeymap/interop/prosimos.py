"""A journey as a Prosimos scenario: the BPMN model plus Prosimos' JSON simulation parameters.

Prosimos (https://github.com/AutomatedProcessImprovement/Prosimos) is a business-process simulator
that reads the control flow from a BPMN file and everything else from a JSON file. Running the same
journey in a second simulator is a check on journeymap's numbers (tests/test_interop_bpmn.py does it).
The mapping, and what it cannot carry:

* the BPMN is :mod:`journeymap.interop.bpmn`'s, with every task a plain ``task`` (Prosimos reads no
  ``userTask``); flow delays are timer events whose durations go in ``event_distribution``;
* ``resource_profiles``: one pool per department with ``capacity`` resources at its ``cost_per_hour``,
  and a pool for the customer with enough resources that no customer step ever waits (journeymap gives
  the customer no queue): :func:`customer_pool_size`;
* ``task_resource_distribution``: each step's duration in seconds, by Prosimos' (SciPy) names: ``fix``,
  ``expon``, ``uniform``, ``lognorm``, ``gamma``. Prosimos has no triangular, Weibull or empirical
  distribution: those become a gamma with the same mean and variance (what a mean cycle time and a
  queue's waiting depend on first);
* ``gateway_branching_probabilities``: each exclusive split's flows with the journey's probabilities;
* ``arrival_time_distribution``: ``poisson`` is ``expon``, ``every`` is ``fix``, a ``schedule`` is
  ``fix`` at its mean gap; arrivals come around the clock (``arrival_time_calendar`` 24/7);
* ``resource_calendars``: 24/7 for a journey without calendars; otherwise each calendar's weekly
  opening hours (Prosimos calendars have no time zone and no holidays: those are dropped, and a
  department with shifts keeps its most people in its calendar's hours). Prosimos counts every task
  in its resource's working time, so ``2h`` clock-time meetings also pause at closing time.

Not carried: the backlog (Prosimos starts empty), the warm-up (discard cases yourself), priority classes,
``must_finish`` and targets. Prosimos' own start date is a command-line option (``--starting_at``).
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..analysis import expected_visits
from ..distributions import Distribution, Exponential, Fixed, LogNormal, Uniform
from ..graph import build_graph
from ..model import CUSTOMER, Journey
from ..output import dumps_json, write_text
from ..workingtime import Calendar
from .bpmn import Model, build_model, layout, to_xml

__all__ = ["scenario", "export_prosimos", "prosimos_distribution", "customer_pool_size", "ALWAYS"]

SECONDS = 60.0
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Prosimos' 24/7 calendar: every day from midnight to the last millisecond.
ALWAYS = [{"from": "MONDAY", "to": "SUNDAY", "beginTime": "00:00:00.000", "endTime": "23:59:59.999"}]
#: Samples above this many standard deviations past the mean are redrawn by Prosimos (its upper bound).
_TAIL = 50.0


def _params(*values: float) -> list[dict[str, float]]:
    return [{"value": round(v, 6)} for v in values]


def prosimos_distribution(d: Distribution) -> dict[str, Any]:
    """``{"distribution_name": ..., "distribution_params": [...]}`` in seconds, as Prosimos reads it.

    >>> prosimos_distribution(Exponential(2.0))
    {'distribution_name': 'expon', 'distribution_params': [{'value': 120.0}, {'value': 0}, {'value': 6120.0}]}
    """
    mean, var = d.mean * SECONDS, d.variance * SECONDS**2
    top = mean + _TAIL * math.sqrt(var)
    if isinstance(d, Fixed) or var <= 0:
        return {"distribution_name": "fix", "distribution_params": _params(mean)}
    if isinstance(d, Exponential):
        return {"distribution_name": "expon", "distribution_params": [{"value": round(mean, 6)}, {"value": 0},
                                                                      {"value": round(top, 6)}]}
    if isinstance(d, Uniform):
        return {"distribution_name": "uniform", "distribution_params": _params(d.low * SECONDS, d.high * SECONDS)}
    name = "lognorm" if isinstance(d, LogNormal) else "gamma"  # Gamma itself, or a moment-matched stand-in
    return {"distribution_name": name, "distribution_params": _params(mean, var, 0.0, top)}


def customer_pool_size(journey: Journey) -> int:
    """How many "customer" resources Prosimos needs so that customer steps never queue: ten times the
    expected number of cases in customer work at once (arrival rate x customer minutes per case), plus
    ten, at most 1000."""
    visits = expected_visits(build_graph(journey))
    work = sum(visits.get(s.id, 0.0) * s.duration.mean for s in journey.steps if s.owner == CUSTOMER)
    gap = journey.workload.arrivals.gap or 1.0
    return min(1000, math.ceil(10 * work / gap) + 10)


def _clock(minutes: int) -> str:
    if minutes >= 1440:
        return "23:59:59.999"
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00.000"


def _periods(calendar: Calendar | None) -> list[dict[str, str]]:
    if calendar is None:
        return ALWAYS
    return [{"from": DAYS[day], "to": DAYS[day], "beginTime": _clock(int(a)), "endTime": _clock(int(b))}
            for day, intervals in enumerate(calendar.hours.days) for a, b in intervals]


def _arrivals(journey: Journey) -> dict[str, Any]:
    arrivals = journey.workload.arrivals
    gap = arrivals.gap
    if arrivals.kind == "schedule" and len(arrivals.times) > 1:
        gap = (max(arrivals.times) - min(arrivals.times)) / (len(arrivals.times) - 1)
    if arrivals.kind == "poisson":
        return prosimos_distribution(Exponential(gap))
    return prosimos_distribution(Fixed(gap))


def scenario(journey: Journey, model: Model) -> dict[str, Any]:
    """Prosimos' JSON simulation parameters for ``journey`` whose BPMN elements are ``model``."""
    tasks: dict[str, list[str]] = {}
    for n in model.nodes:
        if n.step is not None and n.kind == "task":
            tasks.setdefault(journey.step_by_id[n.step].owner, []).append(n.id)
    calendars: dict[str, list[dict[str, str]]] = {}

    def calendar_id(cal: Calendar | None) -> str:
        periods = _periods(cal)
        for cid, known in calendars.items():
            if known == periods:
                return cid
        cid = "calendar_24_7" if cal is None else f"calendar_{len(calendars) + 1}"
        calendars[cid] = periods
        return cid

    pools = [{"id": "pool_customer", "name": "Customer", "resource_list": [{
        "id": "customer", "name": "Customer", "cost_per_hour": 0, "amount": customer_pool_size(journey),
        "calendar": calendar_id(journey.persona.calendar), "assignedTasks": tasks.get(CUSTOMER, [])}]}]
    for d in journey.departments:
        pools.append({"id": f"pool_{d.id}", "name": d.name, "resource_list": [{
            "id": d.id, "name": d.name, "cost_per_hour": d.cost_per_hour or 0, "amount": d.capacity,
            "calendar": calendar_id(d.calendar or journey.calendar), "assignedTasks": tasks.get(d.id, [])}]})
    task_dists = []
    for n in model.nodes:
        if n.step is not None and n.kind == "task":
            step = journey.step_by_id[n.step]
            task_dists.append({"task_id": n.id, "resources": [
                {"resource_id": step.owner, **prosimos_distribution(step.duration)}]})
    gateways = []
    for n in model.nodes:
        if n.kind == "exclusiveGateway" and n.direction == "Diverging":
            outs = [e for e in model.edges if e.source == n.id]
            gateways.append({"gateway_id": n.id, "probabilities": [
                {"path_id": e.id, "value": e.probability if e.probability is not None else 1.0 / len(outs)}
                for e in outs]})
    events = [{"event_id": n.id, **prosimos_distribution(n.delay)} for n in model.nodes if n.delay is not None]
    return {
        "resource_profiles": pools,
        "arrival_time_distribution": _arrivals(journey),
        "arrival_time_calendar": ALWAYS,
        "gateway_branching_probabilities": gateways,
        "task_resource_distribution": task_dists,
        "event_distribution": events,
        "resource_calendars": [{"id": cid, "name": cid, "time_periods": periods} for cid, periods in calendars.items()],
    }


def export_prosimos(journey: Journey, folder: str) -> list[str]:
    """Write ``<journey id>.bpmn`` and ``<journey id>.json`` into ``folder`` (each atomically) and
    return their paths. Run it with ``prosimos start-simulation --bpmn_path X.bpmn --json_path X.json
    --total_cases N --log_out_path log.csv``."""
    model = build_model(journey, plain_tasks=True)
    xml = to_xml(model, layout(model))
    params = dumps_json(scenario(journey, model)) + "\n"
    base = os.path.join(folder, journey.id)
    return [write_text(base + ".bpmn", xml), write_text(base + ".json", params)]
