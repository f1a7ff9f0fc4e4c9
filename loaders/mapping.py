"""The mapping file (``sources.yaml``): how to read each source export. See docs/mapping-format.md.

``load_mapping(path)`` parses and checks the whole file up front, so a typo in a field name or a
missing key stops the load before any row is read, with one sentence naming the file and the
problem (:class:`netanalysis.errors.ConfigError`).
"""

from __future__ import annotations

import codecs
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from loaders.normalise.text import fold
from loaders.records import FIELDS
from netanalysis.errors import ConfigError

__all__ = [
    "DEFAULT_EARLIEST_DATES",
    "DEFAULT_MAX_LENGTHS",
    "FORMATS",
    "KINDS",
    "NAME_FIELDS",
    "PERSON_KINDS",
    "MAX_LENGTH_LIMIT",
    "Mapping",
    "SourceMapping",
    "check_pattern",
    "load_mapping",
    "parse_mapping",
]

KINDS: tuple[str, ...] = ("case", "signal", "victim_registration", "register")
#: Kinds of source whose every row is a person: they must map a name field or a document number
#: (a case or signal export may list cases, places or events without names).
PERSON_KINDS: tuple[str, ...] = ("victim_registration", "register")
#: The fields that name a person.
NAME_FIELDS: tuple[str, ...] = ("first_name", "last_name", "full_name")
# A plain list of persons (``kind: register``) describes persons, not cases or signals.
_NOT_IN_REGISTER: tuple[str, ...] = (
    "case_id",
    "signal_id",
    "role",
    "exploited_by",
    "recruited_by",
    "transported_by",
    "controlled_by",
)
FORMATS: tuple[str, ...] = ("csv", "excel")
DELIMITERS: tuple[str, ...] = (";", ",", "\t", "|")
_SOURCE_KEYS = {
    "name",
    "kind",
    "files",
    "format",
    "encoding",
    "delimiter",
    "sheet",
    "legal_basis",
    "reliability",
    "date_formats",
    "columns",
    "values",
    "required",
    "earliest_dates",
    "max_lengths",
    "source_column",
}
_REQUIRED_KEYS = ("name", "kind", "files", "format", "columns")
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%y", "%d/%m/%y")
#: The earliest plausible date per date field; an earlier date is refused (``earliest_dates``).
DEFAULT_EARLIEST_DATES: dict[str, dt.date] = {
    "birth_date": dt.date(1900, 1, 1),
    "observed_on": dt.date(1970, 1, 1),
}
_NAME_LENGTH = 200
_ID_LENGTH = 100
#: The longest value per field in characters (``max_lengths``); free text may have 1,000.
DEFAULT_MAX_LENGTHS: dict[str, int] = {
    **dict.fromkeys(FIELDS, 1_000),
    **dict.fromkeys(
        ("first_name", "name_particle", "last_name", "full_name", "organisation_name"), _NAME_LENGTH
    ),
    **dict.fromkeys(
        (
            "row_id",
            "case_id",
            "signal_id",
            "phone",
            "plate",
            "iban",
            "document_number",
            "postcode",
            "birth_date",
            "observed_on",
            "gender",
            "nationality",
            "kvk_number",
            "organisation_sector",
            "organisation_role",
            "house_number",
            "house_number_addition",
            "from_date",
            "to_date",
        ),
        _ID_LENGTH,
    ),
}
#: The largest ``max_lengths`` value a mapping may set (the CSV reader's field limit).
MAX_LENGTH_LIMIT = 1_000_000
# Codecs that codecs.lookup knows but that do not turn bytes of a text export into text.
_NOT_TEXT_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})


def check_pattern(pattern: str, source_name: str) -> None:
    """Refuse a ``files`` pattern that could reach outside the input folder (ConfigError).

    >>> check_pattern("exports/**/*.csv", "zaken")  # fine: nothing is returned
    >>> try:
    ...     check_pattern("../../etc/pass*", "zaken")
    ... except ConfigError as exc:
    ...     print(str(exc)[:60])
    source 'zaken': the files pattern '../../etc/pass*' must sta
    """
    pure = PurePosixPath(pattern.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or PureWindowsPath(pattern).anchor or pattern.startswith("~"):
        raise ConfigError(
            f"source {source_name!r}: the files pattern {pattern!r} must stay inside the input folder "
            "(a relative pattern without '..')."
        )


@dataclass(frozen=True)
class SourceMapping:
    """How to read one source: its files, format and the column -> canonical field map."""

    name: str
    kind: str
    files: tuple[str, ...]
    format: str = "csv"
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: str | None = None
    legal_basis: str = ""
    reliability: str = ""
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    columns: dict[str, str] = field(default_factory=dict)  # source column -> canonical field
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> folded word -> value
    required: tuple[str, ...] = ("row_id",)
    base_dir: Path | None = None  # folder of the mapping file, for relative globs
    earliest_dates: dict[str, dt.date] = field(default_factory=lambda: dict(DEFAULT_EARLIEST_DATES))
    max_lengths: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_LENGTHS))
    # A column whose value names each row's source (one file holding several sources); "" for none.
    source_column: str = ""

    @property
    def fields(self) -> dict[str, str]:
        """Canonical field -> source column."""
        return {target: column for column, target in self.columns.items()}

    def map_value(self, field_name: str, value: str) -> str:
        """Apply this source's ``values`` map for ``field_name`` (case- and accent-insensitive)."""
        table = self.values.get(field_name)
        if not table:
            return value
        return table.get(fold(value), value)


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file: version and its sources in file order."""

    version: int
    sources: tuple[SourceMapping, ...]
    path: Path | None = None

    def source(self, name: str) -> SourceMapping:
        """The source called ``name``; ConfigError naming the known sources if absent."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"{self._origin()}: no source named {name!r} (known: {known}).")

    def _origin(self) -> str:
        return str(self.path) if self.path else "mapping"


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; ConfigError with one sentence if it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: mapping file not found; pass the sources.yaml that describes "
            "your exports with --mapping."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the mapping file ({exc}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: the mapping is not valid YAML{where} ({problem}).") from None
    return parse_mapping(data, origin=str(path), base_dir=path.parent, path=path)


def parse_mapping(
    data: Any, origin: str = "mapping", base_dir: Path | None = None, path: Path | None = None
) -> Mapping:
    """Check an already-parsed mapping document (a dict) and return a :class:`Mapping`."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: {problem}.")

    if not isinstance(data, dict):
        raise fail("the mapping must be a YAML mapping with keys 'version' and 'sources'")
    unknown_top = set(data) - {"version", "sources"}
    if unknown_top:
        raise fail(
            f"unknown top-level key(s) {', '.join(sorted(map(str, unknown_top)))}; "
            "expected 'version' and 'sources'"
        )
    if data.get("version") != 1:
        raise fail(f"'version' must be 1, found {data.get('version')!r}")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise fail("'sources' must be a non-empty list of sources")
    sources: list[SourceMapping] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_sources, start=1):
        source = _parse_source(raw, position, fail, base_dir)
        if source.name in seen:
            raise fail(f"source name {source.name!r} is used twice")
        seen.add(source.name)
        sources.append(source)
    return Mapping(version=1, sources=tuple(sources), path=path)


def _parse_source(raw: Any, position: int, fail: Any, base_dir: Path | None) -> SourceMapping:
    if not isinstance(raw, dict):
        raise fail(f"source {position} must be a mapping of keys (name, kind, files, ...)")
    label = f"source {raw.get('name', position)!r}"
    for key in _REQUIRED_KEYS:
        if raw.get(key) in (None, "", [], {}):
            raise fail(f"{label} has no '{key}'")
    unknown = set(raw) - _SOURCE_KEYS
    if unknown:
        raise fail(
            f"{label} has unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            f"allowed: {', '.join(sorted(_SOURCE_KEYS))}"
        )
    name = str(raw["name"]).strip()
    if not name or any(ch in name for ch in ":/\\"):
        raise fail(f"{label}: the source name must be non-empty without ':', '/' or '\\'")
    kind = str(raw["kind"])
    if kind not in KINDS:
        raise fail(f"{label} has kind {kind!r}; use one of {', '.join(KINDS)}")
    fmt = str(raw["format"]).lower()
    if fmt == "xlsx":
        fmt = "excel"
    if fmt not in FORMATS:
        raise fail(f"{label} has format {fmt!r}; use csv or excel")
    files = raw["files"]
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        raise fail(f"{label}: 'files' must be a list of file name patterns")
    for pattern in files:
        try:
            check_pattern(pattern, str(raw["name"]))
        except ConfigError as exc:
            raise fail(str(exc).rstrip(".")) from None
    encoding = str(raw.get("encoding") or "auto")
    if encoding != "auto":
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise fail(
                f"{label} has unknown encoding {encoding!r}; use auto or a codec such as utf-8 or cp1252"
            ) from None
        # hex, rot13, zlib are bytes-to-bytes or text-to-text codecs; unicode_escape and idna
        # decode source code or host names, not exports.
        if not getattr(info, "_is_text_encoding", True) or info.name.replace("_", "-") in _NOT_TEXT_CODECS:
            raise fail(
                f"{label} has encoding {encoding!r}, which is not a text encoding; use auto or a "
                "text encoding such as utf-8, cp1252 or utf-16"
            )
    delimiter = raw.get("delimiter") or "auto"
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    if delimiter != "auto" and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise fail(f"{label} has delimiter {delimiter!r}; use auto or one character such as ';'")
    date_formats = raw.get("date_formats") or list(DEFAULT_DATE_FORMATS)
    if not isinstance(date_formats, list) or not all(isinstance(f, str) and "%" in f for f in date_formats):
        raise fail(f"{label}: 'date_formats' must be a list of strptime formats such as '%d-%m-%Y'")
    columns = raw["columns"]
    if not isinstance(columns, dict):
        raise fail(f"{label}: 'columns' must map source column names to canonical fields")
    mapped: dict[str, str] = {}
    for column, target in columns.items():
        if target not in FIELDS:
            raise fail(
                f"{label} maps column {column!r} to unknown field {target!r}; "
                f"canonical fields are {', '.join(FIELDS)}"
            )
        if target in mapped.values():
            raise fail(f"{label} maps two columns to field {target!r}")
        mapped[str(column).strip()] = str(target)
    if "row_id" not in mapped.values():
        raise fail(f"{label} maps no column to 'row_id'; every source needs a row id column")
    if "full_name" in mapped.values() and ({"first_name", "last_name"} & set(mapped.values())):
        raise fail(f"{label} maps both 'full_name' and name parts; map one or the other")
    if (
        kind in PERSON_KINDS
        and not set(NAME_FIELDS) & set(mapped.values())
        and "document_number" not in mapped.values()
    ):
        raise fail(
            f"{label} is a {kind} but maps no column to a name field ({', '.join(NAME_FIELDS)}) nor "
            "to 'document_number', so its rows could never be linked to a person; map the name columns"
        )
    if kind == "register":
        in_register = [t for t in _NOT_IN_REGISTER if t in mapped.values()]
        if in_register:
            raise fail(
                f"{label} is a register (a plain list of persons) but maps {', '.join(in_register)}; "
                "use kind case or signal for a source with cases, signals or roles"
            )
    source_column = raw.get("source_column") or ""
    if not isinstance(source_column, str):
        raise fail(f"{label}: 'source_column' must be the name of the column that names each row's source")
    source_column = source_column.strip()
    if source_column in mapped:
        raise fail(
            f"{label} maps column {source_column!r} to a field and names it as 'source_column'; "
            "a column is one or the other"
        )
    values_raw = raw.get("values") or {}
    if not isinstance(values_raw, dict):
        raise fail(f"{label}: 'values' must map a field to a table of words")
    values: dict[str, dict[str, str]] = {}
    for target, table in values_raw.items():
        if target not in FIELDS:
            raise fail(f"{label} has 'values' for unknown field {target!r}")
        if not isinstance(table, dict):
            raise fail(f"{label}: 'values.{target}' must map written words to values")
        values[str(target)] = {fold(str(k)): str(v) for k, v in table.items()}
    required_raw = raw.get("required") or ["row_id"]
    if not isinstance(required_raw, list):
        raise fail(f"{label}: 'required' must be a list of canonical fields")
    required = [str(r) for r in required_raw]
    for target in required:
        if target not in FIELDS:
            raise fail(f"{label} requires unknown field {target!r}")
        if target not in mapped.values() and not (
            target in ("first_name", "last_name") and "full_name" in mapped.values()
        ):
            raise fail(f"{label} requires field {target!r} but maps no column to it")
    if "row_id" not in required:
        required.insert(0, "row_id")
    earliest = dict(DEFAULT_EARLIEST_DATES)
    earliest_raw = raw.get("earliest_dates") or {}
    if not isinstance(earliest_raw, dict):
        raise fail(f"{label}: 'earliest_dates' must map date fields to dates such as 1970-01-01")
    for target, value in earliest_raw.items():
        if target not in DEFAULT_EARLIEST_DATES:
            raise fail(
                f"{label} has 'earliest_dates' for {target!r}; date fields are birth_date, observed_on"
            )
        try:
            earliest[str(target)] = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError:
            raise fail(f"{label}: 'earliest_dates.{target}' must be a date such as 1970-01-01") from None
    lengths = dict(DEFAULT_MAX_LENGTHS)
    lengths_raw = raw.get("max_lengths") or {}
    if not isinstance(lengths_raw, dict):
        raise fail(f"{label}: 'max_lengths' must map canonical fields to a number of characters")
    for target, value in lengths_raw.items():
        if target not in FIELDS:
            raise fail(f"{label} has 'max_lengths' for unknown field {target!r}")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH_LIMIT:
            raise fail(
                f"{label}: 'max_lengths.{target}' must be a whole number from 1 to {MAX_LENGTH_LIMIT:,}"
            )
        lengths[str(target)] = value
    sheet = raw.get("sheet")
    return SourceMapping(
        name=name,
        kind=kind,
        files=tuple(files),
        format=fmt,
        encoding=encoding,
        delimiter=str(delimiter),
        sheet=str(sheet) if sheet is not None else None,
        legal_basis=str(raw.get("legal_basis") or ""),
        reliability=str(raw.get("reliability") or "").strip().upper(),
        date_formats=tuple(date_formats),
        columns=mapped,
        values=values,
        required=tuple(required),
        base_dir=base_dir,
        earliest_dates=earliest,
        max_lengths=lengths,
        source_column=source_column,
    )
