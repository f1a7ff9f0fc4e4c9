"""The detection gives identical results whether the graph came from the embedded store or Neo4j.

Both stores are loaded from data_samples with the same throw-away key, the graph is read back from
each, and every output frame of ``detect`` must be equal, value for value and in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graphstore.base import GraphStore
from graphstore.embedded import EmbeddedStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.detect import COLUMNS, DetectionSettings, detect
from netanalysis.graphs import read_analysis_graph

DATA = Path(__file__).resolve().parents[1] / "data_samples"

pytestmark = pytest.mark.neo4j


@pytest.fixture
def both_stores(tmp_path: Path, neo4j_clean: Any) -> Iterator[tuple[GraphStore, GraphStore]]:
    from graphstore.neo4j_store import Neo4jStore

    key = keygen(tmp_path / "throwaway.key")
    embedded = EmbeddedStore(tmp_path / "graph.sqlite")
    server = Neo4jStore(neo4j_clean.uri, user=neo4j_clean.user, password=neo4j_clean.password)
    try:
        for name, store in (("embedded", embedded), ("neo4j", server)):
            rejects = tmp_path / f"rejects-{name}.csv"  # the samples hold broken rows on purpose
            load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=rejects)
        yield embedded, server
    finally:
        embedded.close()
        server.close()


def assert_same_detection(embedded: GraphStore, server: GraphStore, settings: DetectionSettings,
                          date_from: str | None = None, date_to: str | None = None) -> None:  # fmt: skip
    graph_a = read_analysis_graph(embedded, date_from, date_to)
    graph_b = read_analysis_graph(server, date_from, date_to)
    assert graph_a.number_of_nodes() == graph_b.number_of_nodes()
    assert graph_a.number_of_edges() == graph_b.number_of_edges()
    a = detect(graph_a, settings)
    b = detect(graph_b, settings)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=f"{name}.csv")
    assert a.settings == b.settings


def test_detection_is_identical_on_both_stores(both_stores: tuple[GraphStore, GraphStore]) -> None:
    embedded, server = both_stores
    settings = DetectionSettings(seed=3, stability_runs=5)
    assert_same_detection(embedded, server, settings)
    # The comparison is not between empty frames: the samples hold groups, moves, key players and
    # leads (the test_demo figures say they are the planted ones).
    result = detect(read_analysis_graph(embedded), settings)
    for name in ("groups", "persons", "movements", "group_summary", "key_players", "disruption", "leads",
                 "links", "signal_rows"):  # fmt: skip
        assert len(getattr(result, name)) > 0, name
    assert result.group_summary["cross_regional"].any()


def test_window_level_and_louvain_are_identical_on_both_stores(
    both_stores: tuple[GraphStore, GraphStore],
) -> None:
    embedded, server = both_stores
    settings = DetectionSettings(method="louvain", level="safety_region", seed=1, stability_runs=3)
    assert_same_detection(embedded, server, settings, date_from="2022-01-01", date_to="2024-06-30")
