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
import contextvars
import dataclasses
import datetime as dt
import fcntl
import functools
import getpass
import hashlib
import inspect
import json
import logging
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from netanalysis.errors import AccessRefused, AuditWriteError, NetanalysisError

__all__ = [
    "AuditLog",
    "AuditSession",
    "Processing",
    "SessionToken",
    "Verification",
    "audit_log_for",
    "audited",
    "current_analyst",
    "current_processing",
    "entry_row",
    "file_sha256",
    "note_output",
    "processing",
    "safe_parameters",
    "select_entries",
    "session",
    "store_of",
    "verify",
]

ENV_ANALYST = "NETANALYSIS_ANALYST"
ENV_PURPOSE = "NETANALYSIS_PURPOSE"
ENV_REGISTER = "NETANALYSIS_PURPOSES"
ENV_LOG = "NETANALYSIS_AUDIT_LOG"

_LOGGER = logging.getLogger(__name__)

GENESIS = "0" * 64
# Files in an output folder that are not outputs: keys, audit logs, store files.
_NOT_OUTPUTS = (".key", ".jsonl", ".head", ".tmp", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal")
ACTIVITY_PREFIX = "dpl.core"


def current_analyst(explicit: str | None = None) -> str:
    """Who is working: ``explicit`` (``--analyst``), else ``NETANALYSIS_ANALYST``, else the OS user.

    Read at the edge (the CLI and the notebook session), never deep in the library.
    """
    if explicit:
        return explicit
    env = os.environ.get(ENV_ANALYST)
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
    if not store:
        # No store (an encode run, a detection on a graph built in memory): the user's own log.
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "netanalysis" / "audit" / "local.audit.jsonl"
    if "://" not in store:
        # Absolute: the log is remembered for later processings of this process (a notebook or a
        # test may change its working folder in between).
        return Path(f"{store}.audit.jsonl").expanduser().absolute()
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
            # Never a key (its hash would be a fingerprint of it), nor a log or a store file.
            if file.exists() and not file.name.endswith(_NOT_OUTPUTS):
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
            raise self._cannot_write(exc) from None
        try:
            return self._append(fd, entry)
        except OSError as exc:
            # Also when closing the file flushes, a second time, what a full disk refused.
            raise self._cannot_write(exc) from None

    def _cannot_write(self, exc: OSError) -> AuditWriteError:
        return AuditWriteError(
            f"cannot write the audit log {self.path} ({exc.strerror}); nothing was released"
        )

    def _append(self, fd: int, entry: Mapping[str, Any]) -> dict[str, Any]:
        with os.fdopen(fd, "r+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX)
                seq, prev = self._last(fh)
                damage = self._damage(seq, prev)
                written = {**entry, "seq": seq + 1, "prev_hash": prev}
                if damage:
                    # Recorded in the chain: a later append must not make the damage invisible.
                    written["log_damaged"] = damage
                written["hash"] = _entry_hash(written)
                fh.seek(0, os.SEEK_END)
                fh.write(_canonical(written) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
                self._write_head(written["seq"], written["hash"])
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

    def _damage(self, seq: int, prev: str) -> dict[str, Any] | None:
        """Warn (never stop: the log is evidence, not a lock) when the log does not end where the
        head file says it was last written (its end was edited, cut off or removed), and say what
        the head said, for the new entry to record.

        A cheap check on every append; ``netanalysis audit verify`` checks the whole chain.
        """
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if seq <= 0 and prev == GENESIS:
                return None
            head = {}
        except (OSError, ValueError):
            head = {}
        if seq == -1 or head.get("seq") != seq or head.get("hash") != prev:
            _LOGGER.warning(
                "warning: the audit log %s was changed after it was written (its last entry does not "
                "match its head file); run `netanalysis audit verify` to find the first bad entry",
                self.path,
            )
            return {"head_seq": head.get("seq"), "found_seq": seq}
        return None

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
            try:
                self.append(proc.entry("ERROR", outcome, type(exc).__name__))
            except AuditWriteError as unlogged:
                # A full disk stops the command and then its log entry: the user needs both.
                if isinstance(exc, NetanalysisError) and not isinstance(exc, AuditWriteError):
                    raise AuditWriteError(f"{exc}; {unlogged}") from exc
                raise
            raise
        try:
            self.append(proc.entry("OK", "ok", None))
        except AuditWriteError:
            # The entry comes before the output: without it, what was written is taken back.
            for written in proc.outputs:
                with contextlib.suppress(OSError):
                    Path(written).unlink()
            raise

    def check_writable(self) -> None:
        """Raise :class:`AuditWriteError` now, before any work, when the log cannot be appended to."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(fd)
        except OSError as exc:
            raise AuditWriteError(
                f"cannot write the audit log {self.path} ({exc.strerror}); nothing was done"
            ) from None


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
            damaged = entry.get("log_damaged")
            if isinstance(damaged, Mapping):
                return Verification(
                    False,
                    n - 1,
                    n,
                    f"entry {n} was written after the log had been changed (the head file said "
                    f"{damaged.get('head_seq')} entries, the log ended at {damaged.get('found_seq')})",
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


# --- The one mechanism every command and public function uses -------------------------------------
#
# A *session* says who works, for which purpose, under which register and where the log is (the CLI
# fills it from its options, a notebook from ``na.audit_session``). ``processing(command, ...)`` is
# the one context manager that logs: the outermost processing of a call writes one entry; a
# processing opened inside it (``na.load`` inside ``netanalysis load``, ``result.write`` inside
# ``detect``) adds its counts, sources and files to the outer entry instead of writing its own.


@dataclass(frozen=True)
class AuditSession:
    """Who works, for which purpose, which register binds it and where the log goes.

    Every field may be left ``None``: then ``NETANALYSIS_ANALYST`` (else the OS user),
    ``NETANALYSIS_PURPOSE``, ``NETANALYSIS_PURPOSES`` (the register's path) and
    ``NETANALYSIS_AUDIT_LOG`` (else beside the store, :func:`audit_log_for`) are used.
    """

    analyst: str | None = None
    purpose: str | None = None
    register: str | Path | None = None
    log: str | Path | None = None

    def resolved(self) -> AuditSession:
        """The session with every field not set filled from the environment."""
        return AuditSession(
            current_analyst(self.analyst),
            self.purpose or os.environ.get(ENV_PURPOSE) or None,
            self.register or os.environ.get(ENV_REGISTER) or None,
            self.log or os.environ.get(ENV_LOG) or None,
        )


# The session is process-wide, not a context variable: a notebook sets it in one cell and the
# kernel may run the next cell in another context.
_SESSION: list[AuditSession] = [AuditSession()]
_CURRENT: contextvars.ContextVar[Processing | None] = contextvars.ContextVar(
    "netanalysis_audit_processing", default=None
)
# The log of the store used last in this process: a processing without a store of its own (a
# result written to disk, a map saved) belongs with it, so a notebook on one store keeps one log.
_LAST_LOG: list[Path] = []


class SessionToken:
    """What :func:`session` returns: usable as a context manager, or left set for the session."""

    def __init__(self, previous: AuditSession) -> None:
        self._previous = previous

    def __enter__(self) -> AuditSession:
        return _SESSION[0]

    def __exit__(self, *exc: object) -> None:
        _SESSION[0] = self._previous

    def __repr__(self) -> str:
        return repr(_SESSION[0])


def session(
    *,
    analyst: str | None = None,
    purpose: str | None = None,
    register: str | Path | None = None,
    log: str | Path | None = None,
) -> SessionToken:
    """Set who works and for which purpose; fields not given keep their current value.

    Call it once in a notebook (``na.audit_session(purpose="analyse-netwerken",
    register="purposes.yaml")``) or use it as ``with session(...):`` for a block.

    Examples
    --------
    >>> with session(analyst="a.analist", purpose="p1") as s:
    ...     s.purpose
    'p1'
    """
    old = _SESSION[0]
    _SESSION[0] = AuditSession(
        analyst or old.analyst,
        purpose or old.purpose,
        register or old.register,
        log or old.log,
    )
    return SessionToken(old)


def current_processing() -> Processing | None:
    """The processing being logged in this context, if any."""
    return _CURRENT.get()


def note_output(path: Path | str) -> None:
    """Record a file (or folder) written, on the processing being logged (if any)."""
    proc = _CURRENT.get()
    if proc is not None:
        proc.output(Path(path))


def _bind_purpose(proc: Processing, sess: AuditSession) -> None:
    """Check the purpose against the register (when one is configured) and record what it says.

    Without a register the purpose given is recorded as it is: an organisation binds purposes by
    setting up its register (``NETANALYSIS_PURPOSES``), which then makes a purpose compulsory.
    """
    if sess.register is None:
        return
    from netanalysis.purposes import load_register

    found = load_register(sess.register).check(sess.purpose, proc.command)
    proc.activity_id = found.activity_id
    proc.legal_basis = found.legal_basis


def _log_path(store: str | None, sess: AuditSession) -> Path:
    if sess.log:
        return Path(sess.log).expanduser()
    if store:
        return audit_log_for(store)
    if _LAST_LOG:
        return _LAST_LOG[-1]
    return audit_log_for("")


@contextlib.contextmanager
def processing(
    command: str,
    *,
    store: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Iterator[Processing]:
    """Log one processing of person-level data: the one mechanism every command and function uses.

    Outermost: checks the log can be written (else :class:`AuditWriteError` before any work),
    binds the purpose (an unknown purpose or a command it does not allow is logged as
    ``refused`` and raised as :class:`AccessRefused`), runs the block and writes the entry.
    Nested inside another processing: yields that one, so one call writes one entry.

    Examples
    --------
    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "audit.jsonl"
    >>> with session(log=log, analyst="a.analist"):
    ...     with processing("detect", parameters={"seed": 0}) as p:
    ...         with processing("read") as inner:   # joins the outer entry
    ...             inner.count("persons_out", 7)
    >>> [(e["name"], e["attributes"]["netanalysis.counts"]) for e in AuditLog(log).entries()]
    [('netanalysis.detect', {'persons_out': 7})]
    """
    outer = _CURRENT.get()
    if outer is not None:
        if store and not outer.store:
            outer.store = store
        yield outer
        return
    sess = _SESSION[0].resolved()
    path = _log_path(store, sess)
    if store and not sess.log:
        _LAST_LOG[:] = [path]
    log = AuditLog(path)
    log.check_writable()
    with log.processing(
        command,
        analyst=sess.analyst or current_analyst(),
        purpose=sess.purpose,
        parameters=parameters,
        store=store,
    ) as proc:
        token = _CURRENT.set(proc)
        try:
            _bind_purpose(proc, sess)
            yield proc
        finally:
            _CURRENT.reset(token)


P = ParamSpec("P")
R = TypeVar("R")

# Parameter values that may name a person (a pseudonym, a node id, a record): kept as "<given>".
PERSONAL_PARAMETERS = frozenset(
    {"node", "centre", "center", "person", "persons", "record", "records"}
    # `netanalysis find`: the clear name of the person looked for is never written anywhere.
    | {"first_name", "last_name", "birth_date", "nationality"}
)


def safe_parameters(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters worth logging: plain values as they are, person-level ones redacted,
    objects (a store, a graph, a key, a frame) by their type name only.

    Examples
    --------
    >>> safe_parameters({"seed": 1, "node": "Person:abc", "key": "k.key", "graph": object()})
    {'seed': 1, 'node': '<given>', 'key': '<given>', 'graph': '<object>'}
    """
    out: dict[str, Any] = {}
    for name, value in arguments.items():
        if name in PERSONAL_PARAMETERS and value is not None:
            out[name] = "<given>"
        elif name in {"key", "key_file", "password"}:
            out[name] = None if value is None else "<given>"
        elif value is None or isinstance(value, bool | int | float | str | Path):
            out[name] = value
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[name] = _plain(value)
        elif isinstance(value, list | tuple) and all(isinstance(v, str | Path | int) for v in value):
            out[name] = [_plain(v) for v in value]
        else:
            out[name] = f"<{type(value).__name__}>"
    return out


def store_of(value: Any) -> str | None:
    """The store a value comes from: a store's ``uri``, or the store a graph was read from."""
    uri = getattr(value, "uri", None)
    if isinstance(uri, str):
        return uri
    graph_attrs = getattr(value, "graph", None)
    if isinstance(graph_attrs, Mapping):
        found = graph_attrs.get(GRAPH_STORE_ATTR)
        return str(found) if found else None
    return None


# The graph attribute read_analysis_graph sets: the store a graph was read from.
GRAPH_STORE_ATTR = "netanalysis.store"


def audited(
    command: str,
    *,
    store: str | Callable[[Mapping[str, Any]], str | None] | None = None,
    after: Callable[[Processing, Any, Mapping[str, Any]], None] | None = None,
    only_from_store: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a public function that reads or writes person-level data so that it is logged.

    ``store`` names the argument the store (or a graph read from one, or a store URI) comes in,
    or is a function of the arguments that gives the store;
    ``after(proc, result, arguments)`` records counts, sources and files from the result. Called
    inside another processing (a command), the call adds to that entry instead of writing its own.
    With ``only_from_store``, a call on data that did not come from a store (a small graph built
    in memory, a doctest) is not logged unless it runs inside a processing.

    Examples
    --------
    >>> @audited("detect", after=lambda p, r, a: p.count("persons_out", r))
    ... def count_them(n: int) -> int:
    ...     return n
    >>> import tempfile
    >>> with session(log=Path(tempfile.mkdtemp()) / "a.jsonl") as s:
    ...     count_them(3)
    ...     AuditLog(s.log).entries()[-1]["attributes"]["netanalysis.counts"]
    3
    {'persons_out': 3}
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind_partial(*args, **kwargs)
            arguments = dict(bound.arguments)
            if callable(store):
                where = store(arguments)
            else:
                value = arguments.get(store) if store else None
                where = store_of(value)
                if where is None and isinstance(value, str | Path):
                    where = str(value)
            nested = _CURRENT.get() is not None
            if only_from_store and where is None and not nested:
                return fn(*args, **kwargs)
            params = None if nested else safe_parameters(arguments)
            with processing(command, store=where, parameters=params) as proc:
                result = fn(*args, **kwargs)
                if after is not None:
                    after(proc, result, arguments)
                return result

        return inner

    return wrap


# --- What a decorated function's result says: counts and files, never values -----------------------
# Duck-typed, so that this foundation module needs none of the types it reads.


def record_load(proc: Processing, summary: Any, arguments: Mapping[str, Any]) -> None:
    """A load's counts (rows read, loaded, rejected; records; persons; merges), sources, batch,
    rejects."""
    for name in ("read", "loaded", "rejected", "records", "persons", "merges"):
        value = getattr(summary, name, None)
        if isinstance(value, int):
            proc.count(f"rows_{name}" if name in ("read", "loaded", "rejected") else name, value)
    proc.touched(sources=list(getattr(summary, "sources", {}) or {}))
    batch = getattr(summary, "batch", None)
    if batch:
        proc.touched(batches=[str(batch)])
    rejects = getattr(summary, "rejects_path", None)
    if rejects and Path(rejects).exists():
        proc.output(Path(rejects))


def record_encode(proc: Processing, summary: Any, arguments: Mapping[str, Any]) -> None:
    """An encode run's counts per source and the export folder it wrote."""
    sources = getattr(summary, "sources", {}) or {}
    proc.touched(sources=list(sources))
    for name in ("read", "encoded", "rejected"):
        proc.count(f"rows_{name}", sum(int(c.get(name, 0)) for c in sources.values()))
    for path in (getattr(summary, "out_dir", None), getattr(summary, "rejects_path", None)):
        if path and Path(path).exists():
            proc.output(Path(path))


def record_graph(proc: Processing, graph: Any, arguments: Mapping[str, Any]) -> None:
    """How many persons (and nodes) a graph read from a store holds."""
    nodes = getattr(graph, "nodes", None)
    if nodes is None:
        return
    # One pass over the labels only: a list of every node's attributes cost a second per 250k nodes.
    labels = Counter(label for _n, label in nodes(data="label"))
    proc.count("persons_read", labels.get("Person", 0))
    proc.count("nodes_read", sum(labels.values()))


def record_detection(proc: Processing, result: Any, arguments: Mapping[str, Any]) -> None:
    """A detection's output sizes: persons in groups, groups, moves, key players, leads."""
    for count, frame in (
        ("persons_out", "persons"),
        ("groups_out", "group_summary"),
        ("moves_out", "movements"),
        ("key_players_out", "key_players"),
        ("leads_out", "leads"),
    ):
        value = getattr(result, frame, None)
        if value is not None:
            proc.count(count, len(value))


def record_map(proc: Processing, network_map: Any, arguments: Mapping[str, Any]) -> None:
    """A map's size: persons shown, nodes and links."""
    nodes = getattr(network_map, "nodes", None) or []
    persons = sum(1 for n in nodes if isinstance(n, Mapping) and str(n.get("id", "")).startswith("Person:"))
    proc.count("persons_out", persons)
    proc.count("nodes_out", len(nodes))
    proc.count("links_out", len(getattr(network_map, "edges", None) or []))


def record_written(proc: Processing, result: Any, arguments: Mapping[str, Any]) -> None:
    """The files a writer returned (a path, a list of paths, or a mapping name -> path)."""
    if isinstance(result, Mapping):
        paths = list(result.values())
    elif isinstance(result, str | Path):
        paths = [result]
    else:
        paths = list(result or [])
    for path in paths:
        if isinstance(path, str | Path) and Path(path).exists():
            proc.output(Path(path))


# --- Reading the log: ``netanalysis audit show`` ---------------------------------------------------

SHOW_COLUMNS = (
    "seq",
    "start_time",
    "end_time",
    "analyst",
    "purpose",
    "command",
    "outcome",
    "store",
    "counts",
    "outputs",
)


def entry_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One entry as a flat row (the columns of ``audit show``)."""
    attrs = entry.get("attributes") or {}
    counts = attrs.get("netanalysis.counts") or {}
    outcome = str(attrs.get("netanalysis.outcome", ""))
    if attrs.get("netanalysis.error_type"):
        outcome += f" ({attrs['netanalysis.error_type']})"
    return {
        "seq": entry.get("seq"),
        "start_time": entry.get("start_time"),
        "end_time": entry.get("end_time"),
        "analyst": attrs.get("netanalysis.analyst"),
        "purpose": attrs.get("netanalysis.purpose"),
        "command": attrs.get("netanalysis.command"),
        "outcome": outcome,
        "store": attrs.get("netanalysis.store"),
        "counts": " ".join(f"{k}={v}" for k, v in counts.items()),
        "outputs": len(attrs.get("netanalysis.outputs") or []),
    }


def select_entries(
    entries: Sequence[Mapping[str, Any]],
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    analyst: str | None = None,
    purpose: str | None = None,
    command: str | None = None,
) -> list[dict[str, Any]]:
    """The entries that match every filter given, as rows; dates compare with the start time.

    Examples
    --------
    >>> e = {"seq": 1, "start_time": "2025-03-01T10:00:00Z", "attributes": {
    ...     "netanalysis.command": "detect", "netanalysis.analyst": "a", "netanalysis.outcome": "ok"}}
    >>> [r["seq"] for r in select_entries([e], date_from="2025-03-01", command="detect")]
    [1]
    >>> select_entries([e], date_to="2025-02-28")
    []
    """
    rows = []
    for entry in entries:
        row = entry_row(entry)
        day = str(row["start_time"] or "")[:10]
        if date_from and day < date_from:
            continue
        if date_to and day > date_to:
            continue
        if analyst and row["analyst"] != analyst:
            continue
        if purpose and row["purpose"] != purpose:
            continue
        if command and row["command"] != command:
            continue
        rows.append(row)
    return rows
