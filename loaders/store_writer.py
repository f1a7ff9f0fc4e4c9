"""Hand the rows of a load to the graph store in batches, while the next rows are being built.

``StoreWriter`` buffers node rows per label and relationship rows per (type, start label, end
label); a full buffer goes to the store as one ``upsert_*`` call (MERGE, idempotent). The calls run
on one background thread, in the order the buffers filled, so building the rows of the next
records (Python, one core) overlaps with the store's work (the Neo4j server on the other core, or
SQLite outside the GIL). At most ``queue_depth`` full buffers wait, which bounds memory.

The store sees exactly the calls it would see without the thread, one at a time and in the same
order, so the graph is the same. A failure in the background stops the writer; the next ``add``,
``drain`` or ``flush`` raises it in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from typing import Any

from graphstore.base import GraphStore, RelRow
from graphstore.schema import load_schema
from loaders.graph_rows import NodeRow, RelItem

__all__ = ["StoreWriter"]

_Combo = tuple[str, str, str]
_STOP = None


class StoreWriter:
    """Batches node and relationship rows into ``store`` on a background thread.

    Parameters
    ----------
    store
        The graph store to write to. It is used only from the writer's thread between the first
        ``add`` and ``drain``/``flush``; call ``drain()`` before reading from it.
    batch_size
        Rows per store transaction.
    queue_depth
        Full buffers that may wait for the store before ``add`` blocks.
    batches_per_call
        A buffer holds this many batches and goes to the store in one call.

    Use as a context manager, so that the thread is stopped when the load fails::

        with StoreWriter(store, 5000) as writer:
            for item in rows:
                writer.add(item)
            writer.flush()
    """

    def __init__(
        self, store: GraphStore, batch_size: int, queue_depth: int = 2, batches_per_call: int = 1
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        # More batches per call let the Neo4j store prepare the next batch of a call while the
        # server writes the current one; measured at 100k rows it made no clear difference
        # (benchmarks/bench_store_writer.py), so a buffer is one batch unless asked otherwise.
        self.flush_at = batch_size * batches_per_call
        self.nodes: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.rels: dict[_Combo, dict[tuple[str, str, str], RelRow]] = defaultdict(dict)
        self.node_counts: dict[str, int] = defaultdict(int)
        self.rel_counts: dict[str, int] = defaultdict(int)
        self._keys = load_schema().node_keys
        self._queue: queue.Queue[tuple[str, Any, list[Any]] | None] = queue.Queue(maxsize=queue_depth)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # -- caller's side ------------------------------------------------------------------------

    def add(self, item: NodeRow | RelItem) -> None:
        """Buffer one row; a full buffer is queued for the store."""
        if self._error is not None:
            self._raise_failure()
        if type(item) is NodeRow or isinstance(item, NodeRow):
            key = item.props[self._keys[item.label]]
            buf = self.nodes[item.label]
            old = buf.get(key)
            # Within a buffer a later row adds to an earlier one, as MERGE would in the store.
            if old:
                buf[key] = {**old, **{k: v for k, v in item.props.items() if v is not None}}
            else:
                buf[key] = item.props
            if len(buf) >= self.flush_at:
                self._submit("nodes", item.label, list(self.nodes.pop(item.label).values()))
        else:
            combo = (item.rel_type, item.start_label, item.end_label)
            rbuf = self.rels[combo]
            rbuf[(item.row.start, item.row.end, item.row.rel_key)] = item.row
            if len(rbuf) >= self.flush_at:
                self._submit("rels", combo, list(self.rels.pop(combo).values()))

    def drain(self) -> None:
        """Wait until every queued buffer is in the store (buffers still filling stay)."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        self._raise_failure()

    def flush(self) -> None:
        """Write every buffer, partial ones too, and wait until all is in the store."""
        for label in sorted(self.nodes):
            self._submit("nodes", label, list(self.nodes.pop(label).values()))
        for combo in sorted(self.rels):
            self._submit("rels", combo, list(self.rels.pop(combo).values()))
        self.drain()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None and self._thread is not None:
            # The load failed in the caller: let queued writes finish (each is idempotent and a
            # re-run completes them), then stop the thread before the error propagates.
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    # -- writer's side ------------------------------------------------------------------------

    def _submit(self, kind: str, what: Any, rows: list[Any]) -> None:
        if not rows:
            return
        self._raise_failure()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
            self._thread.start()
        self._queue.put((kind, what, rows))

    def _run(self) -> None:
        while (job := self._queue.get()) is not _STOP:
            if self._error is not None:
                continue  # failed: keep taking jobs so the caller never blocks, write nothing
            kind, what, rows = job
            try:
                if kind == "nodes":
                    self.node_counts[what] += self.store.upsert_nodes(what, rows, batch_size=self.batch_size)
                else:
                    rel_type, start, end = what
                    self.rel_counts[rel_type] += self.store.upsert_relationships(
                        rel_type, start, end, rows, batch_size=self.batch_size
                    )
            except BaseException as exc:  # handed to the caller's thread, raised there
                self._error = exc

    def _raise_failure(self) -> None:
        if self._error is not None:
            if self._thread is not None:
                self._queue.put(_STOP)
                self._thread.join()
                self._thread = None
            raise self._error
