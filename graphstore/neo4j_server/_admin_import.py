"""The initial import: ``neo4j-admin database import full`` into the server's ``neo4j`` database."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from graphstore.neo4j_server._java import _java
from graphstore.neo4j_server._lifecycle import start, status, stop
from graphstore.neo4j_server._provision import provision
from graphstore.neo4j_server._settings import (
    ADMIN_CLASS,
    DEFAULT_HEAP,
    DEFAULT_PAGECACHE,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    JVM_OPTIONS,
    Progress,
    _check_memory,
    _check_version,
)
from graphstore.neo4j_server._state import (
    IMPORT_DATABASE,
    IMPORT_FILES,
    ServerInfo,
    _home,
    _import_marker_path,
    _import_running,
    _locked,
    _read_import_marker,
    _read_state,
    _remove_database,
    _write_import_marker,
)
from netanalysis.errors import ConfigError

if TYPE_CHECKING:
    from graphstore.bulk_import import ImportFiles

# --- initial import (neo4j-admin database import full) ---------------------------------------

#: JVM heap and off-heap memory of the import tool on this 2-core, 24 GB machine: the importer
#: keeps its id mapping and caches off heap; by default it would claim 90 % of RAM.
IMPORT_HEAP = "2g"
IMPORT_OFF_HEAP = "4g"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _import_command(java: str, lib: Path, files: ImportFiles, heap: str, off_heap: str) -> list[str]:
    cmd = [
        java,
        f"-Xmx{heap}",
        *JVM_OPTIONS,
        "-cp",
        f"{lib}/*",
        ADMIN_CLASS,
        "database",
        "import",
        "full",
        # The database first: --nodes and --relationships take every later word as a file.
        "neo4j",
        "--overwrite-destination=true",
        # Any bad entry aborts the import: nothing is dropped silently.
        "--bad-tolerance=0",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        "--strict=true",
        # Values are written exactly: no trimming, "" is an empty string, never null.
        "--trim-strings=false",
        "--ignore-empty-strings=false",
        "--ignore-extra-columns=false",
        f"--array-delimiter=U+{ord(files.array_delimiter):04X}",
        f"--max-off-heap-memory={off_heap}",
        f"--report-file={files.report_file}",
        # Without it a failure says only "Error importing csv file"; the cause is what helps.
        "--verbose",
        "--threads=2",
    ]
    if files.multiline:
        cmd += [
            "--multiline-fields-format=v2",
            "--multiline-fields=" + ",".join(str(p) for p in files.multiline),
        ]
    cmd += [f"--nodes={label}={path}" for label, path in files.nodes]
    cmd += [f"--relationships={rel_type}={path}" for rel_type, path in files.relationships]
    return cmd


def import_full(
    files: ImportFiles,
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    import_heap: str = IMPORT_HEAP,
    import_off_heap: str = IMPORT_OFF_HEAP,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> ServerInfo:
    """Replace the ``neo4j`` database of the toolkit's server with the given CSV files.

    Stops the server of ``home`` if it runs, runs ``neo4j-admin database import full neo4j
    --overwrite-destination`` (the database's previous content, constraints and indexes are
    deleted), and starts the server again. The system database (users, the password) is kept.

    Parameters
    ----------
    files
        The node and relationship CSV files (``graphstore.bulk_import.BulkImportWriter.finish``).
    home
        The server home; ``None`` means :func:`default_home`. It must have been started before
        (its configuration and password come from that start).
    version, heap, pagecache, timeout
        As for :func:`start`, used for the restart.
    import_heap, import_off_heap
        Heap and off-heap memory of the import tool.
    progress
        Called with short lines of text at each step.

    Returns
    -------
    ServerInfo
        The restarted server.

    Raises
    ------
    ConfigError
        The home was never started, or a memory size is malformed.
    StoreError
        The import tool failed or reported a bad entry; the message quotes it. The server is
        started again with an empty ``neo4j`` database (the import had emptied it already).
    StoreUnavailable
        Java is missing or the server did not come back.
    """
    from netanalysis.errors import StoreError

    _check_version(version)
    _check_memory("import heap", import_heap)
    _check_memory("import off-heap memory", import_off_heap)
    where = _home(home)
    state = _read_state(where) if where.is_dir() else None
    if not state or not state.get("password") or not (where / "conf" / "neo4j.conf").is_file():
        raise ConfigError(
            f"{where} is not a home of the toolkit's Neo4j server; start it once with "
            "`netanalysis neo4j start` before an initial import."
        )
    java, _java_id = _java()
    lib = provision(version, progress)
    # On its own (not inside `initial_import_run`) the call marks the import itself, so that a
    # killed process leaves a database that the next start knows to remove.
    marker = _read_import_marker(where)
    own_marker = marker is None or not _import_running(marker)
    if progress:
        progress(f"stopping the Neo4j server of {where} for the import")
    stop(where)
    _write_import_marker(where, stage=IMPORT_DATABASE)
    env = dict(os.environ, NEO4J_HOME=str(where), NEO4J_CONF=str(where / "conf"))
    cmd = _import_command(java, lib, files, import_heap, import_off_heap)
    log = where / "logs" / "import.log"
    failure: str | None = None
    imported = False
    try:
        with _locked(where / ".lock"):  # no `start` of this home while the store files are rewritten
            try:
                if progress:
                    progress("importing with neo4j-admin database import full")
                try:
                    with open(log, "wb") as out:
                        done = subprocess.run(
                            cmd,
                            env=env,
                            cwd=where,
                            stdin=subprocess.DEVNULL,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            check=False,
                            preexec_fn=_die_with_parent(),
                        )
                    code: int | None = done.returncode
                except OSError as exc:
                    code, failure = None, f"could not run {java}: {exc}"
                if failure is None and code != 0:
                    failure = f"exit code {code}: {_import_error(log)}"
                if failure is None and files.report_file.is_file() and files.report_file.stat().st_size > 0:
                    first = files.report_file.read_text(errors="replace").strip().splitlines()[0]
                    failure = f"bad entries in {files.report_file}, the first: {first}"
                imported = failure is None
            finally:
                if not imported:
                    # Failed or interrupted (Ctrl-C, SIGTERM): the tool leaves half-written store
                    # files that the server cannot open; without them the server creates the
                    # database afresh, empty, as the import had already emptied it.
                    _remove_database(where)
                    _write_import_marker(where, stage=IMPORT_FILES)
    finally:
        # On every exit, also an interrupted one: the server runs again afterwards.
        if progress:
            progress("starting the Neo4j server again")
        # With the plugins it ran with: a server started --with-gds keeps GDS across the import.
        info = start(
            where,
            version=version,
            heap=heap,
            pagecache=pagecache,
            timeout=timeout,
            progress=progress,
            gds=bool(state.get("gds")),
        )
        if own_marker:
            _import_marker_path(where).unlink(missing_ok=True)
    if failure is not None:
        raise StoreError(f"neo4j-admin database import into {where} failed ({failure}); the log is {log}.")
    return info


def _die_with_parent() -> Callable[[], None] | None:
    """What the import tool's process runs before it starts: ask Linux to kill it when the process
    that started it dies, so a killed loader leaves no tool writing the store files behind it (and
    a later start of the server on them). ``None`` where there is no ``prctl``."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    parent = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return in_child


def recover_initial_import(
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> bool:
    """Put right what an initial import into ``home`` left when it was killed or cut off.

    Its CSV files are deleted; if it had got as far as replacing the database, that half-done
    database (unchecked, without constraints) is removed and the server is started with an empty
    one; a server the import left stopped is started again. Nothing happens when no import was
    left unfinished.

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.
    version, heap, pagecache, timeout
        As for :func:`start`, used when the server has to be started again.
    progress
        Called with a short line of text at each step.

    Returns
    -------
    bool
        ``True`` if an unfinished import was cleaned up.

    Raises
    ------
    ConfigError
        Another initial import into ``home`` is running.
    """
    where = _home(home)
    if not _import_marker_path(where).exists():
        return False
    with _locked(where / ".import-lock"):
        return _recover(where, version, heap, pagecache, timeout, progress)


def _recover(
    where: Path, version: str, heap: str, pagecache: str, timeout: float, progress: Progress | None
) -> bool:
    """``recover_initial_import`` with the import lock held."""
    marker = _read_import_marker(where)
    if not marker:
        return False
    if _import_running(marker):
        raise ConfigError(
            f"another initial import into {where} is running (process {marker.get('pid')}); "
            "wait for it to finish"
        )
    if progress:
        progress(f"an earlier initial import into {where} did not finish: cleaning up after it")
    if marker.get("stage") == IMPORT_DATABASE and status(where) is not None:
        stop(where)  # killed after the restart: the database was neither checked nor given its schema
    if status(where) is None:
        state = _read_state(where) or {}
        # Removes a half-done database first (_lifecycle._drop_unfinished_import).
        start(
            where,
            version=version,
            heap=heap,
            pagecache=pagecache,
            timeout=timeout,
            progress=progress,
            gds=bool(state.get("gds")),
        )
    for stale in (where / "import").glob("initial-import-*"):
        shutil.rmtree(stale, ignore_errors=True)
    _import_marker_path(where).unlink(missing_ok=True)
    return True


@contextlib.contextmanager
def initial_import_run(
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> Iterator[Path]:
    """Mark an initial import into ``home`` from its first step to its last, and clean up after it.

    A marker file (``initial-import.json`` in the home) records that this process imports, until
    the block ends, so that if the process is killed the next import (or start of the server)
    knows the state it left behind: see :func:`recover_initial_import`. On every exit of the block
    the CSV folder is deleted, and the marker too, unless the block failed after the database was
    replaced (its content then belongs to the unfinished import and is removed by the next one).

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.
    version, heap, pagecache, timeout, progress
        As for :func:`recover_initial_import`, which runs first.

    Yields
    ------
    Path
        An empty folder under ``<home>/import`` for the CSV files of this import.

    Raises
    ------
    ConfigError
        Another initial import into ``home`` is running.
    """
    where = _home(home)
    imports = where / "import"
    with _locked(where / ".import-lock"):
        _recover(where, version, heap, pagecache, timeout, progress)
        # No import runs now: a folder of one is left over (also from before there was a marker).
        for stale in imports.glob("initial-import-*"):
            shutil.rmtree(stale, ignore_errors=True)
        imports.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="initial-import-", dir=imports))
        _write_import_marker(where, stage=IMPORT_FILES, workdir=str(workdir))
    finished = False
    try:
        yield workdir
        finished = True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        marker = _read_import_marker(where)
        if finished or not marker or marker.get("stage") != IMPORT_DATABASE:
            _import_marker_path(where).unlink(missing_ok=True)


def _import_error(log: Path) -> str:
    """The import tool's own explanation: the innermost cause it printed, else its last line."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"no output in {log}"
    causes = [ln.removeprefix("Caused by: ") for ln in lines if ln.startswith("Caused by: ")]
    if causes:
        cause = causes[-1]
        # "org.neo4j...InputException: <what is wrong>": the Java class name helps nobody.
        return (cause.split("Exception: ", 1)[1] if "Exception: " in cause else cause)[:500]
    errors = [ln for ln in lines if "ERROR" in ln or "Exception" in ln]
    return (errors[0] if errors else lines[-1] if lines else "no output")[:500]
