"""The audit log wired through the commands and the public API, on both stores.

Every command that processes person-level data writes one entry with the Logboek
Dataverwerkingen fields, its counts and the sha256 of the files it wrote, and never a clear
identifier, a person's pseudonym or the key. The processing register binds purposes; ``audit
show`` and ``audit verify`` read and check the log.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

import netanalysis as na
from netanalysis.audit import AuditLog, audit_log_for, file_sha256
from netanalysis.cli import main
from tests.conftest import DATA_SAMPLES

SOURCES = DATA_SAMPLES / "sources"
MAPPING = DATA_SAMPLES / "sources.yaml"
REGISTER = DATA_SAMPLES / "purposes.yaml"
FIELDS = {"trace_id", "span_id", "name", "start_time", "end_time", "status_code", "attributes", "seq"}
ATTRIBUTES = {
    "dpl.core.processing_activity_id",
    "netanalysis.analyst",
    "netanalysis.purpose",
    "netanalysis.legal_basis",
    "netanalysis.command",
    "netanalysis.parameters",
    "netanalysis.store",
    "netanalysis.sources",
    "netanalysis.batches",
    "netanalysis.counts",
    "netanalysis.outputs",
    "netanalysis.outcome",
}
# Columns of the sample exports that hold clear identifiers.
IDENTIFYING = {
    "Naam",
    "Voornaam",
    "Achternaam",
    "Naam betrokkene",
    "Telefoon",
    "Telefoonnummer",
    "IBAN",
    "Kenteken",
    "Geboortedatum",
}


def _clear_identifiers() -> set[str]:
    values: set[str] = set()
    for path in SOURCES.glob("*.csv"):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
        for row in csv.DictReader(io.StringIO(text), delimiter=delimiter):
            for column in IDENTIFYING & set(row):
                value = (row[column] or "").strip()
                if len(value) >= 6:
                    values.add(value)
    assert len(values) > 100
    return values


def _pseudonyms(store_uri: str) -> set[str]:
    store = na.open_store(store_uri)
    try:
        graph = store.read_graph()
    finally:
        store.close()
    return {str(n).split(":", 1)[1] for n, d in graph.nodes(data=True) if d.get("label") == "Person"}


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _check_entry(entry: dict[str, Any], command: str, outcome: str = "ok") -> dict[str, Any]:
    assert FIELDS <= set(entry), set(entry)
    attrs = entry["attributes"]
    assert ATTRIBUTES <= set(attrs), ATTRIBUTES - set(attrs)
    assert entry["name"] == f"netanalysis.{command}"
    assert attrs["netanalysis.command"] == command
    assert attrs["netanalysis.outcome"] == outcome
    assert entry["status_code"] == ("OK" if outcome == "ok" else "ERROR")
    assert entry["start_time"] <= entry["end_time"]
    assert entry["start_time"].endswith("Z")
    for written in attrs["netanalysis.outputs"]:
        assert file_sha256(Path(written["path"])) == written["sha256"], written["path"]
    return attrs


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "test.key"
    na.keygen(path)
    monkeypatch.setenv("NETANALYSIS_KEY_FILE", str(path))
    monkeypatch.setenv("NETANALYSIS_ANALYST", "t.tester")
    return path


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_every_command_logs_one_entry_without_identifiers(
    tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "g.sqlite")
    runs: list[tuple[str, list[str]]] = [
        ("load", ["load", str(SOURCES), "--mapping", str(MAPPING), "--store", store,
                  "--summary-json", str(tmp_path / "summary.json")]),
        ("detect", ["detect", "--store", store, "--out", str(tmp_path / "det"), "--stability-runs", "0"]),
        ("map", ["map", "--store", store, "--out", str(tmp_path / "g.html"), "--stability-runs", "0"]),
        ("report", ["report", "--store", store, "--out", str(tmp_path / "rep"), "--period", "2024",
                    "--no-pdf"]),
    ]  # fmt: skip
    for _command, args in runs:
        code, _out, err = _run(args, capsys)
        assert code == 0, err
    pseudonym = sorted(_pseudonyms(store))[0]
    code, _out, err = _run(
        ["map", "--store", store, "--out", str(tmp_path / "ego.html"), "--view", "ego",
         "--node", f"Person:{pseudonym}", "--stability-runs", "0", "--analyst", "flag.analyst"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, _out, err = _run(
        ["evaluate", "--truth", str(DATA_SAMPLES / "truth"), "--detected", str(tmp_path / "det"),
         "--json", str(tmp_path / "figures.json"), "--audit-log", str(tmp_path / "g.sqlite.audit.jsonl")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, _out, err = _run(
        ["encode", str(SOURCES / "politie_zaken.csv"), "--mapping", str(MAPPING),
         "--out", str(tmp_path / "enc"), "--audit-log", str(tmp_path / "g.sqlite.audit.jsonl")],
        capsys,
    )  # fmt: skip
    assert code == 0, err

    log = audit_log_for(store)
    assert log == tmp_path / "g.sqlite.audit.jsonl"  # beside the embedded store
    entries = AuditLog(log).entries()
    commands = [e["attributes"]["netanalysis.command"] for e in entries]
    assert commands == ["load", "detect", "map", "report", "map", "evaluate", "encode"]
    by = {c: _check_entry(e, c) for c, e in zip(commands, entries, strict=True)}
    assert by["load"]["netanalysis.counts"]["rows_loaded"] > 0
    assert by["load"]["netanalysis.sources"] == sorted(
        json.loads((tmp_path / "summary.json").read_text())["sources"]
    )
    assert len(by["load"]["netanalysis.batches"]) == 1
    assert by["detect"]["netanalysis.counts"]["persons_out"] > 0
    assert {Path(o["path"]).name for o in by["detect"]["netanalysis.outputs"]} >= {
        "groups.csv",
        "settings.json",
    }
    assert by["report"]["netanalysis.outputs"]
    assert entries[4]["attributes"]["netanalysis.analyst"] == "flag.analyst"
    assert entries[0]["attributes"]["netanalysis.analyst"] == "t.tester"
    assert entries[4]["attributes"]["netanalysis.parameters"]["node"] == "<given>"
    assert by["encode"]["netanalysis.counts"]["rows_encoded"] > 0
    assert na.verify_audit_log(log).ok

    text = log.read_text(encoding="utf-8")
    leaked = [v for v in _clear_identifiers() if v in text]
    assert not leaked, leaked[:3]
    assert not [p for p in _pseudonyms(store) if p in text]
    assert key.read_bytes().strip().decode("ascii", "ignore")[:16] not in text
    assert str(key.name) not in text or '"key_file"' not in text


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_the_demo_logs_under_its_shipped_register(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo-out"
    code, _out, err = _run(["demo", "--out", str(out)], capsys)
    assert code == 0, err
    (entry,) = AuditLog(out / "graph.sqlite.audit.jsonl").entries()
    attrs = _check_entry(entry, "demo")
    assert attrs["netanalysis.purpose"] == "synthetic-demo"
    assert attrs["dpl.core.processing_activity_id"].endswith("#synthetic-demo")
    assert attrs["netanalysis.counts"]["rows_loaded"] > 0 and attrs["netanalysis.counts"]["persons_out"] > 0
    names = {Path(o["path"]).name for o in attrs["netanalysis.outputs"]}
    assert {"report.html", "groups.csv", "rejects.csv"} <= names
    assert not names & {"demo.key", "graph.sqlite"}  # never the key, nor the store
    text = (out / "graph.sqlite.audit.jsonl").read_text(encoding="utf-8")
    assert not [p for p in _pseudonyms(str(out / "graph.sqlite")) if p in text]


@pytest.fixture
def loaded(tmp_path: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> str:
    store = str(tmp_path / "g.sqlite")
    code, _out, err = _run(["load", str(SOURCES), "--mapping", str(MAPPING), "--store", store], capsys)
    assert code == 0, err
    return store


@pytest.mark.parametrize(
    ("purpose", "message"),
    [
        (None, "needs a purpose"),
        ("fishing", "not in the processing register"),
        ("rapportage", "does not allow the command 'map'"),
    ],
)
def test_purpose_binding_refuses_in_one_sentence_and_logs_it(
    tmp_path: Path, loaded: str, capsys: pytest.CaptureFixture[str], purpose: str | None, message: str
) -> None:
    out = tmp_path / "m.html"
    args = ["map", "--store", loaded, "--out", str(out), "--purposes", str(REGISTER)]
    code, _out, err = _run([*args, "--purpose", purpose] if purpose else args, capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    last = AuditLog(audit_log_for(loaded)).entries()[-1]
    attrs = _check_entry(last, "map", "refused")
    assert attrs["netanalysis.error_type"] == "AccessRefused"
    assert attrs["netanalysis.purpose"] == purpose


def test_an_allowed_purpose_is_recorded_with_its_legal_basis(
    tmp_path: Path, loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETANALYSIS_PURPOSES", str(REGISTER))
    monkeypatch.setenv("NETANALYSIS_PURPOSE", "netwerkanalyse")
    code, _out, err = _run(
        ["detect", "--store", loaded, "--out", str(tmp_path / "d"), "--stability-runs", "0"], capsys
    )
    assert code == 0, err
    attrs = _check_entry(AuditLog(audit_log_for(loaded)).entries()[-1], "detect")
    assert attrs["netanalysis.legal_basis"] == "Wpg art. 8"
    assert (
        attrs["dpl.core.processing_activity_id"]
        == "urn:netanalysis:samples:verwerkingsregister#netwerkanalyse"
    )


def test_a_log_that_cannot_be_written_stops_the_command_before_any_output(
    tmp_path: Path, loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "d"
    code, _out, err = _run(
        ["detect", "--store", loaded, "--out", str(out), "--audit-log", str(tmp_path / "afile" / "a.jsonl")],
        capsys,
    )
    assert code == 2 and "cannot write the audit log" in err
    assert not out.exists()


def test_a_failed_command_is_logged_with_its_error_type(
    tmp_path: Path, loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _run(
        ["detect", "--store", loaded, "--out", str(tmp_path / "d"), "--from", "2024-13-01"], capsys
    )
    assert code == 2, err
    attrs = _check_entry(AuditLog(audit_log_for(loaded)).entries()[-1], "detect", "failed")
    assert attrs["netanalysis.error_type"] == "ConfigError"


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_audit_show_and_verify(tmp_path: Path, loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    for analyst in ("a.een", "b.twee"):
        code, _out, err = _run(
            ["detect", "--store", loaded, "--out", str(tmp_path / analyst), "--stability-runs", "0",
             "--analyst", analyst],
            capsys,
        )  # fmt: skip
        assert code == 0, err
    code, out, err = _run(["audit", "show", "--store", loaded, "--csv", "--analyst", "b.twee"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["seq"], r["command"], r["analyst"]) for r in rows] == [("3", "detect", "b.twee")]
    code, out, _err = _run(["audit", "show", "--store", loaded, "--csv", "--command", "load"], capsys)
    assert [r["command"] for r in csv.DictReader(io.StringIO(out))] == ["load"]
    code, out, _err = _run(["audit", "show", "--store", loaded, "--to", "2000-01-01", "--csv"], capsys)
    assert list(csv.DictReader(io.StringIO(out))) == []
    code, out, _err = _run(["audit", "show", "--store", loaded], capsys)
    assert code == 0 and "b.twee" in out
    code, out, _err = _run(["audit", "verify", "--store", loaded], capsys)
    assert code == 0 and "3 entries" in out

    log = audit_log_for(loaded)
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[1])
    entry["attributes"]["netanalysis.analyst"] = "someone-else"
    log.write_text(lines[0] + json.dumps(entry) + "\n" + lines[2], encoding="utf-8")
    code, _out, err = _run(["audit", "verify", "--store", loaded], capsys)
    assert code == 1 and "entry 2 was edited" in err
    # Other commands warn but keep working: the log is evidence, not a lock.
    code, _out, err = _run(
        ["detect", "--store", loaded, "--out", str(tmp_path / "c"), "--stability-runs", "0"], capsys
    )
    assert code == 0
    code, _out, err = _run(["audit", "show", "--store", loaded, "--csv"], capsys)
    assert code == 0 and "entry 2 was edited" in err


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_notebook_calls_log_one_entry_each(tmp_path: Path, key: Path) -> None:
    store = na.open_store(str(tmp_path / "nb.sqlite"))
    register = tmp_path / "purposes.yaml"
    register.write_text(REGISTER.read_text(encoding="utf-8"), encoding="utf-8")
    with na.audit_session(analyst="nb.analist", purpose="netwerkanalyse", register=register):
        try:
            na.load([SOURCES], store, MAPPING, na.load_key(key))
            graph = na.read_analysis_graph(store)
        finally:
            store.close()
        result = na.detect(graph, na.DetectionSettings(stability_runs=0))
        result.write(tmp_path / "det")
        na.region_map(graph, result).save(tmp_path / "r.html")
        with pytest.raises(na.AccessRefused, match="does not allow the command 'encode'"):
            na.encode([SOURCES], MAPPING, na.load_key(key), tmp_path / "enc")
    entries = AuditLog(tmp_path / "nb.sqlite.audit.jsonl").entries()
    commands = [e["attributes"]["netanalysis.command"] for e in entries]
    assert commands == ["load", "read", "detect", "detect", "map", "map", "encode"]
    assert {e["attributes"]["netanalysis.analyst"] for e in entries} == {"nb.analist"}
    assert entries[1]["attributes"]["netanalysis.counts"]["persons_read"] > 0
    assert _check_entry(entries[-1], "encode", "refused")
    assert not (tmp_path / "enc").exists()
    # A graph built in memory (no store) is not logged: nothing was read from a store.
    import networkx as nx

    na.detect(nx.MultiDiGraph(), na.DetectionSettings(stability_runs=0))
    assert len(AuditLog(tmp_path / "nb.sqlite.audit.jsonl").entries()) == len(entries)


@pytest.mark.neo4j
def test_neo4j_store_logs_to_the_configured_path(
    tmp_path: Path,
    key: Path,
    neo4j_clean: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_clean.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_clean.password)
    uri = neo4j_clean.uri
    code, _out, err = _run(["load", str(SOURCES), "--mapping", str(MAPPING), "--store", uri,
                            "--rejects", str(tmp_path / "rejects.csv")], capsys)  # fmt: skip
    assert code == 0, err
    code, _out, err = _run(
        ["detect", "--store", uri, "--out", str(tmp_path / "d"), "--stability-runs", "0"], capsys
    )
    assert code == 0, err
    log = audit_log_for(uri)
    assert str(log).startswith(str(tmp_path.parent)) or "xdg-data" in str(log)  # the tests' data folder
    entries = AuditLog(log).entries()[-2:]
    assert [e["attributes"]["netanalysis.command"] for e in entries] == ["load", "detect"]
    for entry in entries:
        attrs = _check_entry(entry, entry["attributes"]["netanalysis.command"])
        assert attrs["netanalysis.store"] == uri
        assert neo4j_clean.password not in json.dumps(entry)
    assert entries[0]["attributes"]["netanalysis.counts"]["rows_loaded"] > 0
    # The API on the same server, into a log the operator configured.
    configured = tmp_path / "collector" / "netanalysis.jsonl"
    with na.audit_session(log=configured, analyst="nb"):
        store = na.store_from_env(uri)
        try:
            graph = na.read_analysis_graph(store)
        finally:
            store.close()
        na.detect(graph, na.DetectionSettings(stability_runs=0))
    entries = AuditLog(configured).entries()
    assert [e["attributes"]["netanalysis.command"] for e in entries] == ["read", "detect"]
    assert all(e["attributes"]["netanalysis.store"] == uri for e in entries)
    text = configured.read_text(encoding="utf-8") + log.read_text(encoding="utf-8")
    assert not [p for p in _pseudonyms_neo4j(neo4j_clean) if p in text]


def _pseudonyms_neo4j(conn: Any) -> set[str]:
    from graphstore.neo4j_store import Neo4jStore

    store = Neo4jStore(conn.uri, user=conn.user, password=conn.password)
    try:
        graph = store.read_graph()
    finally:
        store.close()
    found = {str(n).split(":", 1)[1] for n, d in graph.nodes(data=True) if d.get("label") == "Person"}
    assert found
    return found
