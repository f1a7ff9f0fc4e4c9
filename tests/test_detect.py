"""The detection pipeline and the `netanalysis detect` command on a hand-made graph."""

from __future__ import annotations

import json

import networkx as nx
import pandas as pd
import pytest
from detect_graphs import GraphBuilder, three_groups, write_to_store
from hypothesis import given, settings
from hypothesis import strategies as st

from graphstore import open_store
from netanalysis.cli import main
from netanalysis.detect import COLUMNS, STAGES, DetectionSettings, PriorityWeights, detect, priority
from netanalysis.errors import ConfigError


@pytest.fixture(scope="module")
def result():
    return detect(three_groups(), DetectionSettings(seed=1))


def test_groups_and_roles(result):
    rows = {(r.group_id, r.person_id, r.role) for r in result.groups.itertuples()}
    assert rows == {
        ("G001", "a1", "suspect"),
        ("G001", "a2", "suspect"),
        ("G001", "a3", "suspect"),
        ("G001", "va", "victim"),
        ("G002", "b1", "suspect"),
        ("G002", "b2", "suspect"),
        ("G002", "vb", "victim"),
        ("G003", "l1", "suspect"),
        ("G003", "vl", "victim"),
    }
    assert result.groups["stability"].between(0, 1).all()
    assert result.groups.loc[result.groups.role == "suspect", "core"].all()


def test_movements_and_cross_regional_flag(result):
    moves = result.movements
    assert list(moves.itertuples(index=False, name=None)) == [
        ("G001", "va", "GM0363", "GM0599", "RE05", "RE07", "2023-03-01", True),
        ("G001", "va", "GM0599", "GM0518", "RE07", "RE06", "2023-06-10", True),
        ("G002", "vb", "GM0363", "GM0384", "RE05", "RE05", "2022-07-01", False),
    ]
    summary = result.group_summary.set_index("group_id")
    assert summary["cross_regional"].to_dict() == {"G001": True, "G002": False, "G003": False}
    assert summary.loc["G001", "cross_region_moves"] == 2
    assert summary.loc["G002", "regions"] == "RE03|RE05"  # b1 was at the Utrecht hotel
    assert summary.loc["G001", "exploitation_types"] == "sexual"
    assert summary.loc["G003", ["members", "victims", "first_seen", "last_seen"]].tolist() == [
        1,
        1,
        "2024-01-01",
        "2024-01-01",
    ]
    # the cross-regional group with recent activity ranks first
    assert summary["priority"].idxmax() == "G001"
    assert "cross-regional" in summary.loc["G001", "priority_reasons"]


def test_every_frame_follows_the_contract(result, tmp_path):
    for name, frame in result.frames().items():
        assert list(frame.columns) == COLUMNS[name], name
    paths = result.write(tmp_path)
    assert sorted(p.name for p in paths) == sorted([f"{n}.csv" for n in COLUMNS] + ["settings.json"])
    back = pd.read_csv(tmp_path / "groups.csv", dtype=str)
    assert len(back) == len(result.groups)
    used = json.loads((tmp_path / "settings.json").read_text())
    assert used["seed"] == 1 and used["level"] == "police_unit" and used["as_of"] == "2024-01-01"
    assert result.persons["row_id"].tolist() == [f"{p}-row" for p in sorted(result.persons["person_id"])]


def test_same_settings_same_result_and_level_changes_regions():
    a = detect(three_groups(), DetectionSettings(seed=4))
    b = detect(three_groups(), DetectionSettings(seed=4))
    for name in COLUMNS:
        pd.testing.assert_frame_equal(a.frames()[name], b.frames()[name])
    province = detect(three_groups(), DetectionSettings(level="province"))
    moves = province.movements
    # Amsterdam -> Rotterdam crosses police units but Noord-Holland -> Zuid-Holland is also a province change;
    # Rotterdam -> Den Haag stays in Zuid-Holland.
    assert moves["cross_region"].tolist() == [True, False, False]
    assert province.level == "province"


def test_minor_victims_raise_priority():
    g = three_groups()
    g.nodes["Person:vl"]["birth_year"] = 2010
    summary = detect(g).group_summary.set_index("group_id")
    assert "1 minor victims" in summary.loc["G003", "priority_reasons"]


def test_priority_score_is_documented_sum():
    row = {
        "cross_regional": False,
        "n_regions": 1,
        "victims": 7,
        "members": 1,
        "last_seen": "",
        "stability": 0.5,
    }
    score, reasons = priority(row, 0, "2024-01-01", PriorityWeights())
    assert score == 5 * 0.75 and reasons == "7 victims +5.0; stability 0.50 x0.75"


def test_invalid_settings_are_config_errors():
    with pytest.raises(ConfigError, match="region level"):
        detect(three_groups(), DetectionSettings(level="gemeente"))
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        DetectionSettings(date_from="31-12-2023").validate()
    with pytest.raises(ConfigError, match="louvain"):
        DetectionSettings(method="infomap").validate()


def test_empty_graph_gives_empty_frames():
    result = detect(nx.MultiDiGraph())
    for name, frame in result.frames().items():
        assert frame.empty and list(frame.columns) == COLUMNS[name]


@settings(max_examples=10, deadline=None)
@given(st.permutations(["a1", "a2", "a3", "b1", "b2", "l1", "va", "vb", "vl"]))
def test_relabelling_persons_changes_no_grouping_or_move(perm):
    names = ["a1", "a2", "a3", "b1", "b2", "l1", "va", "vb", "vl"]
    mapping = {old: f"z{new}" for old, new in zip(names, perm, strict=True)}
    g = nx.relabel_nodes(
        three_groups(), lambda n: "Person:" + mapping[n[7:]] if n.startswith("Person:") else n
    )
    base = detect(three_groups(), DetectionSettings(stability_runs=0))
    moved = detect(g, DetectionSettings(stability_runs=0))
    blocks = {frozenset(mapping[p] for p in f.person_id) for _, f in base.groups.groupby("group_id")}
    assert blocks == {frozenset(f.person_id) for _, f in moved.groups.groupby("group_id")}
    assert sorted(
        (mapping[r.person_id], r.from_code, r.to_code, r.date) for r in base.movements.itertuples()
    ) == sorted((r.person_id, r.from_code, r.to_code, r.date) for r in moved.movements.itertuples())


def test_date_window_through_the_store_and_the_command(tmp_path, capsys):
    store_path = tmp_path / "store.db"
    store = open_store(str(store_path))
    store.apply_schema()
    write_to_store(three_groups(), store)
    store.close()
    out = tmp_path / "out"
    code = main(["detect", "--store", str(store_path), "--out", str(out), "--seed", "1"])
    assert code == 0
    shown = capsys.readouterr()
    assert "2 groups and 1 lone offenders, 1 cross-regional" in shown.out
    # The progress bar, on stderr: the read, then the stages of the detection.
    assert "read the detection graph" in shown.err and f"{len(STAGES):,}" in shown.err
    from_store = pd.read_csv(out / "group_summary.csv")
    in_memory = detect(three_groups(), DetectionSettings(seed=1)).group_summary
    assert from_store["cross_regional"].tolist() == in_memory["cross_regional"].tolist()

    # facts of 2024 only: the lone offender is all that is left of the suspects' cases
    code = main(
        ["detect", "--store", str(store_path), "--out", str(tmp_path / "o24"), "--from", "2024-01-01"]
    )
    assert code == 0
    groups = pd.read_csv(tmp_path / "o24" / "groups.csv", dtype=str)
    assert set(groups.loc[groups.role == "victim", "person_id"]) == {"vl"}


def test_progress_reports_every_stage():
    calls = []
    detect(three_groups(), DetectionSettings(seed=1, stability_runs=1), progress=lambda *a: calls.append(a))
    assert calls == [("detect", done, len(STAGES)) for done in range(1, len(STAGES) + 1)]


def test_command_errors_are_one_sentence(tmp_path, capsys):
    assert main(["detect", "--store", str(tmp_path / "nope.db"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    store_path = tmp_path / "s.db"
    open_store(str(store_path)).close()
    assert main(["detect", "--store", str(store_path), "--out", str(tmp_path), "--level", "x"]) == 2
    assert main(["detect", "--store", str(store_path), "--out", str(tmp_path), "--from", "2024-13-01"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_victim_without_group_is_not_reported():
    b = GraphBuilder()
    b.person("s", "suspect")
    b.person("v", "victim")
    b.seen("v", "GM0363", "2023-01-01")
    b.seen("v", "GM0599", "2023-02-01")
    result = detect(b.g)
    assert result.groups["person_id"].tolist() == ["s"]
    assert result.movements.empty


def test_graph_index_must_belong_to_its_graph_and_sampling_settings_are_checked():
    from netanalysis.graphs import index_graph
    from netanalysis.projection import perpetrator_network

    g = three_groups()
    index = index_graph(g)
    assert index_graph(g, index) is index
    assert nx.utils.graphs_equal(perpetrator_network(g, index=index), perpetrator_network(g))
    with pytest.raises(ConfigError, match="another graph"):
        perpetrator_network(three_groups(), index=index)
    with pytest.raises(ConfigError, match="betweenness_k"):
        detect(g, DetectionSettings(betweenness_k=1))
    with pytest.raises(ConfigError, match="betweenness_exact_max"):
        detect(g, DetectionSettings(betweenness_exact_max=0))


def test_a_network_given_to_detect_is_used_and_must_match_the_settings():
    from netanalysis.projection import perpetrator_network

    g = three_groups()
    settings = DetectionSettings(seed=1, stability_runs=1)
    made = detect(g, settings)
    network = perpetrator_network(g, settings.weights, made.settings["as_of"], settings.level)
    given = detect(g, settings, network=network)
    assert given.network is network
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(made, name), getattr(given, name), obj=name)
    # A network with one link less is used as given: its links are what links.csv lists.
    fewer = network.copy()
    fewer.remove_edge(*next(iter(fewer.edges)))
    assert len(detect(g, settings, network=fewer).links) == len(made.links) - 1
    with pytest.raises(ConfigError, match="level 'police_unit'"):
        detect(g, DetectionSettings(level="province"), network=network)
    with pytest.raises(ConfigError, match="counts back from"):
        detect(g, DetectionSettings(as_of="2020-01-01"), network=network)
    with pytest.raises(ConfigError, match="engine gds"):
        detect(g, DetectionSettings(engine="gds"), network=network)
