"""A first big load into the toolkit's own Neo4j server with ``neo4j-admin database import``.

``initial_import`` runs the same load as ``loaders.pipeline.load`` (read, normalise, pseudonymise,
resolve, graph rows) but writes the rows to CSV files (``graphstore.bulk_import``) instead of
MERGE transactions, then stops the server, imports the files into the ``neo4j`` database, starts
the server again and applies the schema. The graph is the same as after an online load; the
server-bound MERGE step is replaced by the import tool, which writes several hundred thousand rows
a second.

Only for an EMPTY database of the toolkit's own server (``graphstore.neo4j_server``): the import
replaces the database, and it needs the server's files, so it cannot reach a remote server.

>>> import netanalysis as na                                                   # doctest: +SKIP
>>> summary = na.initial_import(["exports/"], "sources.yaml", na.load_key("k.key"),
...                             store="bolt://127.0.0.1:40123", rejects_path="rejects.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from graphstore import neo4j_server
from loaders.mapping import Mapping
from loaders.pipeline import LoadSummary, Progress, load
from loaders.pseudonymise import Pseudonymiser
from netanalysis.audit import audited, record_load
from netanalysis.errors import ConfigError, StoreError

__all__ = ["initial_import"]

REFUSAL = (
    "--initial-import only loads into an empty database of the toolkit's own server; "
    "load without it to merge into existing data"
)


@audited("load", store="store", after=record_load)
def initial_import(
    paths: list[str | os.PathLike[str]],
    mapping: Mapping | str | os.PathLike[str] | None,
    key: Pseudonymiser | str | os.PathLike[str] | None = None,
    *,
    store: str | None = None,
    home: str | os.PathLike[str] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    heap: str = neo4j_server.DEFAULT_HEAP,
    pagecache: str = neo4j_server.DEFAULT_PAGECACHE,
    server_progress: neo4j_server.Progress | None = None,
    match_threshold: float | None = None,
    estimate_m: bool | None = None,
) -> LoadSummary:
    """Load source files into the empty database of the toolkit's server by bulk import.

    Parameters
    ----------
    paths, mapping, key, rejects_path, progress
        As for ``loaders.pipeline.load``; as for every Neo4j store, rejects need ``rejects_path``.
    store
        The server's URI (``bolt://127.0.0.1:PORT``), checked against the state file of ``home``;
        None takes the URI from the state file.
    home
        The server home; default the toolkit's default server home.
    heap, pagecache
        Heap and page cache of the restarted server.
    server_progress
        Called with a short line of text at each server step (stop, import, start).

    Returns
    -------
    LoadSummary
        The same counts as an online load of the same files.

    Raises
    ------
    ConfigError
        ``store`` is not the running server of ``home``, or its database is not empty.
    StoreError
        A value cannot be written to the import files, or the import failed (the message quotes
        the import tool); the server is running again either way.
    """
    from graphstore.bulk_import import BulkImportWriter
    from graphstore.neo4j_store import Neo4jStore

    where = Path(home).expanduser().resolve() if home is not None else neo4j_server.default_home()
    # A run that was killed left files, maybe a stopped server or a half-done database: put it right.
    neo4j_server.recover_initial_import(where, heap=heap, pagecache=pagecache, progress=server_progress)
    info = neo4j_server.status(where)
    if info is None:
        raise ConfigError(
            f"no server of the toolkit runs in {where}; start it with `netanalysis neo4j start"
            f"{'' if home is None else f' --home {where}'}` ({REFUSAL})"
        )
    if store is not None and store.rstrip("/") != info.uri:
        raise ConfigError(
            f"{store} is not the toolkit's own server of {where} (that one answers at {info.uri}): {REFUSAL}"
        )
    if not _empty(info):
        raise ConfigError(f"the database at {info.uri} is not empty: {REFUSAL}")
    # From here on a marker in the home says that this process imports; every exit (also Ctrl-C,
    # SIGTERM) deletes the CSV files, and import_full starts the server again on every exit.
    with (
        _signals_end_the_import(),
        neo4j_server.initial_import_run(
            where, heap=heap, pagecache=pagecache, progress=server_progress
        ) as workdir,
    ):
        live = Neo4jStore(info.uri, user=info.user, password=info.password)
        try:
            writer = BulkImportWriter(live, workdir, check_empty=False)
            summary = load(
                paths,
                writer,
                mapping,
                key,
                rejects_path=rejects_path,
                progress=progress,
                match_threshold=match_threshold,
                estimate_m=estimate_m,
            )
            files = writer.finish()
        finally:
            live.close()
        info = neo4j_server.import_full(
            files, where, heap=heap, pagecache=pagecache, progress=server_progress
        )
        if server_progress:
            # The restart keeps the Bolt port unless another program took it meanwhile (docs/neo4j.md).
            server_progress(f"Neo4j answers at {info.uri}")
        with Neo4jStore(info.uri, user=info.user, password=info.password) as imported:
            if server_progress:
                server_progress("creating constraints and indexes")
            # The import files cannot hold an empty list (a register person's roles): markers.
            imported.restore_empty_lists(files.empty_lists)
            # The uniqueness constraints check the imported keys as they are created.
            imported.apply_schema()
            counts = imported.counts()
            # Only a complete import is recorded as a load (graphstore.loads).
            imported.begin_load(summary.batch)
            imported.end_load(summary.batch)
        expected = {**files.node_counts, **files.rel_counts}
        wrong = {name: (n, counts.get(name, 0)) for name, n in expected.items() if counts.get(name, 0) != n}
        if wrong or sum(counts.values()) != sum(expected.values()):
            raise StoreError(
                f"the imported database at {info.uri} does not hold what was written "
                f"(expected, found per label/type: {wrong}); load again without --initial-import"
            )
    return summary


@contextlib.contextmanager
def _signals_end_the_import() -> Iterator[None]:
    """Let SIGTERM and SIGHUP end the import as Ctrl-C does, through every ``finally`` (files
    deleted, server started again), instead of stopping the process where it stands."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return

    def end(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, end) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _empty(info: neo4j_server.ServerInfo) -> bool:
    """Whether the server's database holds no node at all, of any label (the import replaces
    everything, not only what the toolkit's schema knows)."""
    from graphstore.neo4j_store import Neo4jStore

    with Neo4jStore(info.uri, user=info.user, password=info.password) as store:
        return store.is_empty()
