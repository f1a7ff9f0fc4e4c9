"""Write the rejects file: every refused row, and every optional field dropped from a loaded row.

Columns: ``source, row_id, outcome, field, reason, file, line, original``. ``outcome`` is
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
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from loaders.csv_safety import guard_cell
from loaders.records import Record, Reject

__all__ = ["COLUMNS", "RejectsWriter", "guard_cell", "write_rejects"]

COLUMNS: tuple[str, ...] = ("source", "row_id", "outcome", "field", "reason", "file", "line", "original")


class RejectsWriter:
    """Stream outcomes into a rejects CSV (UTF-8 with BOM so Excel shows accents; ``,``-separated).

    Use as a context manager; :meth:`write` takes any outcome and writes the Rejects and the
    issues and corrections of Records, ignoring clean Records. ``rejected``, ``dropped`` and
    ``corrected`` count what was written.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rejected = 0
        self.dropped = 0
        self.corrected = 0
        self._handle: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def __enter__(self) -> RejectsWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=COLUMNS)
        self._writer.writeheader()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

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


def write_rejects(path: str | Path, outcomes: Iterable[Record | Reject]) -> tuple[int, int]:
    """Write the rejects and dropped fields among ``outcomes`` to ``path``.

    Returns ``(rejected rows, dropped fields)``.
    """
    with RejectsWriter(path) as writer:
        for outcome in outcomes:
            writer.write(outcome)
    return writer.rejected, writer.dropped
