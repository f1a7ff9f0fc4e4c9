"""Splits are facts (issue 13): a later load that re-resolves a stored person may split it.

``GraphStore.split_persons`` moves records of a person, with the relationships they gave, to a
new person and records a ``Split`` node; the same test runs on both stores.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA_SAMPLES

from graphstore import open_store
from graphstore.base import GraphSlice, GraphStore, PersonSplit, RelRow
from loaders import store_writer
from loaders.pipeline import LoadSummary, load
from loaders.pseudonymise import Pseudonymiser
from netanalysis.cli import main
from netanalysis.merges import SPLIT_COLUMNS, read_splits
from netanalysis.retention import erase_records

KEY = Pseudonymiser(bytes(range(32)))
MAPPING = DATA_SAMPLES / "sources.yaml"


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


HEADER = (
    "Regelnummer;Zaaknummer;Rol;Voornaam;Tussenvoegsel;Achternaam;Geslacht;Geboortedatum;"
    "Nationaliteit;Telefoon;Kenteken;IBAN;Plaats;Postcode;Locatie;Soort locatie;Uitbuitingsvorm;Datum feit"
)
# The first delivery: a dated man and an undated namesake, which its resolution joins.
FIRST = [
    "1;PL0900-2024000043;Verdachte;Pieter;;Jansen;M;03-02-1980;Nederlandse;;;;Nistelrode;;;;seksueel;03-08-2024",
    "2;PL0900-2024000044;Verdachte;Pieter;;Jansen;M;;;06 1059 6912;61-XT-VB;;Bernheze;;;;seksueel;05-08-2024",
]
# Later: the namesake's own record, with his phone and plate and a birth date ten years apart
# from the first man's. One load of all three keeps the first man apart.
LATER = [
    "3;PL0900-2024000045;Verdachte;Pieter;;Jansen;M;17-09-1990;;06 1059 6912;61-XT-VB;;Oss;;;;"
    "seksueel;01-09-2024",
]
A, B, C = "politie_zaken:1", "politie_zaken:2", "politie_zaken:3"


def _folder(root: Path, name: str, rows: list[str]) -> Path:
    target = root / name
    target.mkdir(parents=True)
    (target / "politie_zaken.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return target


def _persons(store: GraphStore) -> dict[str, str]:
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Record", "Person"}), rel_types=frozenset({"DESCRIBES"}))
    )
    return {str(graph.nodes[u]["record_id"]): str(graph.nodes[v]["person_id"]) for u, v in graph.edges()}


def _partition(person_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for rid, pid in person_of.items():
        groups.setdefault(pid, set()).add(rid)
    return {frozenset(g) for g in groups.values()}


def test_a_later_delivery_splits_a_person_as_one_load_would(store: GraphStore, tmp_path: Path) -> None:
    first, later = _folder(tmp_path, "first", FIRST), _folder(tmp_path, "later", LATER)
    everything = _folder(tmp_path, "all", [*FIRST, *LATER])

    def load_into(target: GraphStore, folder: Path, name: str) -> LoadSummary:
        return load([folder], target, MAPPING, KEY, rejects_path=tmp_path / f"{name}.rejects.csv")

    one = open_store(str(tmp_path / "one.db"))
    load_into(one, everything, "one")
    expected = _partition(_persons(one))
    one.close()
    assert expected == {frozenset({A}), frozenset({B, C})}

    load_into(store, first, "first")
    before = _persons(store)
    assert before[A] == before[B]  # the first delivery alone joins the namesakes
    assert load_into(store, later, "later").splits == 1
    after = _persons(store)
    assert _partition(after) == expected
    assert after[A] == before[A]  # the person keeps its id, its other part has a new one
    splits = read_splits(store)
    assert splits[["person", "into", "records", "reason"]].to_dict("records") == [
        {"person": before[A], "into": after[B], "records": B, "reason": "contradiction"}
    ]
    graph = store.read_graph()
    # The namesake's phone and plate went with his record, the first man keeps his own facts.
    uses = {(u, d["rel_key"]) for u, v, d in graph.edges(data=True) if d["type"] == "USES"}
    assert {u for u, _k in uses} == {f"Person:{after[B]}"}
    assert graph.nodes[f"Person:{after[B]}"]["roles"] == ["suspect"]
    assert graph.nodes[f"Person:{after[A]}"]["birth_year"] == 1980

    # The same delivery again changes nothing.
    state = (sorted(map(str, graph.nodes(data=True))), sorted(map(str, graph.edges(data=True))))
    assert load_into(store, later, "again").splits == 0
    again = store.read_graph()
    assert _persons(store) == after
    assert read_splits(store).equals(splits)
    assert sorted(str(n) for n in again.nodes(data=True) if n[1]["label"] != "Source") == sorted(
        s for s in state[0] if "'label': 'Source'" not in s
    )


def test_erasing_a_moved_record_leaves_the_split_without_naming_it(store: GraphStore, tmp_path: Path) -> None:
    for name, rows in (("first", FIRST), ("later", LATER)):
        load([_folder(tmp_path, name, rows)], store, MAPPING, KEY, rejects_path=tmp_path / f"{name}.csv")
    (before,) = read_splits(store).to_dict("records")
    assert before["records"] == B
    erase_records(store, [B])
    (after,) = read_splits(store).to_dict("records")
    # The split stays on record (both persons are still there) but names the erased row nowhere.
    assert (after["person"], after["into"], after["batch"]) == (
        before["person"],
        before["into"],
        before["batch"],
    )
    assert after["records"] == ""
    graph = store.read_graph()
    assert B not in {str(v) for _n, a in graph.nodes(data=True) for v in a.values()}
    assert B not in {v for _n, a in graph.nodes(data=True) for v in (a.get("records") or [])}
    # When both persons of the split go, so does the split.
    erase_records(store, [A, C])
    assert read_splits(store).empty
    assert not [n for n, a in store.read_graph().nodes(data=True) if a["label"] == "Split"]


def test_a_cut_off_load_run_again_ends_with_the_same_persons_and_splits(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load_into(target: GraphStore, rows: list[str], name: str) -> LoadSummary:
        folder = _folder(tmp_path / name, "delivery", rows)
        return load([folder], target, MAPPING, KEY, rejects_path=tmp_path / f"{name}.rejects.csv")

    uncut = open_store(str(tmp_path / "uncut.db"))
    try:
        load_into(uncut, FIRST, "u1")
        load_into(uncut, LATER, "u2")
        expected, expected_splits = _partition(_persons(uncut)), read_splits(uncut)
    finally:
        uncut.close()
    load_into(store, FIRST, "1")

    def cut(self: store_writer.StoreWriter) -> None:
        raise RuntimeError("cut off")

    # Cut off after the splits (they run before the rows are written), then run again.
    with monkeypatch.context() as patch:
        patch.setattr(store_writer.StoreWriter, "flush", cut)
        with pytest.raises(RuntimeError):
            load_into(store, LATER, "2")
    load_into(store, LATER, "3")
    assert _partition(_persons(store)) == expected
    same = [c for c in SPLIT_COLUMNS if c != "split_at"]
    got = read_splits(store)
    assert len(got) == 1 and got[same].equals(expected_splits[same])


def test_merges_cli_lists_the_splits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "graph.db")
    store = open_store(db)
    for name, rows in (("first", FIRST), ("later", LATER)):
        load([_folder(tmp_path, name, rows)], store, MAPPING, KEY, rejects_path=tmp_path / f"{name}.csv")
    store.close()
    assert main(["merges", "--store", db, "--splits", "--out", str(tmp_path / "splits.csv")]) == 0
    frame = pd.read_csv(tmp_path / "splits.csv")
    assert list(frame.columns) == SPLIT_COLUMNS and frame["records"].tolist() == [B]
    assert main(["merges", "--store", db, "--splits"]) == 0
    assert "1 persons split off others" in capsys.readouterr().out
