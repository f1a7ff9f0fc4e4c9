"""The detection graph the store reads (``read_detection_graph``: no records, no sources, only the
properties the detection uses, the provenance as rows computed in the store) gives the same
detection as the whole graph (``read_analysis_graph``), frame for frame, on both stores.

Checked on the samples (with and without a window, two methods and levels) and on a synthetic set
with addresses, organisations and noise (``synth.generate``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.detect import COLUMNS, DetectionResult, DetectionSettings, detect, detect_store
from netanalysis.graphs import (
    LATEST_OBSERVED_ATTR,
    PROVENANCE_ATTR,
    read_analysis_graph,
    read_detection_graph,
    read_evidence_graph,
)
from netanalysis.projection import EvidenceWeights, perpetrator_network

DATA = Path(__file__).resolve().parents[1] / "data_samples"

pytestmark = pytest.mark.slow


def assert_same_network(a: nx.Graph, b: nx.Graph) -> None:
    """Every node, edge and attribute (weights to the last bit, kinds, evidence counts, regions,
    roles, as_of, skipped items), and the same order of nodes and edges (the groups depend on it)."""
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))
    assert a.graph == b.graph


def assert_same(a: DetectionResult, b: DetectionResult) -> None:
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=f"{name}.csv")
    assert a.settings == b.settings
    # The perpetrator network itself, weights to the last bit.
    assert dict(a.network.nodes(data=True)) == dict(b.network.nodes(data=True))
    assert {frozenset((u, v)): d for u, v, d in a.network.edges(data=True)} == {
        frozenset((u, v)): d for u, v, d in b.network.edges(data=True)
    }
    assert a.network.graph == b.network.graph


def compare_networks(
    store: GraphStore,
    date_from: str | None,
    date_to: str | None,
    weights: EvidenceWeights | None = None,
    level: str = "police_unit",
    smaller: bool = True,
) -> nx.Graph:
    """The perpetrator network of the evidence the store selects is that of the whole graph."""
    whole = read_analysis_graph(store, date_from, date_to)
    evidence = read_evidence_graph(store, date_from, date_to)
    # Fewer facts: no records, signals, organisations' addresses; only the suspects' own facts.
    assert not smaller or evidence.number_of_edges() < whole.number_of_edges() / 2
    assert set(evidence.nodes) <= set(whole.nodes)
    assert not any(label in ("Record", "Source", "Signal") for _, label in evidence.nodes(data="label"))
    expected = perpetrator_network(whole, weights, level=level)
    assert evidence.graph[LATEST_OBSERVED_ATTR] == expected.graph["as_of"]
    got = perpetrator_network(evidence, weights, level=level)
    assert_same_network(expected, got)
    return got


def compare(
    store: GraphStore, settings: DetectionSettings, date_from: str | None, date_to: str | None
) -> DetectionResult:
    whole = read_analysis_graph(store, date_from, date_to)
    lean = read_detection_graph(store, date_from, date_to)
    # Smaller: no Record or Source node, no provenance on the facts.
    assert lean.number_of_nodes() < whole.number_of_nodes()
    assert not any(label in ("Record", "Source") for _, label in lean.nodes(data="label"))
    assert all("source" not in data for _, _, data in lean.edges(data=True))
    assert lean.graph[PROVENANCE_ATTR].person_rows
    a = detect(whole, settings)
    b = detect(lean, settings)
    assert_same(a, b)
    # What netanalysis detect runs: the evidence, then each step's facts around the groups.
    windowed = dataclasses.replace(settings, date_from=date_from, date_to=date_to)
    c = detect_store(store, windowed)
    assert {**c.settings, "date_from": None, "date_to": None} == a.settings
    assert c.settings["date_from"] == date_from and c.settings["date_to"] == date_to
    c.settings = a.settings
    assert_same(a, c)
    return a


def test_samples_detect_the_same_from_the_detection_graph(store: GraphStore, tmp_path: Path) -> None:
    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    result = compare(store, DetectionSettings(seed=3, stability_runs=3), None, None)
    # Not a comparison of empty frames.
    for name in (
        "groups",
        "persons",
        "movements",
        "links",
        "leads",
        "signal_rows",
        "crowded_addresses",
        "hubs",
    ):
        assert len(getattr(result, name)) > 0, name
    assert {"address", "employer", "director"} <= set("|".join(result.links["kinds"]).split("|"))
    windowed = DetectionSettings(method="louvain", level="safety_region", seed=1, stability_runs=2)
    compare(store, windowed, "2022-01-01", "2024-06-30")
    # A reference date given in the settings wins over the store's latest observation.
    fixed = compare(store, DetectionSettings(seed=3, stability_runs=0, as_of="2023-01-01"), None, None)
    assert fixed.settings["as_of"] == "2023-01-01"


def test_samples_network_the_same_from_the_evidence_the_store_selects(
    store: GraphStore, tmp_path: Path
) -> None:
    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    network = compare_networks(store, None, None)
    kinds = set("|".join(kind for _, _, kind in network.edges(data="kinds")).split("|"))
    assert {"case", "victim", "phone", "address", "employer", "director"} <= kinds
    assert {region for _, region in network.nodes(data="region")} - {"unknown"}
    compare_networks(store, "2022-01-01", "2024-06-30", level="safety_region")
    # The rules before 2026-12-07 (no victim window, no split) and a low item cap.
    old_rules = EvidenceWeights(victim_tie_days=None, split_victim_facts=False, max_item_persons=3)
    capped = compare_networks(store, None, None, old_rules)
    assert capped.graph["skipped_items"]


def test_synthetic_set_detects_the_same_from_the_detection_graph(store: GraphStore, tmp_path: Path) -> None:
    from synth import generate

    generate(tmp_path / "set", seed=11, rows=2500, noise=0.1)
    key = keygen(tmp_path / "throwaway.key")
    load(
        [tmp_path / "set" / "sources"],
        store,
        tmp_path / "set" / "sources.yaml",
        key,
        rejects_path=tmp_path / "rejects.csv",
    )
    result = compare(store, DetectionSettings(seed=5, stability_runs=2), None, None)
    assert result.group_summary["members"].gt(1).any()
    assert isinstance(result.network, nx.Graph) and result.network.number_of_edges() > 0
    network = compare_networks(store, None, None)
    assert network.number_of_edges() == result.network.number_of_edges()
    kinds = set("|".join(kind for _, _, kind in network.edges(data="kinds")).split("|"))
    assert {"case", "victim", "address", "employer"} <= kinds
    compare_networks(store, "2021-01-01", None, EvidenceWeights(victim_tie_days=30))


def test_detect_from_the_store_evidence_writes_the_same_files_as_the_command(
    store: GraphStore, tmp_path: Path
) -> None:
    from netanalysis.cli import main

    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    settings = DetectionSettings(seed=3, stability_runs=2)
    evidence = read_evidence_graph(store)
    network = perpetrator_network(evidence, settings.weights, settings.as_of, settings.level)
    from_evidence = detect(read_detection_graph(store), settings, network=network)
    from_evidence.write(tmp_path / "api")
    argv = ["detect", "--store", store.uri, "--out", str(tmp_path / "cli"), "--seed", "3"]
    assert main([*argv, "--stability-runs", "2"]) == 0
    written = sorted(p.name for p in (tmp_path / "api").iterdir())
    assert "links.csv" in written and "groups.csv" in written
    for name in written:
        cli, api = (tmp_path / "cli" / name).read_bytes(), (tmp_path / "api" / name).read_bytes()
        if name == "settings.json":
            # The command also records the state of the store it read (for `report --detection`).
            recorded = json.loads(cli)
            assert recorded.pop("store")["counts"]["Person"] > 0
            assert recorded == json.loads(api)
        else:
            assert cli == api, name


def test_hand_made_groups_in_windows_give_the_same_network_from_the_evidence(store: GraphStore) -> None:
    from detect_graphs import three_groups, write_to_store

    store.apply_schema()
    write_to_store(three_groups(), store)
    sizes = set()
    for date_from, date_to in ((None, None), ("2024-01-01", None), (None, "2023-06-30")):
        network = compare_networks(store, date_from, date_to, smaller=False)
        sizes.add((network.number_of_nodes(), network.number_of_edges()))
    # The windows change who is linked: not three comparisons of one network.
    assert len(sizes) > 1
