"""What a GraphSlice means, in one place for both backends.

The backends push the cheap filters down to their storage (labels, relationship types, the
observation window, the persons seen in a region); this module checks a slice against the schema
and assembles the rows they return into the ``networkx.MultiDiGraph`` of the store contract, so
both backends read back the same graph by construction of the same rules:

labels
    Nodes with one of these labels; a relationship is read when both its ends are read.
rel_types
    Relationships of these types.
observed_from / observed_to (inclusive ISO dates)
    Nodes and relationships whose ``observed_on`` lies outside the window are left out; those
    without ``observed_on`` (persons, reference facts) are kept. Leaving out a node (a Record or
    Signal observed outside the window) also leaves out its relationships.
region_ids
    The *seed persons* are the persons with a SEEN_AT (inside the window) to a municipality IN one
    of the regions, or to premises IN such a municipality (the IN facts also inside the window).
    Read are the seed persons, every node adjacent to a seed person through a relationship that
    passes the type and window filters, and the relationships (passing those filters) among all
    of these nodes. So a victim seen in the region brings along where else she was seen, and the
    cases, signals and records that concern her; a co-suspect only seen elsewhere does not come
    along unless he is directly adjacent to a seed person.
person_ids, person_hops
    The given persons are the seed persons; read are the nodes within ``person_hops``
    relationships of them (through nodes and relationships that pass the label, type and window
    filters; 1 is the rule of a region's persons above) and the relationships among them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graphstore.base import GraphSlice, node_id
from graphstore.props import check_iso_date
from graphstore.schema import GraphSchema
from netanalysis.errors import SchemaError, StoreError

__all__ = [
    "EVIDENCE_EVERY",
    "EVIDENCE_OF_SUSPECTS",
    "EVIDENCE_OF_TIED",
    "EVIDENCE_ROLES",
    "RelCombo",
    "SliceSpec",
    "around_persons",
    "assemble",
    "evidence_slice",
    "rel_combos",
    "resolve_slice",
    "trimmer",
]

RelCombo = tuple[str, str, str]  # (type, start label, end label)


@dataclass(frozen=True)
class SliceSpec:
    """A GraphSlice checked against the schema, with every filter spelled out."""

    labels: tuple[str, ...]
    combos: tuple[RelCombo, ...]
    observed_from: str | None
    observed_to: str | None
    region_ids: tuple[str, ...] | None
    person_ids: tuple[str, ...] | None = None
    person_hops: int = 1
    properties: frozenset[str] | None = None


def rel_combos(schema: GraphSchema) -> list[RelCombo]:
    """Every (type, start label, end label) the schema allows, in a fixed order."""
    return [
        (rel.name, start, end)
        for rel in schema.rel_types.values()
        for start in rel.start_labels
        for end in rel.end_labels
        if rel.allows(start, end)
    ]


def resolve_slice(graph_slice: GraphSlice | None, schema: GraphSchema) -> SliceSpec:
    """Check a slice against the schema and expand it; raise SchemaError/StoreError when bad."""
    gs = graph_slice or GraphSlice()
    if any(
        isinstance(v, str) for v in (gs.labels, gs.rel_types, gs.region_ids, gs.person_ids, gs.properties)
    ):
        raise SchemaError(
            "GraphSlice labels, rel_types, region_ids, person_ids and properties are sets of names, "
            "not one string"
        )
    if gs.region_ids is not None and gs.person_ids is not None:
        raise SchemaError("a GraphSlice reads the persons of regions or given persons, not both")
    labels = tuple(schema.node_keys) if gs.labels is None else tuple(sorted(gs.labels))
    for label in labels:
        schema.key_of(label)
    types = set(schema.rel_types) if gs.rel_types is None else set(gs.rel_types)
    for rel_type in types:
        if rel_type not in schema.rel_types:
            schema.check_rel(rel_type, "", "")
    combos = tuple(c for c in rel_combos(schema) if c[0] in types and c[1] in labels and c[2] in labels)
    for name, value in (("observed_from", gs.observed_from), ("observed_to", gs.observed_to)):
        if value is not None:
            check_iso_date(value, f"GraphSlice {name}")
    regions = None
    if gs.region_ids is not None:
        # Accept the Region key ("police_unit:RE01") and the graph node id ("Region:police_unit:RE01").
        regions = tuple(sorted(r.removeprefix("Region:") for r in gs.region_ids))
    persons = None
    if gs.person_ids is not None:
        persons = tuple(sorted(p.removeprefix("Person:") for p in gs.person_ids))
    if not isinstance(gs.person_hops, int) or isinstance(gs.person_hops, bool) or gs.person_hops < 1:
        raise SchemaError(
            f"GraphSlice person_hops must be a whole number of at least 1, not {gs.person_hops!r}"
        )
    if gs.person_hops != 1 and persons is None:
        raise SchemaError("GraphSlice person_hops needs person_ids (the persons to walk out from)")
    properties = None if gs.properties is None else frozenset(gs.properties)
    return SliceSpec(
        labels, combos, gs.observed_from, gs.observed_to, regions, persons, gs.person_hops, properties
    )


NodeRow = tuple[str, str, Mapping[str, Any]]  # label, key, props
RelRowOut = tuple[str, str, str, str, str, Mapping[str, Any]]  # type, sl, sk, el, ek, props


def assemble(
    nodes: Iterable[NodeRow],
    rels: Iterable[RelRowOut],
    seeds: set[str] | None = None,
    hops: int = 1,
    properties: frozenset[str] | None = None,
) -> nx.MultiDiGraph:
    """Build the read graph from filtered rows.

    Parameters
    ----------
    nodes
        ``(label, key, props)`` of every node passing the label and window filters.
    rels
        ``(type, start label, start key, end label, end key, props)`` of every relationship passing
        the type and window filters (``props`` include ``rel_key``).
    seeds
        Person keys of a region or person slice, or None for no such restriction.
    hops
        With ``seeds``: keep the nodes within this many of the relationships given of a seed.
    properties
        Keep only these properties (``rel_key`` always), or all when None.

    Returns
    -------
    networkx.MultiDiGraph
        Node ids ``"Label:key"`` with attribute ``label`` and the properties; edges keyed by
        ``rel_key`` with attribute ``type`` and the properties.
    """
    if properties is not None:
        keep = properties | {"rel_key"}
        nodes = [(label, key, _only(props, keep)) for label, key, props in nodes]
        rels = [(typ, sl, sk, el, ek, _only(props, keep)) for typ, sl, sk, el, ek, props in rels]
    # Every edge names its ends by the node's own id object, and a label or relationship type is
    # one object however many rows carry it: a graph of a million facts holds each once, not once
    # per fact (every row read brings its own copies).
    shared: dict[str, str] = {}
    node_attrs: dict[str, dict[str, Any]] = {}
    for label, key, props in nodes:
        label = shared.setdefault(label, label)
        node_attrs[node_id(label, key)] = {"label": label, **props}
    own_id = {n: n for n in node_attrs}
    edges = []
    for typ, sl, sk, el, ek, props in rels:
        u, v = own_id.get(node_id(sl, sk)), own_id.get(node_id(el, ek))
        if u is not None and v is not None:
            edges.append((u, v, shared.setdefault(typ, typ), props))
    del own_id
    if seeds is not None:
        near = {node_id("Person", key) for key in seeds} & node_attrs.keys()
        adjacent: dict[str, set[str]] = {}
        for u, v, _, _ in edges:
            adjacent.setdefault(u, set()).add(v)
            adjacent.setdefault(v, set()).add(u)
        frontier = set(near)
        for _ in range(hops):
            frontier = {m for n in frontier for m in adjacent.get(n, ())} - near
            near |= frontier
        node_attrs = {n: a for n, a in node_attrs.items() if n in near}
        edges = [e for e in edges if e[0] in near and e[1] in near]
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((n, node_attrs.pop(n)) for n in sorted(node_attrs))
    edges.sort(key=lambda e: (e[0], e[1], e[3]["rel_key"], e[2]))
    # Sorted, two relationships with the same ends and rel_key are neighbours.
    last: tuple[Any, Any, Any, str] = (None, None, None, "")
    for u, v, typ, props in edges:
        key = props["rel_key"]
        if key == last[2] and u == last[0] and v == last[1]:
            raise StoreError(
                f"two relationships from {u} to {v} share rel_key {key!r} "
                f"({last[3]} and {typ}); give each fact its own rel_key"
            )
        graph.add_edge(u, v, key, type=typ, **props)
        last = (u, v, key, typ)
    return graph


def _only(props: Mapping[str, Any], keep: frozenset[str]) -> dict[str, Any]:
    return {name: value for name, value in props.items() if name in keep}


def trimmer(spec: SliceSpec) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    """A function keeping the properties ``spec`` asks for (all when it names none): backends
    apply it to each row as they read it, so the left-out properties are never all held at once."""
    if spec.properties is None:
        return lambda props: props
    keep = spec.properties | {"rel_key"}
    # Dates, grades and codes repeat over thousands of rows, and every row read brings its own
    # copy: the graph keeps one (keys and ids are longer, and unique, so they are not looked up).
    shared: dict[str, str] = {}

    def trim(props: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            name: shared.setdefault(value, value) if type(value) is str and len(value) <= 10 else value
            for name, value in props.items()
            if name in keep
        }

    return trim


def around_persons(
    spec: SliceSpec,
    rels_touching: Callable[[str, list[str], tuple[RelCombo, ...]], Iterable[RelRowOut]],
    nodes_by_key: Callable[[str, list[str]], Iterable[NodeRow]],
    rels_between: Callable[[RelCombo, list[str], list[str]], Iterable[RelRowOut]],
) -> nx.MultiDiGraph:
    """Read the slice of ``spec.person_ids`` with three keyed look-ups a backend provides.

    ``rels_touching(label, keys, combos)`` gives the relationships (of these combos, each with
    ``label`` at one end at least) with one of these nodes of ``label`` at either end;
    ``nodes_by_key(label, keys)`` the nodes of one label with these keys;
    ``rels_between(combo, start_keys, end_keys)`` the relationships of one combo between these
    keys. All three apply the observation window. The walk goes out ``spec.person_hops``
    relationships, ring by ring, from the persons; the result is what ``assemble`` makes of the
    whole graph with these persons as seeds, without reading the whole graph.
    """
    if "Person" not in spec.labels or not spec.person_ids:
        return assemble([], [])
    # Those that exist first: a search asks for many more persons (every spelling it tries) than
    # the store holds, and the later look-ups then only carry the few that are there.
    persons = {key for _label, key, _props in nodes_by_key("Person", list(spec.person_ids))}
    if not persons:
        return assemble([], [])
    near: dict[str, set[str]] = {"Person": set(persons)}
    frontier: dict[str, set[str]] = {"Person": set(persons)}
    for _ in range(spec.person_hops):
        reached: dict[str, set[str]] = {}
        for label, keys in sorted(frontier.items()):
            touching = tuple(c for c in spec.combos if label in (c[1], c[2]))
            if not touching:
                continue
            for _typ, sl, sk, el, ek, _props in rels_touching(label, sorted(keys), touching):
                for here, there in (((sl, sk), (el, ek)), ((el, ek), (sl, sk))):
                    if here[0] == label and here[1] in keys and there[1] not in near.get(there[0], ()):
                        reached.setdefault(there[0], set()).add(there[1])
        for label, keys in reached.items():
            near.setdefault(label, set()).update(keys)
        frontier = reached
    nodes = [
        row for label in spec.labels if near.get(label) for row in nodes_by_key(label, sorted(near[label]))
    ]
    rels = [
        row
        for combo in spec.combos
        if near.get(combo[1]) and near.get(combo[2])
        for row in rels_between(combo, sorted(near[combo[1]]), sorted(near[combo[2]]))
    ]
    return assemble(nodes, rels, persons, spec.person_hops, spec.properties)


#: What ``GraphStore.read_evidence_graph`` reads: every relationship of these types in the slice
#: (who is a suspect, which victims their cases have, where municipalities and premises lie) ...
EVIDENCE_EVERY: tuple[str, ...] = ("SUSPECT_IN", "VICTIM_IN", "IN")
#: ... the person-to-person roles of a case file (the start person is a suspect of the end one) ...
EVIDENCE_ROLES: tuple[str, ...] = ("EXPLOITED", "RECRUITED", "TRANSPORTED", "CONTROLLED")
#: ... these relationships of the suspects ...
EVIDENCE_OF_SUSPECTS: tuple[str, ...] = (
    "USES",
    "SEEN_AT",
    "REGISTERED_AT",
    "EMPLOYED_BY",
    "DIRECTOR_OF",
    "OWNS",
    *EVIDENCE_ROLES,
)
#: ... and these of the persons tied to a suspect: the other persons of a suspect's case who are
#: victims in it, and the end persons of a suspect's roles.
EVIDENCE_OF_TIED: tuple[str, ...] = ("REGISTERED_AT", "EMPLOYED_BY")


def evidence_slice(
    spec: SliceSpec,
    windowed_rels: Callable[[tuple[RelCombo, ...], list[str] | None], Iterable[RelRowOut]],
    suspect_persons: Callable[[], Iterable[str]],
    nodes_by_key: Callable[[str, list[str]], Iterable[NodeRow]],
) -> nx.MultiDiGraph:
    """The part of a slice that the perpetrator network reads, with three look-ups a backend provides.

    ``windowed_rels(combos, starts)`` gives the relationships of these combos whose start key is
    one of ``starts`` (None: every one), each inside the window with both its ends;
    ``suspect_persons()`` the keys of the Person nodes inside the window whose ``roles`` hold
    ``"suspect"``; ``nodes_by_key(label, keys)`` the nodes of one label with these keys inside the
    window. The suspects are those persons and the start persons of ``SUSPECT_IN``; read are the
    relationships named by ``EVIDENCE_EVERY``, ``EVIDENCE_OF_SUSPECTS`` (of the suspects) and
    ``EVIDENCE_OF_TIED`` (of the persons tied to them), the suspects and the ends of those
    relationships. ``netanalysis.projection.perpetrator_network`` makes the same network of it as
    of the whole slice (``tests/test_projection_store.py``): it weighs, the store only selects.
    """
    if "Person" not in spec.labels:
        return assemble([], [])

    def combos(types: tuple[str, ...], persons_only: bool) -> tuple[RelCombo, ...]:
        return tuple(c for c in spec.combos if c[0] in types and (not persons_only or c[1] == "Person"))

    rels = list(windowed_rels(combos(EVIDENCE_EVERY, False), None)) if combos(EVIDENCE_EVERY, False) else []
    suspects = set(suspect_persons())
    suspects.update(sk for typ, sl, sk, *_ in rels if typ == "SUSPECT_IN" and sl == "Person")
    own_combos = combos(EVIDENCE_OF_SUSPECTS, True)
    own = list(windowed_rels(own_combos, sorted(suspects))) if suspects and own_combos else []
    # The persons through whom a suspect may reach an address or an employer (netanalysis.projection
    # _timed_items): the victims of his cases and the persons of his roles.
    case_suspects: dict[tuple[str, str], set[str]] = {}
    for typ, sl, sk, el, ek, _ in rels:
        if typ == "SUSPECT_IN" and sl == "Person":
            case_suspects.setdefault((el, ek), set()).add(sk)
    tied = {
        sk
        for typ, sl, sk, el, ek, _ in rels
        if typ == "VICTIM_IN" and sl == "Person" and case_suspects.get((el, ek), set()) - {sk}
    }
    tied.update(ek for typ, _, sk, el, ek, _ in own if typ in EVIDENCE_ROLES and el == "Person" and ek != sk)
    tied -= suspects  # their own facts are read already
    tied_combos = combos(EVIDENCE_OF_TIED, True)
    if tied and tied_combos:
        rels.extend(windowed_rels(tied_combos, sorted(tied)))
    rels.extend(own)
    wanted: dict[str, set[str]] = {"Person": set(suspects)}
    for _typ, sl, sk, el, ek, _ in rels:
        wanted.setdefault(sl, set()).add(sk)
        wanted.setdefault(el, set()).add(ek)
    nodes = [
        row
        for label in spec.labels
        if wanted.get(label)
        for row in nodes_by_key(label, sorted(wanted[label]))
    ]
    return assemble(nodes, rels, properties=spec.properties)


def around_nodes(
    spec: SliceSpec,
    seeds: Mapping[str, Collection[str]],
    rel_types: Collection[str] | None,
    rels_touching: Callable[[str, list[str], tuple[RelCombo, ...]], Iterable[RelRowOut]],
    nodes_by_key: Callable[[str, list[str]], Iterable[NodeRow]],
) -> nx.MultiDiGraph:
    """One ring around ``seeds`` (label -> keys) with the two keyed look-ups of ``around_persons``
    (``GraphStore.read_around``): the relationships of the slice's combos (of ``rel_types`` only,
    when given) with a seed at either end, the seeds and the other ends, each inside the window
    (``nodes_by_key`` applies it to the nodes, ``assemble`` drops a relationship whose end is
    outside), trimmed to the slice's properties."""
    wanted_types = None if rel_types is None else frozenset(rel_types)
    # A relationship between two seeds is met from both ends: kept once.
    rels: dict[tuple[str, str, str, str, str, Any], RelRowOut] = {}
    near: dict[str, set[str]] = {}
    for label, keys in sorted(seeds.items()):
        if label not in spec.labels or not keys:
            continue
        ordered = sorted({str(key) for key in keys})
        near.setdefault(label, set()).update(ordered)
        touching = tuple(
            c for c in spec.combos if label in (c[1], c[2]) and (wanted_types is None or c[0] in wanted_types)
        )
        if not touching:
            continue
        for row in rels_touching(label, ordered, touching):
            typ, sl, sk, el, ek, _props = row
            if (sl == label and sk in near[label]) or (el == label and ek in near[label]):
                rels[(typ, sl, sk, el, ek, _props.get("rel_key"))] = row
    for _typ, sl, sk, el, ek, _props in rels.values():
        near.setdefault(sl, set()).add(sk)
        near.setdefault(el, set()).add(ek)
    nodes = [
        row
        for label in sorted(near)
        if label in spec.labels
        for row in nodes_by_key(label, sorted(near[label]))
    ]
    # The backends trimmed the properties as they read them.
    return assemble(nodes, rels.values())
