"""The background store writer of the loaders: same graph as direct writes, failures surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphstore.base import RelRow
from graphstore.embedded import EmbeddedStore
from loaders.graph_rows import NodeRow, RelItem
from loaders.store_writer import StoreWriter
from netanalysis.errors import StoreError


def items(n: int) -> list[NodeRow | RelItem]:
    out: list[NodeRow | RelItem] = []
    for i in range(n):
        role = "victim" if i % 2 else "suspect"
        out.append(NodeRow("Person", {"person_id": f"p{i % 7}", "roles": [role], "last": i}))
        out.append(NodeRow("Phone", {"phone_id": f"ph{i % 5}"}))
        out.append(RelItem("USES", "Person", "Phone", RelRow(f"p{i % 7}", f"ph{i % 5}", f"r{i}", {"n": i})))
    return out


def test_writes_the_same_graph_as_direct_upserts(tmp_path: Path) -> None:
    direct = EmbeddedStore(tmp_path / "direct.db")
    direct.apply_schema()
    for item in items(40):
        if isinstance(item, NodeRow):
            direct.upsert_nodes(item.label, [item.props])
        else:
            direct.upsert_relationships(item.rel_type, item.start_label, item.end_label, [item.row])
    threaded = EmbeddedStore(tmp_path / "threaded.db")
    threaded.apply_schema()
    with StoreWriter(threaded, batch_size=3) as writer:
        for item in items(40):
            writer.add(item)
        writer.flush()
    assert threaded.counts() == direct.counts()
    a, b = direct.read_graph(), threaded.read_graph()
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert sorted(map(repr, a.edges(data=True))) == sorted(map(repr, b.edges(data=True)))
    assert writer.rel_counts["USES"] == 40
    assert sum(writer.node_counts.values()) > 0


def test_a_failure_in_the_background_is_raised_in_the_caller(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "g.db")
    store.apply_schema()
    bad = NodeRow("Person", {"person_id": "x", "address": {"street": "nested maps are refused"}})
    with pytest.raises(StoreError, match="nested maps"), StoreWriter(store, batch_size=2) as writer:
        writer.add(bad)
        for item in items(50):  # keeps adding after the failure: must raise, never hang
            writer.add(item)
        writer.flush()


def test_drain_makes_written_rows_readable(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "g.db")
    store.apply_schema()
    with StoreWriter(store, batch_size=2, batches_per_call=2) as writer:
        for i in range(10):
            writer.add(NodeRow("Phone", {"phone_id": f"ph{i}"}))
        writer.drain()
        assert store.counts()["Phone"] == 8  # the two full buffers of four; two rows still buffered
        writer.flush()
        assert store.counts()["Phone"] == 10
