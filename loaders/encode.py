"""Encoded exports for privacy-preserving record linkage: run by each data holder.

A data holder (a municipality, a police unit) reads and normalises its own source files with the
loaders, then writes an *encoded export*: a folder that can leave the holder because it holds no
clear identifier. The hub (``loaders.hub``) loads encoded exports of several holders and links
them fuzzily, without ever seeing a name (see ``docs/privacy-preserving-linkage.md``).

What each field becomes
-----------------------
names (first name, last name with particle, last name without particle)
    Bloom filters of padded bigrams (``loaders.bloom``): keyed random hashing, XOR-folded. Similar
    spellings give similar filters (Dice similarity), the filter cannot be read back without the key.
birth date
    The birth *year* as it is (the graph keeps it for age bands), plus keyed hashes of
    error-tolerant views of the date: the whole date, each pair of its parts (year+month,
    year+day, month+day), the year with day and month in sorted order, and eight week buckets
    (``(ordinal + i) // 8`` for ``i`` in 0..7: two dates share a bucket exactly when they are at
    most 7 days apart). The hub learns whether two dates are equal, differ in one part, are swapped
    or lie within a week of each other, which is what resolution asks, and nothing else.
phone, plate, IBAN, case number, premises, document number
    Keyed hashes (``loaders.pseudonymise``), the same values the graph uses as node keys.
blocking keys
    Keyed hashes (16 hex) of the clear blocking keys of ``loaders.resolve`` (phonetic last name +
    birth year, etc.), so the hub finds the same candidate pairs as a clear resolution.
person identity
    The keyed person pseudonym of the record's own name + birth date (and of its document
    number), as ``netanalysis load`` would compute it: a resolved person keeps the id a clear load
    gives it, so encoded and clear loads with the same key meet on the same Person node.
non-identifying fields
    role, observed_on, municipality code, PC4, premises kind, exploitation type, reliability,
    nationality, gender, signal id: as they were.

Left out on purpose: ``reported_by`` (not in the graph model) and every clear value.

Export layout
-------------
``<out>/encoding.json``
    format, version, the encoding schema (fields, q, filter length, k, hardening), its id (hash of
    the schema), the key fingerprint (never the key), per-source counts read/encoded/rejected.
``<out>/<source>.csv``
    One row per accepted record, columns ``COLUMNS``; UTF-8, comma, header.

Rejected rows keep their clear original values: they are written to a rejects file that stays
with the holder (``rejects_path``, which may not lie inside the export folder).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from loaders.bloom import BloomEncoder, to_text
from loaders.csv_safety import guard_cell
from loaders.graph_rows import premises_id
from loaders.linkage import BlockingRule
from loaders.mapping import Mapping, load_mapping
from loaders.pseudonymise import Pseudonymiser, load_key
from loaders.read import assign_files
from loaders.records import Record, Reject
from loaders.rejects import check_rejects_path, write_rejects
from loaders.resolve import (
    Features,
    blocking_rules,
    describes_person,
    document_identity_string,
    features,
    identity_string,
)
from netanalysis.audit import audited, record_encode
from netanalysis.errors import ConfigError

__all__ = [
    "COLUMNS",
    "ENCODING_FILE",
    "EXPORT_FORMAT",
    "EncodingSchema",
    "ExportSummary",
    "birth_views",
    "encode",
    "encode_record",
    "encode_records",
]

EXPORT_FORMAT = "netanalysis-encoded-export"
ENCODING_FILE = "encoding.json"
_VERSION = 1
_SHORT = 16  # hex characters of equality-only keyed hashes (64 bits: no accidental collisions)

COLUMNS: tuple[str, ...] = (
    "source", "row_id", "kind", "legal_basis", "default_reliability", "person",
    "role", "observed_on", "municipality", "postcode", "premises_kind", "exploitation_type",
    "reliability", "signal_id", "nationality", "gender", "birth_year",
    "case", "phone", "plate", "iban", "document", "premises", "identity", "document_identity",
    "first", "last", "last_core",
    "birth", "birth_ym", "birth_yd", "birth_md", "birth_swap", "birth_week", "blocks",
)  # fmt: skip

# Values passed on as they were (field on the Record -> column).
_PLAIN = (
    "role", "observed_on", "municipality", "postcode", "premises_kind", "exploitation_type",
    "reliability", "signal_id", "nationality", "gender",
)  # fmt: skip


@dataclass(frozen=True)
class EncodingSchema:
    """How identifying fields are encoded; exports can only be linked when their schemas are equal.

    Attributes
    ----------
    q : int
        q-gram length of the name filters.
    length : int
        Filter length before XOR-folding.
    k : int
        Bits set per q-gram.
    fold : bool
        XOR-folding on (stored filters have ``length // 2`` bits).
    """

    q: int = 2
    length: int = 1024
    k: int = 10
    fold: bool = True
    version: int = _VERSION
    name_fields: tuple[str, ...] = ("first", "last", "last_core")
    hashed_fields: tuple[str, ...] = (
        "case", "phone", "plate", "iban", "document", "premises", "identity", "document_identity",
        "birth", "birth_ym", "birth_yd", "birth_md", "birth_swap", "birth_week", "blocks",
    )  # fmt: skip
    plain_fields: tuple[str, ...] = _PLAIN + ("birth_year",)
    hardening: tuple[str, ...] = ("keyed-random-hashing", "xor-folding")

    @property
    def bits(self) -> int:
        """Stored filter length."""
        return self.length // 2 if self.fold else self.length

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``encoding.json``."""
        data = asdict(self)
        data["bits"] = self.bits
        return data

    @cached_property
    def schema_id(self) -> str:
        """Hash of the schema: equal ids mean comparable encodings."""
        # Cached: every record's comparison value carries it, and computing it (asdict, JSON,
        # SHA-256) took a tenth of a load's CPU. The schema is frozen, so it cannot go stale.
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncodingSchema:
        """Read the schema back from ``encoding.json``; raises ConfigError when it is malformed."""
        try:
            return cls(
                q=int(data["q"]),
                length=int(data["length"]),
                k=int(data["k"]),
                fold=bool(data["fold"]),
                version=int(data["version"]),
                name_fields=tuple(data["name_fields"]),
                hashed_fields=tuple(data["hashed_fields"]),
                plain_fields=tuple(data["plain_fields"]),
                hardening=tuple(data["hardening"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                "the encoding schema in encoding.json is incomplete or malformed; "
                "export the data again with `netanalysis encode`"
            ) from None


@dataclass
class ExportSummary:
    """What an encode run wrote: per source rows read, encoded and rejected."""

    out_dir: str
    key_fingerprint: str
    schema_id: str
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    @property
    def encoded(self) -> int:
        return sum(c["encoded"] for c in self.sources.values())


class _ShortHasher:
    """Equality-only keyed hashes (16 hex) for birth views and blocking keys, cached.

    Uses a sub-key derived from the shared key through the pseudonymiser (so the key itself is not
    handled here), hashed as the pseudonymiser hashes (HMAC from its keyed states, about half the
    CPU of ``hmac.digest``): these hashes are the bulk of the encoding work.
    """

    def __init__(self, p: Pseudonymiser) -> None:
        self._sub = Pseudonymiser(bytes.fromhex(p.hash("pprl-subkey", f"v{_VERSION}")))
        self.hash = lru_cache(maxsize=1 << 18)(self._hash)

    def _hash(self, kind: str, value: str) -> str:
        # HMAC-SHA-256(subkey, kind + "\x1f" + value), the first 16 hex characters.
        return self._sub.hash(kind, value)[:_SHORT]


def birth_views(p: Pseudonymiser | _ShortHasher, birth: str) -> dict[str, str]:
    """Keyed hashes of the error-tolerant views of an ISO birth date (empty dict when none).

    Two dates share ``birth_ym``/``birth_yd``/``birth_md`` when exactly those two parts agree,
    ``birth_swap`` when the year agrees and day and month are the same two numbers, and a week
    bucket when they are at most 7 days apart.
    """
    if not birth or len(birth) != 10:
        return {}
    y, m, d = birth[:4], birth[5:7], birth[8:10]
    views = {
        "birth": birth, "birth_ym": f"{y}-{m}", "birth_yd": f"{y}-{d}", "birth_md": f"{m}-{d}",
        "birth_swap": f"{y}|{'|'.join(sorted((m, d)))}",
    }  # fmt: skip
    h = p if isinstance(p, _ShortHasher) else _ShortHasher(p)
    out = {name: h.hash(name, value) for name, value in views.items()}
    try:
        ordinal = date.fromisoformat(birth).toordinal()
    except ValueError:
        ordinal = None
    if ordinal is not None:
        out["birth_week"] = " ".join(h.hash("birth_week", f"{i}|{(ordinal + i) // 8}") for i in range(8))
    return out


def _blocks(h: _ShortHasher, f: Features, rules: Sequence[BlockingRule[Features]]) -> str:
    # The rule's number and its "undated only" flag travel with the key ("6u:..."), so the hub
    # builds the same blocks and pairs the same way.
    keys = []
    for i, (rule, undated_only) in enumerate(rules):
        value = rule(f)
        if value is not None:
            keys.append(f"{i}{'u' if undated_only else ''}:{h.hash('block', f'{i}|{value}')}")
    return " ".join(keys)


# What the blocking rules read of a record's features (``loaders.resolve.blocking_rules``): the
# records of one person mostly share it, so their keys are made once.
_BLOCK_FIELDS = itemgetter(
    *(
        Features._fields.index(name)
        for name in ("first", "last", "last_core", "name_key", "birth", "document")
    )
)


def _identity(p: Callable[[str, str], str], f: Features) -> tuple[str, str]:
    # The same identity strings a clear resolution hashes into person ids, hashed as `load` does.
    name = p("person", identity_string(f.first, f.last, f.birth)) if f.birth and f.first and f.last else ""
    document = p("person", document_identity_string(f.document)) if f.document else ""
    return name, document


class _Encoder:
    """Everything keyed that one export needs, with caches (values repeat across rows)."""

    def __init__(self, p: Pseudonymiser, schema: EncodingSchema) -> None:
        self.p = p
        self.keyed = lru_cache(maxsize=1 << 18)(p.hash)
        self.short = _ShortHasher(p)
        self.bloom = BloomEncoder(p, schema.length, schema.k, schema.q, schema.fold)
        self.rules = blocking_rules()
        # Names, dates and blocking keys repeat across records (a person's records, common first
        # names): each distinct one is encoded once, which halves the CPU of the encoding.
        self.name_text = lru_cache(maxsize=1 << 18)(self._name_text)
        self.birth = lru_cache(maxsize=1 << 18)(self._birth)
        self._blocks: dict[Any, str] = {}

    def _name_text(self, text: str) -> str:
        # One hash domain for all name parts: a swapped name must compare first against last.
        return to_text(self.bloom.encode("name", text), self.bloom.bits)

    def _birth(self, birth: str) -> tuple[tuple[str, str], ...]:
        return tuple(birth_views(self.short, birth).items())

    def blocks(self, f: Features) -> str:
        """``_blocks`` of ``f``, made once for each distinct set of the fields the rules read."""
        key = _BLOCK_FIELDS(f)
        keys = self._blocks.get(key)
        if keys is None:
            if len(self._blocks) >= 1 << 18:
                self._blocks.clear()
            keys = self._blocks[key] = _blocks(self.short, f, self.rules)
        return keys


def encode_record(record: Record, encoder: _Encoder) -> dict[str, str]:
    """The export row of one normalised record: no clear identifier, see the module docstring."""
    p = encoder.keyed
    v = record.values
    row: dict[str, str] = {
        "source": record.source, "row_id": record.row_id, "kind": record.kind,
        "legal_basis": record.legal_basis, "default_reliability": record.reliability,
    }  # fmt: skip
    for name in _PLAIN:
        value = v.get(name)
        row[name] = "" if value is None else str(value)
    birth = str(v.get("birth_date") or "")
    row["birth_year"] = birth[:4]
    if v.get("case_id"):
        row["case"] = p("case", str(v["case_id"]))
    for name in ("phone", "plate", "iban"):
        if v.get(name):
            row[name] = p(name, str(v[name]))
    if v.get("premises_name"):
        row["premises"] = premises_id(
            encoder.p, str(v["premises_name"]), v.get("postcode"), v.get("municipality")
        )
    if v.get("document_number"):
        row["document"] = p("document", str(v["document_number"]))
    person = describes_person(record)
    row["person"] = "1" if person else "0"
    if person:
        f = features(record)
        row["identity"], row["document_identity"] = _identity(p, f)
        name_text = encoder.name_text
        row["first"] = name_text(f.first)
        row["last"] = name_text(f.last)
        row["last_core"] = name_text(f.last_core)
        row.update(encoder.birth(f.birth))
        row["blocks"] = encoder.blocks(f)
    return row


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; give --out a folder for the encoded export")
    if out.is_dir() and any(out.iterdir()):
        raise ConfigError(f"export folder {out} is not empty; choose a new folder so exports are never mixed")


def encode_records(
    records: Iterable[Record],
    key: Pseudonymiser,
    out_dir: str | os.PathLike[str],
    *,
    schema: EncodingSchema | None = None,
    counts: dict[str, dict[str, int]] | None = None,
) -> ExportSummary:
    """Write the encoded export of normalised records (one CSV per source + ``encoding.json``).

    Parameters
    ----------
    records : iterable of Record
        Normalised records (``loaders.pipeline.read_records``), e.g. one holder's share.
    key : Pseudonymiser
        The shared secret key of the linking holders.
    out_dir : path-like
        A new or empty folder.
    schema : EncodingSchema, optional
        Encoding parameters (default ``EncodingSchema()``); all holders must use the same.
    counts : dict, optional
        Per source ``{"read": n, "rejected": n}`` from reading, recorded in ``encoding.json``.

    Returns
    -------
    ExportSummary
        Rows encoded per source and the files written.
    """
    schema = schema or EncodingSchema()
    out = Path(out_dir)
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    encoder = _Encoder(key, schema)
    summary = ExportSummary(str(out), key.fingerprint, schema.schema_id)
    handles: dict[str, Any] = {}
    writers: dict[str, csv.DictWriter[str]] = {}
    try:
        for record in records:
            writer = writers.get(record.source)
            if writer is None:
                if (
                    not record.source
                    or any(ch in record.source for ch in "/\\\x00")
                    or record.source[0] == "."
                ):
                    raise ConfigError(
                        f"source name {record.source!r} cannot name a file; rename it in the mapping"
                    )
                path = out / f"{record.source}.csv"
                handles[record.source] = open(path, "w", encoding="utf-8", newline="")
                writer = csv.DictWriter(handles[record.source], fieldnames=COLUMNS, lineterminator="\n")
                writer.writeheader()
                writers[record.source] = writer
                summary.files.append(path.name)
                summary.sources[record.source] = {"read": 0, "encoded": 0, "rejected": 0}
            # Guarded as every CSV the toolkit writes: a row id or a filter's text may start with
            # "-" or "+", and an export is opened in a spreadsheet to check it before it is sent.
            writer.writerow({k: guard_cell(v) for k, v in encode_record(record, encoder).items()})
            summary.sources[record.source]["encoded"] += 1
    finally:
        for handle in handles.values():
            handle.close()
    for source, c in (counts or {}).items():
        entry = summary.sources.setdefault(source, {"read": 0, "encoded": 0, "rejected": 0})
        entry["rejected"] = int(c.get("rejected", 0))
    for entry in summary.sources.values():
        entry["read"] = entry["encoded"] + entry["rejected"]
    meta = {
        "format": EXPORT_FORMAT,
        "version": _VERSION,
        "schema": schema.to_dict(),
        "schema_id": schema.schema_id,
        "key_fingerprint": key.fingerprint,
        "sources": summary.sources,
        "files": sorted(summary.files),
    }
    (out / ENCODING_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


@audited("encode", after=record_encode)
def encode(
    paths: Sequence[str | os.PathLike[str]],
    mapping: Mapping | str | os.PathLike[str],
    key: Pseudonymiser | str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    rejects_path: str | os.PathLike[str] | None = None,
    schema: EncodingSchema | None = None,
) -> ExportSummary:
    """Read, validate and normalise source files, then write their encoded export.

    The Python API behind ``netanalysis encode``.

    Parameters
    ----------
    paths : sequence of path-like
        Source files or folders, assigned to sources by the mapping's globs.
    mapping : Mapping or path-like
        The mapping file (``sources.yaml``).
    key : Pseudonymiser, path-like or None
        The key shared by the linking holders (``key_from_env`` reads ``NETANALYSIS_KEY_FILE``).
    out_dir : path-like
        The export folder (new or empty).
    rejects_path : path-like, optional
        Where rejected rows (with their clear values) go; it must lie outside the export.
        Default ``<out_dir>.rejects.csv`` beside the export folder (never inside it), written when
        a row is rejected or has a field dropped or corrected.
    schema : EncodingSchema, optional
        Encoding parameters.

    Returns
    -------
    ExportSummary
        Per source: rows read, encoded and rejected (read = encoded + rejected).
    """
    from loaders.pipeline import SourceCounts, read_records

    p = key if isinstance(key, Pseudonymiser) else load_key(key)
    the_mapping = mapping if isinstance(mapping, Mapping) else load_mapping(Path(mapping))
    with_column = [s.name for s in the_mapping.sources if s.source_column]
    if with_column:
        raise ConfigError(
            f"source {with_column[0]!r} names its rows' sources in a source_column, which encode does "
            "not support yet; split the file into one file per source for encode"
        )
    out = Path(out_dir)
    target = Path(rejects_path) if rejects_path is not None else out.with_name(out.name + ".rejects.csv")
    if out.resolve() in target.resolve().parents:
        raise ConfigError(
            f"rejects file {target} lies inside the export folder {out}; rejected rows keep "
            "their clear values, so write them elsewhere"
        )
    _check_out_dir(out)
    files = assign_files(the_mapping, [Path(x) for x in paths])
    if not any(files.values()):
        raise ConfigError(
            "no input file matches the mapping's 'files' patterns; check the PATH and the mapping"
        )
    # Writing the rejects over a source export, the mapping or the key would destroy it.
    inputs: list[str | os.PathLike[str]] = [*(f for fs in files.values() for f in fs), *paths]
    inputs += [f for f in (the_mapping.path, p.key_file) if f is not None]
    check_rejects_path(target, None, inputs)
    issues: list[Record | Reject] = []
    counts: dict[str, SourceCounts] = {}
    records = read_records(the_mapping, files, issues.append, counts)
    rejected_path = None
    # Nothing to report writes no file (a header alone says nothing), unless the file is there.
    if issues or target.exists():
        write_rejects(target, issues)
        rejected_path = str(target)
    summary = encode_records(
        records,
        p,
        out,
        schema=schema,
        counts={s: {"read": c.read, "rejected": c.rejected} for s, c in counts.items()},
    )
    summary.rejects_path = rejected_path
    for source, c in counts.items():
        entry = summary.sources[source]
        if entry["read"] != c.read:
            raise AssertionError(f"accounting broken for source {source}")
    return summary
