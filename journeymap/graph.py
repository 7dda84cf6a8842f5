"""The journey as a NetworkX graph.

:func:`build_graph` turns a :class:`~journeymap.model.Journey` into a
``networkx.DiGraph`` whose nodes are step ids and whose edges are flows. The
attribute names below are the contract every analysis and renderer relies on.

Node attributes
    ``name`` (str), ``stage`` (stage id), ``stage_index`` (int, order of the
    stage), ``order`` (int, position in the file), ``lane`` (customer,
    frontstage, backstage, support), ``owner`` (department id or
    ``"customer"``), ``channel`` (str or None), ``touchpoint`` (bool),
    ``customer`` (bool), ``value_adding`` (bool), ``emotion`` (float or None),
    ``moment_of_truth`` (bool), ``duration`` (a distribution),
    ``mean_duration`` (minutes), ``join`` (join step id when the step forks,
    else None), ``start`` (bool), ``end`` (bool).

Edge attributes
    ``probability`` (float; 1 for each parallel branch), ``delay`` (a
    distribution or None), ``mean_delay`` (minutes), ``rework`` (bool),
    ``parallel`` (bool), ``handoff`` (bool: owners are two different
    departments), ``label`` (str).

Graph attributes
    ``journey`` (the journey id), ``persona`` (persona id), ``start``,
    ``ends`` (tuple), ``stages`` (tuple of stage ids in order).
"""

from __future__ import annotations

import networkx as nx

from .model import CUSTOMER, Journey

__all__ = ["build_graph", "reach"]


def reach(neighbours, source: str, allowed) -> set[str]:
    """``source`` and the nodes reachable from it through ``neighbours`` for which ``allowed(n)``.

    A plain search that stays inside what ``allowed`` admits (a rework loop,
    a parallel block), so checks on big journeys cost what the region costs,
    not what the whole graph costs.
    """
    seen = {source}
    todo = [source]
    while todo:
        for m in neighbours(todo.pop()):
            if m not in seen and allowed(m):
                seen.add(m)
                todo.append(m)
    return seen


def build_graph(journey: Journey) -> nx.DiGraph:
    """Build the journey graph; see the module docstring for the attributes.

    >>> from journeymap import load_journey
    >>> g = build_graph(load_journey("journeys/acme-cio.yaml"))  # doctest: +SKIP
    >>> g.nodes["security_call"]["owner"]                       # doctest: +SKIP
    'security'
    """
    stage_index = {s.id: i for i, s in enumerate(journey.stages)}
    g = nx.DiGraph(journey=journey.id, persona=journey.persona.id, start=journey.start,
                   ends=journey.ends, stages=tuple(stage_index))
    ends = set(journey.ends)
    for order, s in enumerate(journey.steps):
        g.add_node(
            s.id, name=s.name, stage=s.stage, stage_index=stage_index.get(s.stage, 0), order=order,
            lane=s.lane, owner=s.owner, channel=s.channel, touchpoint=s.is_touchpoint,
            customer=s.owner == CUSTOMER, value_adding=s.value_adding, emotion=s.emotion,
            moment_of_truth=s.moment_of_truth, duration=s.duration, mean_duration=s.duration.mean,
            join=s.join, start=s.id == journey.start, end=s.id in ends,
        )
    for f in journey.flows:
        g.add_edge(
            f.source, f.target, probability=f.probability, delay=f.delay,
            mean_delay=f.delay.mean if f.delay is not None else 0.0, rework=f.rework,
            parallel=f.parallel, handoff=journey.is_handoff(f), label=f.label,
        )
    return g
