"""The initial import: ``neo4j-admin database import full`` into the server's ``neo4j`` database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from graphstore.neo4j_server._java import _java
from graphstore.neo4j_server._lifecycle import start, stop
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
from graphstore.neo4j_server._state import ServerInfo, _home, _locked, _read_state
from netanalysis.errors import ConfigError

if TYPE_CHECKING:
    from graphstore.bulk_import import ImportFiles

# --- initial import (neo4j-admin database import full) ---------------------------------------

#: JVM heap and off-heap memory of the import tool on this 2-core, 24 GB machine: the importer
#: keeps its id mapping and caches off heap; by default it would claim 90 % of RAM.
IMPORT_HEAP = "2g"
IMPORT_OFF_HEAP = "4g"


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
    if progress:
        progress(f"stopping the Neo4j server of {where} for the import")
    stop(where)
    env = dict(os.environ, NEO4J_HOME=str(where), NEO4J_CONF=str(where / "conf"))
    cmd = _import_command(java, lib, files, import_heap, import_off_heap)
    log = where / "logs" / "import.log"
    failure: str | None = None
    with _locked(where / ".lock"):  # no `start` of this home while the store files are rewritten
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
                )
            code: int | None = done.returncode
        except OSError as exc:
            code, failure = None, f"could not run {java}: {exc}"
        if failure is None and code != 0:
            failure = f"exit code {code}: {_import_error(log)}"
        if failure is None and files.report_file.is_file() and files.report_file.stat().st_size > 0:
            first = files.report_file.read_text(errors="replace").strip().splitlines()[0]
            failure = f"bad entries in {files.report_file}, the first: {first}"
        if failure is not None:
            # The tool leaves half-written store files that the server cannot open; without them
            # the server creates the database afresh, empty, as the import had already emptied it.
            for sub in ("databases", "transactions"):
                shutil.rmtree(where / "data" / sub / "neo4j", ignore_errors=True)
    if progress:
        progress("starting the Neo4j server again")
    info = start(where, version=version, heap=heap, pagecache=pagecache, timeout=timeout, progress=progress)
    if failure is not None:
        raise StoreError(f"neo4j-admin database import into {where} failed ({failure}); the log is {log}.")
    return info


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
