"""build_graph: the node, edge and graph attributes every analysis and renderer relies on."""

from __future__ import annotations

import pytest
from helpers import EXAMPLES, ROOT, graph_of

from journeymap.graph import build_graph
from journeymap.validation import load_journey

NODE_ATTRS = {"name", "stage", "stage_index", "order", "lane", "owner", "channel", "touchpoint", "customer",
              "value_adding", "emotion", "moment_of_truth", "duration", "mean_duration", "join", "start", "end"}
EDGE_ATTRS = {"probability", "delay", "mean_delay", "rework", "parallel", "handoff", "label"}
GRAPH_ATTRS = {"journey", "persona", "start", "ends", "stages"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_documented_attributes_on_every_example(path):
    journey = load_journey(path)
    g = build_graph(journey)
    assert set(g.nodes) == {s.id for s in journey.steps}
    assert g.number_of_edges() == len(journey.flows)          # one edge per flow (duplicates are refused)
    assert GRAPH_ATTRS <= set(g.graph)
    for n, d in g.nodes(data=True):
        assert NODE_ATTRS <= set(d), n
    for u, v, d in g.edges(data=True):
        assert EDGE_ATTRS <= set(d), (u, v)
        assert 0 <= d["probability"] <= 1


def test_acme_cio_graph():
    g = build_graph(load_journey(ROOT / "journeys" / "acme-cio.yaml"))
    assert g.graph["start"] == "briefing" and g.graph["ends"] == ("renewal",)
    assert g.graph["stages"] == ("evaluate", "buy", "onboard", "use", "renew")
    sec = g.nodes["security_call"]
    assert (sec["owner"], sec["lane"], sec["touchpoint"], sec["moment_of_truth"]) == \
        ("security", "frontstage", True, True)
    assert g.nodes["answer_questionnaire"]["lane"] == "backstage"          # no channel: backstage
    assert g.nodes["questionnaire"]["customer"] and g.nodes["questionnaire"]["lane"] == "customer"
    assert g.nodes["erp_integration"]["mean_duration"] == pytest.approx((8 + 16 + 40) / 3 * 60)  # 8wh, 16wh, 40wh
    assert g.nodes["kickoff"]["join"] == "go_live"
    rework = g.edges["security_call", "answer_questionnaire"]
    assert rework["rework"] and rework["probability"] == 0.25 and rework["label"] == "follow-up questions"
    assert g.edges["answer_questionnaire", "security_call"]["mean_delay"] == 2 * 1440
    assert g.edges["kickoff", "sso_setup"]["parallel"] and g.edges["kickoff", "erp_integration"]["parallel"]
    assert g.edges["briefing", "architecture_review"]["handoff"]           # sales -> presales
    assert not g.edges["questionnaire", "answer_questionnaire"]["handoff"]  # the customer is not a department
    assert not g.edges["sso_setup", "go_live"]["rework"]


def test_handoff_flag_and_rework_flag():
    g = graph_of("""
        journey: {name: T}
        persona: {id: p}
        stages: [a]
        departments: [{id: sales}, {id: ops}]
        steps:
          - {id: s1, stage: a, owner: sales, duration: 1h}
          - {id: s2, stage: a, owner: customer, duration: 1h}
          - {id: s3, stage: a, owner: ops, duration: 1h}
          - {id: s4, stage: a, owner: ops, duration: 1h, next: [{to: s4, probability: 0.1}, {to: s5, probability: 0.9}]}
          - {id: s5, stage: a, owner: sales, duration: 1h, next: {to: s6, rework: true}}
          - {id: s6, stage: a, owner: sales, duration: 1h}
        """)
    assert [(u, v) for u, v, h in g.edges(data="handoff") if h] == [("s4", "s5")]
    assert [(u, v) for u, v, r in g.edges(data="rework") if r] == [("s4", "s4"), ("s5", "s6")]  # self-loop; marked
    assert g.nodes["s1"]["start"] and g.nodes["s6"]["end"] and not g.nodes["s5"]["end"]
