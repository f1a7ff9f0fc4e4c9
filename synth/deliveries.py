"""The generated sources cut into chronological deliveries, as real monthly exports arrive.

``split(out, deliveries, seed)`` reads ``out/sources/`` back and writes
``out/deliveries/001/``, ``002/``, ... with the same file names, so each delivery folder loads
with ``out/sources.yaml``. The observation months are cut into ``deliveries`` runs of (about)
the same number of months; each row goes into the delivery of its observation month, and rows
without a readable observation date (an impossible date, a broken row) go into the first one.

Some rows are corrected later, as a source re-sends a row after fixing a typing error: the row
first arrives with one typing error in its name (two neighbouring letters swapped) and a later
delivery re-sends it, under the same row id, exactly as in ``out/sources/``. After every delivery
is loaded, the store therefore holds the rows of the one-shot set. The loader accepts such a
re-send: the record id is already stored, so the record keeps the person it describes and its
properties are overwritten (MERGE).

``out/truth/deliveries.csv`` says which delivery each row came in: ``source, row_id, delivery,
kind`` with kind ``row`` (as in the one-shot set), ``typo`` (with a typing error in ``field``,
corrected later) or ``correction`` (the re-send). Same seed, same bytes.
"""

from __future__ import annotations

import bisect
import csv
import random
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from netanalysis.errors import ConfigError
from synth.sources import _COLUMNS, SOURCES, mapping
from synth.xlsx import XlsxWriter

__all__ = ["CORRECTED_SHARE", "DELIVERY_COLUMNS", "split"]

# Share of the rows of a person, outside the last delivery, that arrive with a typo and are
# re-sent corrected later.
CORRECTED_SHARE = 0.01
DELIVERY_COLUMNS = ("source", "row_id", "delivery", "kind", "field")

# Per CSV source: file name, encoding, delimiter, line end (as synth.sources.SourceWriter writes them).
_CSV = {
    "politie_zaken": ("politie_zaken.csv", "utf-8-sig", ";", "\r\n"),
    "gemeente_signalen": ("gemeente_signalen.csv", "cp1252", ",", "\r\n"),
    "comensha_registraties": ("comensha_registraties.csv", "utf-8", ";", "\n"),
    "brp_inschrijvingen": ("brp_inschrijvingen.csv", "utf-8", ";", "\r\n"),
    "arbeidsrelaties": ("arbeidsrelaties.csv", "utf-8-sig", ";", "\n"),
}
_EXCEL = ("inspectie_arbeid", "inspectie_arbeid.xlsx", "Inspecties")
# The name column a typo goes into.
_NAME = {"last_name", "full_name"}


def _column(source: str, field: str) -> int:
    return [f for _, f in _COLUMNS[source]].index(field)


def _dated_by(source: str) -> str:
    """The field that dates a row: the observation, or in a register the start of the registration."""
    fields = [f for _, f in _COLUMNS[source]]
    return "observed_on" if "observed_on" in fields else "from_date"


def _rows(folder: Path, source: str) -> Iterator[list[Any]]:
    """The data rows of one generated source (header skipped); Excel date cells as ``date``."""
    if source == _EXCEL[0]:
        import openpyxl

        book = openpyxl.load_workbook(folder / _EXCEL[1], read_only=True)
        try:
            sheet = book[_EXCEL[2]]
            width = len(_COLUMNS[source])
            for i, values in enumerate(sheet.iter_rows(values_only=True)):
                if i == 0:
                    continue
                row = ["" if v is None else v for v in values][:width]
                row += [""] * (width - len(row))
                yield [v.date() if isinstance(v, datetime) else v for v in row]
        finally:
            book.close()
        return
    name, encoding, delimiter, _ = _CSV[source]
    with open(folder / name, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        yield from reader


def _month(value: Any, formats: list[str]) -> str:
    """``YYYY-MM`` of an observation date, or "" when it cannot be read."""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    for fmt in formats:
        try:
            parsed = datetime.strptime(str(value).strip(), fmt)
        except ValueError:
            continue
        return f"{parsed.year:04d}-{parsed.month:02d}"
    return ""


def _typo(name: str, rng: random.Random) -> str | None:
    """``name`` with two neighbouring different letters swapped, or None if it has none."""
    spots = [
        i
        for i in range(len(name) - 1)
        if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]
    ]
    if not spots:
        return None
    i = rng.choice(spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


class _Writers:
    """One writer per (delivery, source), opened when its first row comes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.csv: dict[tuple[int, str], tuple[IO[str], Any]] = {}
        self.xlsx: dict[int, XlsxWriter] = {}

    def write(self, delivery: int, source: str, row: list[Any]) -> None:
        folder = self.root / f"{delivery:03d}"
        header = [c for c, _ in _COLUMNS[source]]
        if source == _EXCEL[0]:
            if delivery not in self.xlsx:
                folder.mkdir(parents=True, exist_ok=True)
                self.xlsx[delivery] = XlsxWriter(folder / _EXCEL[1], _EXCEL[2], len(header))
                self.xlsx[delivery].append(header)
            self.xlsx[delivery].append(row)
            return
        key = (delivery, source)
        if key not in self.csv:
            folder.mkdir(parents=True, exist_ok=True)
            name, encoding, delimiter, line_end = _CSV[source]
            fh = open(folder / name, "w", encoding=encoding, newline="")
            writer = csv.writer(fh, delimiter=delimiter, lineterminator=line_end)
            writer.writerow(header)
            self.csv[key] = (fh, writer)
        self.csv[key][1].writerow(row)

    def close(self) -> None:
        for fh, _ in self.csv.values():
            fh.close()
        for xlsx in self.xlsx.values():
            xlsx.close()


def split(out: Path, deliveries: int, seed: int) -> dict[int, int]:
    """Write ``out/deliveries/NNN/`` from ``out/sources/``; returns rows per delivery (with re-sends).

    Raises :class:`ConfigError` when ``deliveries`` is below 1 or above the number of
    observation months, before any delivery is written.
    """
    if deliveries < 1:
        raise ConfigError(f"deliveries must be at least 1, got {deliveries}.")
    sources = out / "sources"
    formats = {s["name"]: list(s["date_formats"]) for s in mapping()["sources"]}
    observed = {s: _column(s, _dated_by(s)) for s in SOURCES}
    months: set[str] = set()
    for source in SOURCES:
        if _dated_by(source) != "observed_on":
            continue  # registers follow the observations' months (below)
        for row in _rows(sources, source):
            if len(row) > observed[source] and (m := _month(row[observed[source]], formats[source])):
                months.add(m)
    ordered = sorted(months)
    if deliveries > len(ordered):
        raise ConfigError(
            f"cannot cut {len(ordered)} observation months into {deliveries} deliveries; "
            f"pass --deliveries {len(ordered)} or fewer."
        )
    # Months in runs of (about) the same length: delivery k (1-based) gets the k-th run.
    delivery_of = {m: 1 + i * deliveries // len(ordered) for i, m in enumerate(ordered)}
    shutil.rmtree(out / "deliveries", ignore_errors=True)  # no stale folders of an earlier run
    rng = random.Random(seed)
    counts = dict.fromkeys(range(1, deliveries + 1), 0)
    writers = _Writers(out / "deliveries")
    later: list[tuple[int, str, list[Any], str]] = []
    try:
        with open(out / "truth" / "deliveries.csv", "w", encoding="utf-8", newline="") as fh:
            truth = csv.writer(fh, lineterminator="\n")
            truth.writerow(DELIVERY_COLUMNS)
            for source in SOURCES:
                name_at = next(i for i, (_, f) in enumerate(_COLUMNS[source]) if f in _NAME)
                name_field = _COLUMNS[source][name_at][1]
                for row in _rows(sources, source):
                    at = observed[source]
                    month = _month(row[at], formats[source]) if len(row) > at else ""
                    # A register row comes with the delivery of its start month, or of the last
                    # observation month before it (the first delivery for an older start).
                    before = bisect.bisect_right(ordered, month) if month else 0
                    number = delivery_of.get(month) or (delivery_of[ordered[before - 1]] if before else 1)
                    row_id = str(row[0])
                    sent, kind, field = row, "row", ""
                    if (
                        number < deliveries
                        and len(row) > name_at
                        and row[name_at]
                        and rng.random() < CORRECTED_SHARE
                        and (wrong := _typo(str(row[name_at]), rng)) is not None
                    ):
                        sent = [*row[:name_at], wrong, *row[name_at + 1 :]]
                        kind, field = "typo", name_field
                        later.append((rng.randint(number + 1, deliveries), source, row, name_field))
                    writers.write(number, source, sent)
                    truth.writerow((source, row_id, number, kind, field))
                    counts[number] += 1
            for number, source, row, name_field in later:
                writers.write(number, source, row)
                truth.writerow((source, str(row[0]), number, "correction", name_field))
                counts[number] += 1
    finally:
        writers.close()
    return counts
