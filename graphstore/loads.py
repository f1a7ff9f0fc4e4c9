"""Loads in a store: one writer at a time, and a record of whether the last load completed.

A load reads what the store holds (the persons' roles, the records' links) and writes merged
values back, so two loads writing into one store at once can overwrite each other's updates.
Every store therefore has a **write lock** that a load holds from its first read of the store to
its last write (``GraphStore.begin_load`` ... ``GraphStore.end_load``). A second load waits for it
at most the seconds it is given and is otherwise refused with a ``StoreError`` whose message
names the batch that is writing and since when.

- Embedded store: an OS file lock (``flock``) on ``<store file>.writer.lock``. The operating
  system releases it when the process ends in any way, so a killed load never leaves it held.
- Neo4j: a lease on one ``NetanalysisLoadLock`` node, taken in one transaction and renewed every
  ``LEASE_RENEW`` seconds by the holder; a lease not renewed for ``LEASE_STALE`` seconds (the
  holder was killed) is free again.

Each load also leaves a :class:`LoadRecord` in the store: its batch, when it started and, once its
last write is committed, when it finished. Reading commands ask ``GraphStore.last_load()`` and
refuse (:func:`incomplete_load_message`) while the last load is running or was cut off: such a
store holds part of a batch, and its groups and leads are wrong. Every write is a MERGE, so
re-running the same load finishes it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphstore.base import GraphStore

__all__ = [
    "LEASE_RENEW",
    "LEASE_STALE",
    "FileLock",
    "LoadRecord",
    "busy_message",
    "incomplete_load_message",
    "lock_path",
    "now_iso",
    "writing",
]

#: Seconds between renewals of a Neo4j load lease, and after which an unrenewed lease is free.
LEASE_RENEW = 10.0
LEASE_STALE = 60.0


@dataclass(frozen=True)
class LoadRecord:
    """One load as the store remembers it.

    Attributes
    ----------
    batch : str
        The load's batch id (a hash of its input files and mapping).
    started : str
        When it took the write lock (ISO 8601, UTC).
    finished : str or None
        When its last write was committed; None while it runs or when it was cut off.
    running : bool
        Whether a load holds the store's write lock now.
    """

    batch: str
    started: str
    finished: str | None
    running: bool

    @property
    def complete(self) -> bool:
        """Whether the load wrote everything it meant to."""
        return self.finished is not None


def now_iso() -> str:
    """The current time, UTC, to the second: ``2026-12-05T19:20:03Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def busy_message(uri: str, batch: str | None, since: str | None, holder: str | None) -> str:
    """The one sentence that refuses a load while another one writes."""
    who = f"batch {batch}" if batch else "a load"
    if holder:
        who += f", {holder}"
    when = f" since {since}" if since else ""
    return (
        f"another load is writing to the store {uri}{when} ({who}); wait until it has finished, or "
        "let this load wait for it with --wait SECONDS"
    )


def incomplete_load_message(record: LoadRecord | None, uri: str) -> str | None:
    """Why the store's graph cannot be trusted now, or None when the last load completed.

    Examples
    --------
    >>> incomplete_load_message(LoadRecord("1a2b", "2026-12-05T19:20:03Z", None, False), "g.sqlite")
    ... # doctest: +NORMALIZE_WHITESPACE
    'the last load into g.sqlite (batch 1a2b, started 2026-12-05T19:20:03Z) did not complete, so the
    store holds part of it; re-run the same load to finish it (loading the same files again is safe)'
    >>> done = LoadRecord("1a2b", "2026-12-05T19:20:03Z", "2026-12-05T19:21:00Z", running=False)
    >>> incomplete_load_message(done, "g.sqlite") is None
    True
    """
    if record is None or record.complete:
        return None
    if record.running:
        return (
            f"a load is writing to {uri} now (batch {record.batch}, started {record.started}), so "
            "the store holds part of it; wait until it has finished"
        )
    return (
        f"the last load into {uri} (batch {record.batch}, started {record.started}) did not complete, "
        "so the store holds part of it; re-run the same load to finish it (loading the same files "
        "again is safe)"
    )


def lock_path(store_file: Path) -> Path:
    """The lock file of an embedded store: ``graph.sqlite`` -> ``graph.sqlite.writer.lock``."""
    return store_file.with_name(store_file.name + ".writer.lock")


class FileLock:
    """An exclusive OS lock on a file, released by the OS when the process ends.

    The holder writes who it is into the file (``describe``), so a refused load can say who
    writes. Locks are per open file, so a second ``FileLock`` on the same path, in this process
    or another, sees the first one as held.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, holder: str) -> bool:
        """Try once to take the lock; True when taken (then ``holder`` is written into the file)."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, holder.encode("utf-8"))
        self._fd = fd
        return True

    def release(self) -> None:
        """Release the lock (the file stays: removing it would race with a waiting load)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            finally:
                _unlock(fd)
                os.close(fd)

    def taken_by_other(self) -> str | None:
        """What the holder wrote, when someone else holds the lock now; else None."""
        if self._fd is not None or not self.path.exists():
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            if _try_lock(fd, shared=True):
                _unlock(fd)
                return None
            os.lseek(fd, 0, os.SEEK_SET)
            return os.read(fd, 4096).decode("utf-8", "replace")
        finally:
            os.close(fd)


try:
    import fcntl

    def _try_lock(fd: int, shared: bool = False) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows: a byte-range lock far past the holder text
    import msvcrt

    _FAR = 1 << 30

    def _try_lock(fd: int, shared: bool = False) -> bool:
        os.lseek(fd, _FAR, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _FAR, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


@contextmanager
def writing(store: GraphStore, batch: str, wait: float = 0.0) -> Iterator[None]:
    """Hold ``store``'s write lock for the load ``batch`` while the block runs; the load is
    recorded as completed only when the block ends without an exception (Ctrl-C included)."""
    store.begin_load(batch, wait)
    completed = False
    try:
        yield
        completed = True
    finally:
        store.end_load(batch, completed=completed)
