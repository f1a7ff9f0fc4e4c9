"""The initial-import path: ``graphstore.bulk_import`` files, ``neo4j_server.import_full`` and
``netanalysis load --initial-import``.

The writer's unit tests use a real embedded store as the (empty) live store. The end-to-end tests
run against a real Neo4j server of their own, in a home under pytest's temporary folder: an
import stops the server and replaces its database, so the session's shared test server is never
used here.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from conftest import DATA_SAMPLES
from test_load_pipeline import KEY, same_graph

from graphstore import neo4j_server, open_store
from graphstore.base import RelRow
from graphstore.bulk_import import ARRAY_DELIMITER, BulkImportWriter, ImportFiles
from graphstore.embedded import EmbeddedStore
from graphstore.neo4j_server import ServerInfo
from graphstore.neo4j_store import Neo4jStore
from loaders.initial_import import initial_import
from loaders.pipeline import load
from netanalysis.cli import main
from netanalysis.errors import ConfigError, StoreError

MAPPING = DATA_SAMPLES / "sources.yaml"


# --- the CSV writer ---------------------------------------------------------------------------


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[BulkImportWriter]:
    live = EmbeddedStore(str(tmp_path / "live.db"))
    w = BulkImportWriter(live, tmp_path / "files")
    try:
        yield w
    finally:
        w.close()
        live.close()


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _files(files: ImportFiles, name: str) -> dict[Path, tuple[list[str], list[list[str]]]]:
    pairs = [*files.nodes, *files.relationships]
    return {path: _read(path) for what, path in pairs if what == name}


def test_headers_name_id_spaces_and_types(writer: BulkImportWriter) -> None:
    writer.upsert_nodes(
        "Person",
        [
            {
                "person_id": "p1",
                "birth_year": 1980,
                "roles": ["suspect", "victim"],
                "display": "P-p1",
                "score": 0.5,
                "flag": True,
            }
        ],
    )
    writer.upsert_relationships(
        "SEEN_AT",
        "Person",
        "Premises",
        [RelRow("p1", "x1", "r1", {"role": "suspect", "observed_on": "2023-01-02"})],
    )
    files = writer.finish()
    [(header, rows)] = _files(files, "Person").values()
    assert header == [
        "person_id:ID(Person)",
        "birth_year:long",
        "display:string",
        "flag:boolean",
        "roles:string[]",
        "score:double",
    ]
    assert rows == [["p1", "1980", "P-p1", "true", f"suspect{ARRAY_DELIMITER}victim", "0.5"]]
    [(header, rows)] = _files(files, "SEEN_AT").values()
    assert header == [
        ":START_ID(Person)",
        ":END_ID(Premises)",
        "observed_on:string",
        "rel_key:string",
        "role:string",
    ]
    assert rows == [["p1", "x1", "2023-01-02", "r1", "suspect"]]
    # The endpoint never given as a node row is a node with only its key, as MERGE creates it.
    [(header, rows)] = _files(files, "Premises").values()
    assert header == ["premises_id:ID(Premises)"] and rows == [["x1"]]
    assert files.node_counts == {"Person": 1, "Premises": 1}
    assert files.rel_counts == {"SEEN_AT": 1}
    assert files.array_delimiter == ARRAY_DELIMITER and not files.multiline


def test_rows_are_grouped_by_property_signature(writer: BulkImportWriter) -> None:
    writer.upsert_nodes(
        "Person",
        [
            {"person_id": "a", "birth_year": 1980},
            {"person_id": "b", "birth_year": None, "nationality": "NLD"},  # None: absent, not a column
            {"person_id": "c", "birth_year": 1990},
            {"person_id": "d", "birth_year": "1990"},  # another type: another file
        ],
    )
    files = writer.finish()
    by_header = {tuple(h): rows for h, rows in _files(files, "Person").values()}
    assert by_header == {
        ("person_id:ID(Person)", "birth_year:long"): [["a", "1980"], ["c", "1990"]],
        ("person_id:ID(Person)", "nationality:string"): [["b", "NLD"]],
        ("person_id:ID(Person)", "birth_year:string"): [["d", "1990"]],
    }
    # Every column of every file has a value in every row: no empty cell has to mean "absent".
    for header, rows in by_header.items():
        assert all(len(r) == len(header) for r in rows)


def test_nodes_merge_like_set_plus_equals(writer: BulkImportWriter) -> None:
    assert writer.upsert_nodes("Case", [{"case_id": "c1", "source": "a", "exploitation_type": "sexual"}]) == 1
    writer.upsert_relationships("SUSPECT_IN", "Person", "Case", [RelRow("p1", "c1", "r1", {})])
    assert writer.upsert_nodes("Case", [{"case_id": "c1", "source": "b", "exploitation_type": None}]) == 1
    writer.upsert_nodes("Person", [{"person_id": "p1", "roles": ["suspect"]}])
    files = writer.finish()
    [(header, rows)] = _files(files, "Case").values()
    assert header == ["case_id:ID(Case)", "exploitation_type:string", "source:string"]
    assert rows == [["c1", "sexual", "b"]]  # later value wins, a later None erases nothing
    [(header, rows)] = _files(files, "Person").values()
    assert rows == [["p1", "suspect"]]  # given after the relationship: not a key-only node
    assert files.node_counts == {"Case": 1, "Person": 1}


def test_repeated_relationships_merge_in_arrival_order(writer: BulkImportWriter) -> None:
    rows = [
        RelRow("p1", "c1", "r1", {"source": "a", "batch": "1"}),
        RelRow("p2", "c1", "r2", {"source": "a"}),
        RelRow("p1", "c1", "r1", {"source": "b", "reliability": "A1"}),  # other signature
        RelRow("p1", "c1", "r9", {"source": "c"}),  # same endpoints, other rel_key: its own
        RelRow("p3", "c1", "r3", {"source": "d"}),
    ]
    assert writer.upsert_relationships("SUSPECT_IN", "Person", "Case", rows[:2]) == 2
    # Repeats come in other calls, as the loader's buffers flush.
    assert writer.upsert_relationships("SUSPECT_IN", "Person", "Case", rows[2:]) == 3
    writer.upsert_relationships("SUSPECT_IN", "Person", "Case", [RelRow("p1", "c1", "r1", {"source": "e"})])
    files = writer.finish()
    got = sorted(
        tuple(zip(h, r, strict=True)) for h, rows_ in _files(files, "SUSPECT_IN").values() for r in rows_
    )
    start, end = ":START_ID(Person)", ":END_ID(Case)"
    assert got == sorted(
        [
            (
                (start, "p1"),
                (end, "c1"),
                ("batch:string", "1"),
                ("rel_key:string", "r1"),
                ("reliability:string", "A1"),
                ("source:string", "e"),
            ),
            ((start, "p2"), (end, "c1"), ("rel_key:string", "r2"), ("source:string", "a")),
            ((start, "p1"), (end, "c1"), ("rel_key:string", "r9"), ("source:string", "c")),
            ((start, "p3"), (end, "c1"), ("rel_key:string", "r3"), ("source:string", "d")),
        ]
    )
    assert files.rel_counts == {"SUSPECT_IN": 4}
    assert files.node_counts == {"Case": 1, "Person": 3}


def test_values_round_trip_and_multiline_files_are_listed(writer: BulkImportWriter) -> None:
    writer.upsert_nodes(
        "Premises",
        [
            {
                "premises_id": "x",
                "kind": 'two\nlines, "quoted"',
                "score": 1e-05,
                "grades": [1, 2],
                "big": -(2**63),
            }
        ],
    )
    writer.upsert_nodes("Phone", [{"phone_id": "ph"}])
    files = writer.finish()
    [path] = [p for label, p in files.nodes if label == "Premises"]
    assert files.multiline == (path,)
    header, rows = _read(path)
    assert dict(zip(header, rows[0], strict=True)) == {
        "premises_id:ID(Premises)": "x",
        "big:long": str(-(2**63)),
        "grades:long[]": f"1{ARRAY_DELIMITER}2",
        "kind:string": 'two\nlines, "quoted"',
        "score:double": "1e-05",
    }


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"person_id": "p", "display": f"a{ARRAY_DELIMITER}b"}, "control character U\\+001F"),
        ({"person_id": "p", "roles": [f"a{ARRAY_DELIMITER}"]}, "control character U\\+001F"),
        ({"person_id": "p", "roles": [""]}, "empty list"),
        ({"person_id": "p", "odd name": 1}, "not a plain identifier"),
        ({"person_id": "p", "nested": {"a": 1}}, "nested maps"),
    ],
)
def test_values_the_files_cannot_carry_are_refused(
    writer: BulkImportWriter, row: dict[str, Any], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        writer.upsert_nodes("Person", [row])
        writer.finish()


def test_an_empty_list_on_a_node_is_written_as_a_marker(writer: BulkImportWriter) -> None:
    # A register's person has no role: roles [] cannot be a cell, so a marker stands for it.
    writer.upsert_nodes(
        "Person", [{"person_id": "p1", "roles": []}, {"person_id": "p2", "roles": ["victim"]}]
    )
    files = writer.finish()
    assert files.empty_lists == (("Person", "roles", "_empty_list_roles"),)
    cells = {}
    for _label, path in files.nodes:
        header, rows = _read(path)
        for row in rows:
            cells[row[0]] = dict(zip(header, row, strict=True))
    assert cells["p1"] == {"person_id:ID(Person)": "p1", "_empty_list_roles:boolean": "true"}
    assert cells["p2"] == {"person_id:ID(Person)": "p2", "roles:string[]": "victim"}


def test_an_empty_list_on_a_relationship_is_refused(writer: BulkImportWriter) -> None:
    with pytest.raises(StoreError, match="empty list"):
        writer.upsert_relationships("USES", "Person", "Phone", [RelRow("p", "ph", "r", {"flags": []})])
        writer.finish()


def test_relationship_value_with_the_delimiter_is_refused_at_once(writer: BulkImportWriter) -> None:
    with pytest.raises(StoreError, match=r"relationship USES.*U\+001F.*without --initial-import"):
        writer.upsert_relationships(
            "USES", "Person", "Phone", [RelRow("p", "ph", "r", {"source": f"x{ARRAY_DELIMITER}"})]
        )


def test_writer_refuses_a_non_empty_store_or_folder(tmp_path: Path) -> None:
    live = open_store(str(tmp_path / "live.db"))
    try:
        live.upsert_nodes("Source", [{"name": "s"}])
        with pytest.raises(ConfigError, match="not empty: --initial-import only loads into an empty"):
            BulkImportWriter(live, tmp_path / "a")
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "old.csv").write_text("x")
        with pytest.raises(ConfigError, match="import folder .* is not empty"):
            BulkImportWriter(live, tmp_path / "b", check_empty=False)
    finally:
        live.close()


def test_writer_matches_the_loader_summary_of_an_online_load(tmp_path: Path) -> None:
    # The loader through the writer: the same summary as into a store (rejects path aside).
    embedded = open_store(str(tmp_path / "e.db"))
    try:
        online = load([DATA_SAMPLES], embedded, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
    finally:
        embedded.close()
    live = open_store(str(tmp_path / "live.db"))
    try:
        w = BulkImportWriter(live, tmp_path / "files")
        bulk = load([DATA_SAMPLES], w, MAPPING, KEY, rejects_path=tmp_path / "r2.csv")
        files = w.finish()
    finally:
        live.close()
    a, b = online.to_dict(), bulk.to_dict()
    a.pop("rejects_path"), b.pop("rejects_path")
    assert a == b
    # Distinct rows in the files: what the store holds after the online load.
    store = open_store(str(tmp_path / "e.db"))
    try:
        counts = store.counts()
    finally:
        store.close()
    assert {k: v for k, v in counts.items() if v} == {**files.node_counts, **files.rel_counts}


# --- against a real server of our own ---------------------------------------------------------


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Neo4j server in its own home: imports stop it and replace its database."""
    home = tmp_path_factory.mktemp("bulk-neo4j")
    neo4j_server.start(home, heap="1g", pagecache="256m")
    try:
        yield home
    finally:
        neo4j_server.stop(home)


def _info(home: Path) -> ServerInfo:
    info = neo4j_server.status(home)
    assert info is not None, "the test's own server is not running"
    return info


def _query(info: ServerInfo, query: str) -> list[dict[str, Any]]:
    with neo4j.GraphDatabase.driver(info.uri, auth=(info.user, info.password)) as driver:
        records, _summary, _keys = driver.execute_query(query)
    return [r.data() for r in records]


def _wipe(info: ServerInfo) -> None:
    _query(info, "MATCH (n) DETACH DELETE n")


@pytest.mark.neo4j
def test_initial_import_gives_the_graph_of_an_online_load(own_server: Path, tmp_path: Path) -> None:
    info = _info(own_server)
    _wipe(info)
    embedded = open_store(str(tmp_path / "e.db"))
    try:
        online = load([DATA_SAMPLES], embedded, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
        expected = embedded.read_graph()
    finally:
        embedded.close()
    (tmp_path / "k.key").write_text(bytes(range(32)).hex() + "\n")
    code = main(
        [
            "load",
            str(DATA_SAMPLES),
            "--store",
            info.uri,
            "--mapping",
            str(MAPPING),
            "--key-file",
            str(tmp_path / "k.key"),
            "--rejects",
            str(tmp_path / "r2.csv"),
            "--summary-json",
            str(tmp_path / "s.json"),
            "--initial-import",
            "--neo4j-home",
            str(own_server),
        ]
    )
    assert code == 0
    info = _info(own_server)  # the restart may have moved the Bolt port
    with Neo4jStore(info.uri, user=info.user, password=info.password) as store:
        got = store.read_graph()
    assert got.number_of_nodes() == expected.number_of_nodes() > 2000
    assert got.number_of_edges() == expected.number_of_edges() > 7000
    assert same_graph(expected, got)
    summary = json.loads((tmp_path / "s.json").read_text())
    want = json.loads(json.dumps(online.to_dict()))
    summary.pop("rejects_path"), want.pop("rejects_path")
    assert summary == want
    assert summary["totals"]["read"] == summary["totals"]["loaded"] + summary["totals"]["rejected"]
    # The schema was applied after the import: every uniqueness constraint is there and online.
    constraints = {r["name"] for r in _query(info, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"person_key", "record_key", "source_key"} <= constraints
    states = {r["state"] for r in _query(info, "SHOW INDEXES YIELD state RETURN state")}
    assert states == {"ONLINE"}
    assert not list((own_server / "import").iterdir())  # the CSV files are gone


@pytest.mark.neo4j
def test_initial_import_refuses_a_non_empty_database(own_server: Path, tmp_path: Path) -> None:
    info = _info(own_server)
    # A node of any label counts, also one the toolkit's schema does not know.
    _query(info, "CREATE (:Scratch {note: 'kept'})")
    with pytest.raises(
        ConfigError,
        match="is not empty: --initial-import only loads into an empty database "
        "of the toolkit's own server; load without it to merge into existing data",
    ):
        initial_import(
            [DATA_SAMPLES], MAPPING, KEY, store=info.uri, home=own_server, rejects_path=tmp_path / "r.csv"
        )
    assert _info(own_server).pid == info.pid  # the server was not touched
    assert _query(info, "MATCH (n:Scratch) RETURN n.note AS note") == [{"note": "kept"}]
    _wipe(info)


@pytest.mark.neo4j
def test_initial_import_refuses_a_server_that_is_not_the_homes_own(own_server: Path, tmp_path: Path) -> None:
    info = _info(own_server)
    other = f"bolt://127.0.0.1:{info.bolt_port + 1 if info.bolt_port < 65535 else 1}"
    with pytest.raises(ConfigError, match=f"{other} is not the toolkit's own server of .* at {info.uri}"):
        initial_import(
            [DATA_SAMPLES], MAPPING, KEY, store=other, home=own_server, rejects_path=tmp_path / "r.csv"
        )
    with pytest.raises(ConfigError, match="no server of the toolkit runs in"):
        initial_import(
            [DATA_SAMPLES],
            MAPPING,
            KEY,
            store=info.uri,
            home=tmp_path / "nothing",
            rejects_path=tmp_path / "r.csv",
        )
    # And on the command line: one sentence, exit code 2; --neo4j-home only with --initial-import.
    (tmp_path / "k.key").write_text(bytes(range(32)).hex() + "\n")
    base = [
        "load",
        str(DATA_SAMPLES),
        "--mapping",
        str(MAPPING),
        "--key-file",
        str(tmp_path / "k.key"),
        "--rejects",
        str(tmp_path / "r.csv"),
    ]
    assert main([*base, "--store", other, "--initial-import", "--neo4j-home", str(own_server)]) == 2
    assert main([*base, "--store", str(tmp_path / "g.db"), "--initial-import"]) == 2
    assert main([*base, "--store", str(tmp_path / "g.db"), "--neo4j-home", str(own_server)]) == 2
    assert not (tmp_path / "g.db").exists()


@pytest.mark.neo4j
def test_a_failed_import_quotes_the_tool_and_restarts_the_server(own_server: Path, tmp_path: Path) -> None:
    # A relationship to a node that is in no file: the import tool refuses it, nothing is skipped.
    tmp_path.joinpath("n.csv").write_text('"source_id:ID(Source)"\n"s1"\n', encoding="utf-8")
    tmp_path.joinpath("m.csv").write_text('"record_id:ID(Record)"\n"r1"\n', encoding="utf-8")
    tmp_path.joinpath("r.csv").write_text(
        '":START_ID(Record)",":END_ID(Source)","rel_key:string"\n"nowhere","s1","k"\n', encoding="utf-8"
    )
    files = ImportFiles(
        nodes=(("Source", tmp_path / "n.csv"), ("Record", tmp_path / "m.csv")),
        relationships=(("FROM", tmp_path / "r.csv"),),
        array_delimiter=ARRAY_DELIMITER,
        multiline=(),
        report_file=tmp_path / "report.txt",
    )
    info = _info(own_server)
    _query(info, "CREATE (:Scratch)")
    with pytest.raises(
        StoreError,
        match=r"neo4j-admin database import into .* failed \(exit code \d+: "
        r"nowhere \(Record\)-\[FROM\]->s1 \(Source\) referring to missing node nowhere\)",
    ):
        neo4j_server.import_full(
            files, own_server, heap="1g", pagecache="256m", import_heap="512m", import_off_heap="512m"
        )
    # The server is back, with an empty database (the import had emptied it).
    info = _info(own_server)
    assert _query(info, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]


@pytest.mark.neo4j
def test_awkward_values_read_back_as_from_the_embedded_store(own_server: Path, tmp_path: Path) -> None:
    # Line breaks, quotes, commas, non-ASCII, float and integer extremes, lists, repeats and a
    # key-only endpoint: written through both paths, read back the same.
    nodes = [
        {
            "person_id": "p1",
            "display": 'two\nlines, "quoted"\r\n',
            "birth_year": -(2**63),
            "roles": ["suspect", "victim"],
            "nationality": "ĲSLAND ☂",
        },
        {"person_id": "p2", "display": "", "birth_year": 2**63 - 1, "roles": ["victim"]},
        {"person_id": "p1", "score": 1e-05, "display": None},
        {"person_id": "p3", "roles": []},  # known from a register only: no role
    ]
    rels = [
        RelRow("p1", "c1", "r1", {"source": "a", "reliability": "A1"}),
        RelRow("p2", "c1", "r2", {"source": "b", "score": -0.0, "flags": [True, False]}),
        RelRow("p1", "c1", "r1", {"source": "c", "weights": [0.1, 2.5e300]}),
    ]
    embedded = EmbeddedStore(str(tmp_path / "e.db"))
    try:
        embedded.upsert_nodes("Person", nodes[:2])
        embedded.upsert_relationships("SUSPECT_IN", "Person", "Case", rels[:2])
        embedded.upsert_nodes("Person", nodes[2:])
        assert embedded.read_graph().nodes["Person:p3"]["roles"] == []
        embedded.upsert_relationships("SUSPECT_IN", "Person", "Case", rels[2:])
        expected = embedded.read_graph()
    finally:
        embedded.close()
    live = EmbeddedStore(str(tmp_path / "live.db"))
    try:
        writer = BulkImportWriter(live, tmp_path / "files")
        writer.upsert_nodes("Person", nodes[:2])
        writer.upsert_relationships("SUSPECT_IN", "Person", "Case", rels[:2])
        writer.upsert_nodes("Person", nodes[2:])
        writer.upsert_relationships("SUSPECT_IN", "Person", "Case", rels[2:])
        files = writer.finish()
    finally:
        live.close()
    assert files.multiline  # the Person file with the line breaks
    info = neo4j_server.import_full(
        files, own_server, heap="1g", pagecache="256m", import_heap="512m", import_off_heap="512m"
    )
    with Neo4jStore(info.uri, user=info.user, password=info.password) as store:
        assert store.restore_empty_lists(files.empty_lists) == 1
        got = store.read_graph()
    assert got.number_of_nodes() == 4 and got.number_of_edges() == 2
    assert got.nodes["Person:p3"]["roles"] == [] and "_empty_list_roles" not in got.nodes["Person:p3"]
    assert same_graph(expected, got)


# --- interrupted imports: a real signal to a real loader process --------------------------------


def _admin_pids(home: Path) -> list[int]:
    """The pids of import tools (neo4j-admin) that work on the files of ``home``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if neo4j_server.ADMIN_CLASS.encode() in cmdline and b"import" in cmdline and Path(cwd) == home:
            found.append(int(proc.name))
    return found


def _load_command(home: Path, info: ServerInfo, tmp_path: Path) -> list[str]:
    (tmp_path / "k.key").write_text(bytes(range(32)).hex() + "\n")
    return [
        "load",
        str(DATA_SAMPLES),
        "--store",
        info.uri,
        "--mapping",
        str(MAPPING),
        "--key-file",
        str(tmp_path / "k.key"),
        "--rejects",
        str(tmp_path / "rejects.csv"),
        "--initial-import",
        "--neo4j-home",
        str(home),
    ]


def _loader_in_the_admin_tool(home: Path, info: ServerInfo, tmp_path: Path) -> subprocess.Popen[bytes]:
    """``netanalysis load --initial-import`` in a process (and process group) of its own, returned
    once neo4j-admin is importing its files."""
    log = open(tmp_path / "loader.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "netanalysis.cli", *_load_command(home, info, tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 600
    while not _admin_pids(home):
        assert proc.poll() is None, (tmp_path / "loader.log").read_text(errors="replace")
        assert time.monotonic() < deadline, "neo4j-admin never started"
        time.sleep(0.05)
    time.sleep(1.0)  # past its start-up: the tool is writing the store files
    assert _admin_pids(home), "neo4j-admin finished before the test could interrupt it"
    return proc


def _expected_graph(tmp_path: Path) -> Any:
    embedded = open_store(str(tmp_path / "e.db"))
    try:
        load([DATA_SAMPLES], embedded, MAPPING, KEY, rejects_path=tmp_path / "r-online.csv")
        return embedded.read_graph()
    finally:
        embedded.close()


def _assert_imported(home: Path, tmp_path: Path) -> None:
    """The home's server runs with the whole graph, its schema, and no file of the import left."""
    info = _info(home)
    with Neo4jStore(info.uri, user=info.user, password=info.password) as store:
        got = store.read_graph()
    assert same_graph(_expected_graph(tmp_path), got)
    constraints = {r["name"] for r in _query(info, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"person_key", "record_key", "source_key"} <= constraints
    assert not list((home / "import").iterdir())
    assert not (home / "initial-import.json").exists()


@pytest.mark.neo4j
@pytest.mark.parametrize(
    ("interrupt", "code"),
    [
        # Ctrl-C in the terminal: the loader and the import tool both get SIGINT.
        (lambda pid: os.killpg(pid, signal.SIGINT), 130),
        # `kill <pid>` of the loader, or a job runner giving up on it.
        (lambda pid: os.kill(pid, signal.SIGTERM), 128 + signal.SIGTERM),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupted_import_restarts_the_server(
    own_server: Path, tmp_path: Path, interrupt: Callable[[int], None], code: int
) -> None:
    info = _info(own_server)
    _wipe(info)
    proc = _loader_in_the_admin_tool(own_server, info, tmp_path)
    interrupt(proc.pid)
    assert proc.wait(timeout=600) == code
    output = (tmp_path / "loader.log").read_text(errors="replace")
    assert "Traceback" not in output
    assert not _admin_pids(own_server)
    # The server runs again, with an empty database, and nothing of the import is left behind.
    info = _info(own_server)
    assert _query(info, "MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    assert not list((own_server / "import").iterdir())
    assert not (own_server / "initial-import.json").exists()
    assert main(_load_command(own_server, info, tmp_path)) == 0
    _assert_imported(own_server, tmp_path)


@pytest.mark.neo4j
def test_rerun_after_the_loader_was_killed_mid_import(own_server: Path, tmp_path: Path) -> None:
    info = _info(own_server)
    _wipe(info)
    proc = _loader_in_the_admin_tool(own_server, info, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)  # the loader alone: nothing of it runs any more
    assert proc.wait(timeout=60) == -signal.SIGKILL
    # The tool dies with the loader rather than writing on behind it.
    deadline = time.monotonic() + 5
    while _admin_pids(own_server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _admin_pids(own_server)
    # What the killed run left: the server stopped, its CSV files, a half-done database.
    assert neo4j_server.status(own_server) is None
    assert list((own_server / "import").iterdir())
    # The same command again cleans up, starts the server, imports and applies the schema.
    assert main(_load_command(own_server, info, tmp_path)) == 0
    _assert_imported(own_server, tmp_path)
