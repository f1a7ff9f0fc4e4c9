"""The audit log: who read or wrote person-level data, when, for which purpose, with what result.

Neo4j Community keeps no query log, and the Police Data Act (Wpg art. 32a) and the Law Enforcement
Directive (2016/680 art. 25) ask for a log of collection, alteration, consultation, disclosure,
combination and erasure with date, time, who and why. The toolkit keeps that log itself.

The log is append-only JSON Lines. Each entry is one processing (one command or one public API
call) with the fields of the Dutch government's standard for processing logs, *Logboek
Dataverwerkingen* (``trace_id``, ``span_id``, ``name``, ``start_time``, ``end_time``,
``status_code`` and ``attributes`` with ``dpl.core.processing_activity_id``), and two more:
``seq`` (1, 2, 3 …) and ``prev_hash``/``hash``, a SHA-256 chain over the canonical JSON of each entry
and the hash of the one before. :func:`verify` names the first entry that was edited, removed,
reordered or cut off. A head file beside the log (``<log>.head``) holds the last sequence number
and hash, so that removing entries from the end is found too.

An entry never holds a clear identifier, a pseudonym of a person, or the key: parameters are
recorded by name with their values only when a value is not person-level (paths, dates, numbers,
options), outputs by path and SHA-256, and results as counts.

Examples
--------
>>> import tempfile, pathlib
>>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
>>> with log.processing("detect", analyst="a.analist", purpose=None, parameters={"seed": 0}) as p:
...     p.count("persons_out", 12)
>>> [e["name"] for e in log.entries()]
['netanalysis.detect']
>>> verify(log.path).ok
True

References
----------
Logius / MinBZK, *Logboek Dataverwerkingen* (standard for processing logs), 2024.
Directive (EU) 2016/680, art. 25 (logging). Wet politiegegevens, art. 32a.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netanalysis.errors import AccessRefused, AuditWriteError

__all__ = [
    "AuditLog",
    "Processing",
    "Verification",
    "audit_log_for",
    "current_analyst",
    "file_sha256",
    "verify",
]

GENESIS = "0" * 64
ACTIVITY_PREFIX = "dpl.core"


def current_analyst(explicit: str | None = None) -> str:
    """Who is working: ``explicit`` (``--analyst``), else ``NETANALYSIS_ANALYST``, else the OS user.

    Read at the edge (the CLI and the notebook session), never deep in the library.
    """
    if explicit:
        return explicit
    env = os.environ.get("NETANALYSIS_ANALYST")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user entry (e.g. a bare container uid)
        return f"uid:{os.getuid()}"


def audit_log_for(store: str, explicit: str | Path | None = None) -> Path:
    """Where the audit log of ``store`` lives.

    ``explicit`` (``--audit-log`` or ``NETANALYSIS_AUDIT_LOG``) wins. An embedded store keeps its
    log beside the store file (``graph.sqlite`` → ``graph.sqlite.audit.jsonl``), so that it moves
    and is backed up with it. A Neo4j store has no file of ours, so its log goes to a file in the
    user's data folder named after the server and database; operators point ``NETANALYSIS_AUDIT_LOG``
    at the path their log collector reads. (Keeping it in the database itself would let anyone who
    may write the graph rewrite the evidence of what they did, and retention would delete it.)
    """
    if explicit:
        return Path(explicit).expanduser()
    if "://" not in store:
        return Path(f"{store}.audit.jsonl")
    safe = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in store.split("://", 1)[1])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "netanalysis" / "audit" / f"{safe}.audit.jsonl"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _canonical(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a parameter value (paths as strings, sets sorted)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass
class Processing:
    """One processing being logged; filled in by the command while it runs.

    Counts and outputs are all an entry says of the data: never a value, never a pseudonym.
    """

    command: str
    analyst: str
    purpose: str | None
    activity_id: str | None
    legal_basis: str | None
    parameters: dict[str, Any]
    store: str | None
    trace_id: str = field(default_factory=lambda: secrets.token_hex(16))
    span_id: str = field(default_factory=lambda: secrets.token_hex(8))
    start_time: str = field(default_factory=_now)
    sources: set[str] = field(default_factory=set)
    batches: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def count(self, name: str, value: int) -> None:
        """Record a count (records read, rows written, persons in the output …)."""
        self.counts[name] = int(value)

    def touched(self, *, sources: Sequence[str] = (), batches: Sequence[str] = ()) -> None:
        """Record the sources and load batches this processing read or wrote."""
        self.sources.update(sources)
        self.batches.update(batches)

    def output(self, path: Path) -> None:
        """Record a file written (by path and SHA-256); a folder records every file in it."""
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            self.outputs[str(file)] = file_sha256(file)

    def entry(self, status: str, outcome: str, error_type: str | None) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            f"{ACTIVITY_PREFIX}.processing_activity_id": self.activity_id,
            "netanalysis.analyst": self.analyst,
            "netanalysis.purpose": self.purpose,
            "netanalysis.legal_basis": self.legal_basis,
            "netanalysis.command": self.command,
            "netanalysis.parameters": _plain(self.parameters),
            "netanalysis.store": self.store,
            "netanalysis.sources": sorted(self.sources),
            "netanalysis.batches": sorted(self.batches),
            "netanalysis.counts": dict(sorted(self.counts.items())),
            "netanalysis.outputs": [{"path": p, "sha256": h} for p, h in sorted(self.outputs.items())],
            "netanalysis.outcome": outcome,
        }
        if error_type:
            attributes["netanalysis.error_type"] = error_type
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "name": f"netanalysis.{self.command}",
            "start_time": self.start_time,
            "end_time": _now(),
            "status_code": status,
            "attributes": attributes,
        }


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: ``ok``, how many entries were read, the first bad one and why."""

    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


class AuditLog:
    """An append-only, hash-chained JSON Lines log at ``path`` (created 0600 on first write).

    Several processes may append at once: each append takes an exclusive ``flock`` on the log
    file, reads the last entry, and writes one whole line.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def head_path(self) -> Path:
        return self.path.with_name(self.path.name + ".head")

    def append(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Chain ``entry`` to the last one and write it; returns the entry as written.

        Raises :class:`AuditWriteError` when the log cannot be written.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise AuditWriteError(
                f"cannot write the audit log {self.path} ({exc.strerror}); nothing was released"
            ) from None
        with os.fdopen(fd, "r+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX)
                seq, prev = self._last(fh)
                written = {**entry, "seq": seq + 1, "prev_hash": prev}
                written["hash"] = _entry_hash(written)
                fh.seek(0, os.SEEK_END)
                fh.write(_canonical(written) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
                self._write_head(written["seq"], written["hash"])
            except OSError as exc:
                raise AuditWriteError(
                    f"cannot write the audit log {self.path} ({exc.strerror}); nothing was released"
                ) from None
            finally:
                with contextlib.suppress(OSError):
                    fcntl.flock(fh, fcntl.LOCK_UN)
        return written

    def _last(self, fh: Any) -> tuple[int, str]:
        """The sequence number and hash of the last whole entry (0 and the genesis hash if none)."""
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        if end == 0:
            return 0, GENESIS
        block = 1 << 16
        pos, tail = end, b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            lines = tail.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or pos == 0:
                try:
                    last = json.loads(lines[-1])
                    return int(last["seq"]), str(last["hash"])
                except (ValueError, KeyError, TypeError):
                    # A damaged last line: chain on from it anyway; verify reports it.
                    return -1, GENESIS
        return 0, GENESIS

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"seq": seq, "hash": digest}, fh)
        os.replace(tmp, self.head_path)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, in file order (unverified: call :func:`verify` to check the chain)."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(line))
        return out

    @contextlib.contextmanager
    def processing(
        self,
        command: str,
        *,
        analyst: str,
        purpose: str | None,
        parameters: Mapping[str, Any] | None = None,
        store: str | None = None,
        activity_id: str | None = None,
        legal_basis: str | None = None,
    ) -> Iterator[Processing]:
        """Log one processing: the entry is written when the block ends, whatever the outcome.

        An :class:`~netanalysis.errors.AccessRefused` error is logged as ``refused``, any other
        error as ``failed`` with its type (never its message, which may name a file of the
        analyst's). If the entry cannot be
        written, :class:`AuditWriteError` is raised instead of the block's own result.
        """
        proc = Processing(
            command=command,
            analyst=analyst,
            purpose=purpose,
            activity_id=activity_id,
            legal_basis=legal_basis,
            parameters=dict(parameters or {}),
            store=store,
        )
        try:
            yield proc
        except AccessRefused as exc:
            self.append(proc.entry("ERROR", "refused", type(exc).__name__))
            raise
        except BaseException as exc:
            outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.append(proc.entry("ERROR", outcome, type(exc).__name__))
            raise
        self.append(proc.entry("OK", "ok", None))


def verify(path: Path | str) -> Verification:
    """Check the chain of the log at ``path``.

    Returns the first entry (1-based line number) that was edited (its hash does not match),
    removed or reordered (its ``seq`` or ``prev_hash`` does not follow the one before), or cut off
    (not a whole JSON line); and whether entries were removed from the end (the head file says more
    entries were written than the log holds).
    """
    path = Path(path)
    if not path.exists():
        return Verification(False, 0, None, f"there is no audit log at {path}")
    prev, seq, n = GENESIS, 0, 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                entry = json.loads(raw)
                stated = entry["hash"]
            except (ValueError, KeyError, TypeError):
                reason = f"entry {n} is not a whole log entry (cut off or edited)"
                return Verification(False, n - 1, n, reason)
            if _entry_hash(entry) != stated:
                return Verification(False, n - 1, n, f"entry {n} was edited (its hash does not match)")
            if entry.get("seq") != seq + 1 or entry.get("prev_hash") != prev:
                return Verification(
                    False,
                    n - 1,
                    n,
                    f"entry {n} does not follow entry {n - 1} (an entry before it was removed or reordered)",
                )
            prev, seq = stated, entry["seq"]
    head_path = path.with_name(path.name + ".head")
    if head_path.exists():
        try:
            head = json.loads(head_path.read_text(encoding="utf-8"))
        except ValueError:
            return Verification(False, n, None, f"the head file {head_path} is damaged")
        if int(head.get("seq", 0)) > seq or (int(head.get("seq", 0)) == seq and head.get("hash") != prev):
            return Verification(
                False,
                n,
                seq + 1,
                f"entries after entry {seq} were removed (the head file says {head.get('seq')} were written)",
            )
    return Verification(True, n, None, "")
