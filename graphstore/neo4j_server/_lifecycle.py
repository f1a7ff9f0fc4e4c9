"""Starting, watching and stopping the server process: ``start``, ``status`` and ``stop``."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from graphstore.neo4j_server._config import _new_password, _set_initial_password, _write_conf
from graphstore.neo4j_server._gds import GDS_VERSION, install_plugins, provision_gds
from graphstore.neo4j_server._java import _java
from graphstore.neo4j_server._provision import provision
from graphstore.neo4j_server._settings import (
    DEFAULT_HEAP,
    DEFAULT_PAGECACHE,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    JVM_OPTIONS,
    MAIN_CLASS,
    STOP_GRACE,
    USER,
    Progress,
    _check_memory,
    _check_version,
)
from graphstore.neo4j_server._state import (
    IMPORT_DATABASE,
    IMPORT_FILES,
    ServerInfo,
    _home,
    _import_running,
    _info,
    _locked,
    _pick_ports,
    _read_import_marker,
    _read_state,
    _remove_database,
    _state_path,
    _write_import_marker,
    _write_state,
)
from netanalysis.errors import ConfigError, StoreUnavailable

# Servers started by this process, so they can be reaped (a dead child stays a zombie otherwise).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --- processes --------------------------------------------------------------------------------


def _alive(pid: int, home: Path) -> bool:
    """Whether ``pid`` is a live Neo4j server of ``home`` (not a zombie, not a reused pid)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        # Our own child: poll() is exact. Its /proc cmdline can read empty while the JVM starts.
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    else:
        with contextlib.suppress(ChildProcessError, OSError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process took the pid
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return False
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return MAIN_CLASS.encode() in cmdline and f"--home-dir={home}".encode() in cmdline
    return True


def _log_tail(home: Path, n: int = 12) -> str:
    """The last lines of the server's logs, for error messages."""
    parts = []
    for name in ("console.log", "neo4j.log"):
        path = home / "logs" / name
        if path.is_file():
            with contextlib.suppress(OSError):
                lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
                if lines:
                    parts.append(f"{path}: " + " | ".join(lines[-n:]))
    return " ;; ".join(parts) if parts else f"nothing logged yet in {home / 'logs'}"


def _wait_for_bolt(info: ServerInfo, timeout: float) -> None:
    """Wait until the server answers ``RETURN 1`` over Bolt, or raise with the log's last lines."""
    import neo4j
    from neo4j.exceptions import AuthError, DriverError, Neo4jError

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if not _alive(info.pid, info.home):
            raise StoreUnavailable(
                f"The Neo4j server in {info.home} exited while starting; last lines of its log: "
                f"{_log_tail(info.home)}"
            )
        try:
            with (
                neo4j.GraphDatabase.driver(
                    info.uri, auth=(info.user, info.password), connection_timeout=5.0
                ) as driver,
                driver.session() as session,
            ):
                # An auto-commit query: execute_query would retry with growing back-off on its own.
                session.run("RETURN 1 AS ok").consume()
            return
        except AuthError as exc:
            raise StoreUnavailable(
                f"The Neo4j server in {info.home} refused the password in {_state_path(info.home)}; "
                f"stop it and delete {info.home / 'data'} to start afresh ({exc.code})."
            ) from exc
        except (DriverError, Neo4jError, OSError) as exc:
            last = f"{type(exc).__name__}"
        if time.monotonic() > deadline:
            raise StoreUnavailable(
                f"Neo4j did not answer on {info.uri} within {timeout:g} s ({last}); last lines of "
                f"its log: {_log_tail(info.home)}"
            )
        time.sleep(1.0)


# --- public API -------------------------------------------------------------------------------


def status(home: Path | str | None = None) -> ServerInfo | None:
    """The running server of ``home`` (default ``<cache>/server``), or ``None`` if none runs.

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.

    Returns
    -------
    ServerInfo or None
        How to reach the server, if its process is alive.
    """
    where = _home(home)
    state = _read_state(where)
    if not state or not state.get("pid"):
        return None
    info = _info(state, where)
    return info if _alive(info.pid, where) else None


def start(
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
    gds: bool = False,
) -> ServerInfo:
    """Start the toolkit's Neo4j server (or return the one already running) and wait for Bolt.

    Parameters
    ----------
    home
        The server home (config, data, logs, state file); ``None`` means :func:`default_home`.
    version
        The Neo4j version to run; fetched from Maven Central into the cache on first use.
    heap, pagecache
        JVM heap and page cache sizes, e.g. ``"2g"`` and ``"1g"``.
    timeout
        Seconds to wait for Bolt to answer before giving up.
    progress
        Called with short lines of text while jars download and the server starts.
    gds
        With the Graph Data Science library (Community, ``GDS_VERSION``) in its plugins folder,
        fetched from Maven Central into the cache on first use (``detect --engine gds``). A start
        without it takes the library out of the plugins folder again.

    Returns
    -------
    ServerInfo
        URI (``bolt://127.0.0.1:<port>``), user, the generated password, pid and ports.

    Raises
    ------
    ConfigError
        A malformed version or memory size, or an unreadable state file.
    StoreUnavailable
        Java or Maven is missing, the download failed, or the server did not answer in time
        (the message quotes the last lines of its log).
    """
    _check_version(version)
    _check_memory("heap", heap)
    _check_memory("pagecache", pagecache)
    where = _home(home)
    if not where.is_dir():
        # The home will hold graph data: readable by its owner only.
        where.mkdir(parents=True, mode=0o700)
    with _locked(where / ".lock"):
        state = _read_state(where)
        if state and state.get("pid"):
            running = _info(state, where)
            if _alive(running.pid, where):
                if gds and not running.gds:
                    raise ConfigError(
                        f"The Neo4j server in {where} runs without the Graph Data Science library; "
                        "stop it (netanalysis neo4j stop) and start it again with --with-gds."
                    )
                _wait_for_bolt(running, timeout)
                return running
        _drop_unfinished_import(where, progress)
        java, java_id = _java()
        lib = provision(version, progress)
        gds_jars = provision_gds(lib, version, GDS_VERSION, progress) if gds else None
        for sub in ("conf", "data", "logs", "run", "plugins", "import"):
            (where / sub).mkdir(exist_ok=True)
        install_plugins(where, gds_jars)
        bolt, http = _pick_ports(state)
        _write_conf(where, bolt, http, pagecache, gds=gds)

        first_start = (
            not (where / "data" / "dbms" / "auth.ini").exists()
            and not (where / "data" / "databases" / "system").exists()
        )
        if first_start:
            password = _new_password()
            if progress:
                progress("setting a generated password for user neo4j")
            _set_initial_password(java, lib, where, password)
            # Saved at once: from now on this data only opens with this password.
            _write_state(where, {"user": USER, "password": password, "pid": None, "version": version})
        elif state and state.get("password"):
            password = str(state["password"])
        else:
            raise ConfigError(
                f"The Neo4j data in {where / 'data'} was created with a password that is not in "
                f"{_state_path(where)}; delete {where / 'data'} to start afresh."
            )

        if progress:
            progress(f"starting Neo4j {version} (Bolt on 127.0.0.1:{bolt})")
        cds_option, cds_partial = _class_data_sharing(lib, java_id)
        cmd = [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *JVM_OPTIONS,
            cds_option,
            "-cp",
            f"{lib}/*:{where / 'plugins'}/*",
            MAIN_CLASS,
            f"--home-dir={where}",
            f"--config-dir={where / 'conf'}",
        ]
        env = dict(os.environ, NEO4J_HOME=str(where), NEO4J_CONF=str(where / "conf"))
        console = open(where / "logs" / "console.log", "ab")  # handed to the child, closed below
        try:
            # A session of its own: Ctrl-C in the shell or test run that started it does not kill it.
            proc = subprocess.Popen(
                cmd,
                cwd=where,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StoreUnavailable(f"Could not run {java} to start Neo4j: {exc}.") from exc
        finally:
            console.close()
        _CHILDREN[proc.pid] = proc
        info = ServerInfo(
            uri=f"bolt://127.0.0.1:{bolt}",
            user=USER,
            password=password,
            pid=proc.pid,
            bolt_port=bolt,
            http_port=http,
            home=where,
            gds=gds,
        )
        started = {**asdict(info), "home": str(where), "version": version, "started": time.time()}
        if cds_partial:
            started["cds_partial"] = str(cds_partial)
        _write_state(where, started)
        try:
            _wait_for_bolt(info, timeout)
        except BaseException:
            _terminate(proc.pid, where)
            _finish_class_data(started, clean=False)
            _write_state(where, {**started, "pid": None, "cds_partial": None})
            raise
        return info


def _drop_unfinished_import(home: Path, progress: Progress | None) -> None:
    """Remove the ``neo4j`` database that an initial import left half-done when it was killed.

    The import replaces the database by contract, and its files may be half-written (the server
    could not open them) or hold a graph that was never checked nor given its constraints. Without
    them the server creates the database afresh, empty, and the import can simply run again.
    """
    marker = _read_import_marker(home)
    if not marker or marker.get("stage") != IMPORT_DATABASE or _import_running(marker):
        return
    if progress:
        progress(f"an initial import into {home} did not finish: removing the database it left half-done")
    _remove_database(home)
    # The database is empty again; the marker stays so the next import also removes its files.
    _write_import_marker(
        home, pid=marker.get("pid"), process_start=marker.get("process_start"), stage=IMPORT_FILES
    )


def _class_data_sharing(lib: Path, java_id: str) -> tuple[str, Path | None]:
    """The JVM option for a class-data-sharing archive of the server's classes, and the file a
    first run dumps it to (``None`` when the archive exists already).

    Loading and verifying Neo4j's classes is much of its start-up; with the archive (written once, when
    the first server of this version stops cleanly) a start needs about 40 % less CPU. A JVM that
    cannot map the archive (another Java build, a damaged file) ignores it and loads the classes.
    """
    final = lib.parent / f"classes-{java_id}.jsa"
    if final.is_file():
        return f"-XX:SharedArchiveFile={final}", None
    for stale in lib.parent.glob("classes-*.partial"):
        # A dump in progress lasts under a minute; an older partial is from a killed server.
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 600:
                stale.unlink()
    partial = lib.parent / f"classes-{java_id}.{secrets.token_hex(4)}.partial"
    return f"-XX:ArchiveClassesAtExit={partial}", partial


def _finish_class_data(state: dict[str, object], clean: bool) -> None:
    """After the server exited: keep the archive it dumped if it stopped cleanly, else drop it."""
    partial_name = state.get("cds_partial")
    if not partial_name:
        return
    partial = Path(str(partial_name))
    final = partial.parent / (partial.name.split(".", 1)[0] + ".jsa")
    if clean and partial.is_file() and partial.stat().st_size > 0 and not final.exists():
        os.replace(partial, final)
    else:
        partial.unlink(missing_ok=True)


def _terminate(pid: int, home: Path, grace: float = STOP_GRACE) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; ``True`` if it stopped without KILL."""
    clean = True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid, home):
        if time.monotonic() > deadline:
            clean = False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 10
            while _alive(pid, home) and time.monotonic() < kill_deadline:
                time.sleep(0.1)
            break
        time.sleep(0.2)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    return clean


def stop(home: Path | str | None = None, grace: float = STOP_GRACE) -> bool:
    """Stop the server of ``home``: SIGTERM, wait up to ``grace`` seconds, then SIGKILL.

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.
    grace
        Seconds to wait for a clean shutdown before killing the process.

    Returns
    -------
    bool
        ``True`` if a running server was stopped, ``False`` if none was running.
    """
    where = _home(home)
    if not where.is_dir():
        return False
    with _locked(where / ".lock"):
        state = _read_state(where)
        if not state or not state.get("pid"):
            return False
        pid = int(str(state["pid"]))
        was_running = _alive(pid, where)
        clean = _terminate(pid, where, grace) if was_running else False
        _finish_class_data(state, clean)
        _write_state(where, {**state, "pid": None, "cds_partial": None})
        return was_running
