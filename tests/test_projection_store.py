"""The detection graph the store reads (``read_detection_graph``: no records, no sources, only the
properties the detection uses, the provenance as rows computed in the store) gives the same
detection as the whole graph (``read_analysis_graph``), frame for frame, on both stores.

Checked on the samples (with and without a window, two methods and levels) and on a synthetic set
with addresses, organisations and noise (``synth.generate``).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.detect import COLUMNS, DetectionResult, DetectionSettings, detect
from netanalysis.graphs import PROVENANCE_ATTR, read_analysis_graph, read_detection_graph

DATA = Path(__file__).resolve().parents[1] / "data_samples"

pytestmark = pytest.mark.slow


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
