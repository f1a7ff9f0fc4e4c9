"""Shared test fixtures.

The Neo4j server: tests marked ``neo4j`` (and the Neo4j half of the conformance suite) use the
session fixture ``neo4j_server``. It starts the toolkit's own server (``graphstore.neo4j_server``)
unless ``NEO4J_URI`` points at one; when no server comes up the tests fail, never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_SAMPLES = REPO / "data_samples"


# --- the audit log -------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _audit_logs_stay_in_the_test_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Logs of processings without a store of their own go to the user's data folder: in the
    tests, a throw-away one (commands run as subprocesses inherit it)."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    for name in ("NETANALYSIS_PURPOSES", "NETANALYSIS_PURPOSE", "NETANALYSIS_AUDIT_LOG"):
        os.environ.pop(name, None)  # an analyst's own register must not bind the tests
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


# --- the Neo4j server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Neo4jConnection:
    """Where the tests' Neo4j server answers."""

    uri: str
    user: str
    password: str


WIPE_NEO4J = "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def neo4j_test_home() -> Path:
    from graphstore.neo4j_server import cache_root

    explicit = os.environ.get("NETANALYSIS_TEST_NEO4J_HOME")
    return Path(explicit).expanduser() if explicit else cache_root() / "test-server"


def _check_answers(conn: Neo4jConnection) -> None:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(conn.uri, auth=(conn.user, conn.password)) as driver:
        driver.verify_connectivity()


def _own_server(variable: str) -> Neo4jConnection | None:
    """The server ``$variable`` points at (credentials from NEO4J_USERNAME/NEO4J_PASSWORD), checked
    to answer; None when the variable is not set."""
    uri = os.environ.get(variable)
    if not uri:
        return None
    conn = Neo4jConnection(
        uri, os.environ.get("NEO4J_USERNAME", "neo4j"), os.environ.get("NEO4J_PASSWORD", "password")
    )
    try:
        _check_answers(conn)
    except Exception as exc:
        pytest.fail(f"{variable}={uri} does not answer: {type(exc).__name__}: {exc}", pytrace=False)
    return conn


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jConnection]:
    """A real Neo4j server for the whole session: ``NEO4J_URI`` if set, else the toolkit's own.

    The toolkit's server lives in ``~/.cache/netanalysis/test-server`` (or
    ``$NETANALYSIS_TEST_NEO4J_HOME``); test sessions that run at the same time share it, and the
    last one to finish stops it if a test session started it. Fails, never skips, when no server
    comes up.
    """
    own = _own_server("NEO4J_URI")
    if own is not None:
        yield own
        return

    yield from _session_server(neo4j_test_home(), gds=False)


def _session_server(home: Path, gds: bool) -> Iterator[Neo4jConnection]:
    """Start (or join) the toolkit's server in ``home`` for this test session; the last session
    to leave stops it if a test session started it."""
    from graphstore import neo4j_server as server

    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    users = home / "test-sessions"
    users.mkdir(exist_ok=True)
    me = users / str(os.getpid())
    me.touch()
    try:
        if server.status(home) is None:
            (home / "started-by-tests").touch()
        info = server.start(home, heap="1g", pagecache="512m", gds=gds)
    except Exception as exc:
        me.unlink(missing_ok=True)
        pytest.fail(f"the toolkit's Neo4j server did not come up: {exc}", pytrace=False)
    try:
        yield Neo4jConnection(info.uri, info.user, info.password)
    finally:
        me.unlink(missing_ok=True)
        others = [p for p in users.iterdir() if p.name.isdigit() and _pid_alive(int(p.name))]
        if not others and (home / "started-by-tests").exists():
            server.stop(home)
            (home / "started-by-tests").unlink(missing_ok=True)


def neo4j_gds_test_home() -> Path:
    """The home of the tests' server with the Graph Data Science library: beside the plain one."""
    explicit = os.environ.get("NETANALYSIS_TEST_NEO4J_GDS_HOME")
    if explicit:
        return Path(explicit).expanduser()
    plain = neo4j_test_home()
    return plain.with_name(plain.name + "-gds")


@pytest.fixture(scope="session")
def neo4j_gds_server() -> Iterator[Neo4jConnection]:
    """The toolkit's own server with the Graph Data Science library (``start(gds=True)``), in its
    own home (``$NETANALYSIS_TEST_NEO4J_GDS_HOME``, else the plain test home's name plus ``-gds``),
    so the other Neo4j tests keep a server without plugins. ``NEO4J_GDS_URI`` (with the usual
    ``NEO4J_USERNAME``/``NEO4J_PASSWORD``) points the tests at a server of your own instead.
    Fails, never skips, when no server comes up.
    """
    own = _own_server("NEO4J_GDS_URI")
    if own is not None:
        yield own
        return
    yield from _session_server(neo4j_gds_test_home(), gds=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture()
def neo4j_clean(neo4j_server: Neo4jConnection) -> Iterator[Neo4jConnection]:
    """The session's Neo4j server with an empty graph (indexes and constraints are kept)."""
    from neo4j import GraphDatabase

    with (
        GraphDatabase.driver(neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)) as driver,
        driver.session() as session,
    ):
        session.run(WIPE_NEO4J).consume()
    yield neo4j_server


@pytest.fixture()
def neo4j_gds_clean(neo4j_gds_server: Neo4jConnection) -> Iterator[Neo4jConnection]:
    """The session's server with GDS, with an empty graph."""
    from neo4j import GraphDatabase

    with (
        GraphDatabase.driver(
            neo4j_gds_server.uri, auth=(neo4j_gds_server.user, neo4j_gds_server.password)
        ) as driver,
        driver.session() as session,
    ):
        session.run(WIPE_NEO4J).consume()
    yield neo4j_gds_server


# --- an empty store of each kind ------------------------------------------------------------------


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty store of each kind: an embedded file and the session's real Neo4j server.

    The Neo4j credentials are also put in the environment, where the CLI looks for them.
    """
    from graphstore import open_store

    if request.param == "neo4j":
        from graphstore.neo4j_store import Neo4jStore

        server: Any = request.getfixturevalue("neo4j_clean")
        monkeypatch.setenv("NEO4J_USERNAME", server.user)
        monkeypatch.setenv("NEO4J_PASSWORD", server.password)
        opened: Any = Neo4jStore(server.uri, user=server.user, password=server.password)
    else:
        opened = open_store(str(tmp_path / "graph.db"))
    try:
        yield opened
    finally:
        opened.close()


# Fixtures that start or use a real Neo4j server: a test that asks for one is a Neo4j test
# whether or not it carries the marker, so `make check` (-m "not neo4j ...") never starts a server.
_SERVER_FIXTURES = frozenset({"neo4j_server", "neo4j_clean", "neo4j_gds_server", "neo4j_gds_clean"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.neo4j)
