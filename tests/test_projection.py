"""The perpetrator network on small hand-made graphs with known weights."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from detect_graphs import GraphBuilder, three_groups
from hypothesis import given, settings
from hypothesis import strategies as st

from netanalysis.errors import ConfigError
from netanalysis.projection import EvidenceWeights, perpetrator_network, reliability_factor, suspects


def test_three_groups_links_and_kinds():
    net = perpetrator_network(three_groups())
    assert sorted(net.nodes) == ["a1", "a2", "a3", "b1", "b2", "l1"]
    assert sorted(net.edges) == [("a1", "a2"), ("a1", "a3"), ("a2", "a3"), ("a3", "b1"), ("b1", "b2")]
    assert net.edges["a1", "a2"]["evidence"] == {"case": 1, "victim": 1}
    assert net.edges["b1", "b2"]["evidence"] == {"phone": 1, "vehicle": 1}
    assert net.edges["a3", "b1"]["kinds"] == "premises"
    assert net.degree("l1") == 0  # the lone offender is kept, unlinked
    assert net.nodes["a1"]["region"] == "RE05"
    assert net.nodes["l1"]["region"] == "RE03"
    assert net.graph["as_of"] == "2024-01-01"


def test_weight_is_kind_times_reliability_times_recency():
    b = GraphBuilder()
    b.person("x", "suspect")
    b.person("y", "suspect")
    b.uses("x", "Phone", "p", "2022-01-01", grade="B2")
    b.uses("y", "Phone", "p", "2022-01-01", grade="C3")
    b.seen("x", "GM0363", "2024-01-01", role="suspect")  # sets as_of two years after the phone
    w = EvidenceWeights(half_life_days=730)
    net = perpetrator_network(b.g, w)
    expected = 0.7 * (0.9 * 0.9) * (0.75 * 0.75) * 0.5
    assert math.isclose(net.edges["x", "y"]["weight"], expected, rel_tol=1e-9)
    # no recency decay when the half-life is 0, and an explicit as_of moves the reference date
    assert math.isclose(
        perpetrator_network(b.g, EvidenceWeights(half_life_days=0)).edges["x", "y"]["weight"],
        0.7 * 0.81 * 0.5625,
    )
    assert math.isclose(
        perpetrator_network(b.g, w, as_of="2022-01-01").edges["x", "y"]["weight"], 0.7 * 0.81 * 0.5625
    )


def test_analyst_weights_change_the_network():
    g = three_groups()
    no_premises = perpetrator_network(g, EvidenceWeights(premises=0.0))
    assert not no_premises.has_edge("a3", "b1")
    double = perpetrator_network(g, EvidenceWeights(phone=1.4, vehicle=1.0))
    base = perpetrator_network(g)
    assert math.isclose(double.edges["b1", "b2"]["weight"], 2 * base.edges["b1", "b2"]["weight"])


def test_shared_victim_links_suspects_of_different_cases():
    b = GraphBuilder()
    for p in ("s1", "s2"):
        b.person(p, "suspect")
    b.person("v", "victim")
    b.case("c1")
    b.case("c2")
    b.suspect_in("s1", "c1", "2023-01-01")
    b.suspect_in("s2", "c2", "2023-01-01")
    b.victim_in("v", "c1", "2023-01-01")
    b.victim_in("v", "c2", "2023-01-01")
    net = perpetrator_network(b.g)
    assert net.edges["s1", "s2"]["evidence"] == {"victim": 1}
    assert math.isclose(net.edges["s1", "s2"]["weight"], 0.8)
    assert "v" not in net  # victims are not in the perpetrator network


def test_item_shared_by_too_many_is_left_out():
    b = GraphBuilder()
    for i in range(6):
        b.person(f"s{i}", "suspect")
        b.seen_premises(f"s{i}", "hotel", "2023-01-01")
    b.premises("hotel", "GM0363")
    net = perpetrator_network(b.g, EvidenceWeights(max_item_persons=5))
    assert net.number_of_edges() == 0
    assert net.graph["skipped_items"] == {"premises": 1}
    assert perpetrator_network(b.g).number_of_edges() == 15


def test_victim_identifiers_do_not_link_suspects():
    b = GraphBuilder()
    b.person("s", "suspect")
    b.person("v", "victim")
    b.uses("s", "Phone", "p", "2023-01-01")
    b.uses("v", "Phone", "p", "2023-01-01")
    assert perpetrator_network(b.g).number_of_edges() == 0
    assert suspects(b.g) == ["Person:s"]


@pytest.mark.parametrize(
    ("grade", "factor"), [("A1", 1.0), ("b2", 0.81), ("F6", 0.25), ("", 0.5), ("Z9", 0.5)]
)
def test_reliability_factor(grade, factor):
    assert math.isclose(reliability_factor(grade), factor)


def _relabel(graph: nx.MultiDiGraph, mapping: dict[str, str]) -> nx.MultiDiGraph:
    def rename(node: str) -> str:
        if node.startswith("Person:"):
            return "Person:" + mapping[node[7:]]
        return node

    return nx.relabel_nodes(graph, rename, copy=True)


@settings(max_examples=25, deadline=None)
@given(st.permutations(["a1", "a2", "a3", "b1", "b2", "l1", "va", "vb", "vl"]))
def test_relabelling_persons_changes_no_weight(perm):
    names = ["a1", "a2", "a3", "b1", "b2", "l1", "va", "vb", "vl"]
    mapping = {old: f"q{new}" for old, new in zip(names, perm, strict=True)}
    g = three_groups()
    base = perpetrator_network(g)
    moved = perpetrator_network(_relabel(g, mapping))
    for u, v, data in base.edges(data=True):
        other = moved.edges[mapping[u], mapping[v]]
        assert math.isclose(other["weight"], data["weight"])
        assert other["evidence"] == data["evidence"]
    assert moved.number_of_edges() == base.number_of_edges()


def test_bad_as_of_or_level_is_a_config_error() -> None:
    # The same bad input raises the same error as DetectionSettings.validate, not a ValueError.
    with pytest.raises(ConfigError, match="as_of '31-12-2023' is not a date"):
        perpetrator_network(three_groups(), as_of="31-12-2023")
    with pytest.raises(ConfigError, match="unknown region level 'gemeente'"):
        perpetrator_network(three_groups(), level="gemeente")
