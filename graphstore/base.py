"""The graph-store protocol that loaders write to and the analysis reads from.

One interface, two backends (``graphstore.embedded`` on SQLite, ``graphstore.neo4j_store`` on a
Neo4j server). Both must pass the same conformance suite (``tests/test_store_conformance.py``):
the same input reads back as the same graph.

Identity and idempotency
    A node is identified by (label, key value); the key property per label comes from
    graph_schema.cypher. A relationship is identified by (type, start node, end node, rel_key).
    Upserting the same rows twice changes nothing; upserting a row again with other properties
    overwrites those properties (last write wins).

Graph read back
    ``read_graph`` returns a ``networkx.MultiDiGraph`` whose node ids are ``"Label:key"`` strings,
    with node attributes ``label`` plus the stored properties, and edges keyed by ``rel_key`` with
    attribute ``type`` plus the stored properties. Property values are JSON types (str, int,
    float, bool, None, lists of those); dates are ISO strings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol, TypeVar, runtime_checkable

import networkx as nx

from graphstore.erasure import ErasurePlan
from graphstore.loads import LoadRecord

__all__ = [
    "LATEST_OBSERVED_ATTR",
    "GraphSlice",
    "GraphStore",
    "PersonMerge",
    "PersonSplit",
    "ProvenanceRows",
    "RelRow",
    "RetentionDeletes",
    "RowCounter",
    "RowProgress",
    "node_id",
    "sort_fact_rows",
]

Props = Mapping[str, Any]

#: What a store read calls as it goes: ``progress(rows read so far)``, every ``PROGRESS_EVERY``
#: rows and once at the end (``RowCounter``).
RowProgress = Callable[[int], None]

#: Rows between two calls of a read's progress: few enough calls to cost nothing measurable
#: (benchmarks/RESULTS.md), often enough for a bar that moves every fraction of a second.
PROGRESS_EVERY = 5000

_T = TypeVar("_T")


def node_id(label: str, key: str) -> str:
    """The networkx node id used for a stored node: ``"Label:key"``."""
    return f"{label}:{key}"


@dataclass(frozen=True)
class RelRow:
    """One relationship to upsert: endpoints by key value, its rel_key, and its properties."""

    start: str
    end: str
    rel_key: str
    props: Props


@dataclass(frozen=True)
class PersonMerge:
    """One person to merge into another (``GraphStore.merge_persons``).

    merged, into
        Person ids: ``merged`` is absorbed by ``into`` and no longer exists afterwards.
    fact
        Properties of the ``Merge`` node that records it (``merge_id`` is its key, see
        graph_schema.cypher); ``merged`` and ``into`` are added.
    person
        Properties to set on ``into`` (``SET n += person``): the caller combines both persons'.
    """

    merged: str
    into: str
    fact: Props
    person: Props


@dataclass(frozen=True)
class PersonSplit:
    """Records of one person to move to a new person (``GraphStore.split_persons``).

    person, into
        Person ids: ``records`` leave ``person`` for ``into``, a person that did not exist.
    records
        Record ids: each record's ``DESCRIBES`` and every relationship of ``person`` that record
        gave (its ``rel_key`` is the record id, or starts with it and ``":"``) move to ``into``;
        between two persons only the end the record described moves.
    fact
        Properties of the ``Split`` node that records it (``split_id`` is its key, see
        graph_schema.cypher); ``person``, ``into`` and ``records`` are added.
    kept, moved
        Properties to set on ``person`` and on ``into`` (``SET n += ...``).
    """

    person: str
    into: str
    records: tuple[str, ...]
    fact: Props
    kept: Props
    moved: Props


@dataclass(frozen=True)
class GraphSlice:
    """What part of the graph to read.

    labels
        Node labels to include (None: all). Relationships are read when both ends are included.
    rel_types
        Relationship types to include (None: all).
    observed_from, observed_to
        ISO dates, inclusive. Relationships with an ``observed_on`` outside the window are left
        out; relationships without ``observed_on`` (reference facts) are always kept.
    region_ids
        Region node ids (e.g. ``"police_unit:RE01"``); when given, only persons SEEN_AT a
        municipality or premises in one of those regions, and what they connect to, are read.
    person_ids
        Person keys (pseudonyms); when given, only these persons, the nodes adjacent to them and
        the relationships among all of these are read (the same rule as for the persons of a
        region). The store looks them up by key, so the read costs what these persons have, not
        what the store holds: finding one person in a national store stays fast. Not together
        with ``region_ids``.
    person_hops
        With ``person_ids``: read the nodes within this many relationships of the persons (1, the
        default: the adjacent nodes; 2: also what those are adjacent to, ...), walking only
        through the slice's labels and relationship types, and the relationships among them.
        What a search for the paths between persons needs (``netanalysis.connect``).
    properties
        Property names to read onto nodes and relationships (None: all). The node attribute
        ``label``, the relationship attribute ``type`` and the edge key ``rel_key`` are always
        there. What a step that needs a few properties of many facts asks for: the detection
        reads a graph without provenance (``netanalysis.graphs.read_detection_graph``).
    """

    labels: frozenset[str] | None = None
    rel_types: frozenset[str] | None = None
    observed_from: str | None = None
    observed_to: str | None = None
    region_ids: frozenset[str] | None = None
    person_ids: frozenset[str] | None = None
    person_hops: int = 1
    properties: frozenset[str] | None = None


#: Graph attribute of ``GraphStore.read_evidence_graph``: the latest ``observed_on`` of the whole
#: slice (not only of the facts read), the date a detection counts back from.
LATEST_OBSERVED_ATTR = "latest_observed"


@dataclass(frozen=True)
class ProvenanceRows:
    """What ``GraphStore.provenance_rows`` reads about a window of the graph.

    latest_observed
        The latest ``observed_on`` of the relationships that ``read_graph`` returns for these
        labels and window (None when none has one): the reference date a detection counts back from.
    person_rows
        ``(person key, record key, record source, record row_id)`` for every DESCRIBES that
        ``read_graph`` returns for the window (source and row_id None when the Record lacks them).
    signal_rows
        ``(signal key, source, row_id)`` for every relationship from a Signal that carries a
        ``source`` and a ``row_id`` and that ``read_graph`` returns for these labels and window.
    """

    latest_observed: str | None
    person_rows: list[tuple[str, str, str | None, str | None]]
    signal_rows: list[tuple[str, str, str]]


@runtime_checkable
class GraphStore(Protocol):
    """Storage for the toolkit's graph. Open one with ``graphstore.open_store(uri)``."""

    uri: str

    def apply_schema(self) -> None:
        """Create constraints and indexes from graph_schema.cypher (harmless to repeat)."""

    def upsert_nodes(self, label: str, rows: Iterable[Props], batch_size: int = 5000) -> int:
        """Merge nodes of ``label`` by their key property; returns rows written."""

    def upsert_relationships(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        rows: Iterable[RelRow],
        batch_size: int = 5000,
    ) -> int:
        """Merge relationships; endpoints that do not exist yet are created with only their key."""

    def read_graph(
        self, graph_slice: GraphSlice | None = None, progress: RowProgress | None = None
    ) -> nx.MultiDiGraph:
        """Read the whole graph, or a slice, into networkx. ``progress`` is called with the node
        and relationship rows read from the store so far (``RowCounter``): increasing, the last
        call at the rows read in all, which is the graph's nodes plus relationships when the
        slice is the whole graph."""

    def delete_by_source(self, source: str) -> int:
        """Delete every relationship and Record/Signal/Case node whose ``source`` is ``source``,
        then nodes left without relationships (except reference nodes); returns items deleted."""

    def provenance_rows(
        self,
        labels: frozenset[str],
        observed_from: str | None = None,
        observed_to: str | None = None,
        progress: RowProgress | None = None,
    ) -> ProvenanceRows:
        """The provenance a detection reports without reading it into a graph (``ProvenanceRows``),
        computed by the store over ``GraphSlice(labels=labels, observed_from=..., observed_to=...)``:
        the latest observation date, the records of every person and the rows of every signal.
        ``progress``: as for ``read_graph``, ending at the person and signal rows returned."""

    def read_evidence_graph(self, graph_slice: GraphSlice | None = None) -> nx.MultiDiGraph:
        """The part of a slice that the perpetrator network reads, selected in the store, as the
        graph ``read_graph`` would give of those facts: every SUSPECT_IN, VICTIM_IN and IN; the
        USES, SEEN_AT, REGISTERED_AT, EMPLOYED_BY, DIRECTOR_OF, OWNS and person-to-person roles of
        the suspects; the REGISTERED_AT and EMPLOYED_BY of the persons tied to a suspect (victims
        of his cases, persons of his roles); the suspects and the ends of these facts (rules in
        ``graphstore.slicing.evidence_slice``). Graph attribute ``LATEST_OBSERVED_ATTR``: the
        latest ``observed_on`` of the whole slice. Its cost follows the suspects' facts plus
        one pass over the case and place facts, not the records and signals of the store."""

    def read_around(
        self,
        graph_slice: GraphSlice,
        seeds: Mapping[str, Collection[str]],
        rel_types: Collection[str] | None = None,
    ) -> nx.MultiDiGraph:
        """One ring of a slice around given nodes, looked up by key: the relationships of the
        slice (of ``rel_types`` only, when given) with one of the ``seeds`` (label -> keys) at
        either end, the seeds and the other ends of those relationships, each inside the window,
        as ``read_graph`` gives them (same node ids, attributes and properties). Its cost follows
        the relationships of the seeds, not the size of the store: what the detection reads of
        the neighbourhood of its groups (``netanalysis.graphs.read_group_graph``)."""

    def busy_ends(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        min_starts: int,
        observed_from: str | None = None,
        observed_to: str | None = None,
    ) -> list[str]:
        """The keys of the ``end_label`` nodes reached by ``rel_type`` relationships from at least
        ``min_starts`` distinct ``start_label`` nodes, counting the relationships whose own
        ``observed_on`` is inside the window (or absent), sorted. Counted by the store: the
        addresses where enough persons were ever registered to be crowded, without reading every
        registration (``netanalysis.graphs.read_group_graph``)."""

    def delete_observed_before(self, date: str) -> int:
        """Retention: delete facts with ``observed_on`` before the ISO date, then orphans."""

    def apply_erasure(self, plan: ErasurePlan, batch_size: int = 5000) -> None:
        """Apply an erasure plan (``graphstore.erasure``): property rewrites first, then the
        relationships, then the nodes. Repeating it, or applying a new plan after a run that was
        cut off, ends in the same state."""

    def compact(self) -> str:
        """Make what was deleted unreadable in the store's files as far as the backend can, and
        return one sentence saying what was done and what remains (see docs/retention.md)."""

    def person_records(
        self,
        *,
        blocks: Sequence[str] = (),
        persons: Sequence[str] = (),
        records: Sequence[str] = (),
    ) -> list[tuple[str, str, str | None]]:
        """What resolution across loads reads of the stored person records (``loaders.crossload``),
        looked up through indexes, so the read costs what it finds, not what the store holds.

        Returns ``(record id, person id, comparison)`` for every DESCRIBES of the records that
        hold one of the keyed blocking keys ``blocks`` (the Record's ``blocks`` property, indexed:
        the table ``record_blocks`` of the embedded store, the full-text index ``record_blocks``
        in Neo4j), that describe one of ``persons``, or whose id is in ``records``; sorted, each
        row once. ``comparison`` is None for a record without comparison data."""

    def persons_in_blocks(self, blocks: Sequence[str]) -> list[str]:
        """The persons described by the records that hold one of the keyed blocking keys
        ``blocks`` (the person ids of ``person_records(blocks=...)``, sorted, each once), through
        the same index, without reading the records' comparison data: what ``find`` needs."""

    def block_sizes(self, blocks: Sequence[str]) -> dict[str, int]:
        """How many stored records hold each of the keyed blocking keys ``blocks`` (through the
        index of ``person_records``); a key that no record holds is left out. Resolution across
        loads skips a block that a load of everything would skip as too large (``MAX_BLOCK``)."""

    def node_properties(
        self, label: str, properties: Sequence[str], progress: RowProgress | None = None
    ) -> list[tuple[Any, ...]]:
        """``(key, value, ...)`` of ``properties`` for every node of ``label``, sorted by key (None
        where a node lacks a property). What a step that needs a few properties of every node of
        one label reads without a graph: the report reads the gender and nationality of the
        persons, the names of the regions and the sources of the signals this way.
        ``progress``: as for ``read_graph``, ending at the rows returned."""

    def distinct_values(self, label: str, prop: str) -> list[str]:
        """The distinct values of ``prop`` on the nodes of ``label``, as text, sorted; nodes
        without it are left out. Counted by the store, so the answer costs what it holds, not a
        row per node: the report's stamp lists the load batches of the records this way."""

    def observation_days(
        self, label: str, keys: Sequence[str], end_labels: Collection[str]
    ) -> list[tuple[str, str]]:
        """``(key, day)`` for every day on which a node of ``label`` with one of ``keys`` was
        observed: the first ten characters (the ISO date) of the ``observed_on`` of a relationship
        that starts at the node and ends at a node of ``end_labels``, among the relationships
        ``read_graph`` returns (the schema's combinations only); each pair once, sorted. Looked up
        by key, so the read costs what these nodes have: the report dates the persons of the
        groups this way (``netanalysis.report.data``)."""

    def fact_rows(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        *,
        start_keys: Sequence[str] | None = None,
        end_keys: Sequence[str] | None = None,
        rel_properties: Sequence[str] = (),
        start_properties: Sequence[str] = (),
        end_properties: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """``(start key, end key, *rel values, *start values, *end values)`` for every
        ``(start_label)-[rel_type]->(end_label)`` relationship, the values of the properties named
        (None where absent) of the relationship and of its two ends, as ``read_graph`` reads them;
        only those starting (``start_keys``) or ending (``end_keys``) at the given keys when given,
        looked up by key. Sorted (``sort_fact_rows``). What a step that needs a few values of
        the facts of one kind reads without a graph: the report reads the exploitation forms of
        the persons' cases and signals and the places of the signals this way. ``SchemaError``
        for a combination outside graph_schema.cypher."""

    def counts(self) -> dict[str, int]:
        """Number of nodes per label and relationships per type (keys as in the schema)."""

    def merge_persons(self, merges: Sequence[PersonMerge]) -> int:
        """Merge persons, all in one transaction: every relationship of ``merged`` (both
        directions, with its properties and rel_key) moves to ``into`` (a fact ``into`` already has
        keeps its properties, updated by the moved one's), ``merged`` is deleted, ``into`` gets
        ``person`` and a ``Merge`` node records ``fact``. A merge whose ``merged`` person no longer
        exists is skipped, so repeating it changes nothing. Returns the persons merged."""

    def split_persons(self, splits: Sequence[PersonSplit]) -> int:
        """Split persons, all in one transaction: the ``records`` of each split leave ``person``
        for the new person ``into`` with the relationships they gave (``PersonSplit``), both
        persons get their properties and a ``Split`` node records ``fact``. A split none of whose
        records describes ``person`` any more is skipped, so repeating it changes nothing.
        Returns the splits made."""

    def begin_load(self, batch: str, wait: float = 0.0) -> None:
        """Take the store's write lock for a load (waiting at most ``wait`` seconds for another
        load to finish, else ``StoreError`` naming the batch that writes and since when) and
        record that the load ``batch`` started. See ``graphstore.loads``."""

    def end_load(self, batch: str, completed: bool = True) -> None:
        """Record that the load finished (when ``completed``) and release the write lock."""

    def last_load(self) -> LoadRecord | None:
        """The most recent load recorded in the store (None when there is none)."""

    def close(self) -> None:
        """Release connections and files."""


class RowCounter:
    """Counts the rows a read takes from the store's cursors and tells ``progress`` after every
    ``every`` rows or more, and at the end; nothing at all when ``progress`` is None.

    The rows are passed on in chunks (``itertools.islice``), so the count costs a call per
    chunk, not per row. A read retried by the driver starts counting again; ``progress`` only
    ever hears a count larger than the last, so the calls stay increasing.
    """

    def __init__(self, progress: RowProgress | None, every: int | None = None) -> None:
        self.progress = progress
        # Looked up now, not at import: a test reads a small store in chunks of a few rows.
        self.every = PROGRESS_EVERY if every is None else every
        self.done = 0
        self._told = -1

    def rows(self, rows: Iterable[_T]) -> Iterable[_T]:
        """``rows`` as they are, counted as they are taken."""
        if self.progress is None:
            return rows
        return self._counted(rows)

    def _counted(self, rows: Iterable[_T]) -> Iterator[_T]:
        it = iter(rows)
        while chunk := list(islice(it, self.every)):
            yield from chunk
            self.done += len(chunk)
            # The short last chunk of one cursor waits for the next: a read of many queries
            # (one per label on Neo4j) still tells once per ``every`` rows.
            if self.done - max(self._told, 0) >= self.every:
                self._tell()

    def restart(self) -> None:
        """Count from zero again (a transaction the driver retries reads everything again)."""
        self.done = 0

    def finish(self) -> None:
        """Tell the final count (once, when it was not told yet)."""
        self._tell()

    def _tell(self) -> None:
        if self.progress is not None and self.done > self._told:
            self._told = self.done
            self.progress(self.done)


def batched(rows: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Yield lists of at most ``size`` items."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sort_fact_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``GraphStore.fact_rows`` in their order: by start and end key, then by the values (as their
    ``repr``, so that None, numbers and lists sort too), the same on every backend."""
    return sorted(rows, key=lambda row: (row[0], row[1], repr(row[2:])))


def sorted_counts(counts: Mapping[str, int], names: Sequence[str]) -> dict[str, int]:
    """Counts for every name, zero where absent, in the given order."""
    return {name: int(counts.get(name, 0)) for name in names}


class RetentionDeletes:
    """The two retention deletes, shared by both backends: each backend supplies ``_delete``.

    ``_delete(criterion, value, labels)`` deletes the relationships (and nodes of ``labels``)
    matching the criterion ``"source"`` or ``"observed_before"``, then the nodes this left without
    relationships (never reference nodes), and returns how many items it deleted.
    """

    schema: Any  # graphstore.schema.GraphSchema; Any here to keep base.py free of imports

    def _delete(self, criterion: Any, value: str, labels: list[str]) -> int:
        raise NotImplementedError

    def delete_by_source(self, source: str) -> int:
        """Delete every relationship and Record/Signal/Case node whose ``source`` is ``source``,
        then the nodes this left without relationships (except reference nodes); returns the
        number of nodes and relationships deleted."""
        from netanalysis.errors import StoreError

        if not isinstance(source, str) or not source:
            raise StoreError("delete_by_source needs a source name")
        labels = [label for label in ("Record", "Signal", "Case") if label in self.schema.node_keys]
        return self._delete("source", source, labels)

    def delete_observed_before(self, date: str) -> int:
        """Retention: delete nodes and relationships with ``observed_on`` before ``date`` (ISO),
        then the nodes this left without relationships (except reference nodes)."""
        from graphstore.props import check_iso_date

        check_iso_date(date, "the retention date")
        return self._delete("observed_before", date, list(self.schema.node_keys))
