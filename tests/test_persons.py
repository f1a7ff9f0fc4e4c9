"""Record -> person without detection (`netanalysis persons`, ``na.record_persons``), a plain person
list (``kind: register``), one file holding several sources (``source_column``), and no rejects
file when nothing was rejected; on both stores where the store is read (issue 15, item 6).
"""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import netanalysis as na
from graphstore import open_store
from graphstore.base import GraphSlice, GraphStore
from loaders.mapping import parse_mapping
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser
from netanalysis.audit import AuditLog
from netanalysis.cli import main
from netanalysis.errors import ConfigError

KEY = Pseudonymiser(bytes(range(32)))

REGISTER_MAPPING = """
version: 1
sources:
  - name: registers
    kind: register
    files: ["personen*.csv"]
    format: csv
    legal_basis: "Wpg art. 9"
    source_column: Bron
    columns:
      Nr: row_id
      Voornaam: first_name
      Achternaam: last_name
      Geboren: birth_date
"""
# Fictional persons. Testa Fictief is in both registers (same name and birth date: one person);
# Proefka Nepova appears twice in gemeente_b with a typo; row 9 names no source and is rejected.
PERSONEN = (
    "Bron;Nr;Voornaam;Achternaam;Geboren\n"
    "gemeente_a;1;Testa;Fictief;03-02-1980\n"
    "gemeente_a;2;Dummo;Verzinsel;05-05-1975\n"
    "gemeente_b;1;Testa;Fictief;03-02-1980\n"
    "gemeente_b;2;Proefka;Nepova;11-11-2001\n"
    "gemeente_b;3;Proefka;Nepowa;11-11-2001\n"
    ";9;Nemo;Nergens;01-01-1990\n"
)
CLEAR = ["Testa", "Fictief", "Dummo", "Verzinsel", "Proefka", "Nepova", "Nepowa", "1980-02-03", "03-02-1980"]


@pytest.fixture
def register(tmp_path: Path) -> Path:
    folder = tmp_path / "register"
    folder.mkdir()
    (folder / "sources.yaml").write_text(textwrap.dedent(REGISTER_MAPPING), encoding="utf-8")
    (folder / "personen.csv").write_text(PERSONEN, encoding="utf-8")
    return folder


def test_a_register_with_a_source_column_loads_persons_of_several_sources(
    register: Path, store: GraphStore, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    summary = load([register], store, register / "sources.yaml", KEY, rejects_path=rejects)
    assert (summary.read, summary.loaded, summary.rejected) == (6, 5, 1)
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["source"], r["row_id"], r["field"]) for r in rows] == [("registers", "9", "_row")]
    assert "source column 'Bron' is empty" in rows[0]["reason"]
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Source", "Case", "Signal"}), rel_types=frozenset())
    )
    labels = {d["label"] for _n, d in graph.nodes(data=True)}
    assert labels == {"Source"}  # a register makes no case and no signal
    sources = {d["name"]: d for _n, d in graph.nodes(data=True)}
    assert set(sources) == {"gemeente_a", "gemeente_b"}
    assert all(d["kind"] == "register" and d["legal_basis"] == "Wpg art. 9" for d in sources.values())

    frame = na.record_persons(store)
    assert frame.columns.tolist() == ["source", "row_id", "person_id", "match", "score"]
    assert list(zip(frame["source"], frame["row_id"], strict=True)) == [
        ("gemeente_a", "1"),
        ("gemeente_a", "2"),
        ("gemeente_b", "1"),
        ("gemeente_b", "2"),
        ("gemeente_b", "3"),
    ]
    person = dict(zip(frame["source"] + ":" + frame["row_id"], frame["person_id"], strict=True))
    assert person["gemeente_a:1"] == person["gemeente_b:1"]  # the same row id in two sources, one person
    assert person["gemeente_b:2"] == person["gemeente_b:3"]  # a typo in the surname
    assert len(set(person.values())) == 3
    assert (
        frame.set_index(frame["source"] + ":" + frame["row_id"]).loc["gemeente_b:3", "match"]
        == "probabilistic"
    )
    # The roles a register gives: none (it is a list of persons, not of suspects or victims).
    people = store.read_graph(GraphSlice(labels=frozenset({"Person"}), rel_types=frozenset()))
    assert all(not d.get("roles") for _n, d in people.nodes(data=True))


def test_persons_command_writes_record_to_person_audited_without_clear_values(
    register: Path, store: GraphStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load([register], store, register / "sources.yaml", KEY, rejects_path=tmp_path / "r.csv")
    expected = na.record_persons(store)
    purposes = tmp_path / "purposes.yaml"
    purposes.write_text(
        "register: urn:test\npurposes:\n  - id: resolutie\n    description: checking entity resolution\n"
        "    legal_basis: Wpg art. 8\n    commands: [persons]\n",
        encoding="utf-8",
    )
    log = tmp_path / "audit.jsonl"
    out = tmp_path / "persons.csv"
    args = ["persons", "--store", str(store.uri), "--out", str(out), "--audit-log", str(log)]
    args += ["--purposes", str(purposes)]
    assert main(args) == 2  # a register needs a purpose
    assert "purpose" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--purpose", "resolutie", "--analyst", "t.tester"]) == 0
    assert "5 records of 3 persons" in capsys.readouterr().out
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["source"], r["row_id"], r["person_id"]) for r in rows] == list(
        zip(expected["source"], expected["row_id"], expected["person_id"], strict=True)
    )
    text = out.read_text(encoding="utf-8")
    assert not [value for value in CLEAR if value in text]
    entry = AuditLog(log).entries()[-1]
    attrs = entry["attributes"]
    assert attrs["netanalysis.command"] == "persons" and attrs["netanalysis.purpose"] == "resolutie"
    assert attrs["netanalysis.counts"] == {"records_out": 5, "persons_out": 3}
    assert [o["path"] for o in attrs["netanalysis.outputs"]] == [str(out)]
    assert not [value for value in CLEAR if value in json.dumps(entry)]


def test_persons_of_a_missing_store_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "persons.csv"
    assert main(["persons", "--store", str(tmp_path / "none.db"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_no_rejects_file_when_nothing_was_rejected(register: Path, tmp_path: Path) -> None:
    (register / "personen.csv").write_text(PERSONEN.rsplit("\n", 2)[0] + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    with open_store(str(tmp_path / "g.db")) as store:
        summary = load([register], store, register / "sources.yaml", KEY, rejects_path=rejects)
    assert summary.rejected == 0 and summary.rejects_path is None
    assert not rejects.exists()  # not even a header
    assert not (tmp_path / "g.db.rejects.csv").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"Nr": "row_id", "Geboren": "birth_date"}},
         "is a register but maps no column to a name field"),
        ({"kind": "victim_registration", "columns": {"Nr": "row_id", "Geboren": "birth_date"}},
         "is a victim_registration but maps no column to a name field"),
        ({"kind": "register", "columns": {"Nr": "row_id", "Achternaam": "last_name", "Zaak": "case_id"}},
         r"is a register \(a plain list of persons\) but maps case_id"),
        ({"source_column": "Nr"}, "names it as 'source_column'"),
        ({"source_column": ["Bron"]}, "'source_column' must be the name of the column"),
    ],
)  # fmt: skip
def test_mapping_problems_are_one_sentence(change: dict[str, Any], message: str) -> None:
    source: dict[str, Any] = {
        "name": "registers",
        "kind": "register",
        "files": ["p.csv"],
        "format": "csv",
        "columns": {"Nr": "row_id", "Achternaam": "last_name"},
    }
    source.update(change)
    with pytest.raises(ConfigError, match=message) as caught:
        parse_mapping({"version": 1, "sources": [source]})
    assert "\n" not in str(caught.value)


def test_a_mapping_without_a_name_field_stops_the_load_with_exit_2(
    register: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = register / "sources.yaml"
    kept = [line for line in mapping.read_text(encoding="utf-8").splitlines() if "_name" not in line]
    mapping.write_text("\n".join(kept) + "\n", encoding="utf-8")
    key = tmp_path / "k.key"
    na.keygen(key)
    store = tmp_path / "g.db"
    code = main(
        ["load", str(register), "--mapping", str(mapping), "--store", str(store), "--key-file", str(key)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().startswith("error: ") and "is a register but maps no column to a name field" in err
    assert len(err.strip().splitlines()) == 1 and not store.exists()


def test_encode_refuses_a_source_column_in_one_sentence(register: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="source_column, which encode does not support"):
        na.encode([register], register / "sources.yaml", KEY, tmp_path / "export")


def test_load_summary_counts_initials_and_unlinked_records_without_birth_date(
    register: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (register / "personen.csv").write_text(
        "Bron;Nr;Voornaam;Achternaam;Geboren\n"
        "gemeente_a;1;J.;P.;03-02-1980\n"
        "gemeente_b;1;J;P;03-02-1980\n"
        "gemeente_a;2;Dummo;Verzinsel;\n"
        "gemeente_b;2;Proefka;Nepova;11-11-2001\n",
        encoding="utf-8",
    )
    key = tmp_path / "k.key"
    na.keygen(key)
    args = ["load", str(register), "--mapping", str(register / "sources.yaml"), "--key-file", str(key)]
    assert main([*args, "--store", str(tmp_path / "g.db"), "--summary-json", str(tmp_path / "s.json")]) == 0
    err = capsys.readouterr().err
    assert "2 person records are named by initials only" in err
    assert "1 of 1 person records without a birth date stay unlinked" in err
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["totals"] == {"read": 4, "loaded": 4, "rejected": 0}
    assert summary["persons"] == 4 and summary["resolution"]["initials_only"] == 2
