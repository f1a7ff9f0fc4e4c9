"""Victim observations and moves across municipalities and regions."""

from __future__ import annotations

import pytest
from detect_graphs import GraphBuilder, three_groups

from netanalysis.errors import ConfigError
from netanalysis.movement import (
    Move,
    main_region,
    moves_from_observations,
    municipality_regions,
    observations,
    person_moves,
)


def test_moves_of_the_planted_victims():
    moves = person_moves(three_groups(), ["Person:va", "Person:vb", "Person:vl"])
    assert moves == {
        "Person:va": [
            Move("Person:va", "GM0363", "GM0599", "2023-03-01"),
            Move("Person:va", "GM0599", "GM0518", "2023-06-10"),
        ],
        "Person:vb": [Move("Person:vb", "GM0363", "GM0384", "2022-07-01")],
    }


def test_same_day_observations_do_not_make_a_back_and_forth():
    obs = [("2023-01-01", "A"), ("2023-01-05", "B"), ("2023-01-05", "A"), ("2023-01-09", "B")]
    assert moves_from_observations("p", obs) == [Move("p", "A", "B", "2023-01-05")]


def test_repeated_observations_and_a_return_trip():
    obs = [("2023-01-01", "A"), ("2023-01-02", "A"), ("2023-02-01", "B"), ("2023-03-01", "A")]
    assert [(m.from_code, m.to_code, m.date) for m in moves_from_observations("p", obs)] == [
        ("A", "B", "2023-02-01"),
        ("B", "A", "2023-03-01"),
    ]
    assert moves_from_observations("p", []) == []
    assert moves_from_observations("p", [("2023-01-01", "A")]) == []


def test_premises_count_as_their_municipality_and_undated_facts_are_skipped():
    b = GraphBuilder()
    b.person("v", "victim")
    b.premises("h", "GM0599")
    b.seen("v", "GM0363", "2023-01-01")
    b.seen_premises("v", "h", "2023-02-01", role="victim")
    b.rel("SEEN_AT", "Person:v", "Municipality:GM0518", None)
    assert observations(b.g) == {"Person:v": [("2023-01-01", "GM0363"), ("2023-02-01", "GM0599")]}


def test_regions_from_the_graph_and_from_the_reference():
    regions = municipality_regions(three_groups(), "police_unit")
    assert regions["GM0599"] == "RE07"
    assert regions["GM0014"] == "RE01"  # not in the graph: from loaders/reference
    assert municipality_regions(three_groups(), "province")["GM0363"] == "PV27"
    with pytest.raises(ConfigError, match="police_unit"):
        municipality_regions(three_groups(), "county")


def test_main_region_is_the_most_observed_with_ties_to_the_smallest_code():
    regions = {"A": "RE02", "B": "RE01", "C": "RE02"}
    assert main_region([("d", "A"), ("d", "C"), ("d", "B")], regions) == "RE02"
    assert main_region([("d", "A"), ("d", "B")], regions) == "RE01"
    assert main_region([("d", "X")], regions) == "unknown"
