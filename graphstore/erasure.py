"""Erasing source rows from the graph, done right: what to delete and what to recompute.

A source row (a *record*, ``"<source>:<row_id>"``) leaves several things in the graph
(``loaders.graph_rows``): facts that are its own (their ``rel_key`` is the record id and their
provenance names the row), its ``Record`` node, and a share in facts and nodes that other rows
may state as well. Erasing a record must remove what exists only because of it and nothing else.
:func:`plan_erasure` works that out, as plain data, from a graph read from the store
(``GraphStore.read_graph``); both backends then apply the same :class:`ErasurePlan`
(``GraphStore.apply_erasure``).

The rules
    * Every fact the record owns goes, and its ``Record`` node.
    * A node goes when nothing is left that makes it exist: a ``Person`` without a record
      describing it, a ``Phone``/``Vehicle``/``BankAccount`` nobody uses, a ``Premises`` no fact
      points at (its standing ``IN`` link counts only while the row that wrote it stays), a
      ``Case`` without a suspect, victim, place, signal or delivering row, a ``Signal`` without a
      row, a ``Source`` that delivered nothing that is left.
      The check runs over the whole graph, so orphans that an earlier, cut-off run left are found.
    * Facts many rows share (``rel_key`` ``"from"`` and ``"in"``: a case or signal delivered by a
      source, a premises lying in a municipality) carry the provenance of their last writer. They
      stay while any remaining row states them; when their writer is erased, they take the
      provenance of a remaining row (the smallest record id), so no erased row id stays on them.
    * Derived properties of the nodes next to what goes are recomputed from what remains: a
      person's ``roles`` from its remaining records, a signal's ``case_linked``, ``case_id`` and
      ``observed_on`` from its remaining rows, a case's ``source`` from the sources that still
      deliver it; tracked groups (``Group.members``) lose the persons that go.

Applying a plan is idempotent and safe to cut off: backends write the property updates first and
delete afterwards, and a new plan made after a cut-off run finds what is left to delete (the
updates it repeats are the same values).

Limits
    A person's ``nationality``, ``birth_year`` and ``gender`` are the most common values over the
    records at load time; the rows' values are not stored, so they are not recomputed. A record's
    role is read from its ``DESCRIBES`` relationship (``role``, written since retention exists);
    for older loads it is read from the record's own facts (``SEEN_AT``/``CONCERNS`` role,
    ``SUSPECT_IN``, ``VICTIM_IN``), which misses a role a row gave without any such fact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = [
    "SHARED_REL_KEYS",
    "ErasurePlan",
    "RecordInfo",
    "RelRef",
    "plan_erasure",
    "record_inventory",
]

#: rel_keys of facts that many rows state (``loaders.graph_rows``): last writer's provenance.
SHARED_REL_KEYS = frozenset({"from", "in"})
_PROVENANCE = ("source", "row_id", "batch", "legal_basis", "reliability", "observed_on")
_NEVER_ORPHANED = frozenset({"Municipality", "Region", "Group", "Merge", "Split"})
_IDENTIFIERS = frozenset({"Phone", "Vehicle", "BankAccount"})
_ROLE_OF_TYPE = {"SUSPECT_IN": "suspect", "VICTIM_IN": "victim"}

Edge = tuple[str, str, str]  # (start node id, end node id, rel_key) of a networkx MultiDiGraph


@dataclass(frozen=True, order=True)
class RelRef:
    """One stored relationship by its identity: type, both endpoints and ``rel_key``."""

    rel_type: str
    start_label: str
    start: str
    end_label: str
    end: str
    rel_key: str


@dataclass(frozen=True)
class RecordInfo:
    """What the graph says about one source row: its id, source, row id, legal basis and date."""

    record_id: str
    source: str
    row_id: str
    legal_basis: str | None
    observed_on: str | None


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing a set of records deletes and rewrites; applied by ``GraphStore.apply_erasure``.

    Attributes
    ----------
    records : tuple of str
        The record ids erased that the store holds.
    delete_rels : tuple of RelRef
        Relationships to delete.
    delete_nodes : tuple of (label, key)
        Nodes to delete (with any relationship still attached).
    node_props : tuple of (label, key, props)
        Nodes whose properties are replaced by ``props`` (the key property included).
    rel_props : tuple of (RelRef, props)
        Relationships whose properties are replaced by ``props`` (``rel_key`` included).
    """

    records: tuple[str, ...] = ()
    delete_rels: tuple[RelRef, ...] = ()
    delete_nodes: tuple[tuple[str, str], ...] = ()
    node_props: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    rel_props: tuple[tuple[RelRef, dict[str, Any]], ...] = ()
    sources: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Whether applying the plan changes nothing."""
        return not (self.delete_rels or self.delete_nodes or self.node_props or self.rel_props)

    def counts(self) -> dict[str, int]:
        """What the plan does, as counts only (for the audit log and the command's summary).

        Examples
        --------
        >>> ErasurePlan(records=("a:1",), delete_nodes=(("Person", "p1"), ("Record", "a:1"))).counts()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'records': 1, 'relationships_deleted': 0, 'nodes_deleted': 2, 'nodes_updated': 0,
         'relationships_updated': 0, 'persons_deleted': 1}
        """
        by_label: dict[str, int] = defaultdict(int)
        for label, _key in self.delete_nodes:
            by_label[label] += 1
        return {
            "records": len(self.records),
            "relationships_deleted": len(self.delete_rels),
            "nodes_deleted": len(self.delete_nodes),
            "nodes_updated": len(self.node_props),
            "relationships_updated": len(self.rel_props),
            "persons_deleted": by_label.get("Person", 0),
        }

    def nodes_deleted_by_label(self) -> dict[str, int]:
        """Nodes deleted per label, labels sorted."""
        by_label: dict[str, int] = defaultdict(int)
        for label, _key in self.delete_nodes:
            by_label[label] += 1
        return dict(sorted(by_label.items()))


def _split(node: str) -> tuple[str, str]:
    label, _, key = node.partition(":")
    return label, key


def _record_of(data: Mapping[str, Any]) -> str | None:
    source, row_id = data.get("source"), data.get("row_id")
    if isinstance(source, str) and source and row_id is not None and str(row_id) != "":
        return f"{source}:{row_id}"
    return None


def record_inventory(graph: nx.MultiDiGraph) -> dict[str, RecordInfo]:
    """Every source row the graph holds something of, with its source, legal basis and date.

    Rows are found from ``Record`` nodes and from the provenance of every relationship (a signal
    row that names no person has no ``Record`` node, only facts).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A graph read from a store (``GraphStore.read_graph()``).

    Returns
    -------
    dict
        record id -> :class:`RecordInfo`, sorted by record id.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Record:a:1", label="Record", record_id="a:1", source="a", row_id="1",
    ...            observed_on="2020-01-02", legal_basis="Wpg art. 8")
    >>> _ = g.add_edge("Signal:b:7", "Municipality:GM0363", key="b:7", type="AT", source="b", row_id="7")
    >>> sorted(record_inventory(g))
    ['a:1', 'b:7']
    >>> record_inventory(g)["a:1"].observed_on
    '2020-01-02'
    """
    found: dict[str, dict[str, Any]] = {}

    def note(data: Mapping[str, Any]) -> None:
        rid = _record_of(data)
        if rid is None:
            return
        info = found.setdefault(rid, {"source": data["source"], "row_id": str(data["row_id"])})
        for name in ("legal_basis", "observed_on"):
            if info.get(name) is None and data.get(name) is not None:
                info[name] = str(data[name])

    for _node, data in graph.nodes(data=True):
        if data.get("label") == "Record":
            note(data)
    for _u, _v, data in graph.edges(data=True):
        note(data)
    return {
        rid: RecordInfo(rid, info["source"], info["row_id"], info.get("legal_basis"), info.get("observed_on"))
        for rid, info in sorted(found.items())
    }


class _Planner:
    """The state of one planning: what is doomed so far, over an index of the graph."""

    def __init__(self, graph: nx.MultiDiGraph, erase: frozenset[str]) -> None:
        self.g = graph
        self.erase = erase
        self.doomed_edges: set[Edge] = set()
        self.doomed_nodes: set[str] = set()

    def edge_alive(self, u: str, v: str, k: str) -> bool:
        gone = self.doomed_nodes
        return (u, v, k) not in self.doomed_edges and u not in gone and v not in gone

    def out_edges(self, n: str) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
        for u, v, k, d in self.g.out_edges(n, keys=True, data=True):
            if self.edge_alive(u, v, k):
                yield u, v, k, d

    def in_edges(self, n: str) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
        for u, v, k, d in self.g.in_edges(n, keys=True, data=True):
            if self.edge_alive(u, v, k):
                yield u, v, k, d

    def all_edges(self, n: str) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
        yield from self.out_edges(n)
        yield from self.in_edges(n)

    def from_edge_alive(self, d: Mapping[str, Any], k: str) -> bool:
        """A shared fact still stands on its own when its writer is not erased."""
        return k in SHARED_REL_KEYS and _record_of(d) not in self.erase

    def witnessed(self, n: str) -> bool:
        """Whether anything that remains still makes node ``n`` exist (module docstring)."""
        label = self.g.nodes[n].get("label")
        if label in _NEVER_ORPHANED:
            return True
        if label == "Person":
            return any(d.get("type") == "DESCRIBES" for *_e, d in self.in_edges(n))
        if label == "Record":
            return any(d.get("type") == "DESCRIBES" for *_e, d in self.out_edges(n))
        if label in _IDENTIFIERS:
            return any(d.get("type") == "USES" for *_e, d in self.in_edges(n))
        if label == "Premises":
            return any(d.get("type") in ("AT", "SEEN_AT") for *_e, d in self.in_edges(n)) or any(
                self.from_edge_alive(d, k) for _u, _v, k, d in self.out_edges(n)
            )
        if label in ("Case", "Signal"):
            return any(
                k not in SHARED_REL_KEYS or self.from_edge_alive(d, k) for _u, _v, k, d in self.all_edges(n)
            )
        if label == "Source":
            return any(True for _e in self.in_edges(n))
        return any(True for _e in self.all_edges(n))

    def doom_node(self, n: str) -> None:
        self.doomed_nodes.add(n)
        for u, v, k in list(self.g.out_edges(n, keys=True)) + list(self.g.in_edges(n, keys=True)):
            self.doomed_edges.add((u, v, k))

    def sweep(self, start: Iterable[str]) -> None:
        """Doom every node of ``start`` (and, in turn, its neighbours) left without a witness."""
        todo = list(start)
        while todo:
            n = todo.pop()
            if n in self.doomed_nodes or self.witnessed(n):
                continue
            neighbours = set(self.g.predecessors(n)) | set(self.g.successors(n))
            self.doom_node(n)
            todo.extend(m for m in neighbours if m not in self.doomed_nodes)


def _ref(graph: nx.MultiDiGraph, u: str, v: str, k: str) -> RelRef:
    (sl, sk), (el, ek) = _split(u), _split(v)
    return RelRef(str(graph.edges[u, v, k].get("type")), sl, sk, el, ek, k)


def _props(data: Mapping[str, Any], drop: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != drop}


def _witness(edges: Iterable[tuple[str, str, str, dict[str, Any]]]) -> dict[str, Any] | None:
    """The provenance of the remaining own fact with the smallest record id, if any."""
    best: tuple[str, dict[str, Any]] | None = None
    for _u, _v, k, d in edges:
        rid = _record_of(d)
        if k in SHARED_REL_KEYS or rid is None:
            continue
        if best is None or rid < best[0]:
            best = (rid, d)
    if best is None:
        return None
    return {name: best[1][name] for name in _PROVENANCE if name in best[1]}


def plan_erasure(graph: nx.MultiDiGraph, record_ids: Iterable[str]) -> ErasurePlan:
    """Plan erasing the records ``record_ids`` (``"<source>:<row_id>"``) from a graph.

    Pure: reads the graph (as ``GraphStore.read_graph()`` returns it) and returns what to delete
    and rewrite (the rules are in the module docstring). The graph is not changed.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The whole graph of the store.
    record_ids : iterable of str
        Records to erase; ids the graph does not hold are ignored.

    Returns
    -------
    ErasurePlan
        Deterministic (sorted), so two plans of the same state are equal.

    Examples
    --------
    One signal row names a person that a case row also describes: erasing the signal row removes
    the signal and the person's role "signalled", and keeps the person.

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Person:p1", label="Person", person_id="p1", roles=["signalled", "suspect"])
    >>> for src, row in (("pol", "1"), ("gem", "2")):
    ...     rid = f"{src}:{row}"
    ...     role = "suspect" if src == "pol" else "signalled"
    ...     g.add_node(f"Record:{rid}", label="Record", record_id=rid, source=src, row_id=row)
    ...     _ = g.add_edge(f"Record:{rid}", "Person:p1", key=rid, type="DESCRIBES",
    ...                    source=src, row_id=row, role=role)
    >>> g.add_node("Signal:gem:2", label="Signal", signal_id="gem:2", case_linked=False)
    >>> _ = g.add_edge("Signal:gem:2", "Person:p1", key="gem:2", type="CONCERNS", source="gem", row_id="2")
    >>> plan = plan_erasure(g, ["gem:2"])
    >>> sorted(plan.delete_nodes)
    [('Record', 'gem:2'), ('Signal', 'gem:2')]
    >>> plan.node_props[0][2]["roles"]
    ['suspect']
    """
    erase = frozenset(record_ids)
    planner = _Planner(graph, erase)
    records = sorted(erase & set(record_inventory(graph)))
    for u, v, k, d in graph.edges(keys=True, data=True):
        if k not in SHARED_REL_KEYS and _record_of(d) in erase:
            planner.doomed_edges.add((u, v, k))
    for n, d in graph.nodes(data=True):
        if d.get("label") == "Record" and _split(n)[1] in erase:
            planner.doom_node(n)
    touched = {n for u, v, _k in planner.doomed_edges for n in (u, v)}
    # The whole graph is swept, not only what the records touched: a run cut off after deleting
    # facts but before their orphans must leave those orphans to the next run to find.
    planner.sweep(graph.nodes)

    rel_props: list[tuple[RelRef, dict[str, Any]]] = []
    for u, v, k, d in graph.edges(keys=True, data=True):
        if k not in SHARED_REL_KEYS or not planner.edge_alive(u, v, k):
            continue
        rtype, slabel = d.get("type"), graph.nodes[u].get("label")
        if rtype == "IN" and slabel == "Premises":
            witness = _witness(e for e in planner.in_edges(u) if e[3].get("type") in ("AT", "SEEN_AT"))
            standing = True
        elif rtype == "FROM" and slabel in ("Case", "Signal"):
            source = _split(v)[1]
            witness = _witness(e for e in planner.all_edges(u) if e[3].get("source") == source)
            standing = False
            if witness is None and not planner.from_edge_alive(d, k):
                planner.doomed_edges.add((u, v, k))
                touched.update((u, v))
                continue
        else:
            continue
        if _record_of(d) in erase and witness is not None:
            new = {"rel_key": k, **witness}
            if standing:
                new.pop("observed_on", None)
            rel_props.append((_ref(graph, u, v, k), new))
    # Sources a deleted FROM left without anything delivered.
    planner.sweep(n for n in set(touched) if n in graph and graph.nodes[n].get("label") == "Source")
    touched |= {m for n in planner.doomed_nodes for m in (*graph.predecessors(n), *graph.successors(n))}

    node_props = (
        _recompute(graph, planner, touched) + _merges(graph, planner, erase) + _splits(graph, planner, erase)
    )
    delete_rels = sorted(
        _ref(graph, u, v, k)
        for u, v, k in planner.doomed_edges
        if u not in planner.doomed_nodes and v not in planner.doomed_nodes
    )
    delete_nodes = sorted(_split(n) for n in planner.doomed_nodes)
    # Relationships of deleted nodes go with them (detach), but are listed to be counted and so a
    # store that deletes rows one by one needs no detach of its own.
    attached = sorted(
        _ref(graph, u, v, k)
        for u, v, k in planner.doomed_edges
        if u in planner.doomed_nodes or v in planner.doomed_nodes
    )
    sources = sorted({r.split(":", 1)[0] for r in records})
    return ErasurePlan(
        records=tuple(records),
        delete_rels=tuple(sorted(set(delete_rels) | set(attached))),
        delete_nodes=tuple(delete_nodes),
        node_props=tuple(node_props),
        rel_props=tuple(sorted(rel_props, key=lambda item: item[0])),
        sources=tuple(sources),
    )


def _merges(
    graph: nx.MultiDiGraph, planner: _Planner, erase: frozenset[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Doom the merges whose person goes; say which erased records the others name no longer.

    A merge (``Merge`` node, issue 13) stays on record while the person it led to (through later
    merges, if any) stays: a delete never splits a merged person. When that person goes, so does
    the record of its merges; when the record that bridged them is erased, the merge keeps its
    persons, batch and score but no longer names the record.
    """
    merges = {n: d for n, d in graph.nodes(data=True) if d.get("label") == "Merge"}
    into = {str(d.get("merged")): str(d.get("into")) for d in merges.values()}
    rewritten = []
    for n, d in sorted(merges.items()):
        person, seen = str(d.get("into")), set()
        while person in into and person not in seen:  # a chain of merges ends at one person
            seen.add(person)
            person = into[person]
        node = f"Person:{person}"
        if node not in graph or node in planner.doomed_nodes:
            planner.doom_node(n)
        elif d.get("record_id") in erase:
            rewritten.append(("Merge", _split(n)[1], _props(_props(d, "label"), "record_id")))
    return rewritten


def _splits(
    graph: nx.MultiDiGraph, planner: _Planner, erase: frozenset[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Doom the splits whose persons both go; drop the erased records from the others.

    A split (``Split`` node, issue 13) stays on record while one of the two persons it made
    (through later merges, if any) stays. The record ids it lists are the records that moved: an
    erased record leaves that list, as it leaves a ``Merge`` node; a split that no longer names any
    record keeps its persons, batch and reason.
    """
    into = {
        str(d.get("merged")): str(d.get("into"))
        for _n, d in graph.nodes(data=True)
        if d.get("label") == "Merge"
    }

    def alive(person: str) -> bool:
        seen: set[str] = set()
        while person in into and person not in seen:  # a chain of merges ends at one person
            seen.add(person)
            person = into[person]
        node = f"Person:{person}"
        return node in graph and node not in planner.doomed_nodes

    rewritten = []
    for n, d in sorted((n, d) for n, d in graph.nodes(data=True) if d.get("label") == "Split"):
        if not (alive(str(d.get("person"))) or alive(str(d.get("into")))):
            planner.doom_node(n)
            continue
        records = d.get("records") or []
        kept = [r for r in records if r not in erase]
        if len(kept) != len(records):
            rewritten.append(("Split", _split(n)[1], {**_props(d, "label"), "records": kept}))
    return rewritten


def _record_roles(graph: nx.MultiDiGraph, planner: _Planner) -> dict[str, set[str]]:
    """Roles each remaining record gives, read from its own facts (for loads without DESCRIBES.role)."""
    roles: dict[str, set[str]] = defaultdict(set)
    for u, v, k, d in graph.edges(keys=True, data=True):
        rid = _record_of(d)
        if rid is None or k in SHARED_REL_KEYS or not planner.edge_alive(u, v, k):
            continue
        rtype = d.get("type")
        if rtype in _ROLE_OF_TYPE:
            roles[rid].add(_ROLE_OF_TYPE[str(rtype)])
        elif rtype in ("SEEN_AT", "CONCERNS") and isinstance(d.get("role"), str):
            roles[rid].add(d["role"])
    return roles


def _recompute(
    graph: nx.MultiDiGraph, planner: _Planner, touched: set[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """New properties of the remaining nodes next to what goes, where they change."""
    updates: list[tuple[str, str, dict[str, Any]]] = []
    alive = sorted(n for n in touched if n in graph and n not in planner.doomed_nodes)
    record_roles: dict[str, set[str]] | None = None
    for n in alive:
        data = graph.nodes[n]
        label = data.get("label")
        old = _props(data, "label")
        new = dict(old)
        if label == "Person":
            if record_roles is None:
                record_roles = _record_roles(graph, planner)
            roles: set[str] = set()
            for _u, _v, _k, d in planner.in_edges(n):
                if d.get("type") != "DESCRIBES":
                    continue
                if isinstance(d.get("role"), str):
                    roles.add(d["role"])
                else:
                    roles |= record_roles.get(_record_of(d) or "", set())
            new["roles"] = sorted(roles)
        elif label == "Signal":
            ties = sorted(_split(v)[1] for _u, v, _k, d in planner.out_edges(n) if d.get("type") == "TIED_TO")
            new["case_linked"] = bool(ties)
            if not ties:
                new.pop("case_id", None)
            elif new.get("case_id") not in ties:
                new["case_id"] = ties[0]
            dates = [
                str(d["observed_on"])
                for _u, _v, k, d in planner.all_edges(n)
                if d.get("observed_on") and (k not in SHARED_REL_KEYS or planner.from_edge_alive(d, k))
            ]
            if dates:
                new["observed_on"] = min(dates)
        elif label == "Case":
            delivered = sorted(
                _split(v)[1]
                for _u, v, _k, d in planner.out_edges(n)
                if d.get("type") == "FROM" and (_u, v, _k) not in planner.doomed_edges
            )
            if old.get("source") not in delivered:
                if delivered:
                    new["source"] = delivered[0]
                else:
                    new.pop("source", None)
        if label in ("Person", "Signal", "Case") and new != old:
            updates.append((str(label), _split(n)[1], new))
    gone_persons = {_split(n)[1] for n in planner.doomed_nodes if _split(n)[0] == "Person"}
    if gone_persons:
        for n, data in sorted(graph.nodes(data=True)):
            members = data.get("members")
            if data.get("label") == "Group" and isinstance(members, list) and set(members) & gone_persons:
                new = _props(data, "label")
                new["members"] = [m for m in members if m not in gone_persons]
                updates.append(("Group", _split(n)[1], new))
    return sorted(updates, key=lambda item: (item[0], item[1]))
