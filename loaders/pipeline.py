"""The whole load: read -> validate + normalise -> pseudonymise -> resolve -> graph rows -> store.

``load(paths, store, mapping, key)`` is the Python API behind ``netanalysis load``.

Accounting
    Every row read is either loaded (a Record) or rejected (a line in the rejects CSV with source,
    row id, field, reason and the original values); ``LoadSummary`` counts read, loaded and rejected
    per source and the load checks ``read == loaded + rejected`` before it reports success.

Idempotency
    Every id is deterministic: node keys are keyed hashes of normalised values or
    ``"<source>:<row_id>"``, relationship keys are record ids, and the batch id is a hash of the
    input files' contents and the mapping. Loading the same files again therefore writes the same
    rows (MERGE: nothing changes), and a load that was cut off can simply be run again. A new batch
    merges: its persons' roles are added to the roles already stored.

Memory
    The files are read twice and no Record is held through resolution. The first read validates
    every row, gives the rejects file, and keeps of each person-describing record only what
    entity resolution needs (its id and compact ``resolve.features``; into a store with person
    records also its keyed comparison data) and the row ids a person-to-person role may name.
    The second read validates the rows again (the same records in the same order) and builds and
    writes their rows one record at a time. Into a store without person records (a first load),
    each record's keyed comparison data is made as its rows are written. A file whose contents
    changed between the reads (its SHA-256, made once for the batch id) is refused before the
    writes start and before the second read opens it.

Across loads
    A load resolves its records together with the stored ones through their keyed comparison data
    (``loaders.crossload``); when a record joins persons an earlier load kept apart, they are
    merged and the merge is recorded (``loaders.merges``).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graphstore.base import GraphSlice, GraphStore
from graphstore.loads import now_iso, writing
from loaders.crossload import (
    BLOCK_INDEX_VERSION,
    Comparer,
    StoredRecords,
    blocking_keys,
    ensure_block_index,
    matches_across_loads,
    stored_candidates,
)
from loaders.graph_rows import NodeRow, RowBuilder, SourceInfo, reference_rows
from loaders.keycheck import check_store_key
from loaders.mapping import Mapping, SourceMapping, load_mapping
from loaders.merges import keep_stored_persons, merge_rows, plan_merges
from loaders.pseudonymise import Pseudonymiser, load_key
from loaders.read import assign_files, read_source
from loaders.records import ROLE_FIELDS, Record, Reject
from loaders.rejects import check_rejects_path, write_rejects
from loaders.resolve import (
    DEFAULT_THRESHOLD,
    ESTIMATE_M,
    Features,
    Resolution,
    describes_person,
    features,
    initials_only,
    resolve,
)
from loaders.splits import make_splits
from loaders.store_writer import StoreWriter
from loaders.validate import RoleTargets, add_role_target, check_role_targets, check_roles, validate
from netanalysis.audit import audited, record_load
from netanalysis.errors import ConfigError, InputFileError

__all__ = [
    "LoadSummary",
    "SourceCounts",
    "batch_id",
    "default_rejects_path",
    "evidence_tokens",
    "load",
    "read_records",
    "check_match_threshold",
    "resolve_persons",
]

Progress = Callable[[str, int, int | None], None]
"""progress(stage, done, total): stage is "read", "resolve" or "write"; total None when unknown."""

_EVIDENCE_FIELDS = ("phone", "plate", "iban")
# Rows read or written between two calls of a load's ``settle`` (``_long_lived``).
_SETTLE_EVERY = 50_000
_GC_THRESHOLDS = (5_000, 20, 20)


@dataclass
class SourceCounts:
    """Rows of one source: read = loaded + rejected."""

    read: int = 0
    loaded: int = 0
    rejected: int = 0


@dataclass
class LoadSummary:
    """What a load did.

    sources
        Per source: rows read, loaded and rejected.
    batch
        The batch id written on every Record node and relationship from a row.
    files
        The files read, per source.
    persons, records
        Resolved persons and person-describing records of this load.
    resolution
        Entity-resolution counts (candidate and accepted pairs, oversized blocks, splits).
    nodes, relationships
        Rows written per label and per relationship type (MERGE: re-writes count too).
    rejects_path
        Where the rejects were written (None when there were none and no path was given).
    merges
        Stored persons this load merged into others (``loaders.merges``, ``netanalysis merges``).
    splits
        Stored persons this load split (``loaders.splits``, ``netanalysis merges --splits``).
    """

    sources: dict[str, SourceCounts] = field(default_factory=dict)
    batch: str = ""
    files: dict[str, list[str]] = field(default_factory=dict)
    persons: int = 0
    records: int = 0
    resolution: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    rejects_path: str | None = None
    merges: int = 0
    splits: int = 0

    @property
    def read(self) -> int:
        return sum(c.read for c in self.sources.values())

    @property
    def loaded(self) -> int:
        return sum(c.loaded for c in self.sources.values())

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.sources.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--summary-json``."""
        data = asdict(self)
        data["totals"] = {"read": self.read, "loaded": self.loaded, "rejected": self.rejected}
        return data

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the summary as JSON (per-source counts for batch pipelines)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def batch_id(files: Iterable[Path], mapping: Mapping) -> str:
    """Hash of the input files' contents and the mapping: the same inputs give the same batch id."""
    return _batch_of([_file_digest(path) for path in files], mapping)


def _file_digest(path: Path) -> str:
    """SHA-256 of a file's contents (hex): what ``batch_id`` hashes, and how a load sees that a
    file changed between its two reads."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _batch_of(digests: Iterable[str], mapping: Mapping) -> str:
    outer = hashlib.sha256()
    if mapping.path is not None and Path(mapping.path).is_file():
        outer.update(Path(mapping.path).read_bytes())
    else:
        outer.update(repr(mapping.sources).encode())
    for digest in sorted(digests):
        outer.update(digest.encode())
    return outer.hexdigest()[:16]


def read_records(
    mapping: Mapping,
    files: dict[str, list[Path]],
    on_issue: Callable[[Record | Reject], None],
    counts: dict[str, SourceCounts],
    progress: Progress | None = None,
    origins: dict[str, str] | None = None,
    *,
    settle: Callable[[], None] | None = None,
) -> list[Record]:
    """Read, validate and normalise every file; return the records.

    ``on_issue`` receives every Reject and every Record that had an optional field dropped or a
    value corrected (for the rejects file). A row id repeated within a source, also across its
    files, is rejected. ``counts`` are per source of the mapping; a source with a
    ``source_column`` gives its records the sources that column names, and ``origins`` (when
    given) receives, for each source name a record carries, the mapping source it was read by.
    ``settle`` (``load``) is called every ``_SETTLE_EVERY`` rows: the records read so far stay.
    """
    records: list[Record] = []
    done = _read(mapping, files, on_issue, counts, records.append, progress, origins, settle=settle)
    # A person-to-person role names another row: known only once every row is read.
    for record in check_role_targets(records):
        on_issue(record)
    if progress is not None:
        progress("read", done, done)
    return records


def _read(
    mapping: Mapping,
    files: dict[str, list[Path]],
    on_issue: Callable[[Record | Reject], None],
    counts: dict[str, SourceCounts],
    keep: Callable[[Record], None],
    progress: Progress | None = None,
    origins: dict[str, str] | None = None,
    *,
    today: dt.date | None = None,
    settle: Callable[[], None] | None = None,
) -> int:
    """``read_records`` without the check of the roles: each record goes to ``keep``; returns the
    rows read."""
    done = 0
    for source in mapping.sources:
        counts.setdefault(source.name, SourceCounts())
    for name, item in _outcomes(mapping, files, today or dt.date.today()):
        c = counts[name]
        c.read += 1
        done += 1
        if isinstance(item, Reject):
            c.rejected += 1
            on_issue(item)
        else:
            c.loaded += 1
            keep(item)
            if origins is not None and item.source not in origins:
                origins[item.source] = name
            if item.issues or item.corrections:
                on_issue(item)
        if progress is not None and done % 5000 == 0:
            progress("read", done, None)
        if settle is not None and done % _SETTLE_EVERY == 0:
            settle()
    for source in mapping.sources:
        c = counts[source.name]
        if c.read != c.loaded + c.rejected:
            raise AssertionError(f"accounting broken for source {source.name}")
    return done


def _outcomes(
    mapping: Mapping,
    files: dict[str, list[Path]],
    today: dt.date,
    before: Callable[[Path], None] | None = None,
) -> Iterator[tuple[str, Record | Reject]]:
    """(mapping source name, outcome) of every row of every file, in the order of the mapping's
    sources and their files: the same files and ``today`` give the same outcomes every time.
    ``before(path)`` is called before a file is opened."""
    for source in mapping.sources:
        seen_ids: set[str] = set()
        for path in files.get(source.name, []):
            if before is not None:
                before(path)
            for item in validate(read_source(source, path), source, today=today, seen_ids=seen_ids):
                yield source.name, item


@dataclass
class _FirstPass:
    """What a load keeps of its first read of the files: what resolution and the second read
    need, and no Record (``_first_pass``)."""

    today: dt.date
    # The person-describing records' ids and comparison values, in the order read.
    record_ids: list[str] = field(default_factory=list)
    features: list[Features] = field(default_factory=list)
    initials_only: int = 0
    # The rows a role may name (``validate.check_roles`` in the second read).
    targets: RoleTargets = field(default_factory=lambda: RoleTargets(set(), set()))
    # Into a store with person records: the keyed comparison data of the person records, and
    # each record as its id only (``loaders.crossload`` reads no more of this load's records).
    comparisons: dict[str, str] = field(default_factory=dict)
    ids: list[Record] = field(default_factory=list)
    encoded: bool = False


def _first_pass(
    mapping: Mapping,
    files: dict[str, list[Path]],
    on_issue: Callable[[Record | Reject], None],
    counts: dict[str, SourceCounts],
    progress: Progress | None,
    origins: dict[str, str],
    settle: Callable[[], None],
    encode: Callable[[Record], str | None] | None,
) -> _FirstPass:
    """Read and validate every file once, for the rejects and for resolution, keeping no Record
    but those for the rejects file (with an issue, a correction or a role, which the check of
    the roles at the end may drop): each person record's id and ``features`` (with its
    ``evidence_tokens``), with ``encode`` (a load into a store with person records) its keyed
    comparison data too, and the ``RoleTargets``."""
    first = _FirstPass(today=dt.date.today(), encoded=encode is not None)
    roles: list[Record] = []

    def keep(record: Record) -> None:
        rid = record.record_id
        person = describes_person(record)
        add_role_target(first.targets, rid, person)
        if person:
            first.record_ids.append(rid)
            first.features.append(features(record, evidence_tokens(record)))
            first.initials_only += initials_only(record)
            if encode is not None and (value := encode(record)) is not None:
                first.comparisons[rid] = value
        if encode is not None:
            first.ids.append(_id_only(record))
        if not ROLE_FIELDS.keys().isdisjoint(record.values):
            roles.append(record)

    done = _read(mapping, files, on_issue, counts, keep, progress, origins, today=first.today, settle=settle)
    # A person-to-person role names another row: known only once every row is read.
    for record in roles:
        if check_roles(record, first.targets):
            on_issue(record)
    if progress is not None:
        progress("read", done, done)
    return first


def _id_only(record: Record) -> Record:
    """A record's stand-in that carries its id only."""
    return Record(record.source, record.row_id, record.kind, {})


def _encode_again(
    mapping: Mapping, files: dict[str, list[Path]], first: _FirstPass, encode: Callable[[Record], str | None]
) -> None:
    """Give ``first`` the comparison data ``_first_pass`` made without ``encode``: another load
    wrote the store's first person records while this one read its files."""
    for _name, item in _outcomes(mapping, files, first.today):
        if isinstance(item, Record):
            if (value := encode(item)) is not None:
                first.comparisons[item.record_id] = value
            first.ids.append(_id_only(item))
    first.encoded = True


def _second_pass(
    mapping: Mapping, files: dict[str, list[Path]], first: _FirstPass, digests: dict[Path, str]
) -> Iterator[Record]:
    """The records again, one at a time, as the first read gave them (the roles checked against
    its ``RoleTargets``; the rejects file holds their issues already). A file whose contents are
    not those the first read saw is refused before it is read (``_check_unchanged``)."""
    for _name, item in _outcomes(
        mapping, files, first.today, lambda path: _check_unchanged({path: digests[path]})
    ):
        if isinstance(item, Record):
            check_roles(item, first.targets)
            yield item


def _check_unchanged(digests: dict[Path, str]) -> None:
    """Refuse the load when a file's contents are not those its batch id was made from."""
    for path, digest in digests.items():
        if _file_digest(path) != digest:
            raise _changed(path)


def _changed(path: str | Path) -> InputFileError:
    return InputFileError(
        f"{path}: the file changed while it was being loaded (a load reads its files twice); "
        "nothing more was written, load it again once it no longer changes"
    )


def evidence_tokens(record: Record) -> list[str]:
    """The shared identifiers a record mentions, as comparison tokens (in memory only).

    Supporting evidence for entity resolution: a phone, plate, account or premises that two
    records share adds a little weight to a name match; it never makes one on its own.
    """
    v = record.values
    tokens = [f"{f}:{v[f]}" for f in _EVIDENCE_FIELDS if v.get(f)]
    if v.get("premises_name"):
        where = v.get("postcode") or v.get("municipality")
        tokens.append(f"premises:{str(v['premises_name']).casefold()}:{where}")
    return tokens


def check_match_threshold(value: float | None) -> float:
    """The match threshold to use: the default when None; a number that is not finite is refused.

    >>> check_match_threshold(None), check_match_threshold(4)
    (2.0, 4.0)
    """
    if value is None:
        return DEFAULT_THRESHOLD
    if not math.isfinite(value):
        raise ConfigError(
            "the match threshold must be a finite number (log2 match odds; the default is "
            f"{DEFAULT_THRESHOLD}); see the precision/recall curve in docs/loading.md"
        )
    return float(value)


def resolve_persons(
    records: Sequence[Record],
    p: Pseudonymiser,
    threshold: float | None = None,
    known: dict[str, str] | None = None,
    estimate_m: bool | None = None,
) -> Resolution:
    """Entity resolution of the person-describing records of a load, as ``load`` runs it.

    ``known``: record id -> person id already in the store (the stored ``DESCRIBES`` relationships).
    """
    persons = [r for r in records if describes_person(r)]
    return resolve(
        persons,
        person_id=lambda ident: p.hash("person", ident),
        evidence=[evidence_tokens(r) for r in persons],
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        known=known,
        estimate_m=ESTIMATE_M if estimate_m is None else estimate_m,
    )


def _stored_candidates(
    store: GraphStore, records: Sequence[Record], comparisons: dict[str, str], across: bool
) -> tuple[StoredRecords, dict[str, str]]:
    """``crossload.stored_candidates``, or nothing without a read when the store holds no person
    record (``across`` False, ``_holds_person_records``): then every read it makes finds nothing,
    and the keys of this load it would look up (about 4 CPU s at 100k rows) change nothing."""
    if not across:
        nothing = StoredRecords()
        nothing.block_sizes = {}
        return nothing, {}
    return stored_candidates(store, records, comparisons)


def _holds_person_records(store: GraphStore) -> bool:
    """Whether the store holds a person record (a ``DESCRIBES``) that this load may resolve
    against. Without one, the load's comparison data is only written (``_stored_candidates``,
    ``matches_across_loads`` and ``ensure_block_index`` find nothing to compare it with), so each
    record's is made in the write loop instead of all of them before resolution: at 100k rows
    they held about 200 MB (2 kB a person record) from the encoding to the end of the writes."""
    return store.counts().get("DESCRIBES", 0) > 0


def _existing_persons(store: GraphStore, wanted: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not wanted:
        return {}
    # Looked up by key: a delivery reads its own persons, not every person of the store.
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Person"}), rel_types=frozenset(), person_ids=frozenset(wanted))
    )
    out: dict[str, dict[str, Any]] = {}
    wanted_set = set(wanted)
    for _node, attrs in graph.nodes(data=True):
        pid = attrs.get("person_id")
        if pid in wanted_set:
            out[pid] = dict(attrs)
    return out


@contextmanager
def _long_lived() -> Iterator[Callable[[], None]]:
    """Give a ``settle()`` that takes the objects alive now out of the cycle collector's full
    collections (``gc.freeze``) until the end of the block.

    A load keeps millions of objects for its whole length (the records, their comparison data,
    the resolution), and every full collection walked all of them again: at 30k rows the cycle
    collector took 15% of the load's CPU (4.4 of 29.2 s), and building the graph rows alone ran
    in 2.8 CPU s without it against 6.7 with it. What is frozen is still freed when its last
    reference goes; only cycles among those objects wait for the end of the load. When the caller
    froze objects already (``netanalysis.graphs.collector_spares_the_heap``), ``settle`` does
    nothing: unfreezing at the end would unfreeze the caller's too.
    """
    if gc.get_freeze_count():
        yield lambda: None
        return
    thresholds = gc.get_threshold()
    # Fewer young collections too: each one walks the rows being built (measured at 30k rows
    # with the freezes: the collector's CPU 2.2 s with the default 700 allocations, 1.2 s with
    # 5,000 or 20,000).
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def default_rejects_path(store: GraphStore) -> Path | None:
    """Where ``load`` writes rejects when no path is given: next to an embedded store file.

    ``<store file>.rejects.csv`` (``graph.db`` -> ``graph.db.rejects.csv``), so the clear values of
    refused rows stay with the data they came from, never in whatever folder the process runs in.
    None for a server store (a URI): the caller must name the file.
    """
    uri = str(getattr(store, "uri", "") or "")
    if not uri or "://" in uri:
        return None
    path = Path(uri)
    return path.with_name(path.name + ".rejects.csv")


@audited("load", store="store", after=record_load)
def load(
    paths: Sequence[str | os.PathLike[str]],
    store: GraphStore,
    mapping: Mapping | str | os.PathLike[str] | None,
    key: Pseudonymiser | str | os.PathLike[str] | None = None,
    *,
    batch: str | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    batch_size: int = 5000,
    wait: float = 0.0,
    match_threshold: float | None = None,
    estimate_m: bool | None = None,
    across_loads: str | None = None,
) -> LoadSummary:
    """Load source files into a graph store.

    Parameters
    ----------
    paths : sequence of path-like
        Files or folders of files; each file is assigned to a source by the mapping's globs.
        Or encoded export folders (``netanalysis encode``): they are loaded by
        ``loaders.hub.load_encoded``, without mapping and key.
    store : GraphStore
        Where to write (``graphstore.open_store(uri)``); the schema is applied first.
    mapping : Mapping or path-like
        The mapping (``sources.yaml``) or its path.
    key : Pseudonymiser, path-like or None
        The pseudonymisation key, or its key file (``key_from_env`` reads ``NETANALYSIS_KEY_FILE``).
    batch : str, optional
        Batch id; by default a hash of the files' contents and the mapping.
    rejects_path : path-like, optional
        The rejects CSV (it holds clear values: keep it where the source files are kept). Without
        it, for an embedded store the file ``<store file>.rejects.csv`` next to the store is
        written when some row was rejected, had a field dropped or corrected; for a Neo4j store
        there is no such place, and the load refuses (``ConfigError``, before writing to the
        store) when it would have something to write. A rejected row is never dropped silently.
    progress : callable, optional
        ``progress(stage, done, total)`` for a progress bar.
    batch_size : int
        Rows per write transaction.
    wait : float
        Seconds to wait for another load that writes to the same store (one load writes at a
        time, ``graphstore.loads``); after that the load is refused with ``StoreError``.
    match_threshold : float, optional
        Entity resolution accepts a pair of records when its log2 match odds reach this
        (``loaders.linkage.DEFAULT_THRESHOLD``, 2.0, when None). Higher: fewer, surer links;
        lower: more links, more of them wrong (the curve on held-out data: docs/loading.md).
    estimate_m : bool, optional
        Estimate entity resolution's m probabilities by EM on the candidate pairs (True) or use
        the documented ones (False); ``loaders.linkage.ESTIMATE_M`` (True) when None. The
        measured effect is in docs/loading.md. When EM cannot give a sensible m, a warning is logged and the
        documented m is used.
    across_loads : {"whole", "pairs"}, optional
        How this load's records are resolved against the stored persons
        (``loaders.crossload.matches_across_loads``; ``loaders.crossload.METHOD`` when None):
        "whole" with the stored records it reads, their pairs among themselves included;
        "pairs" scoring only the pairs that hold one of its records (cheaper in a big store,
        measured in benchmarks/RESULTS.md, "A delivery scores only its own pairs").

    Returns
    -------
    LoadSummary
        Per-source counts (read = loaded + rejected), batch id, persons and rows written.
    """
    # --- encoded exports (privacy-preserving linkage, issue 9): see loaders.hub -------------------
    from loaders.hub import is_encoded_export, load_encoded

    encoded = [is_encoded_export(p) for p in paths]
    if encoded and all(encoded):
        # An export carries its own source descriptions and keyed values: the hub needs no mapping
        # and never holds the key.
        return load_encoded(
            paths,
            store,
            batch=batch,
            progress=progress,
            batch_size=batch_size,
            wait=wait,
            match_threshold=match_threshold,
            estimate_m=estimate_m,
        )
    if any(encoded):
        raise ConfigError(
            "encoded exports and clear source files cannot be loaded together; load them separately"
        )
    if mapping is None:
        raise ConfigError(
            "no mapping file given; pass --mapping sources.yaml (only encoded exports need none)"
        )
    # ----------------------------------------------------------------------------------------------
    pseudonymiser = key if isinstance(key, Pseudonymiser) else load_key(key)
    check_store_key(store, pseudonymiser.fingerprint)  # before anything is read or written
    threshold = check_match_threshold(match_threshold)
    the_mapping = mapping if isinstance(mapping, Mapping) else load_mapping(Path(mapping))
    files = assign_files(the_mapping, [Path(p) for p in paths])
    all_files = [p for fs in files.values() for p in fs]
    if not all_files:
        raise ConfigError(
            "no input file matches the mapping's 'files' patterns; check the PATH and the mapping"
        )
    target = Path(rejects_path) if rejects_path is not None else default_rejects_path(store)
    if target is not None:
        inputs: list[str | os.PathLike[str]] = [*all_files, *paths]
        if the_mapping.path is not None:
            inputs.append(the_mapping.path)
        if pseudonymiser.key_file is not None:
            inputs.append(pseudonymiser.key_file)
        check_rejects_path(target, getattr(store, "uri", None), inputs)
    # Each file's digest, for the batch id and to see a file change between the load's two reads.
    digests = {path: _file_digest(path) for path in all_files}
    summary = LoadSummary(
        batch=batch or _batch_of(digests.values(), the_mapping),
        files={s: [str(p) for p in fs] for s, fs in files.items()},
    )

    with _long_lived() as settle:
        _read_resolve_write(
            store,
            the_mapping,
            files,
            digests,
            pseudonymiser,
            summary,
            target,
            settle,
            progress=progress,
            batch_size=batch_size,
            wait=wait,
            threshold=threshold,
            estimate_m=estimate_m,
            across_loads=across_loads,
        )
    return summary


def _read_resolve_write(
    store: GraphStore,
    the_mapping: Mapping,
    files: dict[str, list[Path]],
    digests: dict[Path, str],
    pseudonymiser: Pseudonymiser,
    summary: LoadSummary,
    target: Path | None,
    settle: Callable[[], None],
    *,
    progress: Progress | None,
    batch_size: int,
    wait: float,
    threshold: float,
    estimate_m: bool | None,
    across_loads: str | None,
) -> None:
    """``load`` from the first read of the files to the last write; ``settle`` is called when the
    objects alive then stay to the end (``_long_lived``).

    The files are read twice and no Record is held between: the first read (``_first_pass``)
    gives the rejects file and what resolution needs of each person record, the second
    (``_second_pass``) the records again, one at a time, as their rows are written."""
    issues: list[Record | Reject] = []
    origins: dict[str, str] = {}
    # Whether this load is resolved against stored person records, asked before the lock (again
    # in it): only then does the first read keep the keyed comparison data of its person records.
    across = _holds_person_records(store)
    comparer = Comparer(pseudonymiser) if across else None
    first = _first_pass(
        the_mapping,
        files,
        issues.append,
        summary.sources,
        progress,
        origins,
        settle,
        None if comparer is None else comparer.value,
    )
    del comparer  # its caches (names, dates, blocking keys) are not needed any more
    settle()
    _check_unchanged(digests)
    if target is None and issues:
        raise ConfigError(
            f"this load has rejected rows ({summary.rejected:,}) or dropped or corrected fields to "
            f"report, and a store at {store.uri} has no folder for the rejects file; pass --rejects "
            "FILE (rejects_path=...) in a folder that may hold clear source values"
        )
    # From the first read of the store to the last write, no other load may write to it: both
    # merge what the store holds with their own rows (graphstore.loads). The rejects file too
    # (the default one is the store's): each load keeps the other batches' rows it finds there.
    with writing(store, summary.batch, wait):
        # Resolution across loads (loaders.crossload): the keyed comparison data of this load's
        # person records, and what the store keeps of earlier loads, read through the blocking-key
        # index. A store of an older version is refused before anything (rejects included) is
        # written, or its index is built once.
        store.apply_schema()  # the blocking-key index is read next
        across = _holds_person_records(store)
        if across and not first.encoded:
            _encode_again(the_mapping, files, first, Comparer(pseudonymiser).value)
            settle()
        ensure_block_index(store, first.comparisons, batch_size)
        earlier = _stored_candidates(store, first.ids, first.comparisons, across)
        # Nothing to report writes no file (a header alone says nothing), unless the file is
        # there already: then the rows of an earlier run of this batch are replaced.
        if target is not None and (issues or target.exists()):
            write_rejects(target, issues, summary.batch)
            summary.rejects_path = str(target)
        issues.clear()  # written: the second read gives the records again
        _resolve_and_write(
            store,
            first,
            earlier,
            the_mapping,
            files,
            digests,
            pseudonymiser,
            summary,
            progress,
            batch_size,
            threshold,
            origins,
            estimate_m,
            across_loads,
            settle,
            # One encoder for the whole write: a new one every so many records would bound its
            # caches, but the one let go is a reference cycle (its lru_caches of bound methods)
            # that the load's frozen collector keeps to the end (100k rows: peak 1,262 MB, not 1,044).
            encode=None if first.encoded else Comparer(pseudonymiser).value,
        )


def _source_nodes(
    the_mapping: Mapping, files: dict[str, list[Path]], origins: dict[str, str]
) -> list[tuple[str, SourceMapping]]:
    """The Source nodes of a load: each mapping source that had files, and for a source with a
    ``source_column`` each source its column named instead (with that mapping source's kind,
    legal basis and reliability)."""
    out: list[tuple[str, SourceMapping]] = []
    for source in the_mapping.sources:
        if not files.get(source.name):
            continue
        if source.source_column:
            out += [(name, source) for name, origin in sorted(origins.items()) if origin == source.name]
        else:
            out.append((source.name, source))
    return out


def _resolve_and_write(
    store: GraphStore,
    first: _FirstPass,
    earlier: tuple[dict[str, tuple[str, str]], dict[str, str]],
    the_mapping: Mapping,
    files: dict[str, list[Path]],
    digests: dict[Path, str],
    pseudonymiser: Pseudonymiser,
    summary: LoadSummary,
    progress: Progress | None,
    batch_size: int,
    threshold: float = DEFAULT_THRESHOLD,
    origins: dict[str, str] | None = None,
    estimate_m: bool | None = None,
    across_loads: str | None = None,
    settle: Callable[[], None] | None = None,
    *,
    encode: Callable[[Record], str | None] | None = None,
) -> None:
    """Resolve the first read's person records and write the graph rows of the records of the
    second read; ``first``'s features go after resolution, its comparison data as the rows are
    written. With ``encode`` (a load into a store without person records), ``first`` holds no
    comparison data and each record's is made as its rows are written, so that it is never all
    held at once."""
    builder = RowBuilder(pseudonymiser, summary.batch)
    stored, stored_person_of = earlier
    comparisons = first.comparisons

    if progress is not None:
        progress("resolve", 0, None)
    # Records loaded before keep the person they describe (see docs/loading.md, "across loads");
    # read with the comparison data above.
    known = {r.record_id: stored_person_of[r.record_id] for r in first.ids if r.record_id in stored_person_of}
    # A new record that matches an earlier load's record joins its person (fuzzy, keyed): the
    # best one; when it matches several, they are merged below.
    matches = matches_across_loads(first.ids, comparisons, stored, threshold, across_loads)
    first.ids = []
    summary.splits, stored_person_of, known = make_splits(
        store, matches, stored, stored_person_of, known, summary.batch, now_iso()
    )
    known = {**{rid: found[0].person for rid, found in matches.items()}, **known}
    resolution = resolve(
        [],
        person_id=lambda ident: pseudonymiser.hash("person", ident),
        threshold=threshold,
        known=known,
        estimate_m=ESTIMATE_M if estimate_m is None else estimate_m,
        prepared=(first.record_ids, first.features, first.initials_only),
    )
    first.record_ids, first.features = [], []
    # A reload of part of a person (merged by an earlier load) does not split it.
    resolution = keep_stored_persons(resolution, stored_person_of)
    summary.resolution = resolution.stats
    summary.records = len(resolution.person_of)
    summary.persons = len(resolution.clusters)
    if progress is not None:
        progress("resolve", summary.records, summary.records)
    if settle is not None:
        settle()

    # The files must still be those the first read saw before anything is written.
    _check_unchanged(digests)
    # Merges first, in one transaction, so a load cut off later finds them made (loaders.merges).
    planned = plan_merges(resolution, stored_person_of, matches)
    if planned:
        involved = sorted({m.into for m in planned} | {m.merged for m in planned})
        rows = merge_rows(
            planned, _existing_persons(store, involved), stored_person_of, summary.batch, now_iso()
        )
        summary.merges = store.merge_persons(rows)
    # The write needs each record's person and link only: the pairs, clusters and match model go
    # before the store's cache and the aggregated nodes grow.
    person_of, links = resolution.person_of, resolution.link
    del resolution, planned, matches, known
    total = len(first.targets.known)  # every accepted row (row ids are unique in a load)
    done = 0
    with StoreWriter(store, batch_size) as writer:
        for item in reference_rows():
            writer.add(item)
        for name, source in _source_nodes(the_mapping, files, origins or {}):
            node = builder.source_node(SourceInfo(name, source.kind, source.legal_basis, source.reliability))
            node.props["block_index"] = BLOCK_INDEX_VERSION  # its records' keys are indexed
            writer.add(node)
        add = writer.add
        for record in _second_pass(the_mapping, files, first, digests):
            done += 1
            rid = record.record_id
            person = person_of.get(rid)
            if (person is not None) != describes_person(record) or done > total:
                raise _changed(record.file)  # a file changed while the second read read it
            comparison = comparisons.pop(rid, None) if encode is None else encode(record)
            for item in builder.record_rows(record, person, links.get(rid), person_of=person_of):
                if comparison is not None and type(item) is NodeRow and item.label == "Record":
                    item.props["comparison"] = comparison
                    item.props["blocks"] = blocking_keys(comparison)
                add(item)
            if progress is not None and done % 5000 == 0:
                progress("write", done, total)
            if settle is not None and done % _SETTLE_EVERY == 0:
                settle()  # the aggregated nodes so far
        if done != total:
            raise _changed(", ".join(str(p) for p in digests))
        writer.drain()  # the read below sees every row written so far, as without the thread
        existing = _existing_persons(store, builder.person_ids)
        for node in builder.aggregated_rows(existing):
            writer.add(node)
        writer.flush()
    if progress is not None:
        progress("write", total, total)
    summary.nodes = dict(sorted(writer.node_counts.items()))
    summary.relationships = dict(sorted(writer.rel_counts.items()))
