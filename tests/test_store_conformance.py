"""One conformance suite for every graph-store backend (graphstore.base.GraphStore).

Each test runs against the embedded SQLite store and against a real Neo4j server (fixture
``neo4j_server`` from conftest.py). Expected graphs come from an independent oracle: a few lines of
plain Python that apply the store contract (merge by identity, ``SET +=``, absent instead of null)
to the same rows, so "same input, same graph on both backends" is checked against one reference.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphstore import GraphSlice, RelRow, node_id
from graphstore.base import GraphStore, sort_fact_rows
from graphstore.embedded import EmbeddedStore
from graphstore.schema import load_schema, parse_schema
from netanalysis.errors import SchemaError, StoreError, StoreUnavailable

# -- test data -----------------------------------------------------------------------------------

NodeBatch = tuple[str, list[dict[str, Any]]]
RelBatch = tuple[str, str, str, list[RelRow]]


def prov(source: str, row: int, observed_on: str | None) -> dict[str, Any]:
    """Provenance of a fact, as the loaders write it (observed_on may be missing)."""
    return {
        "source": source,
        "row_id": str(row),
        "batch": "b1",
        "legal_basis": "Wpg art. 9",
        "reliability": "B2",
        "observed_on": observed_on,
    }


def small_world() -> tuple[list[NodeBatch], list[RelBatch]]:
    """A hand-made graph: two police units, three municipalities, one premises, four persons
    (p4 only shares a phone with p1), a case, records from two sources and a signal.

    RE01 = {GM0001}; RE02 = {GM0002, GM0003}; premises X1 lies in GM0002.
    """
    nodes: list[NodeBatch] = [
        (
            "Region",
            [
                {"region_id": "police_unit:RE01", "level": "police_unit", "code": "RE01", "name": "Noord"},
                {"region_id": "police_unit:RE02", "level": "police_unit", "code": "RE02", "name": "Oost"},
            ],
        ),
        (
            "Municipality",
            [
                {"code": "GM0001", "name": "Aa", "lat": 52.1, "lon": 5.1},
                {"code": "GM0002", "name": "Bb", "lat": 52.2, "lon": 5.2},
                {"code": "GM0003", "name": "Cc", "lat": 52.3, "lon": 5.3},
            ],
        ),
        (
            "Premises",
            [{"premises_id": "X1", "kind": "massage parlour", "pc4": "1234", "municipality": "GM0002"}],
        ),
        ("Source", [{"name": "src_a", "kind": "case"}, {"name": "src_b", "kind": "signal"}]),
        (
            "Person",
            [
                {"person_id": "p1", "roles": ["suspect"], "nationality": "NLD", "birth_year": 1980},
                {"person_id": "p2", "roles": ["victim"], "nationality": None, "birth_year": None},
                {"person_id": "p3", "roles": ["signalled", "victim"], "nationality": "ROU"},
                {"person_id": "p4", "roles": ["suspect"]},
            ],
        ),
        ("Case", [{"case_id": "c1", "exploitation_type": "sexual", "source": "src_a"}]),
        (
            "Record",
            [
                {"record_id": "src_a:1", "source": "src_a", "row_id": "1", "observed_on": "2022-03-01"},
                {"record_id": "src_a:2", "source": "src_a", "row_id": "2", "observed_on": "2023-05-01"},
                {"record_id": "src_b:7", "source": "src_b", "row_id": "7", "observed_on": "2019-01-01"},
                {"record_id": "src_a:4", "source": "src_a", "row_id": "4", "observed_on": None},
            ],
        ),
        (
            "Signal",
            [
                {
                    "signal_id": "src_b:9",
                    "source": "src_b",
                    "exploitation_type": "labour",
                    "observed_on": "2021-06-30",
                    "case_linked": False,
                    "reliability": "C3",
                }
            ],
        ),
        ("Phone", [{"phone_id": "ph1"}]),
    ]
    r = RelRow
    rels: list[RelBatch] = [
        (
            "IN",
            "Municipality",
            "Region",
            [
                r("GM0001", "police_unit:RE01", "cbs:GM0001:RE01", {"source": "CBS 2025"}),
                r("GM0002", "police_unit:RE02", "cbs:GM0002:RE02", {"source": "CBS 2025"}),
                r("GM0003", "police_unit:RE02", "cbs:GM0003:RE02", {"source": "CBS 2025"}),
            ],
        ),
        ("IN", "Premises", "Municipality", [r("X1", "GM0002", "src_a:2", prov("src_a", 2, None))]),
        (
            "DESCRIBES",
            "Record",
            "Person",
            [
                r(
                    "src_a:1",
                    "p2",
                    "src_a:1",
                    {**prov("src_a", 1, "2022-03-01"), "match": "exact", "score": 1.0},
                ),
                r(
                    "src_a:2",
                    "p2",
                    "src_a:2",
                    {**prov("src_a", 2, "2023-05-01"), "match": "probabilistic", "score": 0.97},
                ),
                r(
                    "src_b:7",
                    "p3",
                    "src_b:7",
                    {**prov("src_b", 7, "2019-01-01"), "match": "exact", "score": 1.0},
                ),
                r("src_a:4", "p1", "src_a:4", {**prov("src_a", 4, None), "match": "exact", "score": 1.0}),
            ],
        ),
        (
            "FROM",
            "Record",
            "Source",
            [
                r("src_a:1", "src_a", "src_a:1", prov("src_a", 1, "2022-03-01")),
                r("src_a:2", "src_a", "src_a:2", prov("src_a", 2, "2023-05-01")),
                r("src_b:7", "src_b", "src_b:7", prov("src_b", 7, "2019-01-01")),
                r("src_a:4", "src_a", "src_a:4", prov("src_a", 4, None)),
            ],
        ),
        ("FROM", "Signal", "Source", [r("src_b:9", "src_b", "src_b:9", prov("src_b", 9, "2021-06-30"))]),
        ("SUSPECT_IN", "Person", "Case", [r("p1", "c1", "src_a:4", prov("src_a", 4, None))]),
        ("VICTIM_IN", "Person", "Case", [r("p2", "c1", "src_a:1", prov("src_a", 1, "2022-03-01"))]),
        (
            "SEEN_AT",
            "Person",
            "Municipality",
            [
                r("p2", "GM0001", "src_a:1", {**prov("src_a", 1, "2022-03-01"), "role": "victim"}),
                r("p3", "GM0002", "src_b:7", {**prov("src_b", 7, "2019-01-01"), "role": "victim"}),
                r("p1", "GM0003", "src_a:4", {**prov("src_a", 4, "2023-01-01"), "role": "suspect"}),
            ],
        ),
        (
            "SEEN_AT",
            "Person",
            "Premises",
            [r("p2", "X1", "src_a:2", {**prov("src_a", 2, "2023-05-01"), "role": "victim"})],
        ),
        (
            "USES",
            "Person",
            "Phone",
            [
                r("p1", "ph1", "src_a:4", prov("src_a", 4, None)),
                r("p4", "ph1", "src_b:8", prov("src_b", 8, "2021-06-30")),
            ],
        ),
        (
            "CONCERNS",
            "Signal",
            "Person",
            [r("src_b:9", "p3", "src_b:9", {**prov("src_b", 9, "2021-06-30"), "role": "victim"})],
        ),
        ("AT", "Signal", "Premises", [r("src_b:9", "X1", "src_b:9", prov("src_b", 9, "2021-06-30"))]),
    ]
    return nodes, rels


def load(store: GraphStore, nodes: list[NodeBatch], rels: list[RelBatch], batch_size: int = 2) -> None:
    for label, rows in nodes:
        store.upsert_nodes(label, rows, batch_size=batch_size)
    for rel_type, start, end, rel_rows in rels:
        store.upsert_relationships(rel_type, start, end, rel_rows, batch_size=batch_size)


def oracle(nodes: list[NodeBatch], rels: list[RelBatch]) -> nx.MultiDiGraph:
    """The graph the contract promises for these rows, built without any store."""
    schema = load_schema()
    g = nx.MultiDiGraph()

    def merge(attrs: dict[str, Any], props: dict[str, Any]) -> None:
        attrs.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in props.items() if v is not None})

    for label, rows in nodes:
        for row in rows:
            n = node_id(label, row[schema.key_of(label)])
            if n not in g:
                g.add_node(n, label=label)
            merge(g.nodes[n], row)
    for rel_type, start, end, rel_rows in rels:
        for rr in rel_rows:
            u, v = node_id(start, rr.start), node_id(end, rr.end)
            for n, label, key in ((u, start, rr.start), (v, end, rr.end)):
                if n not in g:
                    g.add_node(n, label=label, **{schema.key_of(label): key})
            if not g.has_edge(u, v, rr.rel_key):
                g.add_edge(u, v, key=rr.rel_key, type=rel_type, rel_key=rr.rel_key)
            merge(g.edges[u, v, rr.rel_key], dict(rr.props))
    return g


def as_data(g: nx.MultiDiGraph) -> tuple[dict[str, Any], dict[tuple[str, str, str], Any]]:
    """Nodes with attributes and edges with attributes, comparable with ==."""
    return (
        {n: dict(a) for n, a in g.nodes(data=True)},
        {(u, v, k): dict(a) for u, v, k, a in g.edges(keys=True, data=True)},
    )


def sliced(g: nx.MultiDiGraph, keep_node: Callable[[str, dict[str, Any]], bool]) -> nx.MultiDiGraph:
    """The oracle's subgraph of nodes passing ``keep_node`` (edges need both ends)."""
    return g.subgraph([n for n, a in g.nodes(data=True) if keep_node(n, a)]).copy()


# -- backends ------------------------------------------------------------------------------------

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def wipe_neo4j(server: Any) -> None:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        with driver.session() as session:
            session.run(WIPE).consume()


class Backend:
    """Makes empty stores of one kind; closes them at the end of the test."""

    schema_applied = False

    def __init__(self, kind: str, tmp_path: Path, server: Any = None) -> None:
        self.kind, self.tmp_path, self.server = kind, tmp_path, server
        self.opened: list[GraphStore] = []
        self.counter = itertools.count()

    def empty(self) -> GraphStore:
        store: GraphStore
        if self.kind == "embedded":
            store = EmbeddedStore(self.tmp_path / f"store{next(self.counter)}.sqlite")
        else:
            from graphstore.neo4j_store import Neo4jStore

            wipe_neo4j(self.server)
            store = Neo4jStore(self.server.uri, user=self.server.user, password=self.server.password)
        # Wiping keeps Neo4j's constraints, so the schema is applied once per server and session
        # (test_apply_schema_twice_is_harmless applies it again on purpose).
        if self.kind == "embedded" or not Backend.schema_applied:
            store.apply_schema()
            Backend.schema_applied = self.kind != "embedded"
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    server = request.getfixturevalue("neo4j_server") if request.param == "neo4j" else None
    b = Backend(request.param, tmp_path, server)
    yield b
    b.close()


@pytest.fixture
def store(backend: Backend) -> GraphStore:
    return backend.empty()


@pytest.fixture
def world_store(store: GraphStore) -> GraphStore:
    nodes, rels = small_world()
    load(store, nodes, rels)
    return store


# -- the suite -----------------------------------------------------------------------------------


def test_store_satisfies_protocol(store: GraphStore) -> None:
    assert isinstance(store, GraphStore)


def test_read_back_equals_oracle(world_store: GraphStore) -> None:
    got = world_store.read_graph()
    assert as_data(got) == as_data(oracle(*small_world()))
    # Spot checks of the contract itself, so the oracle cannot drift with the stores.
    assert got.nodes["Person:p2"] == {"label": "Person", "person_id": "p2", "roles": ["victim"]}
    edge = got.edges["Record:src_a:2", "Person:p2", "src_a:2"]
    assert edge["type"] == "DESCRIBES" and edge["score"] == 0.97 and edge["rel_key"] == "src_a:2"
    assert got.nodes["Signal:src_b:9"]["case_linked"] is False
    assert got.nodes["Person:p1"]["birth_year"] == 1980


def test_apply_schema_twice_is_harmless(world_store: GraphStore) -> None:
    before = as_data(world_store.read_graph())
    world_store.apply_schema()
    world_store.apply_schema()
    assert as_data(world_store.read_graph()) == before


def test_upsert_twice_changes_nothing(world_store: GraphStore) -> None:
    counts, graph = world_store.counts(), as_data(world_store.read_graph())
    load(world_store, *small_world(), batch_size=3)
    assert world_store.counts() == counts
    assert as_data(world_store.read_graph()) == graph


def test_counts(world_store: GraphStore) -> None:
    counts = world_store.counts()
    schema = load_schema()
    assert list(counts) == [*schema.node_keys, *schema.rel_types]
    g = oracle(*small_world())
    for label in schema.node_keys:
        assert counts[label] == sum(1 for _, a in g.nodes(data=True) if a["label"] == label), label
    for rel_type in schema.rel_types:
        assert counts[rel_type] == sum(1 for *_, a in g.edges(data=True) if a["type"] == rel_type)
    assert counts["Person"] == 4 and counts["SEEN_AT"] == 4


def test_last_write_wins_and_missing_values_keep(store: GraphStore) -> None:
    store.upsert_nodes("Person", [{"person_id": "p1", "nationality": "NLD", "roles": ["victim"]}])
    store.upsert_nodes("Person", [{"person_id": "p1", "nationality": None, "roles": ["suspect", "victim"]}])
    store.upsert_nodes("Person", [{"person_id": "p1", "birth_year": 1990}])
    got = store.read_graph().nodes["Person:p1"]
    assert got == {
        "label": "Person",
        "person_id": "p1",
        "nationality": "NLD",
        "roles": ["suspect", "victim"],
        "birth_year": 1990,
    }


def test_repeated_rows_in_one_batch_last_wins(store: GraphStore) -> None:
    # Backends sort a batch by key before writing it; the row order within one key must survive.
    store.upsert_nodes(
        "Person",
        [
            {"person_id": "p2", "nationality": "NLD"},
            {"person_id": "p1", "birth_year": 1980},
            {"person_id": "p2", "nationality": "ROU"},
            {"person_id": "p1", "birth_year": 1990},
        ],
    )
    store.upsert_relationships(
        "USES",
        "Person",
        "Phone",
        [
            RelRow("p2", "ph1", "k", {"source": "a"}),
            RelRow("p1", "ph1", "k", {"source": "x"}),
            RelRow("p2", "ph1", "k", {"source": "b"}),
            RelRow("p1", "ph1", "k", {"source": "y"}),
        ],
    )
    g = store.read_graph()
    assert g.nodes["Person:p2"]["nationality"] == "ROU"
    assert g.nodes["Person:p1"]["birth_year"] == 1990
    assert g["Person:p2"]["Phone:ph1"]["k"]["source"] == "b"
    assert g["Person:p1"]["Phone:ph1"]["k"]["source"] == "y"
    assert store.counts()["USES"] == 2


def test_missing_endpoints_are_created_with_their_key(store: GraphStore) -> None:
    store.upsert_relationships("USES", "Person", "Phone", [RelRow("p9", "ph9", "k1", {"source": "s"})])
    g = store.read_graph()
    assert g.nodes["Person:p9"] == {"label": "Person", "person_id": "p9"}
    assert g.nodes["Phone:ph9"] == {"label": "Phone", "phone_id": "ph9"}
    store.upsert_nodes("Phone", [{"phone_id": "ph9", "kind": "mobile"}])
    g = store.read_graph()
    assert g.nodes["Phone:ph9"]["kind"] == "mobile" and g.number_of_nodes() == 2
    assert store.counts()["USES"] == 1


def test_an_endpoint_deleted_within_a_load_is_created_again(store: GraphStore) -> None:
    """Within a load the embedded store remembers which endpoints exist; a merge that deletes
    one must make a later relationship to it create it again, as outside a load."""
    from graphstore.base import PersonMerge

    store.begin_load("b")
    try:
        store.upsert_relationships("USES", "Person", "Phone", [RelRow("p1", "ph1", "k1", {"source": "s"})])
        store.upsert_nodes("Person", [{"person_id": "p2"}])
        store.merge_persons([PersonMerge("p1", "p2", {"merge_id": "p1@b", "batch": "b"}, {})])
        store.upsert_relationships("USES", "Person", "Phone", [RelRow("p1", "ph1", "k2", {"source": "s"})])
    finally:
        store.end_load("b")
    g = store.read_graph()
    assert g.nodes["Person:p1"] == {"label": "Person", "person_id": "p1"}
    assert set(g["Person:p1"]["Phone:ph1"]) == {"k2"} and set(g["Person:p2"]["Phone:ph1"]) == {"k1"}


def test_same_endpoints_other_rel_key_is_another_fact(store: GraphStore) -> None:
    rows = [
        RelRow("p1", "GM0001", k, {"observed_on": d}) for k, d in (("a", "2020-01-01"), ("b", "2021-01-01"))
    ]
    store.upsert_relationships("SEEN_AT", "Person", "Municipality", rows + rows)
    g = store.read_graph()
    assert sorted(g["Person:p1"]["Municipality:GM0001"]) == ["a", "b"]


def test_persons_in_blocks_are_the_persons_of_the_records_holding_the_keys(store: GraphStore) -> None:
    """The persons of ``person_records(blocks=...)``, each once, sorted; a record describing two
    persons gives both; a key nobody holds gives nobody; and the comparison data is not needed."""
    key = "12ud:" + "a" * 16
    other, alone, nobody = "13u:" + "b" * 16, "7u:" + "c" * 16, "0:" + "d" * 16
    store.upsert_nodes(
        "Record",
        [
            {"record_id": "s:1", "blocks": f"{key} {other}", "comparison": '{"s":"x"}'},
            {"record_id": "s:2", "blocks": key},
            {"record_id": "s:3", "blocks": other},
            {"record_id": "s:4", "blocks": alone},
            {"record_id": "s:5", "blocks": key},  # describes nobody
        ],
    )
    store.upsert_relationships(
        "DESCRIBES",
        "Record",
        "Person",
        [RelRow("s:1", "p2", "a", {}), RelRow("s:2", "p1", "b", {}), RelRow("s:2", "p3", "c", {})]
        + [RelRow("s:3", "p4", "d", {}), RelRow("s:4", "p5", "e", {})],
    )
    assert store.persons_in_blocks([key]) == ["p1", "p2", "p3"]
    assert store.persons_in_blocks([other, key, key]) == ["p1", "p2", "p3", "p4"]
    for blocks in ([key], [key, other], [alone, other]):
        assert store.persons_in_blocks(blocks) == sorted(
            {p for _r, p, _v in store.person_records(blocks=blocks)}
        )
    assert store.persons_in_blocks([nobody]) == [] and store.persons_in_blocks([]) == []


def test_block_sizes_count_the_records_holding_each_key(store: GraphStore) -> None:
    """Every record holding a key counts once, whether or not it describes anyone; keys nobody
    holds are left out; more keys than one index query takes, and records holding keys of
    several such queries, count as with few."""
    keys = [f"{n}:{n:016x}" for n in range(1, 1_201)]
    holds = {f"s:{i}": keys[i % 7 :: 97] + [keys[(i * 13) % len(keys)]] for i in range(300)}
    store.upsert_nodes("Record", [{"record_id": rid, "blocks": " ".join(ks)} for rid, ks in holds.items()])
    store.upsert_relationships("DESCRIBES", "Record", "Person", [RelRow("s:1", "p1", "a", {})])
    want: dict[str, int] = {}
    for ks in holds.values():
        for k in set(ks):
            want[k] = want.get(k, 0) + 1
    nobody = "9u:" + "f" * 16
    assert store.block_sizes([*keys, nobody, keys[0]]) == want
    assert store.block_sizes([keys[0], nobody]) == {keys[0]: want[keys[0]]}
    assert store.block_sizes([]) == {}


def test_slice_by_labels(world_store: GraphStore) -> None:
    got = world_store.read_graph(GraphSlice(labels=frozenset({"Person", "Case"})))
    want = sliced(oracle(*small_world()), lambda n, a: a["label"] in {"Person", "Case"})
    assert as_data(got) == as_data(want)
    assert {a["type"] for *_, a in got.edges(data=True)} == {"SUSPECT_IN", "VICTIM_IN"}


def test_slice_by_rel_types(world_store: GraphStore) -> None:
    got = world_store.read_graph(GraphSlice(rel_types=frozenset({"SEEN_AT"})))
    assert got.number_of_nodes() == oracle(*small_world()).number_of_nodes()
    assert {a["type"] for *_, a in got.edges(data=True)} == {"SEEN_AT"}
    assert got.number_of_edges() == 4


def in_window(attrs: dict[str, Any], lo: str, hi: str) -> bool:
    day = attrs.get("observed_on")
    return day is None or lo <= day <= hi


def test_slice_by_time_window(world_store: GraphStore) -> None:
    lo, hi = "2022-01-01", "2022-12-31"
    got = world_store.read_graph(GraphSlice(observed_from=lo, observed_to=hi))
    want = sliced(oracle(*small_world()), lambda n, a: in_window(a, lo, hi))
    want.remove_edges_from(
        [(u, v, k) for u, v, k, a in want.edges(keys=True, data=True) if not in_window(a, lo, hi)]
    )
    assert as_data(got) == as_data(want)
    seen = {(u, v) for u, v, a in got.edges(data=True) if a["type"] == "SEEN_AT"}
    assert seen == {("Person:p2", "Municipality:GM0001")}
    assert "Record:src_a:4" in got and "Record:src_b:7" not in got  # no date: kept; 2019: left out
    # Only one bound given.
    late = world_store.read_graph(GraphSlice(observed_from="2023-01-01"))
    assert {(u, v) for u, v, a in late.edges(data=True) if a["type"] == "SEEN_AT"} == {
        ("Person:p2", "Premises:X1"),
        ("Person:p1", "Municipality:GM0003"),
    }


def test_slice_by_region(world_store: GraphStore) -> None:
    full = oracle(*small_world())
    got = world_store.read_graph(GraphSlice(region_ids=frozenset({"police_unit:RE01"})))
    # Seed: p2 (seen at GM0001). Everything adjacent to p2, and the facts among those nodes.
    want_nodes = {"Person:p2", *full.predecessors("Person:p2"), *full.successors("Person:p2")}
    assert set(got) == want_nodes
    assert as_data(got) == as_data(full.subgraph(want_nodes))
    assert "Premises:X1" in got and "Municipality:GM0002" not in got
    # RE02: p3 at GM0002, p1 at GM0003, p2 at premises X1 in GM0002; p4 never seen.
    got2 = world_store.read_graph(GraphSlice(region_ids=frozenset({"Region:police_unit:RE02"})))
    persons = {n for n, a in got2.nodes(data=True) if a["label"] == "Person"}
    assert persons == {"Person:p1", "Person:p2", "Person:p3"}
    assert "Phone:ph1" in got2 and ("Person:p4" not in got2)


def test_slice_by_region_within_window(world_store: GraphStore) -> None:
    gs = GraphSlice(region_ids=frozenset({"police_unit:RE02"}), observed_from="2023-01-01")
    got = world_store.read_graph(gs)
    persons = {n for n, a in got.nodes(data=True) if a["label"] == "Person"}
    assert persons == {"Person:p1", "Person:p2"}  # p3 was seen in 2019 only
    gs = GraphSlice(region_ids=frozenset({"police_unit:RE99"}))
    assert world_store.read_graph(gs).number_of_nodes() == 0


def around(full: nx.MultiDiGraph, persons: set[str], hops: int = 1) -> nx.MultiDiGraph:
    """The rule of a slice around persons (``hops`` relationships out), applied to a graph read whole."""
    keep = {f"Person:{p}" for p in persons} & set(full)
    near, ring = set(keep), set(keep)
    for _ in range(hops):
        ring = {m for n in ring for m in (*full.predecessors(n), *full.successors(n))} - near
        near |= ring
    return full.subgraph(near)


@pytest.mark.parametrize(
    "base",
    [
        GraphSlice(),
        GraphSlice(observed_from="2023-01-01"),
        GraphSlice(labels=frozenset({"Person", "Record"}), rel_types=frozenset({"DESCRIBES"})),
        GraphSlice(rel_types=frozenset({"USES", "SEEN_AT", "IN"}), observed_to="2022-12-31"),
    ],
)
def test_slice_around_persons_is_the_rule_applied_to_the_whole_graph(
    world_store: GraphStore, base: GraphSlice
) -> None:
    full = world_store.read_graph(base)
    for persons in ({"p2"}, {"p1", "p3"}, {"p4", "nobody"}, {"p1", "p2", "p3", "p4"}, set()):
        got = world_store.read_graph(replace(base, person_ids=frozenset(persons)))
        assert as_data(got) == as_data(around(full, persons)), persons
        for hops in (2, 3):
            # Walked out ring by ring (GraphSlice.person_hops), as connect reads a store.
            got = world_store.read_graph(replace(base, person_ids=frozenset(persons), person_hops=hops))
            assert as_data(got) == as_data(around(full, persons, hops)), (persons, hops)
    # Node ids are accepted as well as keys.
    by_id = world_store.read_graph(replace(base, person_ids=frozenset({"Person:p2"})))
    assert as_data(by_id) == as_data(around(full, {"p2"}))


def ring_around(
    full: nx.MultiDiGraph, seeds: dict[str, set[str]], types: frozenset[str] | None
) -> nx.MultiDiGraph:
    """The rule of ``GraphStore.read_around`` applied to a graph read whole: the relationships (of
    ``types``) with a seed at one end, the seeds that exist and the other ends."""
    ids = {f"{label}:{key}" for label, keys in seeds.items() for key in keys} & set(full)
    edges = [
        (u, v, k)
        for u, v, k, typ in full.edges(keys=True, data="type")
        if (u in ids or v in ids) and (types is None or typ in types)
    ]
    ends = ids | {u for u, _, _ in edges} | {v for _, v, _ in edges}
    ring = nx.MultiDiGraph()
    ring.add_nodes_from((n, full.nodes[n]) for n in sorted(ends))
    ring.add_edges_from((u, v, k, full.edges[u, v, k]) for u, v, k in sorted(edges))
    return ring


@pytest.mark.parametrize(
    "base",
    [
        GraphSlice(),
        GraphSlice(observed_from="2023-01-01"),
        GraphSlice(labels=frozenset({"Person", "Case", "Phone", "Premises"}), observed_to="2022-12-31"),
        GraphSlice(properties=frozenset({"roles", "observed_on", "code"})),
    ],
)
def test_ring_around_nodes_is_the_rule_applied_to_the_whole_graph(
    world_store: GraphStore, base: GraphSlice
) -> None:
    full = world_store.read_graph(base)
    cases: list[tuple[dict[str, set[str]], frozenset[str] | None]] = [
        ({"Person": {"p1"}}, None),
        ({"Person": {"p1", "p2", "nobody"}}, frozenset({"USES", "SEEN_AT"})),
        ({"Case": {"c1"}, "Premises": {"X1"}}, frozenset({"SUSPECT_IN", "VICTIM_IN", "SEEN_AT", "IN"})),
        ({"Phone": {"ph1"}, "Person": {"p4"}}, frozenset({"USES"})),
        ({"Person": {"p1", "p2", "p3", "p4"}}, frozenset({"DESCRIBES"})),
        ({"Person": set()}, None),
    ]
    for seeds, types in cases:
        got = world_store.read_around(base, seeds, types)
        want = ring_around(full, seeds, types)
        assert as_data(got) == as_data(want), (seeds, types)
        # In the order read_graph gives (nodes sorted, edges by start, end, key): the detection's
        # steps meet them in that order.
        assert list(got.nodes) == [n for n in full.nodes if n in got]
        assert list(got.edges(keys=True)) == [e for e in full.edges(keys=True) if got.has_edge(*e)]


def test_busy_ends_counts_distinct_starts_in_the_window(store: GraphStore) -> None:
    nodes, rels = org_world()
    load(store, nodes, rels)
    # a2: p2 and p3 registered (2022-01-01); a1: nobody.
    assert store.busy_ends("REGISTERED_AT", "Person", "Address", 2) == ["a2"]
    assert store.busy_ends("REGISTERED_AT", "Person", "Address", 3) == []
    assert store.busy_ends("REGISTERED_AT", "Person", "Address", 1, "2022-01-02") == []
    assert store.busy_ends("REGISTERED_AT", "Person", "Address", 2, None, "2022-01-01") == ["a2"]
    # o1: p2 and p3 employed, p1 directs it; distinct persons, not relationships.
    assert store.busy_ends("EMPLOYED_BY", "Person", "Organisation", 2) == ["o1"]
    assert store.busy_ends("EMPLOYED_BY", "Person", "Organisation", 1) == ["o1", "o2"]
    with pytest.raises(SchemaError):
        store.busy_ends("REGISTERED_AT", "Person", "Case", 2)


def test_slice_around_persons_refuses_regions_too(world_store: GraphStore) -> None:
    both = GraphSlice(region_ids=frozenset({"police_unit:RE01"}), person_ids=frozenset({"p1"}))
    with pytest.raises(SchemaError, match="not both"):
        world_store.read_graph(both)
    with pytest.raises(SchemaError, match="not one string"):
        world_store.read_graph(GraphSlice(person_ids="p1"))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="person_hops needs person_ids"):
        world_store.read_graph(GraphSlice(person_hops=2))
    with pytest.raises(SchemaError, match="whole number of at least 1"):
        world_store.read_graph(GraphSlice(person_ids=frozenset({"p1"}), person_hops=0))


@pytest.mark.parametrize("window", [(None, None), ("2022-01-01", "2022-12-31"), ("2021-06-30", None)])
def test_slice_of_some_properties_is_the_full_slice_trimmed(
    world_store: GraphStore, window: tuple[str | None, str | None]
) -> None:
    keep = frozenset({"observed_on", "reliability", "code"})
    lo, hi = window
    got = world_store.read_graph(GraphSlice(observed_from=lo, observed_to=hi, properties=keep))
    full = world_store.read_graph(GraphSlice(observed_from=lo, observed_to=hi))
    nodes, edges = as_data(full)
    want_nodes = {n: {k: v for k, v in a.items() if k in keep | {"label"}} for n, a in nodes.items()}
    want_edges = {
        e: {k: v for k, v in a.items() if k in keep | {"type", "rel_key"}} for e, a in edges.items()
    }
    assert as_data(got) == (want_nodes, want_edges)
    assert any("reliability" in a for a in want_edges.values())  # not an empty comparison
    with pytest.raises(SchemaError, match="sets of names"):
        world_store.read_graph(GraphSlice(properties="observed_on"))  # type: ignore[arg-type]


@pytest.mark.parametrize("window", [(None, None), ("2022-01-01", "2022-12-31"), ("2021-06-30", None)])
def test_provenance_rows_are_those_of_the_graph_read(
    world_store: GraphStore, window: tuple[str | None, str | None]
) -> None:
    lo, hi = window
    labels = frozenset(load_schema().node_keys) - {"Group", "Merge"}
    got = world_store.provenance_rows(labels, lo, hi)
    # The oracle: the same facts taken from the whole slice read into networkx.
    full = world_store.read_graph(GraphSlice(labels=labels, observed_from=lo, observed_to=hi))
    dates = [d for _, _, d in full.edges(data="observed_on") if d]
    assert got.latest_observed == (max(dates) if dates else None)
    persons = sorted(
        (v.split(":", 1)[1], u.split(":", 1)[1], full.nodes[u].get("source"), full.nodes[u].get("row_id"))
        for u, v, t in full.edges(data="type")
        if t == "DESCRIBES"
    )
    assert sorted(got.person_rows) == persons
    signals = sorted(
        (u.split(":", 1)[1], str(a["source"]), str(a["row_id"]))
        for u, _, a in full.edges(data=True)
        if u.startswith("Signal:") and a.get("source") and a.get("row_id") is not None
    )
    assert sorted(got.signal_rows) == signals
    assert persons and (signals or lo == "2022-01-01")  # the world has both (its signal is of 2021)
    # Labels left out leave their facts out.
    assert world_store.provenance_rows(labels - {"Record"}, lo, hi).person_rows == []


def test_node_properties_and_distinct_values_are_those_of_the_graph_read(world_store: GraphStore) -> None:
    full = world_store.read_graph()
    nodes, _edges = as_data(full)
    checked = 0
    for label in sorted({a["label"] for a in nodes.values()}):
        of_label = {n.split(":", 1)[1]: a for n, a in nodes.items() if a["label"] == label}
        names = sorted({k for a in of_label.values() for k in a} - {"label"}) + ["not_there"]
        want = [(key, *(of_label[key].get(p) for p in names)) for key in sorted(of_label)]
        assert world_store.node_properties(label, names) == want, label
        for name in names:
            values = {str(a[name]) for a in of_label.values() if a.get(name) is not None}
            assert world_store.distinct_values(label, name) == sorted(values), (label, name)
            checked += bool(values)
    # Text, numbers, booleans and lists are all compared (the world has each).
    kinds = {type(v) for a in nodes.values() for v in a.values()}
    assert {str, int, bool, list} <= kinds and checked > 10
    assert world_store.node_properties("Person", []) == [(k.split(":", 1)[1],) for k in sorted(
        n for n, a in nodes.items() if a["label"] == "Person")]  # fmt: skip
    with pytest.raises(SchemaError, match="Vessel"):
        world_store.node_properties("Vessel", ["name"])
    with pytest.raises(SchemaError, match="Vessel"):
        world_store.distinct_values("Vessel", "name")
    for bad in ("name') OR 1=1 --", "a.b", ""):
        with pytest.raises(StoreError, match="plain property name"):
            world_store.node_properties("Person", [bad])
        with pytest.raises(StoreError, match="plain property name"):
            world_store.distinct_values("Person", bad)
    with pytest.raises(StoreError, match="not as one string"):
        world_store.node_properties("Person", "gender")


def observation_days_of(
    full: nx.MultiDiGraph, label: str, keys: set[str], ends: set[str]
) -> list[tuple[str, str]]:
    """The rule of ``observation_days`` applied to the whole graph read."""
    return sorted(
        {
            (u.split(":", 1)[1], str(a["observed_on"])[:10])
            for u, v, a in full.edges(data=True)
            if full.nodes[u]["label"] == label
            and u.split(":", 1)[1] in keys
            and full.nodes[v]["label"] in ends
            and a.get("observed_on") is not None
        }
    )


def fact_rows_of(
    full: nx.MultiDiGraph, combo: tuple[str, str, str], props: tuple[list[str], list[str], list[str]]
) -> list[tuple[Any, ...]]:
    """The rule of ``fact_rows`` applied to the whole graph read (all facts, no keys)."""
    typ, sl, el = combo
    rel, start, end = props
    rows = [
        (
            u.split(":", 1)[1],
            v.split(":", 1)[1],
            *(a.get(p) for p in rel),
            *(full.nodes[u].get(p) for p in start),
            *(full.nodes[v].get(p) for p in end),
        )
        for u, v, a in full.edges(data=True)
        if a["type"] == typ and full.nodes[u]["label"] == sl and full.nodes[v]["label"] == el
    ]
    return sort_fact_rows(rows)


@pytest.mark.parametrize("world", ["small_world", "org_world"])
def test_observation_days_and_fact_rows_are_those_of_the_graph_read(store: GraphStore, world: str) -> None:
    nodes, rels = {"small_world": small_world, "org_world": org_world}[world]()
    load(store, nodes, rels)
    full = store.read_graph()
    persons = {n.split(":", 1)[1] for n, a in full.nodes(data=True) if a["label"] == "Person"}
    every = {a["label"] for _n, a in full.nodes(data=True)}
    for keys in (persons, set(sorted(persons)[:2]), set()):
        for ends in (every, every - {"Case", "Municipality"}):
            want = observation_days_of(full, "Person", keys, ends)
            assert store.observation_days("Person", sorted(keys) + ["nobody"], ends) == want, (keys, ends)
    assert store.observation_days("Person", sorted(persons), every)  # not a comparison of nothing
    checked = 0
    combos = sorted(
        {(a["type"], full.nodes[u]["label"], full.nodes[v]["label"]) for u, v, a in full.edges(data=True)}
    )
    for combo in combos:
        typ, sl, el = combo
        rel = sorted({k for u, v, a in full.edges(data=True) if a["type"] == typ for k in a} - {"type"})
        start = sorted({k for n, a in full.nodes(data=True) if a["label"] == sl for k in a} - {"label"})
        end = sorted({k for n, a in full.nodes(data=True) if a["label"] == el for k in a} - {"label"})
        props = (rel + ["not_there"], start[:3], end[-3:])
        want = fact_rows_of(full, combo, props)
        got = store.fact_rows(
            typ, sl, el, rel_properties=props[0], start_properties=props[1], end_properties=props[2]
        )
        assert got == want, combo
        checked += len(want)
        # By key: the facts of some start keys, then of some end keys, are those of the whole.
        starts = sorted({r[0] for r in want})[::2] + ["nobody"]
        ends_ = sorted({r[1] for r in want})[1::2] + ["nobody"]
        by_start = store.fact_rows(typ, sl, el, start_keys=starts, rel_properties=props[0])
        assert by_start == sort_fact_rows([r[: 2 + len(props[0])] for r in want if r[0] in starts]), combo
        by_end = store.fact_rows(typ, sl, el, end_keys=ends_, end_properties=props[2])
        assert by_end == sort_fact_rows(
            [(*r[:2], *r[len(r) - len(props[2]) :]) for r in want if r[1] in ends_]
        )
        assert store.fact_rows(typ, sl, el, start_keys=[]) == []
    assert checked > 5
    with pytest.raises(SchemaError, match="does not allow"):
        store.fact_rows("SUSPECT_IN", "Case", "Person")
    with pytest.raises(SchemaError, match="Vessel"):
        store.observation_days("Vessel", ["x"], every)
    with pytest.raises(StoreError, match="plain property name"):
        store.fact_rows("AT", "Signal", "Premises", end_properties=["a') OR 1=1 --"])
    with pytest.raises(StoreError, match="not both"):
        store.fact_rows("AT", "Signal", "Premises", start_keys=["a"], end_keys=["b"])


def test_delete_by_source(world_store: GraphStore) -> None:
    before = world_store.read_graph()
    deleted = world_store.delete_by_source("src_b")
    after = world_store.read_graph()
    assert deleted == (before.number_of_nodes() - after.number_of_nodes()) + (
        before.number_of_edges() - after.number_of_edges()
    )
    assert all(a.get("source") != "src_b" for *_, a in after.edges(data=True))
    assert all(a.get("source") != "src_b" for _, a in after.nodes(data=True))
    # p3 only had src_b facts; p4's only fact was a src_b phone use; sources stay (reference).
    assert "Person:p3" not in after and "Person:p4" not in after and "Signal:src_b:9" not in after
    assert "Source:src_b" in after and "Premises:X1" in after and "Phone:ph1" in after
    assert "Person:p2" in after and after.nodes["Person:p1"] == before.nodes["Person:p1"]
    assert world_store.delete_by_source("src_b") == 0


def org_world() -> tuple[list[NodeBatch], list[RelBatch]]:
    """Organisations, addresses and person-to-person roles (issue 20) on top of a few persons.

    p1 directs and owns agency o1 (at address a1), employs p2 and p3 there, who are registered at
    address a2 (p2 moved out); p1 recruited and controlled p2; premises X1 lies at a2.
    """
    nodes: list[NodeBatch] = [
        ("Municipality", [{"code": "GM0002", "name": "Bb", "lat": 52.2, "lon": 5.2}]),
        ("Premises", [{"premises_id": "X1", "kind": "private address", "pc4": "1234"}]),
        ("Person", [{"person_id": f"p{i}", "roles": ["victim"]} for i in (2, 3)]),
        ("Person", [{"person_id": "p1", "roles": ["suspect"]}]),
        (
            "Organisation",
            [
                {
                    "organisation_id": "o1",
                    "sector": "N",
                    "kind": "employment agency",
                    "municipality": "GM0002",
                },
                {"organisation_id": "o2", "sector": None, "kind": "cleaning"},
            ],
        ),
        (
            "Address",
            [
                {"address_id": "a1", "pc4": "1234", "municipality": "GM0002"},
                {"address_id": "a2", "pc4": "1235", "municipality": "GM0002"},
            ],
        ),
    ]
    r = RelRow
    standing = {k: v for k, v in prov("kvk", 1, None).items() if k != "observed_on"}

    def dated(source: str, row: int, seen: str | None, start: str, end: str | None) -> dict[str, Any]:
        return {**prov(source, row, seen), "from_date": start, "to_date": end}

    rels: list[RelBatch] = [
        ("AT", "Organisation", "Address", [r("o1", "a1", "kvk:1", standing)]),
        ("AT", "Premises", "Address", [r("X1", "a2", "zaak:3", prov("zaak", 3, None))]),
        ("AT", "Signal", "Premises", [r("sig:1", "X1", "sig:1", prov("sig", 1, "2022-02-02"))]),
        (
            "DIRECTOR_OF",
            "Person",
            "Organisation",
            [r("p1", "o1", "kvk:1:DIRECTOR_OF", dated("kvk", 1, None, "2019-01-01", None))],
        ),
        (
            "OWNS",
            "Person",
            "Organisation",
            [r("p1", "o1", "kvk:1:OWNS", dated("kvk", 1, None, "2019-01-01", None))],
        ),
        (
            "EMPLOYED_BY",
            "Person",
            "Organisation",
            [
                r("p2", "o1", "zaak:1", dated("zaak", 1, "2022-05-01", "2021-03-01", "2022-04-30")),
                r("p3", "o1", "zaak:2", dated("zaak", 2, "2022-05-01", "2021-06-01", None)),
                r("p3", "o2", "zaak:2b", dated("zaak", 2, "2020-01-01", "2019-06-01", "2019-12-31")),
            ],
        ),
        (
            "REGISTERED_AT",
            "Person",
            "Address",
            [
                r("p2", "a2", "brp:1", dated("brp", 1, "2022-01-01", "2021-03-05", "2022-02-01")),
                r("p3", "a2", "brp:2", dated("brp", 2, "2022-01-01", "2021-06-02", None)),
            ],
        ),
        (
            "RECRUITED",
            "Person",
            "Person",
            [r("p1", "p2", "zaak:1:RECRUITED", dated("zaak", 1, "2022-05-01", "2021-02-01", None))],
        ),
        (
            "CONTROLLED",
            "Person",
            "Person",
            [r("p1", "p2", "zaak:1:CONTROLLED", dated("zaak", 1, "2022-05-01", "2021-03-01", "2022-04-30"))],
        ),
        (
            "EXPLOITED",
            "Person",
            "Person",
            [r("p1", "p3", "zaak:2:EXPLOITED", dated("zaak", 2, "2022-05-01", "2021-06-01", None))],
        ),
        (
            "TRANSPORTED",
            "Person",
            "Person",
            [r("p1", "p3", "zaak:2:TRANSPORTED", dated("zaak", 2, "2019-05-01", "2019-05-01", "2019-05-01"))],
        ),
    ]
    return nodes, rels


def test_organisations_addresses_and_roles_read_back(store: GraphStore) -> None:
    nodes, rels = org_world()
    load(store, nodes, rels)
    want = oracle(nodes, rels)
    assert as_data(store.read_graph()) == as_data(want)
    load(store, nodes, rels, batch_size=5)
    assert as_data(store.read_graph()) == as_data(want)
    counts = store.counts()
    assert (counts["Organisation"], counts["Address"], counts["AT"], counts["EMPLOYED_BY"]) == (2, 2, 3, 3)
    for rel_type in ("DIRECTOR_OF", "OWNS", "EXPLOITED", "RECRUITED", "TRANSPORTED", "CONTROLLED"):
        assert counts[rel_type] == 1, rel_type
    got = store.read_graph()
    edge = got.edges["Person:p2", "Address:a2", "brp:1"]
    assert (edge["type"], edge["from_date"], edge["to_date"]) == ("REGISTERED_AT", "2021-03-05", "2022-02-01")
    assert "to_date" not in got.edges["Person:p3", "Address:a2", "brp:2"]  # still registered there
    assert got.edges["Person:p1", "Person:p2", "zaak:1:RECRUITED"]["type"] == "RECRUITED"
    assert got.number_of_edges("Person:p1", "Person:p2") == 2  # two roles from one row: two facts


def test_organisations_addresses_and_roles_slice_and_delete(store: GraphStore) -> None:
    nodes, rels = org_world()
    load(store, nodes, rels)
    full = oracle(nodes, rels)
    keep = {"Person", "Address", "Organisation"}
    types = frozenset({"REGISTERED_AT", "EXPLOITED", "AT"})
    got = store.read_graph(GraphSlice(labels=frozenset(keep), rel_types=types))
    want = sliced(full, lambda n, a: a["label"] in keep)
    want.remove_edges_from(
        [(u, v, k) for u, v, k, a in want.edges(keys=True, data=True) if a["type"] not in types]
    )
    assert as_data(got) == as_data(want)
    lo, hi = "2021-01-01", "2022-12-31"
    window = store.read_graph(GraphSlice(observed_from=lo, observed_to=hi))
    assert {a["type"] for *_, a in window.edges(data=True)} >= {"REGISTERED_AT", "EMPLOYED_BY", "EXPLOITED"}
    assert not any(a["type"] == "TRANSPORTED" for *_, a in window.edges(data=True))  # seen in 2019
    assert store.delete_by_source("brp") == 2
    after = store.read_graph()
    assert not any(a["type"] == "REGISTERED_AT" for *_, a in after.edges(data=True))
    assert "Address:a2" in after  # the premises still lies there
    # TRANSPORTED p1->p3 and EMPLOYED_BY p3->o2 (seen in 2019 and 2020), then o2 as an orphan.
    assert store.delete_observed_before("2021-01-01") == 3
    after = store.read_graph()
    assert "Organisation:o2" not in after and "Organisation:o1" in after


def test_delete_observed_before(world_store: GraphStore) -> None:
    before = world_store.read_graph()
    deleted = world_store.delete_observed_before("2022-01-01")
    after = world_store.read_graph()
    assert deleted == (before.number_of_nodes() - after.number_of_nodes()) + (
        before.number_of_edges() - after.number_of_edges()
    )
    for _, a in after.nodes(data=True):
        assert a.get("observed_on", "9999") >= "2022-01-01"
    for *_, a in after.edges(data=True):
        assert a.get("observed_on", "9999") >= "2022-01-01"
    assert "Person:p3" not in after and "Person:p4" not in after  # all their facts were older
    assert "Record:src_a:4" in after  # no observation date: retention does not touch it
    assert {"Region:police_unit:RE01", "Municipality:GM0002", "Source:src_b"} <= set(after)
    assert world_store.delete_observed_before("2022-01-01") == 0


def test_cut_off_load_rerun_equals_uncut(backend: Backend) -> None:
    nodes, rels = small_world()
    uncut = backend.empty()
    load(uncut, nodes, rels)
    want = as_data(uncut.read_graph())
    cut = backend.empty()  # Neo4j: the same database, wiped
    # A load that stopped after half of its node and relationship batches ...
    load(cut, nodes[: len(nodes) // 2], rels[: len(rels) // 2])
    load(cut, nodes[len(nodes) // 2 : len(nodes) // 2 + 1], [(t, s, e, rr[:1]) for t, s, e, rr in rels[-3:]])
    # ... then run again in full.
    load(cut, nodes, rels)
    assert as_data(cut.read_graph()) == want


def test_unknown_labels_and_types_are_refused(store: GraphStore) -> None:
    with pytest.raises(SchemaError, match="Vessel"):
        store.upsert_nodes("Vessel", [{"name": "x"}])
    with pytest.raises(SchemaError, match="MARRIED_TO"):
        store.upsert_relationships("MARRIED_TO", "Person", "Person", [RelRow("a", "b", "k", {})])
    with pytest.raises(SchemaError, match="does not allow"):
        store.upsert_relationships("USES", "Person", "Case", [RelRow("a", "b", "k", {})])
    # AT is declared on two lines: each line's pairs only, not every start with every end.
    with pytest.raises(SchemaError, match="does not allow"):
        store.upsert_relationships("AT", "Premises", "Premises", [RelRow("a", "b", "k", {})])
    with pytest.raises(SchemaError, match="does not allow"):
        store.upsert_relationships("AT", "Signal", "Address", [RelRow("a", "b", "k", {})])
    with pytest.raises(SchemaError):
        store.upsert_nodes("Person`) DETACH DELETE (n", [{"person_id": "x"}])
    with pytest.raises(SchemaError):
        store.read_graph(GraphSlice(labels=frozenset({"Vessel"})))
    with pytest.raises(SchemaError):
        store.read_graph(GraphSlice(rel_types=frozenset({"MARRIED_TO"})))
    assert sum(store.counts().values()) == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"person_id": "p1", "address": {"street": "x"}}, "nested maps"),
        ({"person_id": "p1", "roles": ["victim", 3]}, "one type"),
        ({"person_id": "p1", "roles": ["victim", None]}, "empty values"),
        ({"person_id": "p1", "observed_on": "31-12-2023"}, "YYYY-MM-DD"),
        ({"person_id": "p1", "big": 2**70}, "64-bit"),
        ({"person_id": "p1", "label": "x"}, "reserves"),
        ({"person_id": None}, "no person_id"),
        ({"person_id": 12}, "no person_id"),
    ],
)
def test_bad_values_are_refused_and_the_batch_is_not_written(
    store: GraphStore, row: dict[str, Any], message: str
) -> None:
    good = {"person_id": "p0", "roles": ["victim"]}
    with pytest.raises(StoreError, match=message):
        store.upsert_nodes("Person", [good, row], batch_size=10)
    assert store.counts()["Person"] == 0


def test_bad_relationship_rows_are_refused(store: GraphStore) -> None:
    with pytest.raises(StoreError, match="rel_key"):
        store.upsert_relationships("USES", "Person", "Phone", [RelRow("p1", "ph1", "", {})])
    with pytest.raises(StoreError, match="reserves"):
        store.upsert_relationships("USES", "Person", "Phone", [RelRow("p1", "ph1", "k", {"type": "x"})])
    with pytest.raises(StoreError, match="YYYY-MM-DD"):
        store.read_graph(GraphSlice(observed_from="2022-13-01"))
    with pytest.raises(StoreError, match="YYYY-MM-DD"):
        store.delete_observed_before("01-01-2022")
    assert sum(store.counts().values()) == 0


def test_values_are_normalised_the_same_way(store: GraphStore) -> None:
    store.upsert_nodes(
        "Record",
        [
            {
                "record_id": "s:1",
                "observed_on": dt.date(2023, 1, 2),
                "tags": ("b", "a"),
                "flags": {"z", "y"},
                "missing": float("nan"),
            }
        ],
    )
    got = store.read_graph().nodes["Record:s:1"]
    assert got == {
        "label": "Record",
        "record_id": "s:1",
        "observed_on": "2023-01-02",
        "tags": ["b", "a"],
        "flags": ["y", "z"],
    }


# -- property: any order, any repetition, same graph ----------------------------------------------

DAYS = st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2024, 12, 31))


@st.composite
def random_world(draw: st.DrawFn) -> tuple[list[NodeBatch], list[RelBatch]]:
    n_persons = draw(st.integers(1, 6))
    persons = [
        {
            "person_id": f"p{i}",
            "roles": draw(
                st.lists(st.sampled_from(["suspect", "victim", "signalled"]), unique=True, max_size=3)
            ),
            "birth_year": draw(st.none() | st.integers(1950, 2010)),
            "nationality": draw(st.none() | st.sampled_from(["NLD", "ROU", "NGA"])),
        }
        for i in range(n_persons)
    ]
    munis = [{"code": f"GM000{i}", "name": f"M{i}", "lat": 52.0 + i / 10} for i in range(3)]
    seen = [
        RelRow(
            f"p{draw(st.integers(0, n_persons - 1))}",
            f"GM000{draw(st.integers(0, 2))}",
            f"s:{k}",
            {
                "source": draw(st.sampled_from(["s", "t"])),
                "observed_on": draw(DAYS).isoformat(),
                "role": "victim",
            },
        )
        for k in range(draw(st.integers(0, 10)))
    ]
    uses = [
        RelRow(
            f"p{draw(st.integers(0, n_persons - 1))}",
            f"ph{draw(st.integers(0, 3))}",
            f"u:{k}",
            {"source": "s"},
        )
        for k in range(draw(st.integers(0, 5)))
    ]
    return [("Person", persons), ("Municipality", munis)], [
        ("SEEN_AT", "Person", "Municipality", seen),
        ("USES", "Person", "Phone", uses),
    ]


def chunks(nodes: list[NodeBatch], rels: list[RelBatch]) -> list[tuple[str, Any]]:
    """Every row as its own unit of work, so a permutation interleaves nodes and relationships."""
    out: list[tuple[str, Any]] = [("node", (label, [row])) for label, rows in nodes for row in rows]
    out += [("rel", (t, s, e, [row])) for t, s, e, rows in rels for row in rows]
    return out


def replay(store: GraphStore, units: list[tuple[str, Any]]) -> None:
    for kind, unit in units:
        if kind == "node":
            store.upsert_nodes(*unit)
        else:
            store.upsert_relationships(*unit)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=random_world(), data=st.data())
def test_any_order_and_repetition_gives_the_same_graph(
    backend: Backend, world: tuple[list[NodeBatch], list[RelBatch]], data: st.DataObject
) -> None:
    units = chunks(*world)
    order = data.draw(st.permutations(units))
    repeats = data.draw(st.lists(st.sampled_from(units), max_size=5)) if units else []
    store = backend.empty()
    replay(store, order + repeats)
    assert as_data(store.read_graph()) == as_data(oracle(*world))


# -- the same input gives the same graph on both backends ----------------------------------------


@pytest.mark.neo4j
def test_both_backends_read_back_the_same(tmp_path: Path, neo4j_server: Any) -> None:
    embedded = Backend("embedded", tmp_path).empty()
    neo = Backend("neo4j", tmp_path, neo4j_server).empty()
    try:
        for store in (embedded, neo):
            load(store, *small_world(), batch_size=3)
        assert embedded.counts() == neo.counts()
        slices = [
            None,
            GraphSlice(labels=frozenset({"Person", "Municipality", "Premises"})),
            GraphSlice(rel_types=frozenset({"USES", "SEEN_AT"})),
            GraphSlice(observed_from="2021-01-01", observed_to="2022-12-31"),
            GraphSlice(region_ids=frozenset({"police_unit:RE02"}), observed_to="2022-12-31"),
            GraphSlice(person_ids=frozenset({"p1", "p3"}), observed_from="2021-01-01"),
        ]
        for gs in slices:
            assert as_data(embedded.read_graph(gs)) == as_data(neo.read_graph(gs)), gs
        assert embedded.delete_observed_before("2021-07-01") == neo.delete_observed_before("2021-07-01")
        assert embedded.delete_by_source("src_a") == neo.delete_by_source("src_a")
        assert as_data(embedded.read_graph()) == as_data(neo.read_graph())
    finally:
        embedded.close()
        neo.close()


# -- embedded specifics ---------------------------------------------------------------------------


def test_embedded_store_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with EmbeddedStore(path) as store:
        load(store, *small_world())
        want = as_data(store.read_graph())
    with EmbeddedStore(path) as again:
        assert as_data(again.read_graph()) == want


def test_embedded_store_reads_and_writes_files_of_the_earlier_layout(tmp_path: Path) -> None:
    # Files made before the unique index led with the start node: unique on type first, plus a
    # separate start index. The same conflict columns must keep the upserts idempotent there.
    import sqlite3

    from graphstore import embedded

    ddl = [
        stmt.replace(
            "UNIQUE (start_label, start_key, type, end_label, end_key, rel_key)",
            "UNIQUE (type, start_label, start_key, end_label, end_key, rel_key)",
        )
        for stmt in embedded._DDL
    ]
    assert ddl != list(embedded._DDL)
    path = tmp_path / "earlier.sqlite"
    conn = sqlite3.connect(path)
    for stmt in [*ddl, "CREATE INDEX rels_start ON rels (start_label, start_key)"]:
        conn.execute(stmt)
    conn.execute("INSERT INTO meta (name, value) VALUES ('format', 'netanalysis-graphstore-1')")
    conn.commit()
    conn.close()
    with EmbeddedStore(path) as store:
        load(store, *small_world())
        load(store, *small_world())
        assert as_data(store.read_graph()) == as_data(oracle(*small_world()))
        store.delete_by_source("src_a")
        fresh = EmbeddedStore(tmp_path / "fresh.sqlite")
        load(fresh, *small_world())
        fresh.delete_by_source("src_a")
        assert as_data(store.read_graph()) == as_data(fresh.read_graph())
        fresh.close()


def test_embedded_store_refuses_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        EmbeddedStore(tmp_path / "no" / "such" / "g.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database file" * 100)
    with pytest.raises(StoreUnavailable, match=str(junk)):
        EmbeddedStore(junk)


# -- Neo4j faults ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.neo4j
def test_wrong_password_is_store_unavailable(neo4j_server: Any) -> None:
    from graphstore.neo4j_store import Neo4jStore

    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="refused the credentials") as info:
        Neo4jStore(neo4j_server.uri, user=neo4j_server.user, password="not-the-password")
    assert neo4j_server.uri in str(info.value) and "not-the-password" not in str(info.value)
    assert time.monotonic() - started < 10


@pytest.mark.neo4j
def test_unreachable_server_is_store_unavailable() -> None:
    from graphstore.neo4j_store import Neo4jStore

    uri = f"bolt://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot reach") as info:
        Neo4jStore(uri, user="neo4j", password="x")
    assert uri in str(info.value)
    assert time.monotonic() - started < 10


class Relay:
    """A TCP relay in front of the server that can be cut, like a server going away mid-load."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.alive = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.alive:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.alive:
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Close the listener and every open connection: the "server" is gone."""
        self.alive = False
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


@pytest.mark.neo4j
def test_server_going_away_mid_load_is_store_unavailable(neo4j_server: Any) -> None:
    from graphstore.neo4j_store import Neo4jStore

    wipe_neo4j(neo4j_server)
    port = int(neo4j_server.uri.rsplit(":", 1)[1])
    relay = Relay(port)
    uri = f"bolt://127.0.0.1:{relay.port}"
    store = Neo4jStore(uri, user=neo4j_server.user, password=neo4j_server.password)
    rows = ({"person_id": f"p{i}", "roles": ["victim"]} for i in range(50_000))

    def cut_when_loading() -> Iterator[dict[str, Any]]:
        for i, row in enumerate(rows):
            if i == 3_000:
                relay.cut()
            yield row

    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable, match="cannot reach") as info:
            store.upsert_nodes("Person", cut_when_loading(), batch_size=1000)
        assert uri in str(info.value)
        assert time.monotonic() - started < 10
    finally:
        store.close()


@pytest.mark.neo4j
def test_rejected_schema_statement_is_schema_error(neo4j_server: Any) -> None:
    from graphstore.neo4j_store import Neo4jStore

    bad = parse_schema(
        "// @node Person key=person_id  a person\n"
        "CREATE CONSTRAINT person_key IF NOT EXISTS FOR (n:Person) REQUIRE n.person_id IS UNIQUE;\n"
        "CREATE INDEX broken IF NOT EXISTS FOR (n:Person) ON n.person_id WITH NONSENSE;\n"
    )
    store = Neo4jStore(neo4j_server.uri, user=neo4j_server.user, password=neo4j_server.password, schema=bad)
    try:
        with pytest.raises(SchemaError, match="WITH NONSENSE"):
            store.apply_schema()
    finally:
        store.close()


# -- loads: one writer at a time, and a record of the last load (graphstore.loads) ---------------


def another_handle(backend: Backend, store: GraphStore) -> GraphStore:
    """A second connection to the same store, as a second process would open it."""
    other: GraphStore
    if backend.kind == "embedded":
        other = EmbeddedStore(store.uri)
    else:
        from graphstore.neo4j_store import Neo4jStore

        other = Neo4jStore(backend.server.uri, user=backend.server.user, password=backend.server.password)
    backend.opened.append(other)
    return other


def test_a_load_is_recorded_from_start_to_end(store: GraphStore) -> None:
    assert store.last_load() is None
    store.begin_load("batch-1")
    running = store.last_load()
    assert running is not None
    assert (running.batch, running.finished, running.running, running.complete) == (
        "batch-1",
        None,
        True,
        False,
    )
    store.end_load("batch-1")
    done = store.last_load()
    assert done is not None and done.batch == "batch-1" and done.complete and not done.running
    assert done.started <= str(done.finished)
    # The bookkeeping is no part of the graph.
    assert store.read_graph().number_of_nodes() == 0 and sum(store.counts().values()) == 0


def test_a_cut_off_load_is_rolled_back_or_stays_incomplete_until_it_is_run_again(store: GraphStore) -> None:
    """The one documented difference (docs/loading.md): an embedded load is one transaction, so a
    cut-off one leaves the store as it was; Neo4j commits per batch and records the load as not
    complete until it is run again."""
    store.begin_load("batch-1")
    store.upsert_nodes("Person", [{"person_id": "p1", "roles": ["victim"]}])
    store.end_load("batch-1")
    store.begin_load("batch-2")
    store.upsert_nodes("Person", [{"person_id": "p2", "roles": ["suspect"]}])
    store.end_load("batch-2", completed=False)
    cut = store.last_load()
    persons = {a["person_id"] for _n, a in store.read_graph().nodes(data=True)}
    if isinstance(store, EmbeddedStore):
        assert cut is not None and (cut.batch, cut.complete, cut.running) == ("batch-1", True, False)
        assert persons == {"p1"}
    else:
        assert cut is not None and (cut.batch, cut.complete, cut.running) == ("batch-2", False, False)
        assert persons == {"p1", "p2"}
    store.begin_load("batch-2")
    store.upsert_nodes("Person", [{"person_id": "p2", "roles": ["suspect"]}])
    store.end_load("batch-2")
    again = store.last_load()
    assert again is not None and again.batch == "batch-2" and again.complete
    assert {a["person_id"] for _n, a in store.read_graph().nodes(data=True)} == {"p1", "p2"}


def test_an_embedded_load_is_one_transaction(tmp_path: Path) -> None:
    """Readers see the store before a load until it commits; closing a store in the middle of a
    load (a process that dies) leaves the store as it was."""
    path = tmp_path / "g.sqlite"
    writer = EmbeddedStore(path)
    writer.begin_load("batch-1")
    writer.upsert_nodes("Person", [{"person_id": "p1", "roles": ["victim"]}])
    with EmbeddedStore(path, read_only=True) as reader:
        assert reader.read_graph().number_of_nodes() == 0
        seen = reader.last_load()
        assert seen is not None and (seen.batch, seen.running) == ("batch-1", True)
    writer.close()
    with EmbeddedStore(path, read_only=True) as reader:
        assert reader.read_graph().number_of_nodes() == 0 and reader.last_load() is None


def test_a_second_load_is_refused_while_one_writes(backend: Backend, store: GraphStore) -> None:
    other = another_handle(backend, store)
    store.begin_load("first")
    started = time.monotonic()
    busy = r"another load is writing to the store .* since .*batch first"
    with pytest.raises(StoreError, match=busy) as refused:
        other.begin_load("second", wait=1.0)
    if backend.kind != "embedded":  # a lease outlives a killed load; the OS frees a file lock at once
        assert "a load that was killed holds it for at most 60 s" in str(refused.value)
    assert time.monotonic() - started >= 0.9  # it waited as told before refusing
    seen = other.last_load()
    assert seen is not None and seen.batch == "first" and seen.running
    store.end_load("first")
    other.begin_load("second")
    other.end_load("second")
    last = store.last_load()
    assert last is not None and last.batch == "second" and last.complete


def test_a_waiting_load_starts_when_the_writer_ends(backend: Backend, store: GraphStore) -> None:
    other = another_handle(backend, store)
    store.begin_load("first")
    timer = threading.Timer(1.0, store.end_load, args=("first",))
    timer.start()
    try:
        other.begin_load("second", wait=30)
    finally:
        timer.join()
    record = other.last_load()
    assert record is not None and record.batch == "second" and record.running
    other.end_load("second")


def test_closing_a_store_releases_its_write_lock(backend: Backend, store: GraphStore) -> None:
    other = another_handle(backend, store)
    other.begin_load("stopped")
    other.close()
    backend.opened.remove(other)
    store.begin_load("next")  # no wait needed
    store.end_load("next")
    record = store.last_load()
    assert record is not None and record.batch == "next" and record.complete
