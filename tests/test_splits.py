"""Splits are facts (issue 13): a later load that re-resolves a stored person may split it.

``GraphStore.split_persons`` moves records of a person, with the relationships they gave, to a
new person and records a ``Split`` node; the same test runs on both stores.
"""

from __future__ import annotations

from graphstore.base import GraphStore, PersonSplit, RelRow


def test_split_persons_moves_the_records_relationships_and_is_idempotent(store: GraphStore) -> None:
    store.apply_schema()
    store.upsert_nodes("Person", [{"person_id": "a", "roles": ["suspect", "victim"]}, {"person_id": "v"}])
    store.upsert_relationships(
        "DESCRIBES",
        "Record",
        "Person",
        [RelRow("s:1", "a", "s:1", {"role": "suspect"}), RelRow("s:2", "a", "s:2", {"role": "victim"})],
    )
    store.upsert_relationships(
        "SUSPECT_IN", "Person", "Case", [RelRow("a", "c1", "s:1", {}), RelRow("a", "c2", "s:2", {})]
    )
    store.upsert_relationships("USES", "Person", "Phone", [RelRow("a", "ph", "s:2", {"batch": "x"})])
    store.upsert_relationships("CONCERNS", "Signal", "Person", [RelRow("sig", "a", "s:2", {})])
    # Person-to-person roles: the record describes the end (s:2 names who exploited its person),
    # so only that end moves; a fact another record gave about a stays with a.
    store.upsert_relationships(
        "EXPLOITED",
        "Person",
        "Person",
        [RelRow("v", "a", "s:2:EXPLOITED", {}), RelRow("a", "v", "s:9:EXPLOITED", {})],
    )
    # A record id that is a prefix of another's does not take the other's facts.
    store.upsert_relationships("SEEN_AT", "Person", "Municipality", [RelRow("a", "GM1", "s:22", {})])
    split = PersonSplit(
        "a",
        "b",
        ("s:2",),
        {"split_id": "b@x", "batch": "x", "reason": "contradiction"},
        {"roles": ["suspect"]},
        {"roles": ["victim"]},
    )
    assert store.split_persons([split]) == 1
    graph = store.read_graph()
    assert graph.nodes["Person:a"]["roles"] == ["suspect"]
    assert graph.nodes["Person:b"]["roles"] == ["victim"]
    edges = {(d["type"], u, v) for u, v, d in graph.edges(data=True)}
    assert edges == {
        ("DESCRIBES", "Record:s:1", "Person:a"),
        ("DESCRIBES", "Record:s:2", "Person:b"),
        ("SUSPECT_IN", "Person:a", "Case:c1"),
        ("SUSPECT_IN", "Person:b", "Case:c2"),
        ("USES", "Person:b", "Phone:ph"),
        ("CONCERNS", "Signal:sig", "Person:b"),
        ("EXPLOITED", "Person:v", "Person:b"),
        ("EXPLOITED", "Person:a", "Person:v"),
        ("SEEN_AT", "Person:a", "Municipality:GM1"),
    }
    moved = [d for u, v, d in graph.edges(data=True) if d["type"] == "USES"]
    assert moved[0]["batch"] == "x" and moved[0]["rel_key"] == "s:2"  # properties move with it
    assert graph.nodes["Split:b@x"] == {
        "label": "Split",
        "split_id": "b@x",
        "batch": "x",
        "reason": "contradiction",
        "person": "a",
        "into": "b",
        "records": ["s:2"],
    }
    # Its records describe b now: repeating the split changes nothing.
    assert store.split_persons([split]) == 0
    again = store.read_graph()
    assert {(d["type"], u, v) for u, v, d in again.edges(data=True)} == edges
    assert dict(again.nodes(data=True)) == dict(graph.nodes(data=True))
    assert store.split_persons([]) == 0
