"""Read source files (CSV or Excel) into :class:`~loaders.records.RawRow` objects, streaming.

``read_source(source, path)`` checks the file as a whole before the first row is returned (so a
file that is not what its mapping says is refused at once with :class:`InputFileError`) and then
yields one ``RawRow`` per data row without holding the file in memory.

CSV: the encoding is UTF-8 (with or without BOM) when the first megabyte decodes as UTF-8, else
Windows-1252; a stray byte later on that is not UTF-8 is read as Windows-1252 rather than crashing
the load (``encoding: auto``). The delimiter is the one of ``; , tab |`` whose split of the first
lines finds the most mapped columns and the most consistent column count (``delimiter: auto``).
Excel (.xlsx): openpyxl in read-only mode; every cell becomes a string: integers without ``.0``,
dates as ``YYYY-MM-DD`` (with `` HH:MM:SS`` when the cell has a time), empty cells as ``""``.

A row whose number of fields differs from the header is not an error of the file: it is yielded
with ``RawRow.problem`` set (``"row has 14 fields, header has 17"``) and becomes a Reject in
:func:`loaders.validate.validate`. Blank lines are not rows and are skipped. A quote that is
never closed would swallow the lines after it into one field; such a record (several lines, wrong
number of fields) is read again line by line, so every physical line is counted as a row.

Bad input (docs/loading.md, "Bad input"): a UTF-16 file with a byte-order mark (Excel's "Unicode
text") is read as UTF-16; a line with NUL or other binary bytes, or a field longer than
:data:`FIELD_LIMIT` characters, becomes a row with ``problem`` set, while a file that is mostly
binary is refused whole. An .xlsx cell that holds a formula without a stored value makes its row a
problem row; a merged cell range gives every cell of the range the value of its top-left cell.
Error messages name files, columns, positions and counts, never the values in the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from loaders.mapping import DELIMITERS, Mapping, SourceMapping, check_pattern
from loaders.records import RawRow
from netanalysis.errors import InputFileError

__all__ = [
    "FIELD_LIMIT",
    "assign_files",
    "detect_delimiter",
    "detect_encoding",
    "find_source_files",
    "read_source",
]

_SAMPLE_BYTES = 1 << 20
_FALLBACK = "netanalysis-cp1252"
_MAX_SHOWN_COLUMNS = 12
_CP1252_HOLES = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})

#: The longest field the CSV reader takes, in characters; a longer field makes its line a problem
#: row instead of being held in memory (the mapping's ``max_lengths`` are at most this).
FIELD_LIMIT = 1_000_000
csv.field_size_limit(FIELD_LIMIT)
# Bytes that never occur in a text export: C0 controls other than tab, LF, FF, CR and Ctrl-Z.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file; save it as .xlsx or CSV"),
    (b"\x1f\x8b", "a gzip archive"),
)


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode bytes that the chosen codec refuses as Windows-1252 (Latin-1 for its 5 holes)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = bytes(exc.object[exc.start : exc.end])
    text = "".join(chr(b) if b in _CP1252_HOLES else bytes([b]).decode("cp1252") for b in chunk)
    return text, exc.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


# --------------------------------------------------------------------------------------------
# Finding the files of a source


def find_source_files(source: SourceMapping, folder: str | Path) -> list[Path]:
    """Return the files in ``folder`` (or its ``sources/`` subfolder) matching the source's globs.

    Sorted by name; an empty list when none match. A pattern only reaches files inside the folder:
    absolute patterns and ``..`` are refused (ConfigError), here and by
    :func:`loaders.mapping.parse_mapping`.
    """
    folder = Path(folder)
    found: set[Path] = set()
    for base in (folder, folder / "sources"):
        if not base.is_dir():
            continue
        for pattern in source.files:
            check_pattern(pattern, source.name)
            found.update(p for p in base.glob(pattern) if p.is_file())
    return sorted(found)


def assign_files(mapping: Mapping, paths: Iterable[str | Path]) -> dict[str, list[Path]]:
    """Map each source name to its files among ``paths`` (files or folders).

    A folder contributes the files matching each source's globs (in the folder or in its
    ``sources/`` subfolder; when no path is given the mapping file's folder is used). A file given
    by name must match exactly one source's globs, else InputFileError: a named file is never
    skipped silently.
    """
    result: dict[str, list[Path]] = {s.name: [] for s in mapping.sources}
    path_list = [Path(p) for p in paths]
    if not path_list and mapping.path is not None:
        path_list = [mapping.path.parent]
    for path in path_list:
        if path.is_dir():
            for source in mapping.sources:
                result[source.name].extend(find_source_files(source, path))
        elif path.is_file():
            owners = [
                s.name
                for s in mapping.sources
                if any(fnmatch.fnmatch(path.name, pattern.rsplit("/", 1)[-1]) for pattern in s.files)
            ]
            if len(owners) != 1:
                why = (
                    f"matches several sources ({', '.join(owners)})"
                    if owners
                    else "matches no source's files"
                )
                raise InputFileError(f"{path}: {why} in the mapping; check the 'files' patterns.")
            result[owners[0]].append(path)
        else:
            raise InputFileError(f"{path}: no such file or folder.")
    return {name: sorted(set(files)) for name, files in result.items()}


# --------------------------------------------------------------------------------------------
# Encoding and delimiter


def detect_encoding(head: bytes) -> str:
    """Return the codec for a CSV whose first bytes are ``head``: utf-8-sig, utf-16, utf-8 or cp1252.

    >>> detect_encoding(codecs.BOM_UTF16_LE + "a;b".encode("utf-16-le"))
    'utf-16'
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off by the sample's end is still UTF-8.
        if exc.reason == "unexpected end of data" and exc.start >= len(head) - 3:
            return "utf-8"
        return "cp1252"
    return "utf-8"


def _split(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
            if row and any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def detect_delimiter(sample: str, expected_columns: Iterable[str] = ()) -> str:
    """Return the delimiter among ``; , tab |`` that best splits the sample's first lines.

    The best split finds the most of ``expected_columns`` in the header, then has the most
    consistent number of fields per line, then the most fields.
    """
    expected = {_norm_header(c) for c in expected_columns}
    best: tuple[int, float, int] = (-1, -1.0, -1)
    chosen = ";"
    for delimiter in DELIMITERS:
        rows = _split(sample, delimiter)
        if not rows:
            continue
        header = {_norm_header(c) for c in rows[0]}
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = (len(expected & header), consistent if width > 1 else 0.0, width)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _norm_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _shown(header: Sequence[str]) -> str:
    names = [h for h in header if h]
    text = ", ".join(names[:_MAX_SHOWN_COLUMNS])
    if len(names) > _MAX_SHOWN_COLUMNS:
        text += f" and {len(names) - _MAX_SHOWN_COLUMNS} more"
    return text


def _column_positions(source: SourceMapping, header: list[str], file_name: str) -> list[tuple[int, str]]:
    """(index in the row, canonical field) for every mapped column; refuses a missing column."""
    exact: dict[str, int] = {}
    folded: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        exact.setdefault(name, index)
        folded.setdefault(_norm_header(name), []).append(index)
    positions: list[tuple[int, str]] = []
    columns = dict(source.columns)
    if source.source_column:
        columns[source.source_column] = SOURCE_FIELD
    for column, target in columns.items():
        if column in exact:
            positions.append((exact[column], target))
            continue
        matches = folded.get(_norm_header(column), [])
        if len(matches) == 1:
            positions.append((matches[0], target))
        elif len(matches) > 1:
            raise InputFileError(
                f"{file_name}: column {column!r} appears {len(matches)} times in the "
                "header; rename the duplicates or fix the export."
            )
        elif not any(_norm_header(c) in folded for c in source.columns):
            # Not one mapped column in the first line: it is most likely data, not a header, so
            # nothing of it is quoted (it would put names and dates in logs). When other mapped
            # columns are there, the line is a header and its names help find the typo.
            raise InputFileError(
                f"{file_name}: none of the {len(source.columns)} mapped columns of source "
                f"{source.name!r} is in the first line ({len(header)} fields), so the file has no "
                f"header line or is another export; expected a header with {_shown(list(source.columns))}."
            )
        else:
            raise InputFileError(f"{file_name}: column {column!r} is missing (found: {_shown(header)}).")
    return positions


# --------------------------------------------------------------------------------------------
# Reading


def read_source(source: SourceMapping, path: str | Path) -> Iterator[RawRow]:
    """Check ``path`` against ``source`` and return an iterator of its rows as ``RawRow``.

    Raises InputFileError at once (before iterating) when the file is empty, not text, not the
    format the mapping says, split by a delimiter that yields one column only, or lacks a mapped
    column. Row-level problems never raise: see ``RawRow.problem``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file.")
    rows = _read_excel(source, path) if source.format == "excel" else _read_csv(source, path)
    return _named_sources(rows, source.source_column) if source.source_column else rows


#: The key under which the reader passes the ``source_column`` value of a row (never a field).
SOURCE_FIELD = "_source"
_SOURCE_NAME_LENGTH = 100


def _named_sources(rows: Iterator[RawRow], column: str) -> Iterator[RawRow]:
    """Give each row the source its ``source_column`` names (one file holding several sources).

    A row whose column is empty or holds a name that cannot be a source name (``:``, ``/``, ``\\``)
    gets a problem, so it is rejected with its reason like any other row that cannot be read.
    """
    for row in rows:
        if SOURCE_FIELD in row.values:
            name = row.values.pop(SOURCE_FIELD).strip()
            if not name:
                row.problem = f"the source column {column!r} is empty"
            elif len(name) > _SOURCE_NAME_LENGTH:
                row.problem = (
                    f"the source column {column!r} holds a name longer than {_SOURCE_NAME_LENGTH} characters"
                )
            elif any(ch in name for ch in ":/\\") or not name.isprintable():
                row.problem = (
                    f"the source column {column!r} holds a name with ':', '/', '\\' or a control "
                    "character, which cannot name a source"
                )
            else:
                row.source = name
        yield row


def _make_header(raw: Sequence[str]) -> list[str]:
    header = [" ".join(str(h).replace("\ufeff", "").split()) for h in raw]
    # Unnamed columns still need a key so their values are kept for the rejects file.
    return [h if h else f"_column{i + 1}" for i, h in enumerate(header)]


def _is_utf16(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith("utf-16")


def _binary_kind(head: bytes, utf16: bool) -> str | None:
    """What a file that is not text is (e.g. "a PDF document"), or None for a text file.

    A text file with a few broken lines is text (those lines become problem rows); a file is
    binary when most of its sampled lines hold bytes that never occur in text (a single broken
    line in a short export must not refuse its good rows).
    """
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if utf16:
        return None
    lines = [line for line in head.split(b"\n") if line.strip()]
    broken = sum(1 for line in lines if _BINARY_BYTES.search(line))
    if lines and broken * 2 > len(lines):
        return f"not a text file ({broken} of its first {len(lines)} lines hold binary bytes such as NUL)"
    return None


def _read_csv(source: SourceMapping, path: Path) -> Iterator[RawRow]:
    name = path.name
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if not head.strip():
        raise InputFileError(
            f"{name}: the file is empty; expected a header line with the columns of source {source.name!r}."
        )
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(
            f"{name}: this is an Excel/zip file, but the mapping says csv for "
            f"source {source.name!r}; set format: excel."
        )
    encoding = detect_encoding(head) if source.encoding == "auto" else source.encoding
    utf16 = _is_utf16(encoding)
    if not utf16 and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, utf16 = "utf-16", True  # the BOM says so, whatever the mapping guessed
    kind = _binary_kind(head, utf16)
    if kind is not None:
        what = f"this is {kind}" if kind.startswith("not a text file") else f"this is {kind}, not a text file"
        raise InputFileError(f"{name}: {what}; expected a CSV export for source {source.name!r}.")
    decoder = codecs.getincrementaldecoder(encoding)(errors=_FALLBACK)
    try:
        sample = decoder.decode(head, final=len(head) < _SAMPLE_BYTES)
    except UnicodeError:
        raise InputFileError(
            f"{name}: cannot be read as {encoding}; set 'encoding' for source {source.name!r} "
            "to the file's text encoding (or auto)."
        ) from None
    if len(head) == _SAMPLE_BYTES:
        if "\n" not in sample:
            raise InputFileError(
                f"{name}: the first line is longer than {_SAMPLE_BYTES // (1 << 20)} MB, so it is "
                f"not a header of column names; expected the columns of source {source.name!r}."
            )
        sample = sample[: sample.rfind("\n") + 1]
    delimiter = source.delimiter
    if delimiter == "auto":
        delimiter = detect_delimiter(sample, source.columns)
    first = _split(sample, delimiter, limit=1)
    if not first:
        raise InputFileError(f"{name}: no header line found; expected the columns of source {source.name!r}.")
    header = _make_header(first[0])
    if len(header) == 1 and len(source.columns) > 1:
        shown = repr(delimiter) if delimiter != "\t" else "tab"
        raise InputFileError(
            f"{name}: the header splits into one column only with delimiter {shown}, so the file is "
            f"not separated the way the mapping says (the first line has {len(first[0][0])} "
            f"characters; expected {len(source.columns)} mapped columns)."
        )
    positions = _column_positions(source, header, name)

    def rows() -> Iterator[RawRow]:
        with path.open(encoding=encoding, errors=_FALLBACK, newline="") as text:
            yield from _rows(source, path, _records(text, delimiter, len(header)), header, positions)

    return rows()


_BINARY_LINE = "the line holds binary bytes (such as NUL), so it is not a row of text"
_LONG_FIELD = f"a field is longer than {FIELD_LIMIT:,} characters"


def _records(text: Iterable[str], delimiter: str, width: int) -> Iterator[tuple[int, list[str], str]]:
    """(first line, fields, problem) per CSV record.

    A record that spans several lines and has the wrong number of fields is almost always a quote
    that is never closed, which swallows the lines after it; such a record is split again line by
    line without quote handling, so each physical line is counted as a row of its own. A line
    with binary bytes, or with a field longer than :data:`FIELD_LIMIT`, is a problem record.
    """
    recent: list[str] = []

    def lines() -> Iterator[str]:
        for line in text:
            recent.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    end = 0
    while True:
        recent.clear()
        try:
            fields = next(reader)
            problem = ""
        except StopIteration:
            return
        except csv.Error as exc:
            fields = []
            if "field limit" in str(exc):
                problem = _LONG_FIELD
            else:
                problem = f"the line cannot be split into fields ({exc})"
        start, end = end + 1, reader.line_num
        if len(recent) > 1 and (problem or len(fields) != width):
            for offset, physical in enumerate(recent):
                if _BINARY.search(physical):
                    yield start + offset, [], _BINARY_LINE
                    continue
                try:
                    split = next(
                        csv.reader([physical.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), []
                    )
                except csv.Error:
                    yield start + offset, [], _LONG_FIELD
                    continue
                yield start + offset, split, ""
            continue
        if not problem and any(_BINARY.search(physical) for physical in recent):
            fields, problem = [], _BINARY_LINE
        yield start, fields, problem


def _rows(
    source: SourceMapping,
    path: Path,
    records: Iterator[tuple[int, list[str], str]],
    header: list[str],
    positions: list[tuple[int, str]],
) -> Iterator[RawRow]:
    width = len(header)
    row_index = next(i for i, f in positions if f == "row_id")
    source_name, file_name = source.name, str(path)
    header_seen = False
    for line, fields, problem in records:
        if not header_seen:
            header_seen = True
            continue
        if problem:
            yield RawRow(source_name, f"line {line}", line, {}, {}, file_name, problem=problem)
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) == width:
            original = dict(zip(header, fields, strict=True))
            values = {target: fields[index] for index, target in positions}
            row_id = values["row_id"].strip() or f"line {line}"
            yield RawRow(source_name, row_id, line, values, original, file_name)
            continue
        if not any(f.strip() for f in fields):
            continue
        original = dict(zip(header, fields, strict=False))
        for extra, value in enumerate(fields[width:], start=width + 1):
            original[f"_column{extra}"] = value
        raw_id = fields[row_index].strip() if row_index < len(fields) else ""
        yield RawRow(
            source_name,
            raw_id or f"line {line}",
            line,
            {},
            original,
            file_name,
            problem=f"row has {len(fields)} fields, header has {width}",
        )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _scan_sheet(sheet: Any) -> tuple[bool, list[tuple[int, int, int, int]]]:
    """(has formulas, merged ranges as (first row, first column, last row, last column)).

    Read-only openpyxl gives neither, so the sheet's XML is scanned once, in chunks.
    """
    from openpyxl.utils import column_index_from_string

    has_formula = False
    merged: list[tuple[int, int, int, int]] = []
    tail = b""
    with sheet._get_source() as src:
        while chunk := src.read(1 << 20):
            data = tail + chunk
            has_formula = has_formula or _FORMULA.search(data) is not None
            cut = data.rfind(b">") + 1
            for c1, r1, c2, r2 in _MERGE.findall(data[:cut]):
                merged.append(
                    (
                        int(r1),
                        column_index_from_string(c1.decode()),
                        int(r2),
                        column_index_from_string(c2.decode()),
                    )
                )
            tail = data[cut:]
    return has_formula, merged


class _SheetRows:
    """Rows of a read-only sheet as (line, cells, problem), merged cells filled from their top-left.

    ``problem`` names the first cell that holds a formula without a stored value (scripts that
    write .xlsx files often store the formula only; openpyxl then reads the cell as empty).
    """

    def __init__(self, path: Path, sheet: Any, sheet_name: str | None) -> None:
        import openpyxl

        has_formula, self.merged = _scan_sheet(sheet)
        self.first_row, self.first_col = sheet.min_row or 1, sheet.min_column or 1
        self.values = sheet.iter_rows(values_only=True)
        self.formulas: Iterator[tuple[Any, ...]] | None = None
        self._formula_book: Any = None
        if has_formula:
            self._formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
            book = self._formula_book
            other = book[sheet_name] if sheet_name is not None else book.worksheets[0]
            self.formulas = other.iter_rows(values_only=True)
        # Ranges not reached yet (the next one last) and those that cover the current row.
        self.pending = sorted(self.merged, reverse=True)
        self.active: list[tuple[int, int, int, int]] = []
        self.top_left: dict[tuple[int, int], Any] = {}

    def close(self) -> None:
        if self._formula_book is not None:
            self._formula_book.close()

    def __iter__(self) -> Iterator[tuple[int, list[Any], str]]:
        from openpyxl.utils import get_column_letter

        for index, raw in enumerate(self.values):
            line = self.first_row + index
            formulas = next(self.formulas, ()) if self.formulas is not None else ()
            cells = list(raw)
            problem = ""
            for col, (value, formula) in enumerate(zip(cells, formulas, strict=False)):
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    where = f"{get_column_letter(self.first_col + col)}{line}"
                    problem = f"cell {where} holds a formula without a stored value"
                    break
            while self.pending and self.pending[-1][0] <= line:
                self.active.append(self.pending.pop())
            self.active = [m for m in self.active if m[2] >= line]
            for r1, c1, _r2, c2 in self.active:
                key = (r1, c1)
                for column in range(c1, c2 + 1):
                    col = column - self.first_col
                    if line == r1 and column == c1:
                        self.top_left[key] = cells[col] if 0 <= col < len(cells) else None
                    elif 0 <= col:
                        cells.extend([None] * (col + 1 - len(cells)))
                        if cells[col] is None:
                            cells[col] = self.top_left.get(key)
            yield line, cells, problem


def _read_excel(source: SourceMapping, path: Path) -> Iterator[RawRow]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    name = path.name
    if path.stat().st_size == 0:
        raise InputFileError(
            f"{name}: the file is empty; expected an Excel workbook for source {source.name!r}."
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(
            f"{name}: cannot be opened as an .xlsx workbook for source "
            f"{source.name!r} ({type(exc).__name__})."
        ) from None
    sheet_rows: _SheetRows | None = None
    try:
        if source.sheet is not None:
            if source.sheet not in workbook.sheetnames:
                raise InputFileError(
                    f"{name}: sheet {source.sheet!r} is missing (found: {', '.join(workbook.sheetnames)})."
                )
            sheet = workbook[source.sheet]
        else:
            sheet = workbook.worksheets[0]
        sheet_rows = _SheetRows(path, sheet, source.sheet)
        cells = iter(sheet_rows)
        header_raw: list[str] | None = None
        for _line, row, _problem in cells:
            if any(c is not None and str(c).strip() for c in row):
                header_raw = [_cell(c) for c in row]
                break
        if header_raw is None:
            raise InputFileError(
                f"{name}: the sheet {sheet.title!r} is empty; expected a header row "
                f"with the columns of source {source.name!r}."
            )
        while header_raw and not header_raw[-1].strip():
            header_raw.pop()
        header = _make_header(header_raw)
        positions = _column_positions(source, header, name)
    except BaseException:
        if sheet_rows is not None:
            sheet_rows.close()
        workbook.close()
        raise

    def rows() -> Iterator[RawRow]:
        width = len(header)
        row_index = next(i for i, f in positions if f == "row_id")
        try:
            for line, raw, problem in cells:
                fields = [_cell(c) for c in raw]
                while len(fields) > width and not fields[-1].strip():
                    fields.pop()
                if not any(f.strip() for f in fields):
                    continue
                if len(fields) < width:
                    fields.extend([""] * (width - len(fields)))
                if problem or len(fields) > width:
                    original = dict(zip(header, fields, strict=False))
                    for extra, value in enumerate(fields[width:], start=width + 1):
                        original[f"_column{extra}"] = value
                    yield RawRow(
                        source.name,
                        fields[row_index].strip() or f"line {line}",
                        line,
                        {},
                        original,
                        str(path),
                        problem=problem or f"row has {len(fields)} filled cells, header has {width}",
                    )
                    continue
                values = {target: fields[index] for index, target in positions}
                yield RawRow(
                    source.name,
                    values["row_id"].strip() or f"line {line}",
                    line,
                    values,
                    dict(zip(header, fields, strict=True)),
                    str(path),
                )
        finally:
            assert sheet_rows is not None
            sheet_rows.close()
            workbook.close()

    return rows()
