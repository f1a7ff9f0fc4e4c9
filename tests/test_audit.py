"""The audit log: chained entries, tamper detection, concurrent appends, the processing register."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from netanalysis.audit import AuditLog, audit_log_for, current_analyst, verify
from netanalysis.errors import AccessRefused, AuditWriteError, ConfigError, InputFileError
from netanalysis.purposes import load_register

REQUIRED = {"trace_id", "span_id", "name", "start_time", "end_time", "status_code", "attributes", "seq"}


def _write(log: AuditLog, n: int, command: str = "detect") -> None:
    for i in range(n):
        with log.processing(command, analyst="tester", purpose="p1", parameters={"i": i}) as p:
            p.count("persons_out", i)


def test_entries_carry_the_standard_fields_and_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    _write(log, 3)
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert all(REQUIRED <= set(e) for e in entries)
    assert entries[0]["prev_hash"] == "0" * 64
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    assert entries[2]["attributes"]["netanalysis.counts"] == {"persons_out": 2}
    assert entries[0]["status_code"] == "OK" and entries[0]["attributes"]["netanalysis.outcome"] == "ok"
    assert len(entries[0]["trace_id"]) == 32 and len(entries[0]["span_id"]) == 16
    assert (tmp_path / "a.jsonl").stat().st_mode & 0o777 == 0o600
    assert verify(log.path).ok


def test_failures_and_refusals_are_logged_with_their_type_only(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(InputFileError), log.processing("load", analyst="t", purpose="p") as _:
        raise InputFileError("Jansen.csv cannot be read")
    with pytest.raises(AccessRefused), log.processing("detect", analyst="t", purpose="p") as _:
        raise AccessRefused("no")
    failed, refused = log.entries()
    assert failed["status_code"] == "ERROR"
    assert failed["attributes"]["netanalysis.outcome"] == "failed"
    assert failed["attributes"]["netanalysis.error_type"] == "InputFileError"
    assert "Jansen" not in json.dumps(failed)  # the message (which may name a file) is not kept
    assert refused["attributes"]["netanalysis.outcome"] == "refused"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("edit", 2),
        ("remove_middle", 2),
        ("reorder", 2),
        ("cut_last", 4),
        ("remove_last", 4),
        ("remove_first", 1),
    ],
)
def test_verify_names_the_first_bad_entry(tmp_path: Path, tamper: str, first_bad: int) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    _write(log, 4)
    lines = _lines(log.path)
    if tamper == "edit":
        entry = json.loads(lines[1])
        entry["attributes"]["netanalysis.analyst"] = "someone-else"
        lines[1] = json.dumps(entry) + "\n"
    elif tamper == "remove_middle":
        del lines[1]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "cut_last":
        lines[3] = lines[3][: len(lines[3]) // 2]
    elif tamper == "remove_last":
        del lines[3]
    elif tamper == "remove_first":
        del lines[0]
    log.path.write_text("".join(lines), encoding="utf-8")
    result = verify(log.path)
    assert not result.ok
    assert result.first_bad == first_bad, result.reason
    assert str(first_bad) in result.reason


def test_an_untouched_log_verifies(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    _write(log, 5)
    assert verify(log.path) == verify(log.path)
    assert verify(log.path).ok and verify(log.path).entries == 5


def _append_many(path: str, n: int, tag: str) -> None:
    log = AuditLog(path)
    for i in range(n):
        with log.processing("detect", analyst=tag, purpose="p", parameters={"i": i}):
            pass


def test_two_processes_appending_at_once_keep_the_chain_whole(tmp_path: Path) -> None:
    path = str(tmp_path / "a.jsonl")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, 60, f"p{k}")) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    result = verify(path)
    assert result.ok, result.reason
    entries = AuditLog(path).entries()
    assert len(entries) == 120
    assert {e["attributes"]["netanalysis.analyst"] for e in entries} == {"p0", "p1"}


def test_a_log_that_cannot_be_written_raises(tmp_path: Path) -> None:
    blocked = tmp_path / "ro"
    blocked.mkdir()
    blocked.chmod(0o500)
    try:
        if os.access(blocked, os.W_OK):  # root ignores the mode: use a path under a file instead
            target = tmp_path / "file"
            target.write_text("x")
            log = AuditLog(target / "a.jsonl")
        else:
            log = AuditLog(blocked / "a.jsonl")
        with (
            pytest.raises(AuditWriteError, match="nothing was released"),
            log.processing("detect", analyst="t", purpose="p"),
        ):
            pass
    finally:
        blocked.chmod(0o700)


def test_output_files_are_recorded_by_hash(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "groups.csv").write_text("group_id\nG001\n")
    log = AuditLog(tmp_path / "a.jsonl")
    with log.processing("detect", analyst="t", purpose="p") as p:
        p.output(out)
    (entry,) = log.entries()
    outputs = entry["attributes"]["netanalysis.outputs"]
    assert outputs[0]["path"].endswith("groups.csv") and len(outputs[0]["sha256"]) == 64


def test_where_the_log_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert audit_log_for(str(tmp_path / "g.sqlite")) == Path(f"{tmp_path / 'g.sqlite'}.audit.jsonl")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    neo = audit_log_for("bolt://127.0.0.1:7687")
    assert neo.parent == tmp_path / "xdg" / "netanalysis" / "audit" and "7687" in neo.name
    assert audit_log_for("bolt://x", explicit=tmp_path / "c.jsonl") == tmp_path / "c.jsonl"


def test_analyst_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETANALYSIS_ANALYST", "env-analyst")
    assert current_analyst("flag-analyst") == "flag-analyst"
    assert current_analyst(None) == "env-analyst"
    monkeypatch.delenv("NETANALYSIS_ANALYST")
    assert current_analyst(None)


REGISTER = """\
register: urn:nl:test:register
purposes:
  - id: netwerken
    description: Tracing networks
    legal_basis: Wpg art. 8
    commands: [load, detect]
"""


def test_register_allows_and_refuses(tmp_path: Path) -> None:
    (tmp_path / "purposes.yaml").write_text(REGISTER)
    reg = load_register(tmp_path / "purposes.yaml")
    assert reg.check("netwerken", "detect").legal_basis == "Wpg art. 8"
    with pytest.raises(AccessRefused, match="does not allow the command 'report'"):
        reg.check("netwerken", "report")
    with pytest.raises(AccessRefused, match="not in the processing register"):
        reg.check("fishing", "detect")
    with pytest.raises(AccessRefused, match="needs a purpose"):
        reg.check(None, "detect")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("purposes: []\n", "no 'register'"),
        ("register: r\npurposes: []\n", "lists no 'purposes'"),
        ("register: r\npurposes:\n  - id: a\n    description: d\n    commands: [x]\n", "has no legal_basis"),
        ("register: r\npurposes: [\n", "not valid YAML at line"),
        ("register: r\nextra: 1\npurposes: []\n", "unknown keys: extra"),
    ],
)
def test_a_malformed_register_is_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_register(tmp_path / "p.yaml")


def test_appending_to_a_log_whose_end_was_removed_warns_and_keeps_working(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    _write(log, 3)
    lines = _lines(log.path)
    log.path.write_text("".join(lines[:2]), encoding="utf-8")
    with caplog.at_level("WARNING", logger="netanalysis.audit"):
        _write(log, 1)
    assert "was changed after it was written" in caplog.text
    assert len(log.entries()) == 3
    caplog.clear()
    with caplog.at_level("WARNING", logger="netanalysis.audit"):
        _write(log, 1)  # the head now matches the new end again: no warning
    assert caplog.text == ""
    # The first entry written after the damage records it, so verify still finds the removal.
    result = verify(log.path)
    assert not result.ok and result.first_bad == 3
    assert "written after the log had been changed" in result.reason and "said 3" in result.reason
