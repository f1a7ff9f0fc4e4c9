"""Addresses and organisations in the detection (issue 20): the evidence kinds ``address``,
``employer`` and ``director``, the crowded-address signal and hubs shared by groups, on hand-made
graphs with known answers (``detect_graphs.labour_network``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from detect_graphs import GraphBuilder, labour_network, write_to_store

import netanalysis as na
from graphstore import open_store
from netanalysis.cli import main
from netanalysis.errors import ConfigError

NO_DECAY = na.EvidenceWeights(half_life_days=0)


def links(net: nx.Graph) -> dict[tuple[str, str], tuple[float, dict[str, int]]]:
    return {(a, b): (round(w, 9), dict(e)) for a, b, w, e in _edges(net)}


def _edges(net: nx.Graph) -> list[tuple[str, str, float, dict[str, int]]]:
    return sorted((min(a, b), max(a, b), d["weight"], d["evidence"]) for a, b, d in net.edges(data=True))


def test_addresses_and_organisations_link_suspects_known_answer() -> None:
    net = na.perpetrator_network(labour_network(), NO_DECAY)
    assert links(net) == {
        ("p1", "p2"): (1.8, {"case": 1, "victim": 1}),
        ("q1", "q2"): (1.8, {"case": 1, "victim": 1}),
        ("s8", "s9"): (1.8, {"case": 1, "victim": 1}),
        # victims of two cases registered at house H at the same time
        ("s1", "s2"): (0.6, {"address": 1}),
        ("s2", "s3"): (0.6, {"address": 1}),
        # s3 directs the agency that employs s1's victim
        ("s1", "s3"): (0.7, {"director": 1}),
        ("s10", "s11"): (0.7, {"director": 1}),  # a director and an owner
        ("s4", "s5"): (0.3, {"employer": 1}),  # two workers of one firm, overlapping in December 2020
    }
    # s6 left H2 the day before s7 arrived; vp and vq never shared H4 or agency B either
    assert not net.has_edge("s6", "s7") and not net.has_edge("p1", "q1")


def test_the_new_kinds_switch_off_at_zero() -> None:
    off = na.perpetrator_network(
        labour_network(), na.EvidenceWeights(address=0.0, employer=0.0, director=0.0)
    )
    assert links(off) == {
        pair: (1.8, {"case": 1, "victim": 1}) for pair in (("p1", "p2"), ("q1", "q2"), ("s8", "s9"))
    }
    only_director = na.perpetrator_network(
        labour_network(), na.EvidenceWeights(address=0.0, employer=0.0, half_life_days=0)
    )
    assert {p for p, (_, e) in links(only_director).items() if "director" in e} == {
        ("s1", "s3"),
        ("s10", "s11"),
    }
    assert not any("address" in e or "employer" in e for _, (_, e) in links(only_director).items())


def test_weights_reliability_and_recency_of_the_new_kinds() -> None:
    b = GraphBuilder()
    for key in ("x", "y"):
        b.person(key, "suspect")
    b.address("h")
    b.registered("x", "h", "2020-01-01", grade="B2")
    b.registered("y", "h", "2021-01-01", "2021-12-31", grade="C3")
    b.seen("x", "GM0363", "2023-12-31", role="suspect")  # as_of: two years after y's registration ended
    net = na.perpetrator_network(b.g, na.EvidenceWeights(address=1.5, half_life_days=730))
    assert math.isclose(net.edges["x", "y"]["weight"], 1.5 * 0.81 * 0.5625 * 0.5, rel_tol=1e-3)


def test_one_victim_does_not_link_the_suspects_of_her_case_again() -> None:
    net = na.perpetrator_network(labour_network(), NO_DECAY)
    # s8 and s9 share v4, who is registered at H3: case and victim evidence, no address
    assert net.edges["s8", "s9"]["evidence"] == {"case": 1, "victim": 1}


def test_a_role_from_a_case_file_makes_a_victim_reach_an_address() -> None:
    b = GraphBuilder()
    for key in ("a", "b"):
        b.person(key, "suspect")
    for key in ("va", "vb"):
        b.person(key, "victim")
    b.role("CONTROLLED", "a", "va")
    b.role("RECRUITED", "b", "vb")
    b.address("h")
    b.registered("va", "h", "2021-01-01")
    b.registered("vb", "h", None, "2021-01-01")  # an open start overlaps; ends the day va arrives
    assert links(na.perpetrator_network(b.g, NO_DECAY)) == {("a", "b"): (0.6, {"address": 1})}


def test_an_address_reached_by_too_many_suspects_is_left_out() -> None:
    net = na.perpetrator_network(labour_network(), na.EvidenceWeights(max_item_persons=2, half_life_days=0))
    assert not net.has_edge("s1", "s2") and not net.has_edge("s2", "s3")
    # H (s1, s2, s3), H4 and agency B (each p1, p2, q1, q2 through their victims)
    assert net.graph["skipped_items"] == {"address": 2, "employer": 1}
    assert net.edges["s1", "s3"]["evidence"] == {"director": 1}


def test_crowded_addresses_known_answer() -> None:
    g = labour_network()
    assert na.crowded_addresses(g) == []  # nobody has six persons at once
    rows = na.crowded_addresses(g, na.CrowdedAddressRule(min_persons=2))
    assert rows == [
        {
            "address_id": "H",
            "pc4": "3011",
            "municipality": "GM0599",
            "persons": 2,
            "first_day": "2021-06-01",
            "last_day": "2021-12-31",
            "registered": 3,
        }
    ]
    # H2 (one after the other) and H4 never hold two persons on one day


def test_crowded_rule_counts_persons_once_and_honours_exclusions() -> None:
    b = GraphBuilder()
    b.address("h", pc4="1012", code="GM0363")
    b.address("k", pc4="3011", code="GM0599")
    for i in range(6):
        b.person(f"w{i}", "victim")
        b.registered(f"w{i}", "h", "2022-01-01", "2022-12-31")
        b.registered(f"w{i}", "k", "2023-01-01")
    b.registered("w0", "h", "2022-06-01")  # a second row of one person: still six persons
    b.organisation("o")
    b.rel("AT", "Organisation:o", "Address:k")
    rows = na.crowded_addresses(b.g)
    assert [(r["address_id"], r["persons"], r["first_day"], r["last_day"]) for r in rows] == [
        ("h", 6, "2022-01-01", "2022-12-31"),
        ("k", 6, "2023-01-01", ""),
    ]
    assert [r["address_id"] for r in na.crowded_addresses(b.g, na.CrowdedAddressRule(min_persons=7))] == []
    business = na.CrowdedAddressRule(exclude_business=True)
    assert [r["address_id"] for r in na.crowded_addresses(b.g, business)] == ["h"]
    elsewhere = na.CrowdedAddressRule(exclude_municipalities=["GM0363"])
    assert [r["address_id"] for r in na.crowded_addresses(b.g, elsewhere)] == ["k"]
    with pytest.raises(ConfigError, match="at least 2"):
        na.crowded_addresses(b.g, na.CrowdedAddressRule(min_persons=1))


def test_crowded_address_leads_and_hubs_of_groups() -> None:
    g = labour_network()
    rule = na.CrowdedAddressRule(min_persons=2)
    groups = {"v1": "G1", "v2": "G1", "s9": "G2"}
    leads = na.crowded_address_leads(g, groups, rule)
    assert [(r["address_id"], r["group_id"], r["group_persons"]) for r in leads] == [("H", "G1", 2)]
    assert [r["group_id"] for r in na.crowded_address_leads(g, {}, rule)] == [""]
    hubs = na.shared_hubs(g, {"vp": "GP", "p1": "GP", "vq": "GQ"})
    assert [(h["hub"], h["hub_id"], h["groups"], h["persons"], h["kind"], h["pc4"]) for h in hubs] == [
        ("address", "H4", "GP|GQ", 2, "", "3011"),
        ("organisation", "B", "GP|GQ", 2, "employment agency", ""),
    ]
    assert na.shared_hubs(g, {"vp": "GP", "vq": "GQ"}, min_groups=3) == []
    with pytest.raises(ConfigError, match="at least 2 groups"):
        na.shared_hubs(g, {}, min_groups=1)


@pytest.mark.slow  # over 1.5 CPU s: detect runs more than once
def test_detect_writes_crowded_addresses_and_hubs(tmp_path: Path) -> None:
    settings = na.DetectionSettings(seed=1, stability_runs=0, crowded=na.CrowdedAddressRule(min_persons=2))
    result = na.detect(labour_network(), settings)
    group_of = dict(zip(result.groups.person_id, result.groups.group_id, strict=True))
    # s1, s2 and s3 are one group, bound by the address and the agency alone
    assert group_of["s1"] == group_of["s2"] == group_of["s3"] == group_of["v1"] == group_of["v3"]
    assert group_of["p1"] != group_of["q1"]
    crowded = result.crowded_addresses
    assert crowded[["address_id", "persons", "group_id", "group_persons"]].values.tolist() == [
        ["H", 2, group_of["s1"], 3]
    ]
    hubs = result.hubs
    # H2: the lone offenders s6 and s7 are groups of one; H4 and B: the victims of P and Q
    assert hubs[["hub", "hub_id", "n_groups"]].values.tolist() == [
        ["address", "H2", 2],
        ["address", "H4", 2],
        ["organisation", "B", 2],
    ]
    pairs = [
        (group_of["s6"], group_of["s7"]),
        (group_of["vp"], group_of["vq"]),
        (group_of["vp"], group_of["vq"]),
    ]
    assert hubs.groups.tolist() == ["|".join(sorted(pair)) for pair in pairs]
    paths = {p.name for p in result.write(tmp_path)}
    assert {"crowded_addresses.csv", "hubs.csv"} <= paths
    written = json.loads((tmp_path / "settings.json").read_text())
    assert written["crowded"] == {"min_persons": 2, "exclude_business": False, "exclude_municipalities": []}
    again = na.DetectionSettings.from_json(tmp_path / "settings.json")
    assert again.crowded == settings.crowded
    pd.testing.assert_frame_equal(na.detect(labour_network(), again).hubs, hubs)
    with pytest.raises(ConfigError, match="exclude_municipalities"):
        na.DetectionSettings.from_dict({"crowded": {"exclude_municipalities": "GM0363"}})


@pytest.mark.slow  # over 1.5 CPU s: detect runs more than once
def test_detect_command_takes_the_crowded_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = tmp_path / "store.db"
    store = open_store(str(store_path))
    store.apply_schema()
    write_to_store(labour_network(), store)
    store.close()
    out = tmp_path / "out"
    code = main(["detect", "--store", str(store_path), "--out", str(out), "--crowded-min-persons", "2"])
    assert code == 0
    assert "1 crowded addresses, 3 hubs" in capsys.readouterr().out
    crowded = pd.read_csv(out / "crowded_addresses.csv", dtype=str)
    assert crowded["address_id"].tolist() == ["H"]
    assert json.loads((out / "settings.json").read_text())["crowded"]["min_persons"] == 2
    # the file's settings with the command line over them
    again = tmp_path / "again"
    assert (
        main(
            [
                "detect",
                "--store",
                str(store_path),
                "--out",
                str(again),
                "--settings",
                str(out / "settings.json"),
            ]
        )
        == 0
    )
    assert pd.read_csv(again / "crowded_addresses.csv", dtype=str)["address_id"].tolist() == ["H"]
    code = main(["detect", "--store", str(store_path), "--out", str(again), "--crowded-min-persons", "1"])
    assert code == 2
    assert "at least 2" in capsys.readouterr().err


@pytest.mark.slow  # over 1.5 CPU s: a detection and the report's tables
def test_report_counts_groups_by_the_evidence_that_binds_them() -> None:
    from netanalysis.report import _strings, publish
    from netanalysis.report.tables import EVIDENCE_ROWS, build_tables

    graph = labour_network()
    result = na.detect(graph, na.DetectionSettings(seed=1, stability_runs=0))
    raw = build_tables(result.frames(), graph, na.Period.year(2022))
    table = raw.breakdowns["groups_by_evidence"]
    assert list(table.index) == list(EVIDENCE_ROWS)
    # Active in 2022 (dated facts): s1-s3 (address and director only), s8-s9, P and Q (case and
    # victim). s4-s5 and s10-s11 have no dated fact, so no period holds them.
    assert table["one_region"].to_dict() == {
        "case": 3,
        "victim": 3,
        "phone": 0,
        "vehicle": 0,
        "account": 0,
        "premises": 0,
        "address": 1,
        "employer": 0,
        "director": 1,
        "only_addresses_and_organisations": 1,
    }
    assert table["cross_regional"].sum() == 0
    shown = publish(raw, 3, _strings()["en"])["groups_by_evidence"]
    assert shown.loc["case", "one_region"] == "3"
    assert shown.loc["address", "one_region"] == "<3" and shown.loc["director", "one_region"] == "<3"
    assert "Total" not in shown.index and "Total" not in shown.columns  # a group counts under every kind


@pytest.mark.slow  # over 1.5 CPU s: a detection
def test_followed_groups_keep_their_ids_in_crowded_addresses_and_hubs() -> None:
    from netanalysis.lineage import follow_groups

    settings = na.DetectionSettings(seed=1, stability_runs=0, crowded=na.CrowdedAddressRule(min_persons=2))
    result = na.detect(labour_network(), settings)
    followed = follow_groups(result, {"G050": {"p1", "p2"}, "G060": {"q1", "q2"}, "G070": {"s1", "s2", "s3"}})
    assert followed.hubs.set_index("hub_id").loc[["H4", "B"], "groups"].tolist() == ["G050|G060"] * 2
    assert followed.crowded_addresses["group_id"].tolist() == ["G070"]
    assert set(followed.groups.group_id) >= {"G050", "G060", "G070"}


def _house_shared_by_two_groups() -> GraphBuilder:
    """Group X (x1-x4, case cX, victim vx) and group Y (y1, y2, case cY, victim vy); vx and vy are
    registered at house H at the same time. vx's registration is the kind of row that a resolution
    error at high noise gives a victim (a lodger of Y's house resolved to her)."""
    b = GraphBuilder()
    for key in ("x1", "x2", "x3", "x4", "y1", "y2"):
        b.person(key, "suspect")
    for key in ("vx", "vy"):
        b.person(key, "victim")
    for case, people, victim in (("cX", ("x1", "x2", "x3", "x4"), "vx"), ("cY", ("y1", "y2"), "vy")):
        b.case(case, "labour")
        for person in people:
            b.suspect_in(person, case, "2022-06-01")
        b.victim_in(victim, case, "2022-06-01")
    b.address("H")
    b.registered("vx", "H", "2022-01-01", "2022-12-31")
    b.registered("vy", "H", "2022-03-01")
    return b


def test_a_victims_registration_is_split_over_her_suspects() -> None:
    g = _house_shared_by_two_groups().g
    net = na.perpetrator_network(g, NO_DECAY)
    across = {(a, b): (w, e) for (a, b), (w, e) in links(net).items() if a[0] != b[0]}
    # one co-residence of vx (4 suspects) and vy (2 suspects): 0.6 x 1/4 x 1/2 per pair, 0.6 in all
    assert across == {(x, y): (0.075, {"address": 1}) for x in ("x1", "x2", "x3", "x4") for y in ("y1", "y2")}
    assert links(net)[("y1", "y2")] == (1.8, {"case": 1, "victim": 1})
    # the rule before: every pair at the full weight, 4.8 across against 1.8 within Y
    full = na.perpetrator_network(g, na.EvidenceWeights(half_life_days=0, split_victim_facts=False))
    assert {w for (a, b), (w, _) in links(full).items() if a[0] != b[0]} == {0.6}


def test_a_suspects_own_registration_is_not_split() -> None:
    b = _house_shared_by_two_groups()
    b.registered("x1", "H", "2022-03-01", "2022-03-31")
    net = na.perpetrator_network(b.g, NO_DECAY)
    # x1 lived there himself: full factor on his side, vy's split over y1 and y2
    assert links(net)[("x1", "y1")] == (0.3, {"address": 1})
    assert links(net)[("x2", "y1")] == (0.075, {"address": 1})


def test_a_victim_reaches_an_address_or_employer_only_near_her_tie_to_the_suspect() -> None:
    b = GraphBuilder()
    for key in ("a", "z"):
        b.person(key, "suspect")
    for key in ("va", "vz"):
        b.person(key, "victim")
    for case, suspect, victim, day in (("cA", "a", "va", "2020-06-01"), ("cZ", "z", "vz", "2024-06-01")):
        b.case(case, "labour")
        b.suspect_in(suspect, case, day)
        b.victim_in(victim, case, day)
    b.address("H")
    b.organisation("F", kind="cleaning")
    # vz lived and worked with va in 2020, four years before she was z's victim: her own life
    b.registered("va", "H", "2020-01-01", "2020-12-31")
    b.registered("vz", "H", "2020-01-01", "2020-12-31")
    b.tie("EMPLOYED_BY", "va", "F", "2020-01-01")
    b.tie("EMPLOYED_BY", "vz", "F", "2020-01-01")
    assert not na.perpetrator_network(b.g, NO_DECAY).has_edge("a", "z")
    # no window: the rule before
    loose = na.perpetrator_network(b.g, na.EvidenceWeights(half_life_days=0, victim_tie_days=None))
    assert links(loose) == {("a", "z"): (0.9, {"address": 1, "employer": 1})}
    # the window runs a year (default) either side of the case's first and last observation: a
    # first report of case cZ in 2021 takes in vz's house and job of 2020 from 2020-05-01
    b.suspect_in("z", "cZ", "2021-05-01")
    assert links(na.perpetrator_network(b.g, NO_DECAY)) == {("a", "z"): (0.9, {"address": 1, "employer": 1})}
    tight = na.perpetrator_network(b.g, na.EvidenceWeights(half_life_days=0, victim_tie_days=30))
    assert not tight.has_edge("a", "z")


def test_a_negative_victim_tie_window_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="victim_tie_days must be a whole number of days, 0 or more"):
        na.perpetrator_network(labour_network(), na.EvidenceWeights(victim_tie_days=-1))
