"""Every Cypher statement the toolkit sends to Neo4j, as named builders.

Labels, relationship types and key properties cannot be query parameters in Cypher, so they are
interpolated into the text - but only after :func:`_label` / :func:`_rel` checked them against
graph_schema.cypher (``graphstore.schema``) and against an identifier pattern, and always inside
backticks. Every value (keys, properties, dates, source names, limits) is a ``$parameter``.

Builders return the query text, or ``(query, params)`` when the parameters are fixed by the
builder's arguments. The Neo4j backend (``graphstore.neo4j_store``) is the only caller.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from graphstore.schema import GraphSchema, load_schema
from netanalysis.errors import SchemaError

__all__ = [
    "LOAD_LOCK_CONSTRAINT",
    "REFERENCE_LABELS",
    "any_node",
    "await_indexes",
    "count_nodes",
    "count_relationships",
    "delete_nodes",
    "delete_relationships",
    "distinct_values",
    "erase_nodes",
    "erase_relationships",
    "last_load",
    "load_lease_held",
    "move_person_relationships",
    "node_properties",
    "person_exists",
    "delete_person",
    "ping",
    "read_nodes",
    "read_relationships",
    "record_load_end",
    "record_load_start",
    "records_in_blocks",
    "block_sizes",
    "records_of_persons",
    "records_by_key",
    "region_persons",
    "release_load_lease",
    "renew_load_lease",
    "replace_node_props",
    "replace_rel_props",
    "take_load_lease",
    "upsert_nodes",
    "upsert_relationships",
]

# Reference nodes stay when retention removes the facts that pointed at them.
REFERENCE_LABELS = ("Municipality", "Region", "Source", "Group", "Merge", "Split")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Criterion = Literal["source", "observed_before"]


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise SchemaError(f"{name!r} is not a plain identifier and cannot name a label, type or key")
    return f"`{name}`"


def _label(label: str, schema: GraphSchema | None) -> tuple[str, str]:
    """Checked ``(`Label`, `key`)`` for interpolation."""
    key = (schema or load_schema()).key_of(label)
    return _ident(label), _ident(key)


def _rel(rel_type: str, schema: GraphSchema | None) -> str:
    sch = schema or load_schema()
    if rel_type not in sch.rel_types:
        sch.check_rel(rel_type, "", "")  # raises the schema's message
    return _ident(rel_type)


def _window(var: str, observed_from: str | None, observed_to: str | None) -> list[str]:
    """Predicates keeping ``var`` when its observed_on is absent or inside the window."""
    out = []
    if observed_from is not None:
        out.append(f"({var}.observed_on IS NULL OR {var}.observed_on >= $observed_from)")
    if observed_to is not None:
        out.append(f"({var}.observed_on IS NULL OR {var}.observed_on <= $observed_to)")
    return out


def _where(preds: list[str]) -> str:
    return f"WHERE {' AND '.join(preds)}\n" if preds else ""


def ping() -> str:
    """A trivial read, to tell a working connection from a broken one."""
    return "RETURN 1 AS ok"


def any_node() -> str:
    """One row if the database holds a node of any label (the schema's or not), else none."""
    return "MATCH (n) RETURN 1 AS found LIMIT 1"


def await_indexes() -> str:
    """Wait until every index is online (so the first MERGEs use the key constraints)."""
    return "CALL db.awaitIndexes($seconds)"


def upsert_nodes(label: str, schema: GraphSchema | None = None) -> str:
    """MERGE nodes of ``label`` by key. Parameter ``$rows``: list of ``{key, props}``."""
    lab, key = _label(label, schema)
    return f"UNWIND $rows AS row\nMERGE (n:{lab} {{{key}: row.key}})\nSET n += row.props"


def upsert_relationships(
    rel_type: str, start_label: str, end_label: str, schema: GraphSchema | None = None
) -> str:
    """MERGE relationships, creating missing endpoints with only their key.

    Parameter ``$rows``: list of ``{start, end, rel_key, props}``. Endpoints are merged by their
    constrained key (an index seek), the relationship by type, endpoints and ``rel_key``.

    The plan has an ``Eager`` before ``SET r += row.props`` (a map could rewrite ``rel_key``,
    which the MERGE reads). Every valid upsert shape that SETs a map has it too; the alternatives
    measured side by side (endpoints merged first and then MATCHed, rows grouped by start node,
    other batch sizes, two writers) cost the server no less CPU per relationship beyond the
    run-to-run noise (``benchmarks/bench_store_shapes.py``, ``benchmarks/RESULTS.md``), so this
    shape stays.
    """
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, skey = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    return (
        "UNWIND $rows AS row\n"
        f"MERGE (a:{slab} {{{skey}: row.start}})\n"
        f"MERGE (b:{elab} {{{ekey}: row.end}})\n"
        f"MERGE (a)-[r:{typ} {{rel_key: row.rel_key}}]->(b)\n"
        "SET r += row.props"
    )


def read_nodes(
    label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
    keys: list[str] | None = None,
    properties: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Nodes of ``label`` (optionally within an observation window, optionally only those with
    one of ``keys``, looked up through the key's index): columns ``key, props`` (with
    ``properties``: only those, as a list of ``[name, value]`` pairs)."""
    lab, key = _label(label, schema)
    preds = _window("n", observed_from, observed_to)
    if keys is not None:
        preds.insert(0, f"n.{key} IN $keys")
    query = (
        f"MATCH (n:{lab})\n" + _where(preds) + f"RETURN n.{key} AS key, {_props('n', properties)} AS props"
    )
    params = {"observed_from": observed_from, "observed_to": observed_to, "keys": keys}
    return query, {**params, "properties": properties}


def _props(var: str, properties: list[str] | None) -> str:
    # Only the properties asked for leave the server (a cluster sends less over the network).
    if properties is None:
        return f"properties({var})"
    return f"[name IN $properties WHERE {var}[name] IS NOT NULL | [name, {var}[name]]]"


def read_relationships(
    rel_type: str,
    start_label: str,
    end_label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
    starts: list[str] | None = None,
    ends: list[str] | None = None,
    properties: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Relationships of one type between two labels (optionally only from one of ``starts`` or
    to one of ``ends``, looked up through the keys' indexes): columns ``start, end, props`` (with
    ``properties``: only those, as a list of ``[name, value]`` pairs)."""
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, skey = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    preds = _window("r", observed_from, observed_to)
    if ends is not None:
        preds.insert(0, f"b.{ekey} IN $ends")
    if starts is not None:
        preds.insert(0, f"a.{skey} IN $starts")
    query = (
        f"MATCH (a:{slab})-[r:{typ}]->(b:{elab})\n"
        + _where(preds)
        + f"RETURN a.{skey} AS start, b.{ekey} AS end, {_props('r', properties)} AS props"
    )
    params = {"observed_from": observed_from, "observed_to": observed_to, "starts": starts, "ends": ends}
    return query, {**params, "properties": properties}


def busy_ends(
    rel_type: str,
    start_label: str,
    end_label: str,
    min_starts: int,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
) -> tuple[str, dict[str, Any]]:
    """Keys of the ``end_label`` nodes reached by ``rel_type`` from at least ``$min_starts``
    distinct ``start_label`` nodes, through relationships inside the window (the ends' own dates
    not checked): column ``key`` (``GraphStore.busy_ends``)."""
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, _ = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    query = (
        f"MATCH (a:{slab})-[r:{typ}]->(b:{elab})\n"
        + _where(_window("r", observed_from, observed_to))
        + f"WITH b.{ekey} AS key, count(DISTINCT a) AS n\n"
        + "WHERE n >= $min_starts\n"
        + "RETURN key ORDER BY key"
    )
    params = {"observed_from": observed_from, "observed_to": observed_to, "min_starts": int(min_starts)}
    return query, params


def region_persons(
    region_ids: list[str],
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
) -> tuple[str, dict[str, Any]]:
    """Keys of persons SEEN_AT a municipality IN one of the regions, or at premises IN such a
    municipality, through relationships inside the observation window. Column ``key``."""
    person, pkey = _label("Person", schema)
    muni, _ = _label("Municipality", schema)
    prem, _ = _label("Premises", schema)
    region, rkey = _label("Region", schema)
    seen, within = _rel("SEEN_AT", schema), _rel("IN", schema)

    def win(var: str) -> str:
        preds = _window(var, observed_from, observed_to)
        return " AND ".join(preds) if preds else "true"

    query = (
        f"MATCH (g:{region}) WHERE g.{rkey} IN $region_ids\n"
        f"MATCH (m:{muni})-[i:{within}]->(g) WHERE {win('i')}\n"
        "CALL (m) {\n"
        f"  MATCH (p:{person})-[s:{seen}]->(m) WHERE {win('s')} RETURN p\n"
        "  UNION\n"
        f"  MATCH (p:{person})-[s:{seen}]->(:{prem})-[j:{within}]->(m)\n"
        f"  WHERE {win('s')} AND {win('j')} RETURN p\n"
        "}\n"
        f"RETURN DISTINCT p.{pkey} AS key"
    )
    params = {"region_ids": region_ids, "observed_from": observed_from, "observed_to": observed_to}
    return query, params


def _windowed_match(
    rel_type: str, start_label: str, end_label: str, observed_from: str | None, observed_to: str | None,
    schema: GraphSchema | None,
) -> tuple[str, list[str], str, str]:  # fmt: skip
    """``MATCH`` of one relationship combo with the window on it and both its ends (what
    ``read_graph`` keeps), the predicates, and the start and end key names."""
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, skey = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    preds = [*_window("r", observed_from, observed_to), *_window("a", observed_from, observed_to)]
    preds += _window("b", observed_from, observed_to)
    return f"MATCH (a:{slab})-[r:{typ}]->(b:{elab})\n", preds, skey, ekey


def latest_observed(
    rel_type: str,
    start_label: str,
    end_label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
) -> tuple[str, dict[str, Any]]:
    """The latest ``observed_on`` of one relationship combo inside the window (its ends too):
    column ``latest`` (null when none has one)."""
    match, preds, _, _ = _windowed_match(rel_type, start_label, end_label, observed_from, observed_to, schema)
    preds += ["r.observed_on IS NOT NULL", "r.observed_on <> ''"]
    query = match + _where(preds) + "RETURN max(r.observed_on) AS latest"
    return query, {"observed_from": observed_from, "observed_to": observed_to}


def evidence_relationships(
    rel_type: str,
    start_label: str,
    end_label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
    starts: list[str] | None = None,
    properties: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Relationships of one combo inside the window with both their ends (what ``read_graph``
    keeps), optionally only from one of ``starts`` (looked up through the key's index): columns
    ``start, end, props`` (with ``properties``: only those, as ``[name, value]`` pairs). What the
    perpetrator network reads (``GraphStore.read_evidence_graph``)."""
    match, preds, skey, ekey = _windowed_match(
        rel_type, start_label, end_label, observed_from, observed_to, schema
    )
    if starts is not None:
        preds.insert(0, f"a.{skey} IN $starts")
    query = (
        match
        + _where(preds)
        + f"RETURN a.{skey} AS start, b.{ekey} AS end, {_props('r', properties)} AS props"
    )
    params = {"observed_from": observed_from, "observed_to": observed_to, "starts": starts}
    return query, {**params, "properties": properties}


def suspect_persons(
    observed_from: str | None = None, observed_to: str | None = None, schema: GraphSchema | None = None
) -> tuple[str, dict[str, Any]]:
    """Keys of the persons inside the window whose ``roles`` hold ``"suspect"``: column ``key``."""
    lab, key = _label("Person", schema)
    preds = ["'suspect' IN coalesce(n.roles, [])", *_window("n", observed_from, observed_to)]
    query = f"MATCH (n:{lab})\n" + _where(preds) + f"RETURN n.{key} AS key"
    return query, {"observed_from": observed_from, "observed_to": observed_to}


def person_record_rows(
    observed_from: str | None = None, observed_to: str | None = None, schema: GraphSchema | None = None
) -> tuple[str, dict[str, Any]]:
    """Every DESCRIBES inside the window (its ends too): columns ``person, record, source,
    row_id`` (the last two of the Record, null when it has none)."""
    match, preds, skey, ekey = _windowed_match(
        "DESCRIBES", "Record", "Person", observed_from, observed_to, schema
    )
    query = (
        match
        + _where(preds)
        + f"RETURN b.{ekey} AS person, a.{skey} AS record, a.source AS source, a.row_id AS row_id"
    )
    return query, {"observed_from": observed_from, "observed_to": observed_to}


def signal_row_rows(
    rel_type: str,
    end_label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
) -> tuple[str, dict[str, Any]]:
    """The source rows of the relationships of one type from Signals inside the window (its ends
    too) that carry them: columns ``signal, source, row_id``."""
    match, preds, skey, _ = _windowed_match(rel_type, "Signal", end_label, observed_from, observed_to, schema)
    preds += ["r.source IS NOT NULL", "r.source <> ''", "r.row_id IS NOT NULL"]
    query = match + _where(preds) + f"RETURN a.{skey} AS signal, r.source AS source, r.row_id AS row_id"
    return query, {"observed_from": observed_from, "observed_to": observed_to}


def _orphans(schema: GraphSchema | None) -> str:
    """Sub-query deleting the nodes (by elementId, in list ``ends``) left without relationships."""
    keep = " AND ".join(f"NOT n:{_label(lab, schema)[0]}" for lab in REFERENCE_LABELS)
    return (
        "CALL (ends) {\n"
        "  UNWIND ends AS id\n"
        "  WITH DISTINCT id\n"
        "  MATCH (n) WHERE elementId(n) = id\n"
        f"    AND {keep} AND NOT EXISTS {{ (n)--() }}\n"
        "  DELETE n\n"
        "  RETURN count(*) AS orphans\n"
        "}\n"
    )


def _criterion(var: str, criterion: Criterion) -> str:
    if criterion == "source":
        return f"{var}.source = $value"
    if criterion == "observed_before":
        return f"{var}.observed_on < $value"
    raise ValueError(f"unknown deletion criterion {criterion!r}")


def delete_relationships(rel_type: str, criterion: Criterion, schema: GraphSchema | None = None) -> str:
    """Delete up to ``$limit`` relationships of a type matching the criterion (``$value``), then
    the endpoints left without relationships (except reference nodes). Columns ``rels, deleted``
    (always 0) and ``nodes`` (orphans deleted).

    Endpoints are carried by elementId, not as node values, so an endpoint deleted meanwhile is
    simply not found again.
    """
    typ = _rel(rel_type, schema)
    return (
        f"MATCH (a)-[r:{typ}]->(b)\n"
        f"WHERE {_criterion('r', criterion)}\n"
        "WITH r, elementId(a) AS a, elementId(b) AS b LIMIT $limit\n"
        "DELETE r\n"
        "WITH collect(a) + collect(b) AS ends, count(*) AS rels\n"
        + _orphans(schema)
        + "RETURN rels, 0 AS deleted, orphans AS nodes"
    )


def delete_nodes(label: str, criterion: Criterion, schema: GraphSchema | None = None) -> str:
    """Detach-delete up to ``$limit`` nodes of ``label`` matching the criterion (``$value``),
    then their neighbours left without relationships. Columns ``rels`` (relationships of the
    deleted nodes), ``deleted`` (nodes matching) and ``nodes`` (those plus the orphans)."""
    lab, _ = _label(label, schema)
    return (
        f"MATCH (n:{lab})\n"
        f"WHERE {_criterion('n', criterion)}\n"
        "WITH n LIMIT $limit\n"
        "CALL (n) {\n"
        "  OPTIONAL MATCH (n)-[r]-(m)\n"
        "  RETURN count(r) AS degree, collect(elementId(m)) AS nbrs\n"
        "}\n"
        "DETACH DELETE n\n"
        "WITH sum(degree) AS rels, count(*) AS deleted, collect(nbrs) AS groups\n"
        "WITH rels, deleted, reduce(acc = [], g IN groups | acc + g) AS ends\n"
        + _orphans(schema)
        + "RETURN rels, deleted, deleted + orphans AS nodes"
    )


# -- merging persons (GraphStore.merge_persons) -----------------------------------------------------


# -- resolution across loads (loaders.crossload) ---------------------------------------------------
# Columns of all three: record, person, comparison (one row per DESCRIBES).


def records_in_blocks() -> str:
    """The person records holding one of the blocking keys in the Lucene queries ``$queries``
    (each a few hundred quoted keys), through the full-text index ``record_blocks``."""
    return (
        "UNWIND $queries AS q\n"
        "CALL db.index.fulltext.queryNodes('record_blocks', q) YIELD node\n"
        "MATCH (node)-[:DESCRIBES]->(p:Person)\n"
        "RETURN DISTINCT node.record_id AS record, p.person_id AS person, node.comparison AS comparison"
    )


def persons_in_blocks() -> str:
    """The persons described by the records holding one of the blocking keys in the Lucene
    queries ``$queries``, through the full-text index ``record_blocks`` (the records' comparison
    data is not read)."""
    return (
        "UNWIND $queries AS q\n"
        "CALL db.index.fulltext.queryNodes('record_blocks', q) YIELD node\n"
        "MATCH (node)-[:DESCRIBES]->(p:Person)\n"
        # One row holding the list: a row per person costs the client more than the server's work.
        "RETURN collect(DISTINCT p.person_id) AS persons"
    )


def block_sizes() -> str:
    """The number of records holding each blocking key of ``$keys`` (maps of ``key`` and its
    quoted Lucene ``query``), through the full-text index ``record_blocks``."""
    return (
        "UNWIND $keys AS k\n"
        "CALL db.index.fulltext.queryNodes('record_blocks', k.query) YIELD node\n"
        "RETURN k.key AS key, count(node) AS n"
    )


def records_of_persons() -> str:
    """The records describing one of the persons ``$keys`` (looked up by key)."""
    return (
        "UNWIND $keys AS k\n"
        "MATCH (p:Person {person_id: k})<-[:DESCRIBES]-(r:Record)\n"
        "RETURN r.record_id AS record, p.person_id AS person, r.comparison AS comparison"
    )


def records_by_key() -> str:
    """The records with one of the ids ``$keys`` and the persons they describe."""
    return (
        "UNWIND $keys AS k\n"
        "MATCH (r:Record {record_id: k})-[:DESCRIBES]->(p:Person)\n"
        "RETURN r.record_id AS record, p.person_id AS person, r.comparison AS comparison"
    )


def person_exists(schema: GraphSchema | None = None) -> str:
    """Whether the person ``$merged`` exists. Column ``n`` (0 or 1)."""
    lab, key = _label("Person", schema)
    return f"MATCH (m:{lab} {{{key}: $merged}}) RETURN count(m) AS n"


def move_person_relationships(
    rel_type: str,
    start_label: str,
    end_label: str,
    schema: GraphSchema | None = None,
    person_end: bool = False,
) -> str:
    """Move the ``rel_type`` relationships of person ``$merged`` to person ``$into``.

    The person is the start when ``start_label`` is Person, else the end; between two persons
    (``EXPLOITED``), the end when ``person_end`` (one query per end). Each relationship is
    MERGEd onto ``$into`` by its ``rel_key`` (a fact it already has takes the moved properties, as
    an upsert would), then the old one is deleted. Column ``moved``.
    """
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    person, pkey = _label("Person", schema)
    if start_label == "Person" and not (person_end and end_label == "Person"):
        elab, _ = _label(end_label, schema)
        pattern, target = f"(m:{person} {{{pkey}: $merged}})-[r:{typ}]->(o:{elab})", "(p)-[n:{t}]->(o)"
    else:
        slab, _ = _label(start_label, schema)
        pattern, target = f"(o:{slab})-[r:{typ}]->(m:{person} {{{pkey}: $merged}})", "(o)-[n:{t}]->(p)"
    merge_rel = target.replace("[n:{t}]", f"[n:{typ} {{rel_key: r.rel_key}}]")
    return (
        f"MATCH {pattern}\n"
        "WHERE o <> m\n"
        f"MERGE (p:{person} {{{pkey}: $into}})\n"
        f"MERGE {merge_rel}\n"
        "SET n += properties(r)\n"
        "DELETE r\n"
        "RETURN count(*) AS moved"
    )


def delete_person(schema: GraphSchema | None = None) -> str:
    """Detach-delete the person ``$merged`` (its relationships were moved first)."""
    lab, key = _label("Person", schema)
    return f"MATCH (m:{lab} {{{key}: $merged}}) DETACH DELETE m"


# -- splitting persons (GraphStore.split_persons) --------------------------------------------------


def records_describe_person(schema: GraphSchema | None = None) -> str:
    """How many of the records ``$records`` describe the person ``$person``. Column ``n``."""
    lab, key = _label("Person", schema)
    rec, rkey = _label("Record", schema)
    typ = _rel("DESCRIBES", schema)
    return (
        f"MATCH (r:{rec})-[:{typ}]->(m:{lab} {{{key}: $person}})\n"
        f"WHERE r.{rkey} IN $records\n"
        "RETURN count(r) AS n"
    )


def move_record_relationships(
    rel_type: str, start_label: str, end_label: str, schema: GraphSchema | None = None
) -> str:
    """Move the ``rel_type`` relationships of person ``$person`` that the records ``$records``
    gave (``rel_key`` is one of them, or starts with one and ``":"``) to person ``$into``.

    The person is the start when ``start_label`` is Person and ``end_label`` is not, else the end
    (between two persons, the end: the person the record described). Each is MERGEd onto
    ``$into`` by its ``rel_key`` with its properties, then the old one is deleted. Column ``moved``.
    """
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    person, pkey = _label("Person", schema)
    if start_label == "Person" and end_label != "Person":
        elab, _ = _label(end_label, schema)
        pattern, target = f"(m:{person} {{{pkey}: $person}})-[r:{typ}]->(o:{elab})", "(p)-[n]->(o)"
    else:
        slab, _ = _label(start_label, schema)
        pattern, target = f"(o:{slab})-[r:{typ}]->(m:{person} {{{pkey}: $person}})", "(o)-[n]->(p)"
    merge_rel = target.replace("[n]", f"[n:{typ} {{rel_key: r.rel_key}}]")
    return (
        f"MATCH {pattern}\n"
        "WHERE r.rel_key IN $records OR any(k IN $records WHERE r.rel_key STARTS WITH k + ':')\n"
        f"MERGE (p:{person} {{{pkey}: $into}})\n"
        f"MERGE {merge_rel}\n"
        "SET n += properties(r)\n"
        "DELETE r\n"
        "RETURN count(*) AS moved"
    )


def _match_rel(rel_type: str, start_label: str, end_label: str, schema: GraphSchema | None) -> str:
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, skey = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (a:{slab} {{{skey}: row.start}})-[r:{typ} {{rel_key: row.rel_key}}]->"
        f"(b:{elab} {{{ekey}: row.end}})\n"
    )


def erase_relationships(
    rel_type: str, start_label: str, end_label: str, schema: GraphSchema | None = None
) -> str:
    """Delete relationships by identity (``graphstore.erasure``). Parameter ``$rows``: list of
    ``{start, end, rel_key}``; rows already gone match nothing. Column ``n`` (deleted)."""
    return _match_rel(rel_type, start_label, end_label, schema) + "DELETE r\nRETURN count(r) AS n"


def replace_rel_props(
    rel_type: str, start_label: str, end_label: str, schema: GraphSchema | None = None
) -> str:
    """Replace the properties of relationships by identity. Parameter ``$rows``: list of
    ``{start, end, rel_key, props}`` (``props`` includes ``rel_key``)."""
    return _match_rel(rel_type, start_label, end_label, schema) + "SET r = row.props\nRETURN count(r) AS n"


def erase_nodes(label: str, schema: GraphSchema | None = None) -> str:
    """Detach-delete nodes of ``label`` by key. Parameter ``$keys``. Column ``n`` (deleted)."""
    lab, key = _label(label, schema)
    return f"UNWIND $keys AS k\nMATCH (n:{lab} {{{key}: k}})\nDETACH DELETE n\nRETURN count(*) AS n"


def replace_node_props(label: str, schema: GraphSchema | None = None) -> str:
    """Replace the properties of nodes of ``label`` by key. Parameter ``$rows``: list of
    ``{key, props}`` (``props`` includes the key property)."""
    lab, key = _label(label, schema)
    return f"UNWIND $rows AS row\nMATCH (n:{lab} {{{key}: row.key}})\nSET n = row.props\nRETURN count(n) AS n"


def restore_empty_list(label: str, prop: str, marker: str, schema: GraphSchema | None = None) -> str:
    """Give the nodes of ``label`` that carry ``marker`` an empty list ``prop`` and drop the marker
    (an initial import writes an empty list as that marker: the import files cannot hold one).
    Column ``n`` (nodes set)."""
    lab, _ = _label(label, schema)
    return (
        f"MATCH (n:{lab}) WHERE n.{_ident(marker)} = true\n"
        f"SET n.{_ident(prop)} = []\nREMOVE n.{_ident(marker)}\nRETURN count(n) AS n"
    )


def count_nodes(label: str, schema: GraphSchema | None = None) -> str:
    """Number of nodes with ``label`` (answered from Neo4j's count store). Column ``n``."""
    lab, _ = _label(label, schema)
    return f"MATCH (n:{lab}) RETURN count(n) AS n"


def count_relationships(rel_type: str, schema: GraphSchema | None = None) -> str:
    """Number of relationships of ``rel_type`` (count store). Column ``n``."""
    return f"MATCH ()-[r:{_rel(rel_type, schema)}]->() RETURN count(r) AS n"


def node_properties(label: str, schema: GraphSchema | None = None) -> str:
    """The key and the values of the properties ``$properties`` (a list of names) of every node
    of ``label``, by key. Columns ``key`` and ``values`` (a list, null where a node lacks one)."""
    lab, key = _label(label, schema)
    return f"MATCH (n:{lab}) RETURN n.{key} AS key, [p IN $properties | n[p]] AS values ORDER BY key"


def distinct_values(label: str, schema: GraphSchema | None = None) -> str:
    """The distinct values of the property ``$property`` on the nodes of ``label``, nulls left
    out. Column ``value``."""
    lab, _ = _label(label, schema)
    return f"MATCH (n:{lab}) WHERE n[$property] IS NOT NULL RETURN DISTINCT n[$property] AS value"


def observation_days(label: str, schema: GraphSchema | None = None) -> str:
    """The distinct days (``left(observed_on, 10)``) of the relationships from the nodes of
    ``label`` with the keys ``$keys`` to an end whose label makes ``type + '>' + label`` one of
    ``$combos``. Columns ``key`` and ``day``."""
    lab, key = _label(label, schema)
    return (
        "UNWIND $keys AS k\n"
        f"MATCH (s:{lab} {{{key}: k}})-[r]->(e)\n"
        "WHERE r.observed_on IS NOT NULL AND any(l IN labels(e) WHERE type(r) + '>' + l IN $combos)\n"
        "RETURN DISTINCT k AS key, left(r.observed_on, 10) AS day"
    )


def fact_rows(
    rel_type: str,
    start_label: str,
    end_label: str,
    keys_at: Literal["start", "end"] | None = None,
    schema: GraphSchema | None = None,
) -> str:
    """The facts ``(start_label)-[rel_type]->(end_label)``, all of them or those whose start
    (``keys_at="start"``) or end (``"end"``) key is one of ``$keys``, with the values of the
    properties ``$rel_properties``, ``$start_properties`` and ``$end_properties`` (lists of names).
    Columns ``start``, ``end``, ``rel``, ``start_values``, ``end_values``."""
    (schema or load_schema()).check_rel(rel_type, start_label, end_label)
    typ = _rel(rel_type, schema)
    slab, skey = _label(start_label, schema)
    elab, ekey = _label(end_label, schema)
    start = f"(s:{slab} {{{skey}: k}})" if keys_at == "start" else f"(s:{slab})"
    end = f"(e:{elab} {{{ekey}: k}})" if keys_at == "end" else f"(e:{elab})"
    return (
        ("UNWIND $keys AS k\n" if keys_at else "")
        + f"MATCH {start}-[r:{typ}]->{end}\n"
        + f"RETURN s.{skey} AS start, e.{ekey} AS end, [p IN $rel_properties | r[p]] AS rel, "
        + "[p IN $start_properties | s[p]] AS start_values, [p IN $end_properties | e[p]] AS end_values"
    )


# -- loads (graphstore.loads) ----------------------------------------------------------------------
# Bookkeeping nodes outside graph_schema.cypher: no read, count or retention delete of the graph
# sees their labels.
LOAD_LOCK_CONSTRAINT = (
    "CREATE CONSTRAINT netanalysis_load_lock IF NOT EXISTS "
    "FOR (l:NetanalysisLoadLock) REQUIRE l.name IS UNIQUE"
)


def take_load_lease() -> str:
    """Take the store's load lease when it is free or stale (``$stale`` seconds unrenewed).

    The first SET write-locks the lock node, so the test that follows sees the latest committed
    holder and two loads cannot both find it free. Columns ``taken``, ``batch``, ``since``,
    ``holder`` (the holder after the statement).
    """
    return (
        "MERGE (l:NetanalysisLoadLock {name: 'store'})\n"
        "SET l.claims = coalesce(l.claims, 0) + 1\n"
        "WITH l, (l.holder IS NULL OR l.renewed IS NULL\n"
        "  OR l.renewed < datetime() - duration({seconds: $stale})) AS free\n"
        "SET l.holder = CASE WHEN free THEN $holder ELSE l.holder END,\n"
        "    l.batch = CASE WHEN free THEN $batch ELSE l.batch END,\n"
        "    l.since = CASE WHEN free THEN $since ELSE l.since END,\n"
        "    l.renewed = CASE WHEN free THEN datetime() ELSE l.renewed END\n"
        "RETURN free AS taken, l.batch AS batch, l.since AS since, l.holder AS holder"
    )


def renew_load_lease() -> str:
    """Renew the lease of ``$holder``."""
    return "MATCH (l:NetanalysisLoadLock {name: 'store'}) WHERE l.holder = $holder SET l.renewed = datetime()"


def release_load_lease() -> str:
    """Release the lease of ``$holder`` (nothing when another holds it)."""
    return (
        "MATCH (l:NetanalysisLoadLock {name: 'store'}) WHERE l.holder = $holder "
        "REMOVE l.holder, l.batch, l.since, l.renewed"
    )


def load_lease_held() -> str:
    """Whether a load holds an unstale lease. Column ``held``."""
    return (
        "OPTIONAL MATCH (l:NetanalysisLoadLock {name: 'store'}) "
        "WHERE l.holder IS NOT NULL AND l.renewed >= datetime() - duration({seconds: $stale}) "
        "RETURN l IS NOT NULL AS held"
    )


def record_load_start() -> str:
    """Record that load ``$id`` of ``$batch`` started at ``$started`` (``$seq`` orders loads)."""
    return "CREATE (:NetanalysisLoad {id: $id, batch: $batch, started: $started, seq: $seq})"


def record_load_end() -> str:
    """Record that load ``$id`` finished at ``$finished``."""
    return "MATCH (r:NetanalysisLoad {id: $id}) SET r.finished = $finished"


def last_load() -> str:
    """The most recent load. Columns ``batch``, ``started``, ``finished``."""
    return (
        "MATCH (r:NetanalysisLoad) RETURN r.batch AS batch, r.started AS started, "
        "r.finished AS finished ORDER BY r.seq DESC LIMIT 1"
    )


# --- in-database analytics (Graph Data Science) --------------------------------------------------

#: The evidence kinds that :func:`gds_project_evidence` computes, in the order of
#: ``netanalysis.projection.EVIDENCE_KINDS``; each is also the name of a relationship property
#: holding the number of items of that kind behind a link.
GDS_EVIDENCE_KINDS = ("case", "victim", "phone", "vehicle", "account", "premises")


def gds_version() -> str:
    """The version of the Graph Data Science library; fails when the server has none."""
    return "RETURN gds.version() AS version"


def _factor(var: str) -> str:
    """The Admiralty reliability factor of the fact ``var``, as ``reliability_factor`` computes it."""
    grade = f"toUpper(trim(coalesce(toString({var}.reliability), '')))"
    return (
        f"CASE WHEN size({grade}) = 2 AND $source_grade[left({grade}, 1)] IS NOT NULL "
        f"AND $information_grade[right({grade}, 1)] IS NOT NULL "
        f"THEN $source_grade[left({grade}, 1)] * $information_grade[right({grade}, 1)] "
        "ELSE $missing_grade END"
    )


def _evidence_items(observed_from: str | None, observed_to: str | None) -> str:
    """Rows ``kind, item, person, f, d``: every suspect's best reliability factor and latest date per
    evidence item, as ``netanalysis.projection.perpetrator_network`` gathers them."""

    def window(var: str) -> str:
        preds = _window(var, observed_from, observed_to)
        return " AND ".join(preds) if preds else "true"

    suspect = (
        "('suspect' IN coalesce(p.roles, []) OR "
        f"EXISTS {{ MATCH (p)-[r0:SUSPECT_IN]->() WHERE {window('r0')} }})"
    )
    date = "coalesce({0}.observed_on, '')"
    return f"""CALL {{
  MATCH (p:Person)-[r:SUSPECT_IN]->(c:Case)
  WHERE {window("r")}
  RETURN 'case' AS kind, c AS item, p AS person, {_factor("r")} AS f, {date.format("r")} AS d
  UNION ALL
  MATCH (p:Person)-[r:USES]->(x)
  WHERE (x:Phone OR x:Vehicle OR x:BankAccount) AND {window("r")} AND {suspect}
  RETURN CASE WHEN x:Phone THEN 'phone' WHEN x:Vehicle THEN 'vehicle' ELSE 'account' END AS kind,
         x AS item, p AS person, {_factor("r")} AS f, {date.format("r")} AS d
  UNION ALL
  MATCH (p:Person)-[r:SEEN_AT]->(x:Premises)
  WHERE {window("r")} AND {suspect}
  RETURN 'premises' AS kind, x AS item, p AS person, {_factor("r")} AS f, {date.format("r")} AS d
  UNION ALL
  MATCH (v:Person)-[rv:VICTIM_IN]->(c:Case)
  WHERE {window("rv")}
  WITH v, c, max({_factor("rv")}) AS fv, max({date.format("rv")}) AS dv
  MATCH (s:Person)-[rs:SUSPECT_IN]->(c)
  WHERE s <> v AND {window("rs")}
  WITH v, s, fv, dv, max({_factor("rs")}) AS fs, max({date.format("rs")}) AS ds
  RETURN 'victim' AS kind, v AS item, s AS person, fv * fs AS f,
         CASE WHEN dv > ds THEN dv ELSE ds END AS d
}}
WITH kind, item, person, max(f) AS f, max(d) AS d
"""


def gds_skipped_items(observed_from: str | None = None, observed_to: str | None = None) -> str:
    """Per kind, the evidence items left out for having more than ``$max_item_persons`` suspects.

    Parameters as :func:`gds_project_evidence` (without ``$graph``). Returns rows ``kind, items``.
    """
    return (
        _evidence_items(observed_from, observed_to)
        + """WITH kind, item, count(person) AS n
WHERE n > $max_item_persons
RETURN kind, count(item) AS items
ORDER BY kind"""
    )


def gds_project_evidence(observed_from: str | None = None, observed_to: str | None = None) -> str:
    """Project the suspect-suspect evidence network into the GDS graph catalog as ``$graph``.

    The weights are those of ``netanalysis.projection.perpetrator_network`` for the kinds in
    :data:`GDS_EVIDENCE_KINDS`: every pair of suspects sharing an item of at most
    ``$max_item_persons`` suspects gets ``$kind_weights[kind] x f(a) x f(b) x recency``, where
    recency halves every ``$half_life_days`` before ``$as_of`` (none when ``$as_of`` is null or the
    half-life 0). The graph is undirected, with the relationship properties ``weight``,
    ``distance`` (1/weight, for shortest paths) and one count per kind.

    Parameters: ``$graph``, ``$source_grade``, ``$information_grade`` (maps letter/digit -> factor),
    ``$missing_grade``, ``$kind_weights``, ``$max_item_persons``, ``$as_of``, ``$half_life_days``
    and, with a window, ``$observed_from`` / ``$observed_to``. Returns one row ``nodes, links``.
    """
    counts = ",\n     ".join(
        f"sum(CASE kind WHEN '{kind}' THEN 1 ELSE 0 END) AS {_ident('n_' + kind)}"
        for kind in GDS_EVIDENCE_KINDS
    )
    props = ", ".join(f"{_ident(kind)}: toFloat({_ident('n_' + kind)})" for kind in GDS_EVIDENCE_KINDS)
    return (
        _evidence_items(observed_from, observed_to)
        + f"""// A kind weighted 0 links nobody and counts no item (its crowded items still count as skipped).
WITH kind, item, person, f, d
WHERE $kind_weights[kind] <> 0
ORDER BY person.person_id
WITH kind, item, collect({{p: person, f: f, d: d}}) AS members
WITH kind, members, size(members) AS n
WHERE n >= 2 AND n <= $max_item_persons
UNWIND range(0, n - 2) AS i
UNWIND range(i + 1, n - 1) AS j
WITH kind, members[i] AS a, members[j] AS b
WITH kind, a, b, CASE WHEN a.d > b.d THEN a.d ELSE b.d END AS d
WITH kind, a, b,
     CASE WHEN d = '' OR $as_of IS NULL OR $half_life_days <= 0 THEN 1.0
          ELSE 0.5 ^ (toFloat(CASE WHEN duration.inDays(date(d), date($as_of)).days < 0 THEN 0
                                   ELSE duration.inDays(date(d), date($as_of)).days END)
                      / $half_life_days) END AS recency
WITH a.p AS pa, b.p AS pb, sum($kind_weights[kind] * a.f * b.f * recency) AS weight,
     {counts}
WHERE weight > 0
WITH gds.graph.project(
  $graph, pa, pb,
  {{relationshipProperties: {{weight: weight, distance: 1.0 / weight, {props}}}}},
  {{undirectedRelationshipTypes: ['*']}}
) AS g
RETURN g.nodeCount AS nodes, g.relationshipCount AS links"""
    )


def gds_links() -> str:
    """The links of the projected graph ``$graph``, once each: ``person_a < person_b`` (person ids),
    ``props`` a list of ``[property, value]`` (``$properties``: the names to read)."""
    return """CALL gds.graph.relationshipProperties.stream($graph, $properties)
YIELD sourceNodeId, targetNodeId, relationshipProperty, propertyValue
WITH sourceNodeId, targetNodeId, collect([relationshipProperty, propertyValue]) AS props
WITH gds.util.asNode(sourceNodeId).person_id AS a, gds.util.asNode(targetNodeId).person_id AS b, props
WHERE a < b
RETURN a AS person_a, b AS person_b, props"""


def gds_groups(method: Literal["leiden", "louvain"]) -> str:
    """Communities of ``$graph`` by weight: Leiden (``$resolution`` as gamma, ``$seed``) or Louvain.

    One thread, so the same seed gives the same communities. Returns ``person_id, community``.
    """
    if method == "leiden":
        call = (
            "CALL gds.leiden.stream($graph, {relationshipWeightProperty: 'weight', gamma: $resolution, "
            "randomSeed: $seed, concurrency: 1})"
        )
    else:
        call = "CALL gds.louvain.stream($graph, {relationshipWeightProperty: 'weight', concurrency: 1})"
    return f"""{call}
YIELD nodeId, communityId
RETURN gds.util.asNode(nodeId).person_id AS person_id, communityId AS community"""


def gds_project_links() -> str:
    """Project the links ``$links`` (``{a, b, distance}``, person ids) as the undirected graph ``$graph``.

    Used for the links inside groups, so that betweenness stays within each group."""
    return """UNWIND $links AS link
MATCH (a:Person {person_id: link.a}), (b:Person {person_id: link.b})
WITH gds.graph.project($graph, a, b, {relationshipProperties: {distance: link.distance}},
                       {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.nodeCount AS nodes, g.relationshipCount AS links"""


def gds_betweenness() -> str:
    """Shortest-path betweenness in ``$graph`` by ``distance``: rows ``person_id, score`` (raw; on
    the undirected graph each unordered pair of other persons counts once)."""
    return """CALL gds.betweenness.stream($graph, {relationshipWeightProperty: 'distance'})
YIELD nodeId, score
RETURN gds.util.asNode(nodeId).person_id AS person_id, score"""


def gds_drop_graph() -> str:
    """Drop the projected graph ``$graph`` if it exists (no error when it does not)."""
    return "CALL gds.graph.drop($graph, false) YIELD graphName RETURN graphName"
