"""Read the graph the analysis works on from a store: the only module in ``netanalysis`` that
touches a store. It also keeps the tracked groups (``Group`` nodes, stable group ids across
detection runs, ``netanalysis.lineage``) in the store.

Every algorithm (projection, groups, movement, key players, leads) is a pure function over the
``networkx.MultiDiGraph`` returned here, so a notebook can build or filter a graph itself and get
the same answers.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphstore.base import LATEST_OBSERVED_ATTR, GraphSlice, GraphStore, ProvenanceRows, RowProgress
from graphstore.base import node_id as node_id_of
from graphstore.slicing import rel_combos
from netanalysis.audit import GRAPH_STORE_ATTR, audited, record_graph
from netanalysis.errors import ConfigError

__all__ = [
    "DETECTION_PROPERTIES",
    "LATEST_OBSERVED_ATTR",
    "PROVENANCE_ATTR",
    "REPORT_ATTR",
    "REPORT_PROPERTIES",
    "ReadProgress",
    "ReportFacts",
    "GraphIndex",
    "TrackedGroups",
    "check_iso_date",
    "check_store_state",
    "index_graph",
    "read_analysis_graph",
    "read_detection_graph",
    "read_evidence_graph",
    "GroupReader",
    "read_report_graph",
    "read_tracked_groups",
    "store_state",
    "write_tracked_groups",
]

Edge = tuple[Any, Any, dict[str, Any]]


@dataclass(frozen=True)
class GraphIndex:
    """The edges of a store graph grouped by relationship type, from one pass over the graph.

    Every step of the detection needs a few relationship types; at a million persons a pass over
    all edges per step (there were more than ten) cost more than the algorithms themselves. The
    lists keep the graph's own edge order, so a function gives the same answer with or without
    an index.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The graph indexed (functions taking an index check that it belongs to their graph).
    edges : dict
        Relationship type (the edge attribute ``type``; None when missing) -> list of
        ``(u, v, data)`` in ``graph.edges(data=True)`` order.
    """

    graph: nx.MultiDiGraph
    edges: dict[Hashable, list[Edge]]

    def of(self, rel_type: str) -> list[Edge]:
        """The edges of one relationship type (an empty list when there are none)."""
        return self.edges.get(rel_type, [])

    def all_edges(self) -> list[list[Edge]]:
        """Every edge list, one per relationship type."""
        return list(self.edges.values())


def index_graph(graph: nx.MultiDiGraph, index: GraphIndex | None = None) -> GraphIndex:
    """Group the edges of ``graph`` by relationship type in one pass (or check a given index).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    index : GraphIndex, optional
        An index made earlier; returned as it is when it was made for this very graph object.

    Returns
    -------
    GraphIndex

    Raises
    ------
    ConfigError
        When ``index`` was made for another graph.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> _ = g.add_edge("Person:a", "Case:c", type="SUSPECT_IN")
    >>> [(u, v) for u, v, _ in index_graph(g).of("SUSPECT_IN")]
    [('Person:a', 'Case:c')]
    """
    if index is not None:
        if index.graph is not graph:
            raise ConfigError("the graph index was made for another graph; make it with index_graph(graph).")
        return index
    edges: dict[Hashable, list[Edge]] = {}
    triples: Iterable[Edge] = graph.edges(data=True)
    if graph.is_directed():
        # The adjacency dicts themselves, in the order of graph.edges(data=True) (start, end,
        # key), without networkx's view machinery per edge: a third of the time at 100k rows.
        multi = graph.is_multigraph()
        triples = (
            (u, v, data)
            for u, ends in graph.adjacency()
            for v, keyed in ends.items()
            for data in (keyed.values() if multi else (keyed,))
        )
    for u, v, data in triples:
        rel = data.get("type")
        bucket = edges.get(rel)
        if bucket is None:
            bucket = edges[rel] = []
        bucket.append((u, v, data))
    return GraphIndex(graph, edges)


def check_iso_date(value: str | None, name: str) -> str | None:
    """Return ``value`` when it is an ISO date (YYYY-MM-DD) or None; raise ConfigError otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2023-01-31."
        ) from None


def _check_window(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    date_from = check_iso_date(date_from, "--from")
    date_to = check_iso_date(date_to, "--to")
    if date_from and date_to and date_from > date_to:
        raise ConfigError(f"--from {date_from} is after --to {date_to}; swap them.")
    return date_from, date_to


@audited("read", store="store", after=record_graph)
def read_analysis_graph(
    store: GraphStore,
    date_from: str | None = None,
    date_to: str | None = None,
    progress: ReadProgress | None = None,
) -> nx.MultiDiGraph:
    """Read the whole graph, or the facts observed in a date window, from a store.

    Parameters
    ----------
    store : GraphStore
        An open store (``graphstore.open_store(uri)``).
    date_from, date_to : str, optional
        ISO dates, inclusive. Facts with an ``observed_on`` outside the window are left out;
        reference facts (municipality in region, premises in municipality) are always kept.

    progress : callable, optional
        ``progress(rows read, rows in all)`` every few thousand rows, as for
        ``read_detection_graph``.

    Returns
    -------
    networkx.MultiDiGraph
        Node ids ``"Label:key"``, attributes as stored (see ``graphstore.base``).

    Raises
    ------
    ConfigError
        When a date is not ISO or ``date_from`` is after ``date_to``.
    """
    date_from, date_to = _check_window(date_from, date_to)
    # The tracked groups are the analysis' own output, and merges the store's own history: neither
    # is a fact to analyse.
    labels = frozenset(store_labels(store)) - {"Group", "Merge"}
    rows = _RowsRead(progress, 0 if progress is None else _rows_of(store, labels, store.counts()))
    graph = store.read_graph(
        GraphSlice(labels=labels, observed_from=date_from, observed_to=date_to), rows.part()
    )
    # The keyed comparison data of records (loaders.crossload) is for later loads only: it never
    # reaches an analysis result, a map or a report.
    for _node, attrs in graph.nodes(data=True):
        attrs.pop("comparison", None)
        attrs.pop("blocks", None)
    # Where the graph came from: what is made of it later (a detection, a map) is logged there.
    graph.graph[GRAPH_STORE_ATTR] = store.uri
    return graph


#: Graph attribute of a detection graph: the ``graphstore.base.ProvenanceRows`` of what it left out.
PROVENANCE_ATTR = "provenance"

#: The properties the detection reads (projection, groups, moves, regions, leads, addresses):
#: everything else (provenance, batches, legal bases, display names) stays in the store.
DETECTION_PROPERTIES = frozenset(
    {
        # persons, cases, signals, places, addresses, organisations
        "person_id",
        "roles",
        "birth_year",
        "exploitation_type",
        "signal_id",
        "case_linked",
        "code",
        "level",
        "municipality",
        "address_id",
        "pc4",
        "kind",
        # facts (and the grade of a signal)
        "observed_on",
        "reliability",
        "from_date",
        "to_date",
    }
)

#: What ``read_detection_graph`` and ``read_report_graph`` call as they read:
#: ``progress(rows read so far, rows in all)``. The rows in all come from the store's counts of
#: the labels and relationship types read (``GraphStore.counts``), so they cost nothing to know;
#: they are an upper bound, reached when nothing is left out: a date window, or relationships
#: of a type between labels that are not read, make the rows read end below it.
ReadProgress = Callable[[int, int], None]


class _RowsRead:
    """The rows of several store reads counted as one, against one total (``ReadProgress``)."""

    def __init__(self, progress: ReadProgress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def part(self) -> RowProgress | None:
        """The progress of the next read: its rows come after those of the reads before it."""
        if self.progress is None:
            return None
        base = self.done
        progress = self.progress

        def tell(rows: int) -> None:
            self.done = base + rows
            progress(self.done, self.total)

        return tell


def _rows_of(store: GraphStore, labels: Collection[str], counts: Mapping[str, int]) -> int:
    """The nodes of ``labels`` plus the relationships of every type that joins two of them."""
    schema = getattr(store, "schema", None)
    if schema is None:
        from graphstore import load_schema

        schema = load_schema()
    types = {typ for typ, start, end in rel_combos(schema) if start in labels and end in labels}
    return sum(counts.get(label, 0) for label in labels) + sum(counts.get(typ, 0) for typ in types)


def _detection_rows(store: GraphStore, labels: Collection[str], counts: Mapping[str, int]) -> int:
    """What ``read_detection_graph`` reads at most: the graph without the records and sources,
    the DESCRIBES of the records and the relationships from the signals (their provenance)."""
    schema = getattr(store, "schema", None)
    if schema is None:
        from graphstore import load_schema

        schema = load_schema()
    from_signals = {typ for typ, start, end in rel_combos(schema) if start == "Signal" and end in labels}
    provenance = counts.get("DESCRIBES", 0) + sum(counts.get(typ, 0) for typ in from_signals)
    return _rows_of(store, frozenset(labels) - _PROVENANCE_LABELS, counts) + provenance


# Left out of a detection graph: the records and sources (their provenance comes as rows, see
# ProvenanceRows), besides what read_analysis_graph leaves out.
_PROVENANCE_LABELS = frozenset({"Record", "Source"})


@audited("read", store="store", after=record_graph)
def read_detection_graph(
    store: GraphStore,
    date_from: str | None = None,
    date_to: str | None = None,
    progress: ReadProgress | None = None,
) -> nx.MultiDiGraph:
    """The part of the graph a detection needs, read from a store: what ``read_analysis_graph``
    gives without the Record and Source nodes and with only the ``DETECTION_PROPERTIES``.

    ``detect`` gives the same result from it as from ``read_analysis_graph(store, date_from,
    date_to)``: the store computes what the left-out part contributes (the latest observation,
    the records of every person, the rows of every signal) and the graph carries it as
    ``graph.graph[PROVENANCE_ATTR]`` (``graphstore.base.ProvenanceRows``). The records are most of
    a store (one per source row) and the provenance properties most of each fact, so this graph
    takes a fraction of the memory of the whole (``benchmarks/RESULTS.md``).

    Parameters
    ----------
    store : GraphStore
        An open store.
    date_from, date_to : str, optional
        ISO dates, inclusive, as for ``read_analysis_graph``.
    progress : callable, optional
        ``progress(rows read, rows in all)`` every few thousand rows (``ReadProgress``); the rows
        in all are an upper bound, reached when no date window leaves rows out.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    ConfigError
        When a date is not ISO or ``date_from`` is after ``date_to``.
    """
    date_from, date_to = _check_window(date_from, date_to)
    labels = frozenset(store_labels(store)) - {"Group", "Merge"}
    rows = _RowsRead(progress, 0 if progress is None else _detection_rows(store, labels, store.counts()))
    return _detection_graph(store, labels, date_from, date_to, rows)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a read builds a graph, then restore it.

    A read makes millions of dicts and strings that all live on, and the collector walks every
    one of them again and again as they pile up (10-15 % of the read's CPU at 100k rows); what a
    read throws away holds no cycles, so reference counting frees it all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def collector_spares_the_heap() -> Iterator[Callable[[], None]]:
    """Let Python's cyclic garbage collector leave alone every object made so far (a graph just
    read: ``gc.freeze``) until the block ends, unless something froze objects already; give a
    ``settle()`` that does the same for what was made since.

    The steps after a read make many small graphs and frames, some with reference cycles (a
    networkx graph and its cached views), which the collector must still free; but each of its
    full passes would also walk the whole graph read before (a tenth of the detection's CPU at
    100k rows). Frozen objects are still freed by reference counting when nothing holds them.

    What the steps keep grows with the graph too (its index, the network, the members' facts):
    after the first full pass only those are counted as long-lived, so a full pass comes each
    time they grow by a quarter, and each walks all of them (ten passes, 4.8 of 53 CPU s at 300k
    rows). ``settle()`` between steps frees the young cycles (a young collection, cheap) and
    freezes the rest; cycles that reached the oldest generation wait for the end of the block.
    When the caller froze objects already, ``settle`` does nothing (unfreezing at the end would
    unfreeze the caller's too).
    """
    if gc.get_freeze_count():
        yield lambda: None
        return

    def settle() -> None:
        gc.collect(1)
        gc.freeze()

    gc.freeze()
    try:
        yield settle
    finally:
        gc.unfreeze()


def _detection_graph(
    store: GraphStore, labels: frozenset[str], date_from: str | None, date_to: str | None, rows: _RowsRead
) -> nx.MultiDiGraph:
    with collector_paused():
        graph = store.read_graph(
            GraphSlice(
                labels=labels - _PROVENANCE_LABELS,
                observed_from=date_from,
                observed_to=date_to,
                properties=DETECTION_PROPERTIES,
            ),
            rows.part(),
        )
        # Its rows hold no cycles either, and a full pass here walks the whole graph just read.
        provenance: ProvenanceRows = store.provenance_rows(labels, date_from, date_to, rows.part())
    graph.graph[PROVENANCE_ATTR] = provenance
    graph.graph[GRAPH_STORE_ATTR] = store.uri
    return graph


@audited("read", store="store", after=record_graph)
def read_evidence_graph(
    store: GraphStore, date_from: str | None = None, date_to: str | None = None
) -> nx.MultiDiGraph:
    """The facts the perpetrator network is made of, selected in the store.

    ``netanalysis.projection.perpetrator_network`` gives the same network from it as from
    ``read_analysis_graph(store, date_from, date_to)`` or ``read_detection_graph``: the store
    selects the suspects, their evidence (cases, victims, identifiers, premises, places seen,
    addresses, employers, directorships, roles), the addresses and employers of the persons tied
    to them and the regions of the places (``GraphStore.read_evidence_graph``), and the projection
    weighs them. The graph carries the latest observation of the whole window as
    ``graph.graph[LATEST_OBSERVED_ATTR]``, the date the recency counts back from.

    Parameters
    ----------
    store : GraphStore
        An open store.
    date_from, date_to : str, optional
        ISO dates, inclusive, as for ``read_analysis_graph``.

    Returns
    -------
    networkx.MultiDiGraph
        Only ``DETECTION_PROPERTIES`` on its nodes and facts.

    Raises
    ------
    ConfigError
        When a date is not ISO or ``date_from`` is after ``date_to``.
    """
    date_from, date_to = _check_window(date_from, date_to)
    # The labels of read_analysis_graph: the latest observation is that of the same facts.
    labels = frozenset(store_labels(store)) - {"Group", "Merge"}
    graph = store.read_evidence_graph(
        GraphSlice(
            labels=labels, observed_from=date_from, observed_to=date_to, properties=DETECTION_PROPERTIES
        )
    )
    graph.graph[GRAPH_STORE_ATTR] = store.uri
    return graph


#: The members' own facts the leads read (identifiers, premises seen, signals about them) ...
_LEADS_OWN = ("USES", "SEEN_AT", "CONCERNS")
#: ... and those the hubs read (addresses and organisations).
_HUB_TIES = ("REGISTERED_AT", "EMPLOYED_BY", "DIRECTOR_OF", "OWNS")


class GroupReader:
    """What the detection reads of a store after the groups are found, step by step, each step's
    graph read around the groups' persons, used and let go (``netanalysis.detect.detect_store``).

    Every step of ``netanalysis.detect.detect`` after the groups gives the same answer on the
    graph read for it as on the detection graph (``read_detection_graph``), because the graph
    holds every fact the step looks at (``docs/detection.md``, "What the detection reads"): the
    store looks the facts up by key (``GraphStore.read_around``), ring by ring, so what no group
    touches is never read, and no two steps' graphs are held at once.

    Parameters
    ----------
    store : GraphStore
        An open store.
    date_from, date_to : str, optional
        ISO dates, inclusive, as for ``read_detection_graph``.
    chunk : int
        Persons per read of the members' facts (``member_graphs``): a bound on what one read holds.
    """

    def __init__(
        self, store: GraphStore, date_from: str | None = None, date_to: str | None = None, chunk: int = 5000
    ) -> None:
        self.store = store
        self.date_from, self.date_to = _check_window(date_from, date_to)
        self.chunk = chunk
        self.labels = frozenset(store_labels(store)) - {"Group", "Merge"}
        self._places: nx.MultiDiGraph | None = None
        self._kept: tuple[frozenset[str], dict[int, _Rings]] | None = None

    def _slice(self, labels: Collection[str] | None = None) -> GraphSlice:
        read = self.labels - _PROVENANCE_LABELS
        return GraphSlice(
            labels=read if labels is None else read & frozenset(labels),
            observed_from=self.date_from,
            observed_to=self.date_to,
            properties=DETECTION_PROPERTIES,
        )

    def _around(
        self,
        seeds: Mapping[str, Collection[str]],
        types: Collection[str] | None,
        labels: Collection[str] | None = None,
    ) -> nx.MultiDiGraph:
        wanted = {label: keys for label, keys in seeds.items() if keys}
        if not wanted:
            return nx.MultiDiGraph()
        return self.store.read_around(self._slice(labels), wanted, types)

    def places(self) -> nx.MultiDiGraph:
        """The municipalities, regions and premises and the IN between them (where a premises
        lies, which region a municipality is in): what ``municipality_regions`` and
        ``observations`` look up beyond a person's own facts. Read once, kept (it is small)."""
        if self._places is None:
            wanted = self.labels & {"Municipality", "Region", "Premises"}
            self._places = self.store.read_graph(
                GraphSlice(
                    labels=wanted,
                    rel_types=frozenset({"IN"}),
                    observed_from=self.date_from,
                    observed_to=self.date_to,
                    properties=DETECTION_PROPERTIES,
                )
            )
        return self._places

    def victims_graph(self, suspects: Collection[str]) -> nx.MultiDiGraph:
        """What ``attach_victims`` reads: the suspects' cases, signals and premises, every person
        in those cases, concerned by those signals or seen at those premises (all of them, for its
        cap of 200 persons a premises), and whether those persons are victims (roles, VICTIM_IN)."""
        rings = _Rings()
        ids = {node_id_of("Person", key) for key in suspects}
        own = ("SUSPECT_IN", "VICTIM_IN", "CONCERNS", "SEEN_AT")
        rings.add(self._around({"Person": suspects}, own, self.labels - {"Municipality"}))
        rings.add(self._around({"Case": rings.ends(ids, "SUSPECT_IN", "Case:")}, ("SUSPECT_IN", "VICTIM_IN")))
        rings.add(self._around({"Signal": rings.starts(ids, "CONCERNS", "Signal:")}, ("CONCERNS",)))
        rings.add(self._around({"Premises": rings.ends(ids, "SEEN_AT", "Premises:")}, ("SEEN_AT",)))
        around = {str(n).split(":", 1)[1] for n in rings.nodes if str(n).startswith("Person:")}
        rings.add(self._around({"Person": around - set(suspects)}, ("VICTIM_IN",)))
        return rings.graph()

    def member_graphs(self, persons: Collection[str]) -> Iterator[tuple[list[str], nx.MultiDiGraph]]:
        """``chunk`` persons at a time: their keys, and every fact they have with its other end,
        plus the ``places`` relationships from those ends (where a premises lies): what the moves,
        dates, exploitation types and minors of a group read."""
        ordered = sorted(set(persons))
        places = self.places()
        # The members' own facts that the leads and the hubs read are kept as they pass, so those
        # steps do not read them again (_LEADS_OWN, _HUB_TIES).
        leads, hubs = _Rings(), _Rings()
        self._kept = (frozenset(ordered), {1: leads, 2: hubs})
        for at in range(0, len(ordered), self.chunk):
            part = ordered[at : at + self.chunk]
            graph = self._around({"Person": part}, None)
            ids = {node_id_of("Person", key) for key in part}
            for u, v, key, data in graph.edges(keys=True, data=True):
                typ = data.get("type")
                if u in ids and typ in _HUB_TIES:
                    hubs.add_edge(graph, u, v, key, data)
                if (
                    u in ids and (typ == "USES" or (typ == "SEEN_AT" and str(v).startswith("Premises:")))
                ) or (v in ids and typ == "CONCERNS"):
                    leads.add_edge(graph, u, v, key, data)
            for node in ids & set(graph):
                leads.nodes.setdefault(node, graph.nodes[node])
                hubs.nodes.setdefault(node, graph.nodes[node])
            # Where the places these facts end at lie (a premises IN its municipality), not every
            # place: all of them in every chunk cost the chunks times the places, which grows with
            # the square of the store.
            succ = places.succ
            lying = [
                (u, v, key, data)
                for u in graph
                if u in succ
                for v, keyed in succ[u].items()
                for key, data in keyed.items()
            ]
            graph.add_nodes_from((v, places.nodes[v]) for _, v, _, _ in lying if v not in graph)
            graph.add_edges_from(lying)
            yield part, graph

    def _kept_rings(self, members: Collection[str], which: int) -> _Rings | None:
        """The rings ``member_graphs`` kept of these members (1: leads, 2: hubs), once."""
        if self._kept is None or self._kept[0] != frozenset(members):
            return None
        return self._kept[1].pop(which, None)

    def leads_graph(self, members: Collection[str]) -> nx.MultiDiGraph:
        """What ``find_leads`` reads: the identifiers and premises of the members, every user of
        those identifiers, and every signal about a member or such a user or at such a premises,
        with all it concerns and where it was."""
        ids = {node_id_of("Person", key) for key in members}
        kept = self._kept_rings(members, 1)
        if kept is None:
            rings = _Rings()
            rings.add(self._around({"Person": members}, _LEADS_OWN, self.labels - {"Municipality"}))
        else:
            rings = kept
        items: dict[str, set[str]] = {}
        for node in rings.end_nodes(ids, "USES"):
            label, key = str(node).split(":", 1)
            items.setdefault(label, set()).add(key)
        rings.add(self._around(items, ("USES",)))
        item_ids = {f"{label}:{key}" for label, keys in items.items() for key in keys}
        users = rings.starts(item_ids, "USES", "Person:") - set(members)
        rings.add(self._around({"Person": users}, ("CONCERNS",)))
        premises = rings.ends(ids, "SEEN_AT", "Premises:")
        rings.add(self._around({"Premises": premises}, ("AT",)))
        concerned = ids | {node_id_of("Person", key) for key in users}
        signals = rings.starts(concerned, "CONCERNS", "Signal:")
        signals |= rings.starts({node_id_of("Premises", key) for key in premises}, "AT", "Signal:")
        rings.add(self._around({"Signal": signals}, ("CONCERNS", "AT")))
        return rings.graph()

    def crowded_graph(self, min_persons: int) -> nx.MultiDiGraph:
        """What ``crowded_address_leads`` reads: every registration at, and every AT to, the
        addresses where at least ``min_persons`` persons were ever registered (counted by the
        store, ``GraphStore.busy_ends``); no other address can be crowded."""
        if not {"Address", "Person"} <= self.labels:
            return nx.MultiDiGraph()
        busy = self.store.busy_ends(
            "REGISTERED_AT", "Person", "Address", min_persons, self.date_from, self.date_to
        )
        return self._around({"Address": busy}, ("REGISTERED_AT", "AT"))

    def hubs_graph(self, members: Collection[str]) -> nx.MultiDiGraph:
        """What ``shared_hubs`` reads: the members' addresses and organisations."""
        kept = self._kept_rings(members, 2)
        if kept is not None:
            return kept.graph()
        return self._around({"Person": members}, _HUB_TIES)

    def provenance(self) -> nx.MultiDiGraph:
        """An empty graph carrying the ``ProvenanceRows`` of the window (``PROVENANCE_ATTR``): the
        rows of ``persons.csv`` and ``signal_rows.csv``."""
        graph = nx.MultiDiGraph()
        graph.graph[PROVENANCE_ATTR] = self.store.provenance_rows(self.labels, self.date_from, self.date_to)
        graph.graph[GRAPH_STORE_ATTR] = self.store.uri
        return graph


class _Rings:
    """Rings read around some nodes, gathered into one graph in ``assemble``'s order (nodes
    sorted, edges by start, end and rel_key), so that a step meets nodes and edges in the order
    the detection graph has them: the same graph, less of it."""

    def __init__(self) -> None:
        self.nodes: dict[Any, dict[str, Any]] = {}
        self.edges: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
        self.by_type: dict[Any, list[tuple[Any, Any]]] = {}

    def add(self, ring: nx.MultiDiGraph) -> None:
        for node, attrs in ring.nodes(data=True):
            self.nodes.setdefault(node, attrs)
        for u, v, key, data in ring.edges(keys=True, data=True):
            if (u, v, key) not in self.edges:
                self.edges[(u, v, key)] = data
                self.by_type.setdefault(data.get("type"), []).append((u, v))

    def add_edge(self, graph: nx.MultiDiGraph, u: Any, v: Any, key: Any, data: dict[str, Any]) -> None:
        """One edge of ``graph`` with its two ends."""
        self.nodes.setdefault(u, graph.nodes[u])
        self.nodes.setdefault(v, graph.nodes[v])
        if (u, v, key) not in self.edges:
            self.edges[(u, v, key)] = data
            self.by_type.setdefault(data.get("type"), []).append((u, v))

    def end_nodes(self, starts: Collection[Any], rel_type: str) -> set[Any]:
        """The ends of ``rel_type`` from ``starts`` (node ids)."""
        return {v for u, v in self.by_type.get(rel_type, ()) if u in starts}

    def ends(self, starts: Collection[Any], rel_type: str, prefix: str) -> set[str]:
        """Keys of the ends of ``rel_type`` from ``starts`` whose node id starts with ``prefix``."""
        return {
            str(v).split(":", 1)[1] for v in self.end_nodes(starts, rel_type) if str(v).startswith(prefix)
        }

    def starts(self, ends: Collection[Any], rel_type: str, prefix: str) -> set[str]:
        """Keys of the starts of ``rel_type`` into ``ends`` whose node id starts with ``prefix``."""
        return {
            str(u).split(":", 1)[1]
            for u, v in self.by_type.get(rel_type, ())
            if v in ends and str(u).startswith(prefix)
        }

    def graph(self) -> nx.MultiDiGraph:
        """The graph of every ring added; the rings are let go as it is built."""
        graph = nx.MultiDiGraph()
        for node in sorted(self.nodes):
            graph.add_node(node, **self.nodes.pop(node))
        self.by_type.clear()
        for u, v, key in sorted(self.edges, key=lambda e: (e[0], e[1], e[2], self.edges[e].get("type"))):
            graph.add_edge(u, v, key=key, **self.edges.pop((u, v, key)))
        return graph


#: Graph attribute of a report graph: the ``ReportFacts`` of the records and sources it left out.
REPORT_ATTR = "report_facts"

#: The properties the report reads besides the ``DETECTION_PROPERTIES``, label by label: the
#: persons' coarse facts for its breakdowns, the regions' names and the signals' sources.
REPORT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "Person": ("gender", "nationality"),
    "Region": ("name",),
    "Signal": ("source",),
}


@dataclass(frozen=True)
class ReportFacts:
    """What the report shows of the nodes a report graph leaves out (``read_report_graph``).

    batches
        The distinct load batches of the records, sorted (the report's stamp).
    sources
        Source name -> kind, by name (the report's list of sources).
    """

    batches: list[str]
    sources: dict[str, str]


@audited("read", store="store", after=record_graph)
def read_report_graph(store: GraphStore, progress: ReadProgress | None = None) -> nx.MultiDiGraph:
    """The part of the graph the Rapporteur's report needs, read from a store: the detection
    graph (``read_detection_graph``) with the properties of ``REPORT_PROPERTIES`` on its nodes,
    and the batches of the records and the kinds of the sources as ``graph.graph[REPORT_ATTR]``
    (``ReportFacts``).

    ``netanalysis.report.build_report`` makes the same report from it as from
    ``read_analysis_graph(store)``, without the records (one per source row, most of a store) and
    the provenance on every fact: the store counts what the report shows of them.

    Parameters
    ----------
    store : GraphStore
        An open store.
    progress : callable, optional
        ``progress(rows read, rows in all)`` as for ``read_detection_graph``, over the detection
        graph and the properties read after it.

    Returns
    -------
    networkx.MultiDiGraph
    """
    rows = _RowsRead(progress, 0)
    read = frozenset(store_labels(store)) - {"Group", "Merge"}
    if progress is not None:
        # One count for the whole read (a count of a store of 200k rows costs 0.1-0.2 CPU s).
        counts = store.counts()
        read_after = [label for label in (*REPORT_PROPERTIES, "Source") if label in read]
        rows.total = _detection_rows(store, read, counts) + sum(counts.get(x, 0) for x in read_after)
    graph = _detection_graph(store, read, None, None, rows)
    nodes = graph.nodes
    for label, names in REPORT_PROPERTIES.items():
        for key, *values in store.node_properties(label, names, rows.part()):
            attrs = nodes.get(f"{label}:{key}")
            if attrs is None:
                continue
            for name, value in zip(names, values, strict=True):
                if value is not None:
                    attrs[name] = value
    labels = set(store_labels(store))
    batches = store.distinct_values("Record", "batch") if "Record" in labels else []
    kinds = store.node_properties("Source", ["kind"], rows.part()) if "Source" in labels else []
    sources = {str(key): "" if kind is None else str(kind) for key, kind in kinds}
    graph.graph[REPORT_ATTR] = ReportFacts(batches, sources)
    return graph


def read_around_persons(store: GraphStore, person_ids: Collection[str]) -> nx.MultiDiGraph:
    """The given persons and the records that describe them, looked up by key in the store.

    What ``find_person`` needs from a store: its cost follows the number of persons asked for,
    not the size of the store (``GraphSlice.person_ids``).
    """
    graph = store.read_graph(
        GraphSlice(
            labels=frozenset({"Person", "Record"}),
            rel_types=frozenset({"DESCRIBES"}),
            person_ids=frozenset(person_ids),
        )
    )
    for _node, attrs in graph.nodes(data=True):
        attrs.pop("comparison", None)  # keyed comparison data is for later loads only
        attrs.pop("blocks", None)
    graph.graph[GRAPH_STORE_ATTR] = store.uri
    return graph


def store_labels(store: GraphStore) -> list[str]:
    """The node labels of the store's schema (``graph_schema.cypher``)."""
    schema = getattr(store, "schema", None)
    if schema is None:
        from graphstore import load_schema

        schema = load_schema()
    return list(schema.node_keys)


@dataclass(frozen=True)
class TrackedGroups:
    """The groups the last tracked detection left in the store.

    Attributes
    ----------
    members : dict
        Active group id -> its suspects (person ids).
    next_number : int
        The number the next new group gets: above every id ever given, ended groups included.
    """

    members: dict[str, set[str]]
    next_number: int


def read_tracked_groups(store: GraphStore) -> TrackedGroups:
    """The tracked groups kept in the store (empty when no detection was tracked yet)."""
    from netanalysis.lineage import group_number

    graph = store.read_graph(GraphSlice(labels=frozenset({"Group"}), rel_types=frozenset()))
    members: dict[str, set[str]] = {}
    highest = 0
    for _node, attrs in graph.nodes(data=True):
        group = str(attrs.get("group_id"))
        highest = max(highest, group_number(group))
        if attrs.get("status") == "active":
            members[group] = {str(m) for m in attrs.get("members") or []}
    return TrackedGroups(dict(sorted(members.items())), highest + 1)


def write_tracked_groups(
    store: GraphStore,
    members: Mapping[str, Collection[str]],
    events: Iterable[Mapping[str, Any]],
    as_of: str | None,
) -> int:
    """Keep this run's groups in the store: active groups with their suspects, ended ones marked.

    ``events`` are this run's lineage rows (``netanalysis.lineage.match_groups``); a group id of
    an event that is not in ``members`` has ended. Returns the number of Group nodes written.
    """
    rows = []
    for event in events:
        group = str(event["group_id"])
        active = group in members
        rows.append(
            {
                "group_id": group,
                "status": "active" if active else "ended",
                "members": sorted(str(m) for m in members[group]) if active else [],
                "event": str(event["event"]),
                "related": str(event.get("related") or ""),
                "as_of": as_of or "",
            }
        )
    return store.upsert_nodes("Group", rows)


#: Written by detections themselves (``detect --track``), so not part of the state they record.
_OWN_LABELS = frozenset({"Group"})


def store_state(store: GraphStore) -> dict[str, Any]:
    """What a detection records of the store it read (``settings.json``, key ``store``), so that a
    later step can tell whether the store changed since: its last load (batch and end) and its
    number of nodes per label and relationships per type. A load, a retention delete, an erasure
    or a merge of persons changes one of them; the tracked groups a detection writes do not count.
    """
    last = store.last_load()
    return {
        "last_load": last.batch if last is not None else None,
        "finished": last.finished if last is not None else None,
        "counts": {name: n for name, n in store.counts().items() if name not in _OWN_LABELS},
    }


def check_store_state(recorded: Any, store: GraphStore, folder: str) -> None:
    """Refuse, in one sentence, a detection made on another state of ``store`` than its present one.

    ``recorded`` is the ``store`` entry of the detection's settings (``store_state``); ``folder``
    names the detection in the message.

    Raises
    ------
    ConfigError
        The detection recorded no state (an older version), or the store changed since.
    """
    if not isinstance(recorded, dict):
        raise ConfigError(
            f"the detection in {folder} does not record the state of the store it was made on (an "
            "older version, or a detection written from Python, does not); run netanalysis detect again"
        )
    now = store_state(store)
    if recorded != now:
        what = "a load" if recorded.get("last_load") != now["last_load"] else "a change of its contents"
        raise ConfigError(
            f"the store changed after the detection in {folder} was made ({what}); run netanalysis "
            "detect again, or leave out --detection"
        )
