"""Bad input (issue 16): every row loaded or rejected with a reason, one sentence for a broken file,
no cell value in any message. The files are built here from synthetic rows."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from loaders.mapping import parse_mapping
from loaders.read import FIELD_LIMIT, assign_files, find_source_files, read_source
from loaders.records import Record, Reject
from loaders.validate import validate
from netanalysis.errors import ConfigError, InputFileError

TODAY = dt.date(2025, 6, 1)
HEADER = "Regelnummer;Rol;Achternaam;Geboortedatum;Plaats;Datum feit"
ROWS = [
    "1;Verdachte;Bilouan;25-06-1980;Utrecht;01-06-2023",
    "2;Slachtoffer;Ouaidssi;12-03-1999;Amsterdam;02-06-2023",
    "3;Verdachte;Jansen;01-01-1975;Rotterdam;03-06-2023",
]
SOURCE = {
    "name": "zaken",
    "kind": "case",
    "files": ["*.csv"],
    "format": "csv",
    "date_formats": ["%d-%m-%Y"],
    "columns": {
        "Regelnummer": "row_id",
        "Rol": "role",
        "Achternaam": "last_name",
        "Geboortedatum": "birth_date",
        "Plaats": "municipality",
        "Datum feit": "observed_on",
    },
    "values": {"role": {"Verdachte": "suspect", "Slachtoffer": "victim"}},
    "required": ["row_id", "role", "observed_on"],
}
# Values of the rows that must never appear in an error message.
PERSONAL = ["Bilouan", "Ouaidssi", "Jansen", "25-06-1980", "12-03-1999"]


def _source(**change):
    return parse_mapping({"version": 1, "sources": [{**SOURCE, **change}]}, origin="m.yaml").sources[0]


def _load(path: Path, **change) -> list[Record | Reject]:
    source = _source(**change)
    return list(validate(read_source(source, path), source, today=TODAY))


def _write(tmp_path: Path, data: bytes, name: str = "zaken.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _text(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _refused(path: Path, **change) -> str:
    with pytest.raises(InputFileError) as info:
        _load(path, **change)
    message = str(info.value)
    assert message.count(". ") == 0, message  # one sentence
    return message


# --- 6: no personal data in error messages -------------------------------------------------------


def test_file_without_header_line_quotes_nothing_of_it(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, _text(*ROWS)))
    assert "no header line" in message and "Regelnummer" in message
    for value in PERSONAL:
        assert value not in message


def test_one_column_split_quotes_nothing_of_the_first_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _text("Bilouan Ouaidssi 25-06-1980 Utrecht", "x"))
    message = _refused(path, delimiter=";")
    assert "splits into one column only" in message
    for value in PERSONAL:
        assert value not in message


# --- 9: NUL bytes and UTF-16 ---------------------------------------------------------------------


def test_a_few_binary_lines_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    broken = b"4;Verdachte;Ja\x00\x00sen;01-01-1975;Utrecht;03-06-2023"
    data = _text(HEADER, ROWS[0], ROWS[1]) + broken + b"\r\n" + _text(ROWS[2])
    outcomes = _load(_write(tmp_path, data))
    assert [o.row_id for o in outcomes if isinstance(o, Record)] == ["1", "2", "3"]
    rejects = [o for o in outcomes if isinstance(o, Reject)]
    assert len(rejects) == 1 and rejects[0].line == 4 and "binary bytes" in rejects[0].reason


def test_one_binary_line_in_a_short_export_is_rejected_alone(tmp_path: Path) -> None:
    broken = b"2;Verdachte;Ja\x00\x00sen;01-01-1975;Utrecht;03-06-2023"
    outcomes = _load(_write(tmp_path, _text(HEADER, ROWS[0]) + broken + b"\r\n" + _text(ROWS[2])))
    assert sum(isinstance(o, Record) for o in outcomes) == 2
    assert [o.line for o in outcomes if isinstance(o, Reject)] == [3]


def test_mostly_binary_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    noise = bytes(range(256)) * 20
    data = _text(HEADER) + b"\n".join(noise[i : i + 80] for i in range(0, len(noise), 80))
    said = _refused(_write(tmp_path, data))
    assert "not a text file" in said and re.search(r"\b\d+ of its first \d+ lines hold binary bytes", said)
    assert "PDF" in _refused(_write(tmp_path, b"%PDF-1.7\n" + noise, "p.csv"))


@pytest.mark.parametrize("encoding", ["auto", "utf-16"])
@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_utf16_with_bom_is_read(tmp_path: Path, encoding: str, bom: bytes) -> None:
    # Excel's "Unicode text": UTF-16 with a BOM, tab-separated.
    text = "\r\n".join(
        line.replace(";", "\t") for line in [HEADER, *ROWS, "4;Verdachte;Zoë;;Utrecht;04-06-2023"]
    )
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    outcomes = _load(_write(tmp_path, bom + text.encode(codec)), encoding=encoding)
    records = [o for o in outcomes if isinstance(o, Record)]
    assert [r.row_id for r in records] == ["1", "2", "3", "4"]
    assert records[3].values["last_name"] == "Zoë"


# --- 11: files patterns stay inside the input folders -------------------------------------------


@pytest.mark.parametrize("pattern", ["../../../../etc/pass*", "/etc/pass*", "sub/../../x.csv", "~/x.csv"])
def test_files_pattern_outside_the_folder_is_one_sentence(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(ConfigError, match="must stay inside the input folder"):
        _source(files=[pattern])


def test_a_pattern_that_escapes_is_refused_at_find_time_too(tmp_path: Path) -> None:
    source = _source()
    object.__setattr__(source, "files", ("../*.csv",))  # a SourceMapping built by hand
    (tmp_path / "data").mkdir()
    _write(tmp_path, _text(HEADER, *ROWS), "outside.csv")
    with pytest.raises(ConfigError, match="must stay inside"):
        find_source_files(source, tmp_path / "data")
    mapping = parse_mapping({"version": 1, "sources": [SOURCE]})
    assert assign_files(mapping, [tmp_path / "data"]) == {"zaken": []}


# --- 14: .xlsx formulas without a stored value, merged cells -------------------------------------


def _workbook(tmp_path: Path, rows: list[list[object]], merge: tuple[str, ...] = ()) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    path = tmp_path / "zaken.xlsx"
    book.save(path)  # openpyxl stores formulas without a cached value, as scripts do
    return path


def test_xlsx_formula_without_stored_value_is_rejected_with_that_reason(tmp_path: Path) -> None:
    rows = [r.split(";") for r in ROWS]
    rows[1][2] = '=CONCAT("Ouai","dssi")'
    path = _workbook(tmp_path, rows)
    outcomes = _load(path, format="excel", files=["*.xlsx"])
    assert [o.row_id for o in outcomes if isinstance(o, Record)] == ["1", "3"]
    (reject,) = [o for o in outcomes if isinstance(o, Reject)]
    assert reject.row_id == "2" and reject.reason == "cell C3 holds a formula without a stored value"


def test_xlsx_merged_cells_take_the_top_left_value(tmp_path: Path) -> None:
    rows = [r.split(";") for r in ROWS]
    for row in rows[1:]:
        row[4] = row[5] = None  # merged away: only the top-left cell holds a value
    path = _workbook(tmp_path, rows, merge=("E2:E4", "F2:F4"))  # place and date, over 3 rows
    outcomes = _load(path, format="excel", files=["*.xlsx"])
    records = [o for o in outcomes if isinstance(o, Record)]
    assert [r.row_id for r in records] == ["1", "2", "3"]
    assert {r.values["observed_on"] for r in records} == {"2023-06-01"}
    assert {r.values["municipality"] for r in records} == {records[0].values["municipality"]}


# --- 15: text encodings only ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["hex", "rot13", "zlib", "idna", "unicode_escape", "base64", "punycode"])
def test_non_text_encoding_is_one_sentence(encoding: str) -> None:
    with pytest.raises(ConfigError, match="not a text encoding"):
        _source(encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "latin-1", "utf-16", "utf_8_sig"])
def test_text_encodings_are_accepted(encoding: str) -> None:
    assert _source(encoding=encoding).encoding == encoding


# --- 16: a header longer than the sample ----------------------------------------------------------


def test_header_longer_than_the_sample_is_refused(tmp_path: Path) -> None:
    header = HEADER + ";" + ";".join(f"extra{i}" for i in range(150_000))
    message = _refused(_write(tmp_path, _text(header, *ROWS)))
    assert "first line is longer than 1 MB" in message


# --- 17: plausible dates -------------------------------------------------------------------------


def test_implausibly_early_observation_dates_are_rejected(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        "2;Verdachte;Jansen;01-01-1975;Utrecht;01-01-0001",
        "3;Verdachte;Jansen;;Utrecht;01-01-1800",
    ]
    outcomes = _load(_write(tmp_path, _text(HEADER, *rows)))
    rejects = {o.row_id: o for o in outcomes if isinstance(o, Reject)}
    assert set(rejects) == {"2", "3"}
    assert all(r.field == "observed_on" and "earliest plausible date" in r.reason for r in rejects.values())
    # The range is the mapping's: a cold case archive may go back further.
    later = _load(_write(tmp_path, _text(HEADER, *rows)), earliest_dates={"observed_on": "1750-01-01"})
    assert sorted(o.row_id for o in later if isinstance(o, Record)) == ["1", "3"]


def test_earliest_dates_must_be_dates_of_date_fields() -> None:
    with pytest.raises(ConfigError, match="earliest_dates"):
        _source(earliest_dates={"observed_on": "long ago"})
    with pytest.raises(ConfigError, match="earliest_dates"):
        _source(earliest_dates={"last_name": "2000-01-01"})


# --- 18: field length caps -----------------------------------------------------------------------


def test_long_values_are_rejected_with_their_length(tmp_path: Path) -> None:
    rows = [ROWS[0], "2;Verdachte;" + "J" * 201 + ";01-01-1975;Utrecht;01-06-2023", ROWS[2]]
    outcomes = _load(_write(tmp_path, _text(HEADER, *rows)))
    (reject,) = [o for o in outcomes if isinstance(o, Reject)]
    assert reject.row_id == "2" and reject.field == "last_name"
    assert (
        reject.reason
        == "the value has 201 characters; field 'last_name' takes at most 200 (max_lengths in the mapping)"
    )
    relaxed = _load(_write(tmp_path, _text(HEADER, *rows)), max_lengths={"last_name": 300})
    assert all(isinstance(o, Record) for o in relaxed)
    with pytest.raises(ConfigError, match="max_lengths"):
        _source(max_lengths={"last_name": FIELD_LIMIT + 1})


def test_a_field_over_the_reader_limit_is_a_rejected_row_not_a_memory_hog(tmp_path: Path) -> None:
    huge = "2;Verdachte;" + "J" * (FIELD_LIMIT + 10) + ";01-01-1975;Utrecht;01-06-2023"
    outcomes = _load(_write(tmp_path, _text(HEADER, ROWS[0], huge, ROWS[2])))
    assert [o.row_id for o in outcomes if isinstance(o, Record)] == ["1", "3"]
    (reject,) = [o for o in outcomes if isinstance(o, Reject)]
    assert reject.line == 3 and f"longer than {FIELD_LIMIT:,} characters" in reject.reason
    assert reject.original == {}  # the oversized line is not kept for the rejects file
