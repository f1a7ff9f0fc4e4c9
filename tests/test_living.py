"""The living graph (issue 13): deliveries over time on both stores.

A reload with another key is refused before anything is written; groups keep their ids across
detection runs (in the store, or from the previous detection folder).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA_SAMPLES

import loaders.pipeline as pipeline
from graphstore import open_store
from graphstore.base import GraphSlice, GraphStore
from loaders import crossload
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser, keygen
from netanalysis.changes import changes
from netanalysis.cli import main
from netanalysis.detect import DetectionResult, DetectionSettings, detect
from netanalysis.errors import ConfigError
from netanalysis.graphs import read_analysis_graph
from netanalysis.lineage import LINEAGE_COLUMNS, follow_groups, keep_groups, match_groups

KEY = Pseudonymiser(bytes(range(32)))
OTHER_KEY = Pseudonymiser(bytes(range(32, 64)))
MAPPING = DATA_SAMPLES / "sources.yaml"


# --- wrong key on reload ----------------------------------------------------------------------------


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_reload_with_another_key_is_refused_before_anything_is_written(
    store: GraphStore, tmp_path: Path
) -> None:
    load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
    before = store.counts()
    graph_before = store.read_graph()
    rejects = tmp_path / "r2.csv"
    with pytest.raises(ConfigError) as caught:
        load([DATA_SAMPLES / "sources"], store, MAPPING, OTHER_KEY, rejects_path=rejects)
    message = str(caught.value)
    assert "another key" in message and KEY.fingerprint in message and OTHER_KEY.fingerprint in message
    assert "\n" not in message
    assert store.counts() == before
    assert sorted(store.read_graph().edges(keys=True)) == sorted(graph_before.edges(keys=True))
    assert not rejects.exists()  # not even the rejects file
    # The same key still loads (and changes nothing).
    load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r3.csv")
    assert store.counts() == before


def test_cli_reload_with_another_key_exits_2_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [keygen(tmp_path / "a.key"), keygen(tmp_path / "b.key")]
    store = str(tmp_path / "graph.db")
    common = ["load", str(DATA_SAMPLES / "sources"), "--mapping", str(MAPPING), "--store", store]
    assert main([*common, "--key-file", str(keys[0]), "--rejects", str(tmp_path / "r1.csv")]) == 0
    capsys.readouterr()
    assert main([*common, "--key-file", str(keys[1]), "--rejects", str(tmp_path / "r2.csv")]) == 2
    err = capsys.readouterr().err
    assert "another key" in err and "Traceback" not in err


# --- stable group identity ------------------------------------------------------------------------


def test_match_groups_marks_every_kind_of_event() -> None:
    previous = {
        "G001": {"a", "b", "c", "d"},
        "G002": {"e", "f", "g", "h"},
        "G003": {"i", "j"},
        "G004": {"k", "l", "m", "n", "o", "p"},
        "G005": {"s", "t"},
    }
    current = {
        "G001": {"e", "f", "g", "h", "i", "j"},  # G002 and G003 merged
        "G002": {"k", "l", "m"},  # G004 split ...
        "G003": {"n", "o", "p"},  # ... in two
        "G004": {"a", "b", "c", "d", "x"},  # G001 grew
        "G005": {"z"},  # born; G005 (s, t) dissolved
    }
    match = match_groups(previous, current, next_number=9)
    events = {e["group_id"]: (e["event"], e["related"]) for e in match.events}
    assert match.renamed["G004"] == "G001" and events["G001"] == ("grew", "")
    assert match.renamed["G001"] == "G002" and events["G002"] == ("merged", "G003")
    assert events["G003"] == ("merged_into", "G002")
    # One part of G004 keeps its id, the other gets a new one; both are marked as split from it.
    split = {match.renamed["G002"], match.renamed["G003"]}
    assert "G004" in split
    (other,) = split - {"G004"}
    assert events["G004"][0] == "split" and events[other] == ("split", "G004")
    born = match.renamed["G005"]
    assert events[born] == ("born", "")
    assert events["G005"] == ("dissolved", "")
    # New ids continue after the highest ever given: no id is used twice.
    assert sorted({other, born}) == ["G009", "G010"] and match.next_number == 11


def test_same_groups_under_other_names_keep_their_ids() -> None:
    previous = {f"G{i:03d}": {f"p{i}-{j}" for j in range(i % 4 + 1)} for i in range(1, 30)}
    shuffled = {f"G{31 - i:03d}": members for i, members in enumerate(previous.values(), start=1)}
    match = match_groups(previous, shuffled)
    assert {match.renamed[g]: m for g, m in shuffled.items()} == previous
    assert {e["event"] for e in match.events} == {"kept"}


def _detect(store: GraphStore, seed: int = 0) -> DetectionResult:
    return detect(read_analysis_graph(store), DetectionSettings(seed=seed))


def _membership(result: DetectionResult) -> set[tuple[str, str]]:
    return set(zip(result.groups["group_id"], result.groups["person_id"], strict=True))


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_tracked_group_ids_survive_runs_and_retention(store: GraphStore, tmp_path: Path) -> None:
    load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r.csv")
    plain = _detect(store)
    first = follow_groups(plain, store)  # nothing tracked yet: every group is born
    assert first.lineage is not None and set(first.lineage["event"]) == {"born"}
    assert first.groups.equals(plain.groups)  # and keeps the ids detect gave it (G001 ...)
    assert follow_groups(plain, {}).groups.equals(plain.groups)
    assert keep_groups(store, first) == len(first.group_summary)
    # Another seed numbers the groups differently; tracking gives them their earlier ids back.
    again = follow_groups(_detect(store, seed=3), store)
    assert again.lineage is not None
    assert _membership(again) == _membership(first)
    assert set(again.lineage["event"]) == {"kept"}
    keep_groups(store, again)
    # The Group nodes are kept when retention removes facts, and never leak into the analysis.
    store.delete_observed_before("1900-01-01")
    assert store.counts()["Group"] == len(first.group_summary)
    assert not any(str(n).startswith("Group:") for n in read_analysis_graph(store))


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_detect_previous_and_track_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = keygen(tmp_path / "k.key")
    db = str(tmp_path / "graph.db")
    assert (
        main(
            [
                "load",
                str(DATA_SAMPLES / "sources"),
                "--mapping",
                str(MAPPING),
                "--store",
                db,
                "--key-file",
                str(key_file),
                "--rejects",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert main(["detect", "--store", db, "--out", str(tmp_path / "d1"), "--track"]) == 0
    assert (
        main(
            [
                "detect",
                "--store",
                db,
                "--out",
                str(tmp_path / "d2"),
                "--seed",
                "4",
                "--previous",
                str(tmp_path / "d1"),
            ]
        )
        == 0
    )
    g1 = pd.read_csv(tmp_path / "d1" / "groups.csv")[["group_id", "person_id", "role"]]
    g2 = pd.read_csv(tmp_path / "d2" / "groups.csv")[["group_id", "person_id", "role"]]
    assert g1.equals(g2)
    lineage = pd.read_csv(tmp_path / "d2" / "lineage.csv")
    assert list(lineage.columns) == LINEAGE_COLUMNS
    assert len(lineage) == 2 * len(pd.read_csv(tmp_path / "d1" / "group_summary.csv"))  # kept across runs
    capsys.readouterr()
    # Not a detection folder, and a detection of another store: one sentence, exit 2.
    (tmp_path / "empty").mkdir()
    assert (
        main(["detect", "--store", db, "--out", str(tmp_path / "d3"), "--previous", str(tmp_path / "empty")])
        == 2
    )
    assert "not a detection folder" in capsys.readouterr().err
    other = tmp_path / "other.db"
    assert (
        main(
            [
                "load",
                str(DATA_SAMPLES / "sources"),
                "--mapping",
                str(MAPPING),
                "--store",
                str(other),
                "--key-file",
                str(keygen(tmp_path / "k2.key")),
                "--rejects",
                str(tmp_path / "r2.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "detect",
                "--store",
                str(other),
                "--out",
                str(tmp_path / "d4"),
                "--previous",
                str(tmp_path / "d1"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "another store" in err and "Traceback" not in err and not (tmp_path / "d4" / "groups.csv").exists()


# --- deliveries over time ---------------------------------------------------------------------------

_DATE = re.compile(r"(\d{1,2})[-/](\d{1,2})[-/](\d{2,4})")
# Each sample export: its encoding, delimiter and observation-date column (data_samples/sources.yaml).
_EXPORTS = {
    "politie_zaken.csv": ("utf-8-sig", ";", "Datum feit"),
    "gemeente_signalen.csv": ("cp1252", ",", "Datum melding"),
    "comensha_registraties.csv": ("utf-8", ";", "Registratiedatum"),
}


def _month(value: str) -> str:
    found = _DATE.search(value)
    if not found:
        return ""
    year = found.group(3)
    year = year if len(year) == 4 else f"20{year}"
    return f"{year}-{int(found.group(2)):02d}"


def split_deliveries(folder: Path, months_per_delivery: int = 1) -> list[Path]:
    """The sample exports as chronological deliveries: each row in the delivery of its observation
    month (rows without a readable date, the Excel export and the two registers in the first one)."""
    by_period: dict[str, dict[str, list[list[str]]]] = {}
    headers: dict[str, list[str]] = {}
    for name, (encoding, delimiter, column) in _EXPORTS.items():
        with open(DATA_SAMPLES / "sources" / name, encoding=encoding, newline="") as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
        headers[name] = rows[0]
        where = rows[0].index(column)
        for row in rows[1:]:
            month = _month(row[where]) if len(row) > where else ""
            if month and months_per_delivery > 1:
                year, mm = month.split("-")
                month = f"{year}-{(int(mm) - 1) // months_per_delivery:02d}"
            by_period.setdefault(month, {}).setdefault(name, []).append(row)
    periods = sorted(by_period)
    out = []
    for number, period in enumerate(periods):
        target = folder / f"delivery-{number:02d}"
        target.mkdir(parents=True)
        for name, rows in by_period[period].items():
            encoding, delimiter, _ = _EXPORTS[name]
            with open(target / name, "w", encoding=encoding, newline="") as handle:
                writer = csv.writer(handle, delimiter=delimiter)
                writer.writerow(headers[name])
                writer.writerows(rows)
        if number == 0:
            shutil.copy(DATA_SAMPLES / "sources" / "inspectie_arbeid.xlsx", target)
            # The two registers (addresses, jobs) have no observation date: they come first.
            for register in ("brp_inschrijvingen.csv", "arbeidsrelaties.csv"):
                shutil.copy(DATA_SAMPLES / "sources" / register, target)
        out.append(target)
    return out


def persons_as_records(store: GraphStore) -> set[frozenset[str]]:
    """The persons of a store as sets of the record ids that describe them (ids of persons may
    differ between two ways of loading; the partition of the records may not)."""
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Record", "Person"}), rel_types=frozenset({"DESCRIBES"}))
    )
    persons: dict[str, set[str]] = {}
    for u, v in graph.edges():
        persons.setdefault(v, set()).add(str(graph.nodes[u]["record_id"]))
    return {frozenset(records) for records in persons.values()}


# --- what changed ----------------------------------------------------------------------------------


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_changes_after_a_new_delivery_and_nothing_after_the_same_one_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    *earlier, last = split_deliveries(tmp_path / "deliveries", months_per_delivery=12)
    key_file = keygen(tmp_path / "k.key")
    db = str(tmp_path / "graph.db")

    def load_cli(folders: list[Path], rejects: str) -> None:
        assert (
            main(
                [
                    "load",
                    *map(str, folders),
                    "--mapping",
                    str(MAPPING),
                    "--store",
                    db,
                    "--key-file",
                    str(key_file),
                    "--rejects",
                    str(tmp_path / rejects),
                ]
            )
            == 0
        )

    def detect_cli(out: str) -> None:
        assert main(["detect", "--store", db, "--out", str(tmp_path / out), "--track"]) == 0

    load_cli(earlier, "r1.csv")
    detect_cli("d1")
    load_cli([last], "r2.csv")
    detect_cli("d2")
    capsys.readouterr()
    assert (
        main(
            [
                "changes",
                "--previous",
                str(tmp_path / "d1"),
                "--current",
                str(tmp_path / "d2"),
                "--out",
                str(tmp_path / "c2"),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    found = changes(tmp_path / "d1", tmp_path / "d2")
    assert not found.empty
    # Every new move is new, and every move the new run has that the old one lacked is listed.
    key = ["person_id", "from_code", "to_code", "date"]
    before = pd.read_csv(tmp_path / "d1" / "movements.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(tmp_path / "d2" / "movements.csv", dtype=str, keep_default_na=False)
    new = set(after[key].itertuples(index=False, name=None)) - set(
        before[key].itertuples(index=False, name=None)
    )
    assert len(found.new_moves) == len(new) > 0
    grown = found.changed_groups[found.changed_groups["changes"].str.contains("grew")]
    assert len(grown) and all(
        (grown["members"] > grown["members_before"]) | (grown["victims"] > grown["victims_before"])
    )
    lead_pairs = set(zip(found.new_leads["signal_id"], found.new_leads["group_id"], strict=True))
    old_leads = pd.read_csv(tmp_path / "d1" / "leads.csv", dtype=str, keep_default_na=False)
    assert not lead_pairs & set(zip(old_leads["signal_id"], old_leads["group_id"], strict=True))
    # The files, and a summary without a person's pseudonym.
    for name in ("new_leads", "changed_groups", "new_moves"):
        assert (tmp_path / "c2" / f"{name}.csv").is_file()
    page = (tmp_path / "c2" / "changes.html").read_text(encoding="utf-8")
    assert "Groups that changed" in page and str(grown["group_id"].iloc[0]) in page
    assert not any(p in page for p in after["person_id"])  # no person ids on the page
    assert "new victim moves" in printed
    assert not any(p in printed for p in after["person_id"])
    # The same delivery again: nothing changes, and changes says so.
    load_cli([last], "r3.csv")
    detect_cli("d3")
    again = changes(tmp_path / "d2", tmp_path / "d3")
    assert again.empty and again.summary().endswith("nothing new.")


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_changes_needs_continued_group_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = keygen(tmp_path / "k.key")
    db = str(tmp_path / "graph.db")
    assert (
        main(
            [
                "load",
                str(DATA_SAMPLES / "sources"),
                "--mapping",
                str(MAPPING),
                "--store",
                db,
                "--key-file",
                str(key_file),
                "--rejects",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert main(["detect", "--store", db, "--out", str(tmp_path / "d1")]) == 0
    assert main(["detect", "--store", db, "--out", str(tmp_path / "d2")]) == 0
    capsys.readouterr()
    assert main(["changes", "--previous", str(tmp_path / "d1"), "--current", str(tmp_path / "d2")]) == 2
    err = capsys.readouterr().err
    assert "--previous" in err and "Traceback" not in err
    assert main(["changes", "--previous", str(tmp_path / "nowhere"), "--current", str(tmp_path / "d2")]) == 2
    assert "not a detection folder" in capsys.readouterr().err


# --- resolution across loads ---------------------------------------------------------------------


def _pairs(clusters: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for c in clusters for p in combinations(sorted(c), 2)}


def _group_record_pairs(store: GraphStore) -> set[frozenset[str]]:
    """Pairs of records whose persons are suspects of one group (persons named by their records,
    since a person's id may differ between two ways of loading)."""
    graph = read_analysis_graph(store)
    result = detect(graph)
    records: dict[str, set[str]] = {}
    for u, v, data in graph.edges(data=True):
        if data.get("type") == "DESCRIBES":
            records.setdefault(v.split(":", 1)[1], set()).add(str(graph.nodes[u]["record_id"]))
    groups: dict[str, set[str]] = {}
    for gid, pid, role in zip(
        result.groups["group_id"], result.groups["person_id"], result.groups["role"], strict=True
    ):
        if role == "suspect":
            groups.setdefault(gid, set()).update(records.get(pid, ()))
    return _pairs(groups.values())


# The known tolerance of resolution across loads (docs/loading.md): a record that matches two
# persons an earlier load kept apart merges them (tests/test_merges.py; none does in this replay),
# and the comparison across loads uses the keyed encodings (Dice levels calibrated to agree with the clear
# Jaro-Winkler levels about 97% of the time). Measured on the samples in 59 monthly deliveries with
# the Fellegi-Sunter model of issue 15 (which accepts two soft disagreements, e.g. a similar surname
# and no birth date): 384 persons against 383 in one load; of the record pairs one load makes, 99.2%
# are made, and 99.1% of the pairs made are made by one load too (against the truth: precision
# 0.991, recall 0.969 in deliveries; 1.0 and 0.977 in one load).
TOLERANCE = 0.97


@pytest.fixture(params=crossload.METHODS)
def across(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each method of resolution across loads (``loaders.crossload.METHOD``) in turn."""
    method = str(request.param)
    monkeypatch.setattr(crossload, "METHOD", method)
    return method


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_monthly_deliveries_give_the_persons_and_groups_of_one_load(
    across: str, store: GraphStore, tmp_path: Path
) -> None:
    deliveries = split_deliveries(tmp_path / "deliveries")
    assert len(deliveries) > 24  # month by month
    one = open_store(str(tmp_path / "one.db"))
    try:
        load([DATA_SAMPLES / "sources"], one, MAPPING, KEY, rejects_path=tmp_path / "r.csv")
        whole, whole_groups = persons_as_records(one), _group_record_pairs(one)
    finally:
        one.close()
    for number, delivery in enumerate(deliveries):
        load([delivery], store, MAPPING, KEY, rejects_path=tmp_path / f"r{number}.csv")
    monthly = persons_as_records(store)
    assert sum(map(len, monthly)) == sum(map(len, whole))  # every record describes one person
    expected, got = _pairs(whole), _pairs(monthly)
    assert len(got & expected) / len(expected) >= TOLERANCE  # recall
    assert len(got & expected) / len(got) >= TOLERANCE  # precision against one load
    assert len(monthly) - len(whole) <= (1 - TOLERANCE) * len(whole)
    expected_groups, got_groups = whole_groups, _group_record_pairs(store)
    assert len(got_groups & expected_groups) / len(expected_groups) >= TOLERANCE
    assert len(got_groups & expected_groups) / len(got_groups) >= TOLERANCE
    # Deliveries in reverse order end with (nearly) the persons of one load too.
    if store.uri.endswith(".db"):
        shuffled = open_store(str(tmp_path / "shuffled.db"))
        try:
            for number, delivery in enumerate(reversed(deliveries)):
                load([delivery], shuffled, MAPPING, KEY, rejects_path=tmp_path / f"s{number}.csv")
            reordered = _pairs(persons_as_records(shuffled))
            assert len(reordered & expected) / len(reordered) >= TOLERANCE
            assert len(reordered & expected) / len(expected) >= TOLERANCE
        finally:
            shuffled.close()


def test_comparison_data_is_keyed_and_stays_out_of_the_analysis(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "graph.db"))
    try:
        load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r.csv")
        graph = store.read_graph(GraphSlice(labels=frozenset({"Record"}), rel_types=frozenset()))
        values = [str(a["comparison"]) for _n, a in graph.nodes(data=True) if a.get("comparison")]
        assert len(values) == store.counts()["DESCRIBES"]  # every person record has it
        analysis = read_analysis_graph(store)
    finally:
        store.close()
    assert not any("comparison" in attrs or "blocks" in attrs for _n, attrs in analysis.nodes(data=True))
    # No clear name, birth date or phone number of the exports is in it.
    with open(DATA_SAMPLES / "sources" / "politie_zaken.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    clear = {
        row[c].lower() for row in rows[:80] for c in ("Voornaam", "Achternaam", "Geboortedatum", "Telefoon")
    }
    # (Bloom filters are base64 text, so a short name can occur in one by chance: compare whole
    # field values.)
    stored = {
        part.lower()
        for value in values
        for field in json.loads(value).values()
        for part in str(field).split()
    }
    assert not clear & stored
    assert not any(len(v) == 10 and v[4] == "-" for v in stored)  # no ISO birth date either


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_store_of_an_older_version_is_refused_then_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    *earlier, last = split_deliveries(tmp_path / "deliveries", months_per_delivery=12)
    store = open_store(str(tmp_path / "graph.db"))
    try:
        # An older version kept no comparison data (nor blocking keys, nor the mark of the index).
        with monkeypatch.context() as patch:
            patch.setattr(crossload.Comparer, "value", lambda self, record: None)
            patch.setattr(pipeline, "BLOCK_INDEX_VERSION", None)
            load(earlier, store, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
        before = store.counts()
        with pytest.raises(ConfigError) as caught:
            load([last], store, MAPPING, KEY, rejects_path=tmp_path / "r2.csv")
        message = str(caught.value)
        assert "older version" in message and "load their source files into it once more" in message
        assert store.counts() == before and not (tmp_path / "r2.csv").exists()
        # The migration: the earlier files once more, then the new delivery loads.
        load(earlier, store, MAPPING, KEY, rejects_path=tmp_path / "r3.csv")
        assert store.counts() == before
        load([last], store, MAPPING, KEY, rejects_path=tmp_path / "r4.csv")
        assert persons_as_records(store)
    finally:
        store.close()
