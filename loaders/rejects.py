"""Write the rejects file: every refused row, and every optional field dropped from a loaded row.

Columns: ``batch, source, row_id, outcome, field, reason, file, line, original``. ``batch`` is
the load batch that refused the row: a rejects file gathers the refused rows of every load that
wrote to it. Writing the rejects of a batch keeps the rows of other batches and replaces the rows
of the same batch (a re-run of a load writes them again), so earlier refused rows are never lost.
The file is created readable by its owner only (0600), as the key is. ``outcome`` is
``rejected`` (the row was not loaded), ``field_dropped`` (the row was loaded without that
field) or ``field_corrected`` (the row was loaded with the field read as a correction, e.g. a
place name with a typo; the reason says what it was read as). ``original`` holds the row's values
exactly as read, as a JSON object column -> value, so the analyst can correct the export and load
it again.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) are prefixed with ``'`` by :func:`loaders.csv_safety.guard_cell`, the guard
every CSV for people uses (OWASP CSV injection guidance). The file holds clear
personal data: keep it where the source files are kept.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from loaders.csv_safety import guard_cell
from loaders.records import Record, Reject
from netanalysis.errors import ConfigError

__all__ = ["COLUMNS", "RejectsWriter", "check_rejects_path", "guard_cell", "write_rejects"]

COLUMNS: tuple[str, ...] = (
    "batch",
    "source",
    "row_id",
    "outcome",
    "field",
    "reason",
    "file",
    "line",
    "original",
)
# Files written before rejects carried their batch; their rows are kept with an empty batch.
_EARLIER_COLUMNS = COLUMNS[1:]
# Files beside an embedded store that SQLite and the toolkit own (graphstore.loads for the lock).
_STORE_SUFFIXES = ("-wal", "-shm", "-journal", ".writer.lock")


def check_rejects_path(
    target: str | os.PathLike[str], store: str | None, inputs: Iterable[str | os.PathLike[str]]
) -> None:
    """Refuse, before anything is written, a rejects file that would destroy data: the store file
    or one of its own files (``-wal``, ``-shm``, the write lock), any input of the load (source
    files, mapping, key file), a folder, or an existing file that is no rejects file."""
    path = Path(target)
    resolved = path.resolve()
    if path.is_dir():
        raise ConfigError(f"the rejects file {path} is a folder; give a file, e.g. {path / 'rejects.csv'}")
    if store and "://" not in store:
        store_file = Path(store).resolve()
        if resolved.parent == store_file.parent and (
            resolved.name == store_file.name
            or any(resolved.name == store_file.name + suffix for suffix in _STORE_SUFFIXES)
        ):
            raise ConfigError(
                f"the rejects file {path} is the store {store} or one of its own files, which writing "
                "it would destroy; choose another file, e.g. the default beside the store"
            )
    for given in inputs:
        source = Path(given)
        if resolved == source.resolve() or (path.exists() and source.exists() and path.samefile(source)):
            raise ConfigError(
                f"the rejects file {path} is an input of this load ({source}), which writing it would "
                "overwrite; choose another file"
            )
    if path.is_file() and not _is_rejects_file(path):
        raise ConfigError(
            f"{path} exists and is not a rejects file of netanalysis, so it is not replaced; choose "
            "another rejects file"
        )


def _is_rejects_file(path: Path) -> bool:
    """Whether the header line of ``path`` is that of a rejects file (checked before a load takes
    the store's write lock, so a wrong ``--rejects`` never leaves a load recorded as cut off)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader([handle.readline(65536)]), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return tuple(header) in (COLUMNS, _EARLIER_COLUMNS)


class RejectsWriter:
    """Stream outcomes into a rejects CSV (UTF-8 with BOM so Excel shows accents; ``,``-separated).

    Use as a context manager; :meth:`write` takes any outcome and writes the Rejects and the
    issues and corrections of Records, ignoring clean Records. ``rejected``, ``dropped`` and
    ``corrected`` count what was written.
    """

    def __init__(self, path: str | Path, batch: str = "") -> None:
        self.path = Path(path)
        self.batch = batch
        self.rejected = 0
        self.dropped = 0
        self.corrected = 0
        self.kept = 0
        self._handle: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")

    def __enter__(self) -> RejectsWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A new file beside the old one, owner-only from its creation, that replaces the old file
        # once complete: a load cut off while writing leaves the earlier rejects as they were.
        fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(self._temp, 0o600)  # an existing temp file keeps its mode through O_CREAT
        self._handle = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=COLUMNS)
        self._writer.writeheader()
        try:
            self._keep_other_batches()
        except BaseException:
            self.close(complete=False)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(complete=exc_type is None)

    def close(self, complete: bool = True) -> None:
        """Close the file; when ``complete``, it replaces the earlier file, else it is dropped."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            if complete:
                os.replace(self._temp, self.path)
            else:
                self._temp.unlink(missing_ok=True)

    def _keep_other_batches(self) -> None:
        """Copy the rows of other batches from the existing file; refuse a file that is no
        rejects file (it is not ours to replace)."""
        assert self._writer is not None
        if not self.path.exists():
            return
        # The original row of a line with a million fields is one long cell; the limit is the
        # process's, and the source reader sets its own (loaders.read), so it is put back.
        limit = csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                if tuple(reader.fieldnames or ()) not in (COLUMNS, _EARLIER_COLUMNS):
                    raise ConfigError(
                        f"{self.path} exists and is not a rejects file of netanalysis, so it is not "
                        "replaced; choose another rejects file"
                    )
                for row in reader:
                    if (row.get("batch") or "") != self.batch:
                        self._writer.writerow({c: row.get(c) or "" for c in COLUMNS})
                        self.kept += 1
        except (UnicodeDecodeError, csv.Error):
            raise ConfigError(
                f"{self.path} exists and is not a rejects file of netanalysis, so it is not replaced; "
                "choose another rejects file"
            ) from None
        finally:
            csv.field_size_limit(limit)

    def write(self, outcome: Record | Reject) -> None:
        if self._writer is None:
            raise RuntimeError("RejectsWriter is not open; use it in a 'with' block")
        if isinstance(outcome, Reject):
            self._row(
                outcome.source,
                outcome.row_id,
                "rejected",
                outcome.field,
                outcome.reason,
                outcome.file,
                outcome.line,
                outcome.original,
            )
            self.rejected += 1
            return
        for field, reason in outcome.issues:
            self._row(
                outcome.source,
                outcome.row_id,
                "field_dropped",
                field,
                reason,
                outcome.file,
                outcome.line,
                outcome.original,
            )
            self.dropped += 1
        for field, note in outcome.corrections:
            self._row(
                outcome.source,
                outcome.row_id,
                "field_corrected",
                field,
                note,
                outcome.file,
                outcome.line,
                outcome.original,
            )
            self.corrected += 1

    def _row(
        self,
        source: str,
        row_id: str,
        outcome: str,
        field: str,
        reason: str,
        file: str,
        line: int,
        original: dict[str, str],
    ) -> None:
        assert self._writer is not None
        self._writer.writerow(
            {
                "batch": guard_cell(self.batch),
                "source": guard_cell(source),
                "row_id": guard_cell(row_id),
                "outcome": outcome,
                "field": guard_cell(field),
                "reason": guard_cell(reason),
                "file": guard_cell(file),
                "line": str(line),
                "original": guard_cell(json.dumps(original, ensure_ascii=False)),
            }
        )


def write_rejects(path: str | Path, outcomes: Iterable[Record | Reject], batch: str = "") -> tuple[int, int]:
    """Write the rejects and dropped fields among ``outcomes`` of the load ``batch`` to ``path``,
    keeping the rows of other batches already in it.

    Returns ``(rejected rows, dropped fields)``.
    """
    with RejectsWriter(path, batch) as writer:
        for outcome in outcomes:
            writer.write(outcome)
    return writer.rejected, writer.dropped
