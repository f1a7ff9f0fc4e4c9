"""The toolkit's own Neo4j server (graphstore.neo4j_server) and the ``neo4j`` command.

Everything here runs against a real server: the session's ``neo4j_server`` (conftest.py), and the
toolkit's test server in ``neo4j_test_home()`` for the checks that need its process and state file.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from conftest import Neo4jConnection, neo4j_test_home
from neo4j.exceptions import AuthError

from graphstore import neo4j_server as toolkit
from graphstore.neo4j_server import ServerInfo
from graphstore.neo4j_server import _run_maven as run_maven
from netanalysis.cli import main
from netanalysis.errors import ConfigError, StoreUnavailable

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def own(neo4j_server: Neo4jConnection) -> Iterator[ServerInfo]:
    """The toolkit's own test server, even when NEO4J_URI sends the session elsewhere."""
    home = neo4j_test_home()
    running = toolkit.status(home)
    if not os.environ.get("NEO4J_URI"):
        assert running is not None, f"the session's server in {home} is not running"
        assert running.uri == neo4j_server.uri
        yield running
        return
    yield toolkit.start(home, heap="1g", pagecache="512m")
    if running is None:
        toolkit.stop(home)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, read from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                address, hex_port = fields[1].split(":")
                if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A = LISTEN
                    continue
                assert len(address) == width
                # The kernel prints each 32-bit word in host (little-endian) order.
                words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, width, 8)]
                raw = b"".join(words)
                if width == 8:
                    found.add(".".join(str(b) for b in raw))
                elif raw[:12] == b"\0" * 10 + b"\xff\xff":
                    found.add(".".join(str(b) for b in raw[12:]))  # IPv4-mapped
                else:
                    found.add(raw.hex())
    return found


# --- against the running server -----------------------------------------------------------------


def test_server_answers_cypher(neo4j_clean: Neo4jConnection) -> None:
    with neo4j.GraphDatabase.driver(neo4j_clean.uri, auth=(neo4j_clean.user, neo4j_clean.password)) as d:
        d.execute_query("UNWIND $ids AS id CREATE (:Probe {probe_id: id})", ids=["a", "b", "c"])
        records, _, _ = d.execute_query("MATCH (p:Probe) RETURN p.probe_id AS id ORDER BY id")
        assert [r["id"] for r in records] == ["a", "b", "c"]
        d.execute_query("MATCH (p:Probe) DETACH DELETE p")


def test_clean_fixture_empties_the_graph(
    neo4j_server: Neo4jConnection, request: pytest.FixtureRequest
) -> None:
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)) as d:
        d.execute_query("CREATE (:Probe {probe_id: 'left-over'})-[:PROBE]->(:Probe {probe_id: 'x'})")
        clean = request.getfixturevalue("neo4j_clean")
        assert clean == neo4j_server
        records, _, _ = d.execute_query("MATCH (n) RETURN count(n) AS n")
        assert records[0]["n"] == 0


def test_wrong_password_is_an_auth_error(neo4j_server: Neo4jConnection) -> None:
    with (
        neo4j.GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, "not-the-password")) as d,
        pytest.raises(AuthError),
    ):
        d.verify_connectivity()


def test_toolkit_server_is_neo4j_5_26(own: ServerInfo) -> None:
    with neo4j.GraphDatabase.driver(own.uri, auth=(own.user, own.password)) as d:
        records, _, _ = d.execute_query("CALL dbms.components() YIELD name, versions, edition RETURN *")
    assert records[0]["edition"] == "community"
    assert records[0]["versions"][0].startswith("5.26.")


def test_bolt_and_http_listen_on_loopback_only(own: ServerInfo) -> None:
    assert own.uri == f"bolt://127.0.0.1:{own.bolt_port}"
    assert _listening_addresses(own.bolt_port) == {"127.0.0.1"}
    assert _listening_addresses(own.http_port) == {"127.0.0.1"}


def test_status_reports_the_running_server(own: ServerInfo) -> None:
    info = toolkit.status(own.home)
    assert info == own
    cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().split(b"\0")
    assert toolkit.MAIN_CLASS.encode() in cmdline


def test_start_again_returns_the_running_server(own: ServerInfo) -> None:
    assert toolkit.start(own.home) == own


def test_state_file_is_private_and_password_generated(own: ServerInfo) -> None:
    state = own.home / "state.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert own.password not in ("neo4j", "password") and len(own.password) >= 24
    assert own.password not in (own.home / "conf" / "neo4j.conf").read_text()
    assert "dbms.usage_report.enabled=false" in (own.home / "conf" / "neo4j.conf").read_text()


def test_cli_status_prints_how_to_connect(own: ServerInfo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neo4j", "status", "--home", str(own.home)]) == 0
    out = capsys.readouterr().out
    assert f"export NEO4J_URI={own.uri}" in out
    assert "export NEO4J_USERNAME=neo4j" in out


@pytest.mark.parametrize("command", ["status", "start"])
def test_cli_does_not_print_the_password_unless_asked(
    own: ServerInfo, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Console output lands in terminal scrollback and CI logs: say where the password is instead.
    assert main(["neo4j", command, "--home", str(own.home)]) == 0
    out, err = capsys.readouterr()
    assert own.password not in out and own.password not in err
    assert "NEO4J_PASSWORD" not in out
    assert str(own.home / "state.json") in out
    assert f"netanalysis neo4j status --home {own.home} --show-password" in out
    assert f"export NEO4J_URI={own.uri}" in out


@pytest.mark.parametrize("command", ["status", "start"])
def test_cli_show_password_prints_the_export_line(
    own: ServerInfo, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["neo4j", command, "--home", str(own.home), "--show-password"]) == 0
    out = capsys.readouterr().out
    assert f"export NEO4J_PASSWORD={shlex.quote(own.password)}" in out.splitlines()[-1]


def test_cli_status_of_a_stopped_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neo4j", "status", "--home", str(tmp_path)]) == 1
    assert "not running" in capsys.readouterr().out
    assert main(["neo4j", "stop", "--home", str(tmp_path)]) == 0
    assert "was not running" in capsys.readouterr().out


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": "5.26"}, "MAJOR.MINOR.PATCH"),
        ({"version": "5.26.30; rm -rf /"}, "MAJOR.MINOR.PATCH"),
        ({"heap": "lots"}, "heap 'lots' is not a memory size"),
        ({"pagecache": "1.5g"}, "pagecache '1.5g' is not a memory size"),
    ],
)
def test_bad_settings_are_config_errors(tmp_path: Path, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        toolkit.start(tmp_path / "home", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "home").exists()


def test_missing_java_is_store_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(StoreUnavailable, match=r"Java 17\+ not found"):
        toolkit.start(tmp_path / "home")


def test_cli_turns_errors_into_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["neo4j", "start", "--home", str(tmp_path), "--heap", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: heap 'lots' is not a memory size") and "Traceback" not in err


def test_maven_download_lines_become_progress() -> None:
    # Maven's batch-mode transfer lines, as Maven 3.8 prints them, from a real child process.
    script = (
        "print('[INFO] Downloading from central: https://repo/x.jar')\n"
        "print('[INFO] Downloaded from central: https://repo/x.jar (1.5 MB at 3 MB/s)')\n"
        "print('[INFO] Downloaded from central: https://repo/y.pom (512 kB at 1 MB/s)')\n"
    )
    seen: list[str] = []
    run_maven([sys.executable, "-c", script], "5.26.30", seen.append)
    assert seen[-1] == "downloaded 2 files, 2.0 MB"


def test_maven_failure_is_one_sentence_with_its_first_error() -> None:
    script = (
        "import sys\n"
        "print('[ERROR] Failed to execute goal: could not resolve org.neo4j:neo4j -> [Help 1]')\n"
        "print('[ERROR] ')\n"
        "sys.exit(1)\n"
    )
    with pytest.raises(StoreUnavailable) as info:
        run_maven([sys.executable, "-c", script], "5.26.30", None)
    assert str(info.value) == (
        "Maven could not fetch org.neo4j:neo4j:5.26.30: "
        "Failed to execute goal: could not resolve org.neo4j:neo4j"
    )


@pytest.mark.slow
def test_unknown_version_names_maven_and_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETANALYSIS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(StoreUnavailable, match=r"Maven could not fetch org\.neo4j:neo4j:5\.26\.999: .+"):
        toolkit.provision("5.26.999")
    assert not (tmp_path / "cache" / "neo4j-5.26.999" / "lib").exists()


@pytest.mark.slow
def test_server_not_answering_in_time_is_stopped_and_quotes_its_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(StoreUnavailable, match=r"did not answer on bolt://127\.0\.0\.1:\d+ within .* log"):
        toolkit.start(home, heap="512m", pagecache="64m", timeout=0.5)
    assert toolkit.status(home) is None
    assert toolkit.stop(home) is False


@pytest.mark.slow
def test_first_clean_stop_leaves_a_class_archive_that_later_starts_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    jars = toolkit.provision()  # the session's jars; the archive files go next to the link below
    (cache / f"neo4j-{toolkit.DEFAULT_VERSION}").mkdir(parents=True)
    (cache / f"neo4j-{toolkit.DEFAULT_VERSION}" / "lib").symlink_to(jars)
    monkeypatch.setenv("NETANALYSIS_CACHE", str(cache))
    home = tmp_path / "home"
    folder = cache / f"neo4j-{toolkit.DEFAULT_VERSION}"

    first = toolkit.start(home, heap="512m", pagecache="64m")
    try:
        cmdline = Path(f"/proc/{first.pid}/cmdline").read_bytes().decode()
        assert "-XX:ArchiveClassesAtExit=" in cmdline
    finally:
        assert toolkit.stop(home)
    archives = list(folder.glob("classes-*.jsa"))
    assert len(archives) == 1 and not list(folder.glob("*.partial"))

    second = toolkit.start(home, heap="512m", pagecache="64m")
    try:
        assert second.password == first.password and second.uri == first.uri
        assert f"-XX:SharedArchiveFile={archives[0]}" in Path(f"/proc/{second.pid}/cmdline").read_text()
        # Mapped means the JVM accepted the archive rather than warning and ignoring it.
        assert str(archives[0]) in Path(f"/proc/{second.pid}/maps").read_text()
        with neo4j.GraphDatabase.driver(second.uri, auth=(second.user, second.password)) as d:
            d.verify_connectivity()
    finally:
        assert toolkit.stop(home)


def test_generated_passwords_never_look_like_an_option() -> None:
    # The admin tool reads a password starting with '-' as an option and fails the first start.
    assert not any(toolkit._new_password().startswith("-") for _ in range(2000))
