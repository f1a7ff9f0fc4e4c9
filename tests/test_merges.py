"""Merges are facts (issue 13 item 2), on both stores.

A hand-made pair of deliveries: the first holds two records of one man that resolution keeps
apart (the birth years differ, 1980 and 1981); the second brings a record that matches both, as
one load of all three records would join them. After the second load the store has one person
with every record, relationship and provenance of both, and a Merge node that says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from conftest import DATA_SAMPLES

from graphstore import open_store
from graphstore.base import GraphSlice, GraphStore, PersonMerge, RelRow
from loaders import crossload, store_writer
from loaders.crossload import StoredMatch
from loaders.linkage import PairMatch, Resolution
from loaders.merges import PlannedMerge, plan_merges
from loaders.pipeline import LoadSummary, load
from loaders.pseudonymise import Pseudonymiser, keygen
from netanalysis.changes import changes
from netanalysis.cli import main
from netanalysis.merges import MERGE_COLUMNS, read_merges
from netanalysis.retention import erase_records

KEY = Pseudonymiser(bytes(range(32)))
MAPPING = DATA_SAMPLES / "sources.yaml"
HEADER = (
    "Regelnummer;Zaaknummer;Rol;Voornaam;Tussenvoegsel;Achternaam;Geslacht;Geboortedatum;"
    "Nationaliteit;Telefoon;Kenteken;IBAN;Plaats;Postcode;Locatie;Soort locatie;Uitbuitingsvorm;Datum feit"
)
FIRST = [
    "1;PL0900-2024000043;Verdachte;Pieter;;Jansen;M;03-02-1980;Nederlandse;;;;Nistelrode;;;;seksueel;03-08-2024",
    "2;PL0900-2024000044;Verdachte;Piet;;Jansen;M;03-02-1981;;06 1059 6912;;;Bernheze;;;;seksueel;05-08-2024",
    "3;PL0900-2024000044;Slachtoffer;Anna;;Visser;V;01-01-2000;Nederlandse;;;;Bernheze;;;;seksueel;05-08-2024",
]
# Arrives later, about an earlier fact (observed before the other two): a retention delete can
# remove it alone.
BRIDGE = "4;PL0900-2024000045;Verdachte;Piet;;Jansen;M;03-02-1980;;06 1059 6912;;;Oss;;;;seksueel;01-07-2024"
A, B, R = "politie_zaken:1", "politie_zaken:2", "politie_zaken:4"


def deliveries(folder: Path) -> dict[str, Path]:
    """``first``, ``second`` (the bridging record alone) and ``all`` (one load of everything)."""
    out = {}
    for name, rows in (("first", FIRST), ("second", [BRIDGE]), ("all", [*FIRST, BRIDGE])):
        target = folder / name
        target.mkdir(parents=True)
        text = "\n".join([HEADER, *rows]) + "\n"
        (target / "politie_zaken.csv").write_text(text, encoding="utf-8-sig")
        out[name] = target
    return out


def person_of(store: GraphStore) -> dict[str, str]:
    """record id -> the person it describes."""
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Record", "Person"}), rel_types=frozenset({"DESCRIBES"}))
    )
    return {str(graph.nodes[u]["record_id"]): str(graph.nodes[v]["person_id"]) for u, v in graph.edges()}


def facts(graph: nx.MultiDiGraph) -> set[tuple[str, str, str, str]]:
    """Every relationship as (type, start, end, its properties), merge times left out."""
    return {(str(d["type"]), str(u), str(v), repr(sorted(d.items()))) for u, v, d in graph.edges(data=True)}


def nodes(graph: nx.MultiDiGraph) -> dict[str, str]:
    return {
        str(n): repr(sorted((k, v) for k, v in a.items() if k != "merged_at"))
        for n, a in graph.nodes(data=True)
    }


def load_into(store: GraphStore, folder: Path, tmp_path: Path, name: str) -> LoadSummary:
    return load([folder], store, MAPPING, KEY, rejects_path=tmp_path / f"{name}.rejects.csv")


@pytest.fixture(params=crossload.METHODS)
def across(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each method of resolution across loads (``loaders.crossload.METHOD``) in turn."""
    method = str(request.param)
    monkeypatch.setattr(crossload, "METHOD", method)
    return method


def test_a_later_record_that_bridges_two_persons_merges_them(
    across: str, store: GraphStore, tmp_path: Path
) -> None:
    d = deliveries(tmp_path / "d")
    first = load_into(store, d["first"], tmp_path, "1")
    assert first.merges == 0
    before = person_of(store)
    assert before[A] != before[B]  # two persons after the first delivery
    graph_before = store.read_graph()
    second = load_into(store, d["second"], tmp_path, "2")
    assert second.merges == 1
    after = person_of(store)
    survivor = after[R]
    assert after[A] == after[B] == survivor and survivor in (before[A], before[B])
    (absorbed,) = {before[A], before[B]} - {survivor}
    graph = store.read_graph()
    assert f"Person:{absorbed}" not in graph
    # Every relationship of the absorbed person is now the survivor's, with all its properties
    # (source, row, batch, observation date: the provenance).
    moved = {
        (
            str(d["type"]),
            str(u).replace(absorbed, survivor),
            str(v).replace(absorbed, survivor),
            repr(sorted(d.items())),
        )
        for u, v, d in graph_before.edges(data=True)
        if absorbed in (str(u).split(":", 1)[1], str(v).split(":", 1)[1])
    }
    assert moved and moved <= facts(graph)
    assert {t for t, *_ in moved} >= {"DESCRIBES", "SUSPECT_IN", "SEEN_AT"}
    cases = {
        v for u, v, d in graph.edges(data=True) if u == f"Person:{survivor}" and d["type"] == "SUSPECT_IN"
    }
    assert len(cases) == 3  # both cases of the first delivery and the new one
    assert set(graph.nodes[f"Person:{survivor}"]["roles"]) == {"suspect"}
    # The merge, recorded.
    merges = read_merges(store)
    assert list(merges.columns) == MERGE_COLUMNS and len(merges) == 1
    row = merges.iloc[0]
    assert (row["merged"], row["into"], row["now"]) == (absorbed, survivor, survivor)
    assert (row["record_id"], row["batch"], int(row["records"])) == (R, second.batch, 1)
    assert 0.5 < float(row["score"]) <= 1.0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(row["merged_at"]))
    assert row["merge_id"] == f"{absorbed}@{second.batch}"
    # The same partition of the records as one load of everything.
    one = open_store(str(tmp_path / "one.db"))
    try:
        load_into(one, d["all"], tmp_path, "one")
        whole = person_of(one)
    finally:
        one.close()
    assert {frozenset(r for r in after if after[r] == p) for p in after.values()} == {
        frozenset(r for r in whole if whole[r] == p) for p in whole.values()
    }
    # Loading either delivery again merges nothing and changes nothing.
    for folder, name in ((d["second"], "3"), (d["first"], "4")):
        again = load_into(store, folder, tmp_path, name)
        assert again.merges == 0
        assert facts(store.read_graph()) == facts(graph)
        assert nodes(store.read_graph()) == nodes(graph)
        assert read_merges(store).equals(merges)


def test_a_cut_off_load_run_again_ends_with_the_same_graph_and_merges(
    across: str, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deliveries(tmp_path / "d")
    uncut = open_store(str(tmp_path / "uncut.db"))
    try:
        load_into(uncut, d["first"], tmp_path, "u1")
        load_into(uncut, d["second"], tmp_path, "u2")
        expected, expected_merges = uncut.read_graph(), read_merges(uncut)
    finally:
        uncut.close()
    load_into(store, d["first"], tmp_path, "1")

    def cut(self: store_writer.StoreWriter) -> None:
        raise RuntimeError("cut off")

    with monkeypatch.context() as patch:
        patch.setattr(store_writer.StoreWriter, "flush", cut)
        with pytest.raises(RuntimeError):
            load_into(store, d["second"], tmp_path, "2")
    load_into(store, d["second"], tmp_path, "3")
    got = store.read_graph()
    assert facts(got) == facts(expected) and nodes(got) == nodes(expected)
    merges = read_merges(store)
    same = [c for c in MERGE_COLUMNS if c != "merged_at"]
    assert merges[same].equals(expected_merges[same]) and len(merges) == 1


def test_a_retention_delete_of_the_bridging_record_keeps_the_person_merged(
    store: GraphStore, tmp_path: Path
) -> None:
    d = deliveries(tmp_path / "d")
    load_into(store, d["first"], tmp_path, "1")
    load_into(store, d["second"], tmp_path, "2")
    merged = person_of(store)
    # The bridging record is the only fact observed before August 2024.
    store.delete_observed_before("2024-08-01")
    left = person_of(store)
    assert R not in left and left[A] == left[B] == merged[A]  # no split on delete
    assert len(read_merges(store)) == 1  # and the merge stays on record


def test_erasing_the_bridging_record_keeps_the_merge_without_naming_it(
    store: GraphStore, tmp_path: Path
) -> None:
    d = deliveries(tmp_path / "d")
    load_into(store, d["first"], tmp_path, "1")
    load_into(store, d["second"], tmp_path, "2")
    merged = person_of(store)
    (before,) = read_merges(store).to_dict("records")
    assert before["record_id"] == R
    erase_records(store, [R])
    left = person_of(store)
    assert R not in left and left[A] == left[B] == merged[A]  # no split on erasure either
    (after,) = read_merges(store).to_dict("records")
    assert not isinstance(after["record_id"], str)  # the erased row is named nowhere
    assert (after["merged"], after["into"], after["batch"]) == (
        before["merged"],
        before["into"],
        before["batch"],
    )
    graph = store.read_graph()
    assert R not in {str(v) for _n, a in graph.nodes(data=True) for v in a.values()}
    # When the person the merge led to goes, the merge goes with it.
    erase_records(store, [A, B])
    assert read_merges(store).empty
    assert not [n for n, a in store.read_graph().nodes(data=True) if a["label"] == "Merge"]


def test_merge_persons_moves_every_relationship_and_is_idempotent(store: GraphStore) -> None:
    store.apply_schema()
    store.upsert_nodes("Person", [{"person_id": "a", "roles": ["suspect"]}, {"person_id": "b"}])
    store.upsert_relationships(
        "DESCRIBES", "Record", "Person", [RelRow("s:1", "a", "s:1", {}), RelRow("s:2", "b", "s:2", {})]
    )
    store.upsert_relationships(
        "SUSPECT_IN",
        "Person",
        "Case",
        [RelRow("a", "c1", "s:1", {"batch": "x"}), RelRow("b", "c1", "s:1", {"batch": "y"})],
    )
    store.upsert_relationships(
        "CONCERNS", "Signal", "Person", [RelRow("sig", "b", "sig", {"role": "victim"})]
    )
    # Person-to-person roles (issue 20) move at both ends: b exploited v, r recruited b.
    store.upsert_relationships("EXPLOITED", "Person", "Person", [RelRow("b", "v", "s:2:EXPLOITED", {})])
    store.upsert_relationships("RECRUITED", "Person", "Person", [RelRow("r", "b", "s:3:RECRUITED", {})])
    merge = PersonMerge("b", "a", {"merge_id": "b@x", "batch": "x"}, {"roles": ["suspect", "victim"]})
    assert store.merge_persons([merge]) == 1
    graph = store.read_graph()
    assert "Person:b" not in graph and graph.nodes["Person:a"]["roles"] == ["suspect", "victim"]
    edges = {(d["type"], u, v, d.get("batch")) for u, v, d in graph.edges(data=True)}
    assert edges == {
        ("DESCRIBES", "Record:s:1", "Person:a", None),
        ("DESCRIBES", "Record:s:2", "Person:a", None),
        ("SUSPECT_IN", "Person:a", "Case:c1", "y"),  # the same fact twice: one, the moved one's props
        ("CONCERNS", "Signal:sig", "Person:a", None),
        ("EXPLOITED", "Person:a", "Person:v", None),
        ("RECRUITED", "Person:r", "Person:a", None),
    }
    assert graph.nodes["Merge:b@x"] == {
        "label": "Merge",
        "merge_id": "b@x",
        "batch": "x",
        "merged": "b",
        "into": "a",
    }
    assert store.merge_persons([merge]) == 0  # b is gone: nothing to do
    assert facts(store.read_graph()) == facts(graph)
    assert store.merge_persons([]) == 0


def test_plan_merges_leaves_ambiguous_persons_alone() -> None:
    stored = {"old:a": "A", "old:b": "B", "old:c": "C"}
    resolution = Resolution(
        person_of={"new:1": "A", "new:2": "C", "old:b": "A"},
        link={},
        pairs=[PairMatch("new:1", "old:b", "probabilistic", 0.9)],
        clusters={"A": ["new:1", "old:b"], "C": ["new:2"]},
    )
    matches = {
        "new:1": [StoredMatch("A", 0.99, "old:a"), StoredMatch("C", 0.8, "old:c")],
        "new:2": [StoredMatch("C", 0.99, "old:c"), StoredMatch("D", 0.7, "old:d")],
    }
    planned = plan_merges(resolution, stored, matches)
    # B's reloaded record is in A now: B merges into A by the pair that joined it. C is a person
    # of this load (not absorbed); D is taken in by C only.
    assert planned == [PlannedMerge("B", "A", "new:1", 0.9), PlannedMerge("D", "C", "new:2", 0.7)]
    # A person two persons of this load take in stays as it is.
    matches["new:2"].append(StoredMatch("E", 0.7, "old:e"))
    matches["new:1"].append(StoredMatch("E", 0.6, "old:e"))
    assert [m.merged for m in plan_merges(resolution, stored, matches)] == ["B", "D"]


@pytest.mark.slow  # over 1.5 CPU s (two detections): left out of `make check`, run by `make test`
def test_merges_on_the_command_line_and_in_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = deliveries(tmp_path / "d")
    key_file = keygen(tmp_path / "k.key")
    db = str(tmp_path / "graph.db")
    common = ["--mapping", str(MAPPING), "--store", db, "--key-file", str(key_file)]
    assert main(["load", str(d["first"]), *common, "--rejects", str(tmp_path / "r1.csv")]) == 0
    assert main(["detect", "--store", db, "--out", str(tmp_path / "d1"), "--track"]) == 0
    capsys.readouterr()
    assert main(["merges", "--store", db]) == 0
    assert "no persons were merged" in capsys.readouterr().out
    assert main(["load", str(d["second"]), *common, "--rejects", str(tmp_path / "r2.csv")]) == 0
    assert "1 persons of earlier loads merged (" in capsys.readouterr().err
    assert main(["detect", "--store", db, "--out", str(tmp_path / "d2"), "--track"]) == 0
    capsys.readouterr()
    assert main(["merges", "--store", db]) == 0
    printed = capsys.readouterr().out
    assert R in printed and "1 persons merged" in printed
    out = tmp_path / "merges.csv"
    assert main(["merges", "--store", db, "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == MERGE_COLUMNS and list(table["record_id"]) == [R]
    # Beside the detection, and in what changed.
    beside = pd.read_csv(tmp_path / "d2" / "merges.csv", dtype=str, keep_default_na=False)
    assert beside.equals(table) and len(pd.read_csv(tmp_path / "d1" / "merges.csv")) == 0
    found = changes(tmp_path / "d1", tmp_path / "d2")
    assert found.merged_persons is not None and list(found.merged_persons["record_id"]) == [R]
    assert "1 person merged into another" in found.summary()
    assert table["merged"].iloc[0] not in found.summary()  # counts only, no pseudonym
    found.write(tmp_path / "c")
    assert len(pd.read_csv(tmp_path / "c" / "merged_persons.csv")) == 1
    # Bad input: one sentence, exit 2.
    capsys.readouterr()
    assert main(["merges", "--store", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    assert main(["merges", "--store", db, "--out", str(tmp_path / "no" / "m.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_merges_command_is_audited_with_its_purpose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from netanalysis.audit import AuditLog, audit_log_for

    d = deliveries(tmp_path / "d")
    db = str(tmp_path / "graph.db")
    store = open_store(db)
    try:
        load_into(store, d["first"], tmp_path, "1")
        load_into(store, d["second"], tmp_path, "2")
        pseudonyms = {str(n).split(":", 1)[1] for n in store.read_graph() if str(n).startswith("Person:")}
        pseudonyms |= set(read_merges(store)["merged"])
    finally:
        store.close()
    monkeypatch.setenv("NETANALYSIS_PURPOSES", str(DATA_SAMPLES / "purposes.yaml"))
    out = tmp_path / "m.csv"
    capsys.readouterr()
    assert main(["merges", "--store", db, "--out", str(out), "--purpose", "netwerkanalyse"]) == 0
    entry = AuditLog(audit_log_for(db)).entries()[-1]["attributes"]
    assert entry["netanalysis.command"] == "merges" and entry["netanalysis.legal_basis"] == "Wpg art. 8"
    assert entry["netanalysis.counts"]["merges"] == 1
    assert [Path(o["path"]).name for o in entry["netanalysis.outputs"]] == ["m.csv"]
    # A purpose whose register entry does not allow it: refused in one sentence.
    assert main(["merges", "--store", db, "--purpose", "rapportage"]) == 2
    err = capsys.readouterr().err
    assert "merges" in err and "Traceback" not in err
    text = audit_log_for(db).read_text(encoding="utf-8")
    assert not [p for p in pseudonyms if p in text]


def test_find_follows_a_merge_to_the_person_that_holds_the_records(store: GraphStore, tmp_path: Path) -> None:
    from netanalysis.find import find_person

    d = deliveries(tmp_path / "d")
    load_into(store, d["first"], tmp_path, "1")
    before = person_of(store)
    load_into(store, d["second"], tmp_path, "2")
    survivor = person_of(store)[R]
    # Each of the two identities of the first delivery finds the one person now.
    for first, birth, was in (("Pieter", "03-02-1980", before[A]), ("Piet", "03-02-1981", before[B])):
        found = find_person(store, KEY, first, "Jansen", birth)
        assert [(m.person_id, m.how) for m in found] == [(survivor, "exact")], was
