"""Concurrent use, interruption and destructive paths (issue 16): real ``netanalysis`` processes on
an embedded store, as a user's shell runs them.

- two loads started together into one store: one writes at a time, nothing is lost;
- a load refused (or waiting) while another writes, and a reading command told that one writes;
- a load cut off with Ctrl-C: one line says so, and the embedded store is as it was before it;
- ``--rejects`` that would destroy the store or an input, rejects per batch, 0600, .gitignore;
- output paths checked before the work, text from the data escaped before printing.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA_SAMPLES

from graphstore.embedded import EmbeddedStore
from loaders.pipeline import load
from netanalysis.cli import main

REPO = Path(__file__).resolve().parents[1]
MAPPING = DATA_SAMPLES / "sources.yaml"
SOURCES = DATA_SAMPLES / "sources"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "test.key"
    assert main(["keygen", "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic set whose load takes a few seconds (to be interrupted while it writes)."""
    out = tmp_path_factory.mktemp("synth") / "set"
    assert main(["synth", "--out", str(out), "--seed", "11", "--rows", "6000"]) == 0
    return out


def _env(key_file: Path) -> dict[str, str]:
    return {**os.environ, "NETANALYSIS_KEY_FILE": str(key_file), "COLUMNS": "200"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "netanalysis", *args]


def run(key_file: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cli(*args), env=_env(key_file), capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def start(key_file: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _cli(*args),
        env=_env(key_file),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def load_args(store: Path, *paths: Path, mapping: Path = MAPPING, rejects: Path | None = None) -> list[str]:
    args = ["load", *map(str, paths), "--mapping", str(mapping), "--store", str(store)]
    return [*args, "--rejects", str(rejects)] if rejects is not None else args


def one_sentence_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[-1]


def roles(store: Path) -> dict[str, list[str]]:
    with EmbeddedStore(store, read_only=True) as s:
        graph = s.read_graph()
    return {
        attrs["person_id"]: sorted(attrs.get("roles", []))
        for _n, attrs in graph.nodes(data=True)
        if attrs["label"] == "Person"
    }


# -- item 1: two loads into one store -------------------------------------------------------------


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_two_loads_started_together_lose_nothing(key_file: Path, tmp_path: Path) -> None:
    """Police cases and municipal signals describe many of the same persons; started at the same
    moment into one store, the second waits for the first, and every person keeps both roles.

    The result is that of one of the two orders run one after the other: resolution across loads
    links a new record to the persons already stored, so the order may change a few persons
    (docs/loading.md, "across loads")."""
    police, signals = SOURCES / "politie_zaken.csv", SOURCES / "gemeente_signalen.csv"
    orders = {}
    for name, order in (("police-first", (police, signals)), ("signals-first", (signals, police))):
        sequential = tmp_path / f"{name}.sqlite"
        for path in order:
            done = run(key_file, *load_args(sequential, path, rejects=tmp_path / f"{name}-rejects.csv"))
            assert done.returncode == 0, done.stderr
        orders[name] = roles(sequential)
        assert sum(len(r) > 1 for r in orders[name].values()) > 10  # persons with two roles
    together = tmp_path / "together.sqlite"
    procs = [
        start(key_file, *load_args(together, path, rejects=tmp_path / f"{path.stem}.csv"), "--wait", "300")
        for path in (police, signals)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert roles(together) in orders.values()


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_load_is_refused_while_another_writes(key_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "g.sqlite"
    writer = EmbeddedStore(store)
    writer.begin_load("0123456789abcdef")  # the write lock of a load that is writing now
    try:
        refused = run(key_file, *load_args(store, SOURCES / "politie_zaken.csv"))
        assert refused.returncode == 2
        line = one_sentence_error(refused.stderr)
        assert "another load is writing to the store" in line and "batch 0123456789abcdef" in line
        assert "--wait SECONDS" in line
        began = time.monotonic()
        waited = run(key_file, *load_args(store, SOURCES / "politie_zaken.csv"), "--wait", "2")
        assert waited.returncode == 2 and time.monotonic() - began >= 2
    finally:
        writer.end_load("0123456789abcdef")
        writer.close()
    assert sum(roles(store).values(), []) == []  # neither refused load wrote anything


# -- items 3 and 20: reading while a load writes, after a load was cut off -------------------------


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_reading_commands_refuse_while_a_load_writes(key_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "g.sqlite"
    assert run(key_file, *load_args(store, SOURCES)).returncode == 0
    writer = EmbeddedStore(store)
    writer.begin_load("fedcba9876543210")
    try:
        for args in (
            ["detect", "--store", str(store), "--out", str(tmp_path / "det")],
            ["map", "--store", str(store), "--out", str(tmp_path / "m.html"), "--view", "region"],
            ["report", "--store", str(store), "--out", str(tmp_path / "rep"), "--period", "2024"],
        ):
            refused = run(key_file, *args)
            assert refused.returncode == 2, (args, refused.stderr)
            line = one_sentence_error(refused.stderr)
            assert "a load is writing to" in line and "batch fedcba9876543210" in line, line
            assert not Path(args[4]).exists()
    finally:
        writer.end_load("fedcba9876543210")
        writer.close()


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_detect_reads_while_sqlite_holds_a_write_transaction(key_file: Path, tmp_path: Path) -> None:
    """A writer's SQLite lock never makes a reading command fail (it used to wait 10 s and then
    suggest that the file was no store)."""
    store = tmp_path / "g.sqlite"
    assert run(key_file, *load_args(store, SOURCES)).returncode == 0
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO meta (name, value) VALUES ('probe', 'x')")
    try:
        # No time limit (the machine may be busy): the old failure was the exit code, after the
        # busy timeout ran out.
        read = run(key_file, "detect", "--store", str(store), "--out", str(tmp_path / "det"))
        assert read.returncode == 0, read.stderr
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert (tmp_path / "det" / "groups.csv").is_file()


def _wait_until_writing(store: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the load ended before it was interrupted"
        if store.exists():
            try:
                with EmbeddedStore(store, read_only=True) as s:
                    record = s.last_load()
            except Exception:  # the file is being created
                record = None
            if record is not None and record.running:
                return
        time.sleep(0.05)
    raise AssertionError("the load never started writing")


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_ctrl_c_during_a_load_says_so_and_leaves_the_store_as_it_was(
    key_file: Path, bigger: Path, tmp_path: Path
) -> None:
    """An embedded load is one transaction (docs/loading.md): Ctrl-C while it writes rolls all of
    it back. (On Neo4j a cut-off load stays recorded as not complete and the reading commands
    refuse until it is run again: test_neo4j_reading_commands_refuse_a_running_or_cut_off_load.)"""
    store = tmp_path / "g.sqlite"
    assert run(key_file, *load_args(store, SOURCES / "politie_zaken.csv")).returncode == 0
    with EmbeddedStore(store, read_only=True) as s:
        before, first = s.read_graph(), s.last_load()
    args = load_args(store, bigger / "sources", mapping=bigger / "sources.yaml")
    proc = start(key_file, *args)
    _wait_until_writing(store, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if "interrupted" in line]
    assert said == [
        "load interrupted: nothing of it was kept, the store is as it was before it; run the same "
        "command again to load it"
    ]
    with EmbeddedStore(store, read_only=True) as s:
        after, last = s.read_graph(), s.last_load()
    assert last == first and last is not None and last.complete
    assert sorted(after.nodes(data=True)) == sorted(before.nodes(data=True))
    assert sorted(after.edges(keys=True, data=True)) == sorted(before.edges(keys=True, data=True))

    detect = ["detect", "--store", str(store), "--out", str(tmp_path / "det")]
    assert run(key_file, *detect).returncode == 0  # nothing to refuse: no load was left half done
    again = run(key_file, *args)
    assert again.returncode == 0, again.stderr
    with EmbeddedStore(store, read_only=True) as s:
        done = s.last_load()
        assert s.read_graph().number_of_nodes() > before.number_of_nodes()
    assert done is not None and done.complete and done.batch != first.batch


# -- items 2, 5, 7: the rejects file ----------------------------------------------------------------


def _copy_samples(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "set"
    shutil.copytree(DATA_SAMPLES, folder)
    return folder / "sources", folder / "sources.yaml"


@pytest.mark.parametrize("target", ["store", "store-wal", "store-shm", "store.writer.lock"])
@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_rejects_on_the_store_or_its_files_is_refused(key_file: Path, tmp_path: Path, target: str) -> None:
    sources, mapping = _copy_samples(tmp_path)
    store = tmp_path / "g.sqlite"
    assert run(key_file, *load_args(store, sources / "politie_zaken.csv", mapping=mapping)).returncode == 0
    before = roles(store)
    rejects = tmp_path / target.replace("store", "g.sqlite")
    existed = rejects.read_bytes() if rejects.exists() else None
    refused = run(key_file, *load_args(store, sources, mapping=mapping, rejects=rejects))
    assert refused.returncode == 2
    line = one_sentence_error(refused.stderr)
    assert "is the store" in line and "one of its own files" in line
    assert (rejects.read_bytes() if rejects.exists() else None) == existed or target != "store"
    assert roles(store) == before


@pytest.mark.parametrize("which", ["source", "mapping", "key"])
@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_rejects_on_an_input_is_refused_and_the_input_kept(
    key_file: Path, tmp_path: Path, which: str
) -> None:
    sources, mapping = _copy_samples(tmp_path)
    target = {"source": sources / "politie_zaken.csv", "mapping": mapping, "key": key_file}[which]
    content = target.read_bytes()
    refused = run(key_file, *load_args(tmp_path / "g.sqlite", sources, mapping=mapping, rejects=target))
    assert refused.returncode == 2
    assert "is an input of this load" in one_sentence_error(refused.stderr)
    assert target.read_bytes() == content
    with EmbeddedStore(tmp_path / "g.sqlite", read_only=True) as store:  # opened, nothing written
        assert store.last_load() is None and sum(store.counts().values()) == 0


def _rejects_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_rejects_of_every_batch_are_kept_owner_only(key_file: Path, tmp_path: Path) -> None:
    sources, mapping = _copy_samples(tmp_path)
    store = tmp_path / "g.sqlite"
    default = tmp_path / "g.sqlite.rejects.csv"
    old_umask = os.umask(0o022)
    try:
        first = run(key_file, *load_args(store, sources / "politie_zaken.csv", mapping=mapping))
        assert first.returncode == 0, first.stderr
        first_rows = _rejects_rows(default)
        second = run(key_file, *load_args(store, sources / "gemeente_signalen.csv", mapping=mapping))
        assert second.returncode == 0, second.stderr
        rerun = run(key_file, *load_args(store, sources / "gemeente_signalen.csv", mapping=mapping))
        assert rerun.returncode == 0
    finally:
        os.umask(old_umask)
    rows = _rejects_rows(default)
    by_batch: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_batch.setdefault(row["batch"], []).append(row)
    assert len(by_batch) == 2  # both loads, the re-run replaced its own rows instead of adding
    assert first_rows and by_batch[first_rows[0]["batch"]] == first_rows
    assert {r["source"] for r in rows} == {"politie_zaken", "gemeente_signalen"}
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    assert f"{default}" in second.stderr.replace("\n", "") and "earlier" in second.stderr


def test_a_file_that_is_no_rejects_file_is_not_replaced(key_file: Path, tmp_path: Path) -> None:
    sources, mapping = _copy_samples(tmp_path)
    notes = tmp_path / "notes.csv"
    notes.write_text("who,what\nme,my own notes\n", encoding="utf-8")
    refused = run(key_file, *load_args(tmp_path / "g.sqlite", sources, mapping=mapping, rejects=notes))
    assert refused.returncode == 2
    assert "is not a rejects file" in one_sentence_error(refused.stderr)
    assert notes.read_text(encoding="utf-8") == "who,what\nme,my own notes\n"
    with EmbeddedStore(tmp_path / "g.sqlite", read_only=True) as store:  # refused before the lock
        assert store.last_load() is None


def test_a_waiting_load_writes_its_rejects_only_once_it_may_write(key_file: Path, tmp_path: Path) -> None:
    """The default rejects file is the store's: two loads that both copied the other batches'
    rows and then replaced it would lose one load's rows, so it is written under the write lock."""
    sources, mapping = _copy_samples(tmp_path)
    store = tmp_path / "g.sqlite"
    default = tmp_path / "g.sqlite.rejects.csv"
    read_done = threading.Event()

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "read" and total is not None:
            read_done.set()

    writer = EmbeddedStore(store)
    writer.begin_load("another")
    outcome: list[Any] = []

    def waiting_load() -> None:
        with EmbeddedStore(store) as target:
            outcome.append(load([sources], target, mapping, key_file, progress=progress, wait=120))

    thread = threading.Thread(target=waiting_load)
    thread.start()
    try:
        assert read_done.wait(120)
        time.sleep(1.5)
        assert not default.exists()  # it waits for the lock before it writes anything
    finally:
        writer.end_load("another")
        writer.close()
        thread.join(180)
    assert outcome and outcome[0].rejects_path == str(default)
    assert {row["batch"] for row in _rejects_rows(default)} == {outcome[0].batch}


@pytest.mark.parametrize(
    "name",
    [
        "graph.sqlite",
        "graph.sqlite-wal",
        "graph.sqlite-shm",
        "graph.sqlite.rejects.csv",
        "graph.sqlite.writer.lock",
        "graph.db",
        "graph.db-journal",
        ".graph.sqlite.rejects.csv.1234.tmp",
        "out/graph.db.rejects.csv",
    ],
)
def test_gitignore_covers_every_file_written_beside_a_store(name: str) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.fail("the test needs git and the repository")
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"{name} is not ignored"


# -- items 19 and 21: output paths first, data-derived text escaped ---------------------------------


def test_summary_json_in_a_missing_folder_is_refused_before_the_load(key_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "g.sqlite"
    refused = run(
        key_file, *load_args(store, SOURCES), "--summary-json", str(tmp_path / "nodir" / "summary.json")
    )
    assert refused.returncode == 2
    assert "does not exist" in one_sentence_error(refused.stderr)
    assert not store.exists()


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_out_on_a_file_or_folder_is_one_sentence(key_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "g.sqlite"
    assert run(key_file, *load_args(store, SOURCES)).returncode == 0
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for args in (
        ["detect", "--store", str(store), "--out", str(a_file)],
        ["report", "--store", str(store), "--out", str(a_file), "--period", "2024"],
        ["map", "--store", str(store), "--out", str(tmp_path), "--view", "region"],
    ):
        refused = run(key_file, *args)
        assert refused.returncode == 2, args
        one_sentence_error(refused.stderr)
    assert a_file.read_text(encoding="utf-8") == "x"


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_source_names_reach_the_terminal_escaped(key_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "zaken.csv").write_text(
        "Regelnummer;Rol;Achternaam;Voornaam;Geboortedatum;Plaats;Datum feit\n"
        "1;Verdachte;Jansen;Piet;01-01-1975;Utrecht;01-06-2023\n",
        encoding="utf-8",
    )
    name = "gemeente\x1b]0;OWNED\x07\x1b[2J[red]zaken"
    escaped = name.encode("unicode_escape").decode()
    (folder / "map.yaml").write_text(
        "version: 1\nsources:\n"
        f'- name: "{escaped}"\n'
        "  kind: case\n  files: [zaken.csv]\n  format: csv\n  delimiter: ;\n"
        "  legal_basis: test\n  reliability: B2\n  date_formats: ['%d-%m-%Y']\n  columns:\n"
        "    Regelnummer: row_id\n    Rol: role\n    Achternaam: last_name\n"
        "    Voornaam: first_name\n    Geboortedatum: birth_date\n    Plaats: municipality\n"
        "    Datum feit: observed_on\n"
        "  values:\n    role: {Verdachte: suspect}\n",
        encoding="utf-8",
    )
    done = run(key_file, *load_args(tmp_path / "g.sqlite", folder, mapping=folder / "map.yaml"))
    assert done.returncode == 0, done.stderr
    shown = done.stdout + done.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert "[red]zaken" in shown  # shown as written, not read as markup


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_encode_refuses_rejects_on_an_input(key_file: Path, tmp_path: Path) -> None:
    """``encode --rejects`` is checked as the load's is: never a source export, mapping or key."""
    sources, mapping = _copy_samples(tmp_path)
    for target in (sources / "politie_zaken.csv", mapping, key_file):
        content = target.read_bytes()
        args = ["encode", str(sources), "--mapping", str(mapping), "--out", str(tmp_path / "export")]
        refused = run(key_file, *args, "--rejects", str(target))
        assert refused.returncode == 2, refused.stderr
        assert "is an input of this load" in one_sentence_error(refused.stderr)
        assert target.read_bytes() == content
        assert not (tmp_path / "export").exists()


def test_neo4j_reading_commands_refuse_a_running_or_cut_off_load(
    key_file: Path, tmp_path: Path, neo4j_clean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same guarantees on Neo4j: detect refuses while a load holds the lease and after a load
    that never recorded its end, and re-running the load makes the store readable again."""
    from graphstore.neo4j_store import Neo4jStore

    for name, value in (("NEO4J_USERNAME", neo4j_clean.user), ("NEO4J_PASSWORD", neo4j_clean.password)):
        monkeypatch.setenv(name, value)
    uri = neo4j_clean.uri
    rejects = tmp_path / "rejects.csv"
    load_neo4j = ["load", str(SOURCES), "--mapping", str(MAPPING), "--store", uri, "--rejects", str(rejects)]
    first = run(key_file, *load_neo4j)
    assert first.returncode == 0, first.stderr
    detect = ["detect", "--store", uri, "--out", str(tmp_path / "det")]
    writer = Neo4jStore(uri, user=neo4j_clean.user, password=neo4j_clean.password)
    try:
        writer.begin_load("0a1b2c3d4e5f6789")
        refused = run(key_file, *detect)
        assert refused.returncode == 2
        line = one_sentence_error(refused.stderr)
        assert "a load is writing to" in line and "batch 0a1b2c3d4e5f6789" in line
    finally:
        writer.close()  # as a load that stopped: its lease is released, its end never recorded
    refused = run(key_file, *detect)
    assert refused.returncode == 2
    assert "did not complete" in one_sentence_error(refused.stderr)
    again = run(key_file, *load_neo4j)
    assert again.returncode == 0, again.stderr
    done = run(key_file, *detect)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "det" / "groups.csv").is_file()
