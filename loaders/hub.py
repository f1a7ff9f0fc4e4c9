"""The hub: load encoded exports of several data holders into one graph store and link them.

``load_encoded(exports, store)`` reads export folders written by ``loaders.encode`` (each with
``encoding.json``), refuses exports whose key fingerprint or encoding schema differ from each
other or from encoded sources already in the store, resolves persons on the encodings
(``loaders.resolve_encoded``) and writes the same graph model as ``loaders.pipeline.load``:
Record, Person, Case, Signal, Premises, Phone, Vehicle, BankAccount and Source nodes with their
relationships and provenance. The hub never needs the key: every identifier in an export is
already the keyed hash the graph uses as node key.

``netanalysis load EXPORT_DIR... --store STORE`` calls this when its paths are encoded exports.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphstore.base import GraphSlice, GraphStore
from loaders.bloom import from_text
from loaders.csv_safety import unguard_cell
from loaders.encode import COLUMNS, ENCODING_FILE, EXPORT_FORMAT, EncodingSchema
from loaders.graph_rows import RowBuilder, SourceInfo, reference_rows
from loaders.keycheck import check_store_key
from loaders.pseudonymise import Pseudonymiser
from loaders.records import Record
from loaders.resolve_encoded import EncodedFeatures, resolve_encoded
from netanalysis.audit import audited, record_load
from netanalysis.errors import ConfigError, InputFileError

if TYPE_CHECKING:
    from loaders.pipeline import LoadSummary

__all__ = ["EncodedExport", "is_encoded_export", "load_encoded", "read_export"]

_EVIDENCE = ("phone", "plate", "iban", "premises")


def is_encoded_export(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a folder with an ``encoding.json``."""
    return (Path(path) / ENCODING_FILE).is_file()


@dataclass
class EncodedExport:
    """One export folder: its metadata and its rows (plain dicts with the columns of ``COLUMNS``)."""

    path: Path
    schema: EncodingSchema
    schema_id: str
    key_fingerprint: str
    sources: dict[str, dict[str, int]]
    rows: list[dict[str, str]]


def read_export(path: str | os.PathLike[str]) -> EncodedExport:
    """Read and check one export folder.

    Raises
    ------
    ConfigError
        No ``encoding.json``, or it is not an export of this format and version.
    InputFileError
        A CSV lacks columns, or a filter has the wrong length.
    """
    folder = Path(path)
    meta_path = folder / ENCODING_FILE
    if not meta_path.is_file():
        raise ConfigError(
            f"{folder} is not an encoded export (no {ENCODING_FILE}); make one with `netanalysis encode`"
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(
            f"{meta_path} cannot be read as JSON; export the data again with `netanalysis encode`"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        raise ConfigError(f"{meta_path} does not describe a netanalysis encoded export")
    schema = EncodingSchema.from_dict(meta.get("schema") or {})
    if meta.get("schema_id") != schema.schema_id:
        raise ConfigError(
            f"{meta_path} has a schema id that does not match its schema; the file was edited, "
            "export the data again"
        )
    rows: list[dict[str, str]] = []
    for name in meta.get("files") or []:
        file = folder / str(name)
        if file.name != str(name) or not file.is_file():
            raise ConfigError(f"{meta_path} lists {name!r}, which is not a file of the export folder")
        with open(file, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputFileError(
                    f"{file} lacks the column(s) {', '.join(missing)}; is it an encoded export?"
                )
            for line, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise InputFileError(
                        f"{file} line {line} does not have the header's columns; export the data again"
                    )
                rows.append({k: unguard_cell(v) for k, v in row.items()})
    return EncodedExport(
        folder,
        schema,
        str(meta["schema_id"]),
        str(meta.get("key_fingerprint") or ""),
        dict(meta.get("sources") or {}),
        rows,
    )


def _features(row: dict[str, str], bits: int, where: str) -> EncodedFeatures:
    try:
        first, last, core = (from_text(row[c], bits) for c in ("first", "last", "last_core"))
    except ValueError:
        raise InputFileError(
            f"{where}: a name encoding has the wrong length for the export's schema"
        ) from None
    evidence = frozenset(f"{c}:{row[c]}" for c in _EVIDENCE if row[c])
    return EncodedFeatures(
        first=first,
        last=last,
        last_core=core or last,
        birth_year=row["birth_year"],
        birth=row["birth"],
        birth_ym=row["birth_ym"],
        birth_yd=row["birth_yd"],
        birth_md=row["birth_md"],
        birth_swap=row["birth_swap"],
        birth_week=frozenset(row["birth_week"].split()),
        nationality=row["nationality"],
        gender=row["gender"],
        document=row["document"],
        evidence=evidence,
        blocks=tuple(row["blocks"].split()),
        identity=row["identity"],
        document_identity=row["document_identity"],
    )


class _KeyedValues(Pseudonymiser):
    """Stands in for the key at the hub: export values are already keyed hashes, passed on as they are."""

    __slots__ = ()

    def __init__(self, fingerprint: str) -> None:  # no key: the hub never has one
        self.fingerprint = fingerprint

    def hash(self, kind: str, value: str) -> str:
        return value

    def __repr__(self) -> str:
        return f"_KeyedValues(fingerprint={self.fingerprint!r})"


class _HubRowBuilder(RowBuilder):
    """RowBuilder whose case and premises ids are the export's keyed hashes."""

    def case_id(self, case_number: str) -> str:
        return case_number

    def premises_id(self, name: str, pc4: str | None, municipality: str | None) -> str:
        return name


def _record(row: dict[str, str]) -> Record:
    values: dict[str, Any] = {}
    for name in (
        "role",
        "observed_on",
        "municipality",
        "postcode",
        "premises_kind",
        "exploitation_type",
        "reliability",
        "signal_id",
        "nationality",
        "gender",
        "phone",
        "plate",
        "iban",
    ):
        if row[name]:
            values[name] = row[name]
    if row["case"]:
        values["case_id"] = row["case"]
    if row["premises"]:
        values["premises_name"] = row["premises"]
    if row["birth_year"]:
        values["birth_date"] = row["birth_year"]  # the row builder keeps the year only
    return Record(
        row["source"],
        row["row_id"],
        row["kind"],
        values,
        legal_basis=row["legal_basis"],
        reliability=row["default_reliability"],
    )


def _check_compatible(exports: Sequence[EncodedExport], store: GraphStore) -> None:
    first = exports[0]
    for other in exports[1:]:
        if other.key_fingerprint != first.key_fingerprint:
            raise ConfigError(
                f"exports {first.path} and {other.path} were encoded with different keys (fingerprints "
                f"{first.key_fingerprint} and {other.key_fingerprint}); all holders must use the same "
                "key file"
            )
        if other.schema_id != first.schema_id:
            raise ConfigError(
                f"exports {first.path} and {other.path} use different encoding schemas ({first.schema_id} "
                "and "
                f"{other.schema_id}); all holders must encode with the same settings"
            )
    graph = store.read_graph(GraphSlice(labels=frozenset({"Source"}), rel_types=frozenset()))
    for _node, attrs in graph.nodes(data=True):
        encoding = attrs.get("encoding")
        if not encoding:
            continue
        if attrs.get("key_fingerprint") != first.key_fingerprint or encoding != first.schema_id:
            raise ConfigError(
                f"the store already holds encoded source {attrs.get('name')!r} with key "
                f"{attrs.get('key_fingerprint')} "
                f"and schema {encoding}, but {first.path} has key {first.key_fingerprint} and schema "
                f"{first.schema_id}; load exports of one key and schema per store"
            )
    check_store_key(store, first.key_fingerprint, what=f"export {first.path}")  # clear loads too


def _batch_id(exports: Sequence[EncodedExport]) -> str:
    outer = hashlib.sha256(b"encoded")
    for export in sorted(exports, key=lambda e: str(e.path)):
        for file in sorted(export.path.iterdir()):
            if file.is_file():
                outer.update(file.name.encode() + b"\x1f" + hashlib.sha256(file.read_bytes()).digest())
    return outer.hexdigest()[:16]


@audited("load", store="store", after=record_load)
def _threshold(match_threshold: float | None) -> float:
    from loaders.pipeline import check_match_threshold

    return check_match_threshold(match_threshold)


def load_encoded(
    exports: Sequence[str | os.PathLike[str]],
    store: GraphStore,
    *,
    batch: str | None = None,
    progress: Any = None,
    batch_size: int = 5000,
    wait: float = 0.0,
    match_threshold: float | None = None,
    estimate_m: bool | None = None,
) -> LoadSummary:
    """Load encoded exports into a graph store, linking their persons on the encodings.

    Parameters
    ----------
    exports : sequence of path-like
        Export folders (``netanalysis encode --out``), typically one per data holder.
    store : GraphStore
        Where to write; the schema is applied first.
    batch : str, optional
        Batch id; by default a hash of the exports' files.
    progress : callable, optional
        ``progress(stage, done, total)`` as in ``loaders.pipeline.load``.
    batch_size : int
        Rows per write transaction.
    wait : float
        Seconds to wait for another load that writes to the store (``graphstore.loads``).

    Returns
    -------
    loaders.pipeline.LoadSummary
        Per source: rows read and rejected by the holder, rows loaded here.

    Raises
    ------
    ConfigError
        An export is missing or malformed, or exports (or the store) mix keys or schemas.
    """
    from graphstore.loads import writing
    from loaders.pipeline import LoadSummary, SourceCounts
    from loaders.store_writer import StoreWriter

    if not exports:
        raise ConfigError("no encoded export given; pass the folders written by `netanalysis encode`")
    read = [read_export(path) for path in exports]
    _check_compatible(read, store)
    bits = read[0].schema.bits
    summary = LoadSummary(
        batch=batch or _batch_id(read), files={str(e.path): sorted(e.sources) for e in read}
    )
    records: list[Record] = []
    person_feats: list[EncodedFeatures] = []
    person_ids: list[str] = []
    infos: dict[str, SourceInfo] = {}
    seen: set[str] = set()
    for export in read:
        for source, counts in export.sources.items():
            c = summary.sources.setdefault(source, SourceCounts())
            c.read += int(counts.get("read", 0))
            c.rejected += int(counts.get("rejected", 0))
        for row in export.rows:
            record = _record(row)
            rid = record.record_id
            if rid in seen:
                raise InputFileError(
                    f"record {rid} appears twice in the exports; every source row may be "
                    "exported by one holder only"
                )
            seen.add(rid)
            records.append(record)
            summary.sources.setdefault(record.source, SourceCounts()).loaded += 1
            infos.setdefault(
                record.source, SourceInfo(record.source, record.kind, record.legal_basis, record.reliability)
            )
            if row["person"] == "1":
                person_feats.append(_features(row, bits, f"{export.path} record {rid}"))
                person_ids.append(rid)
    for name, c in summary.sources.items():
        if c.read != c.loaded + c.rejected:
            raise InputFileError(
                f"the exports of source {name} hold {c.loaded} rows but their encoding.json "
                f"counts {c.read - c.rejected}; an export file was cut or edited"
            )
    if progress is not None:
        progress("resolve", 0, None)
    resolution = resolve_encoded(
        person_feats, person_ids, threshold=_threshold(match_threshold), estimate_m=estimate_m
    )
    summary.resolution = resolution.stats
    summary.records = len(resolution.person_of)
    summary.persons = len(resolution.clusters)

    keyed = _KeyedValues(read[0].key_fingerprint)
    builder = _HubRowBuilder(keyed, summary.batch)
    # One load writes to a store at a time: the persons' roles are merged with what it holds.
    with writing(store, summary.batch, wait), StoreWriter(store, batch_size) as writer:
        store.apply_schema()  # under the write lock: another load may hold the file
        for item in reference_rows():
            writer.add(item)
        for info in infos.values():
            node = builder.source_node(info)
            node.props["encoding"] = read[0].schema_id
            writer.add(node)
        for done, record in enumerate(records, start=1):
            rid = record.record_id
            for item in builder.record_rows(record, resolution.person_of.get(rid), resolution.link.get(rid)):
                writer.add(item)
            if progress is not None and done % 5000 == 0:
                progress("write", done, len(records))
        writer.drain()  # the read below sees every row written so far
        existing = _existing(store, builder.person_ids)
        for node in builder.aggregated_rows(existing):
            writer.add(node)
        writer.flush()
    if progress is not None:
        progress("write", len(records), len(records))
    summary.nodes = dict(sorted(writer.node_counts.items()))
    summary.relationships = dict(sorted(writer.rel_counts.items()))
    return summary


def _existing(store: GraphStore, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
    from loaders.pipeline import _existing_persons

    return _existing_persons(store, wanted)
