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
    "erase_nodes",
    "erase_relationships",
    "last_load",
    "load_lease_held",
    "move_person_relationships",
    "person_exists",
    "delete_person",
    "ping",
    "read_nodes",
    "read_relationships",
    "record_load_end",
    "record_load_start",
    "records_in_blocks",
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
REFERENCE_LABELS = ("Municipality", "Region", "Source", "Group", "Merge")

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
) -> tuple[str, dict[str, Any]]:
    """Nodes of ``label`` (optionally within an observation window, optionally only those with
    one of ``keys``, looked up through the key's index): columns ``key, props``."""
    lab, key = _label(label, schema)
    preds = _window("n", observed_from, observed_to)
    if keys is not None:
        preds.insert(0, f"n.{key} IN $keys")
    query = f"MATCH (n:{lab})\n" + _where(preds) + f"RETURN n.{key} AS key, properties(n) AS props"
    return query, {"observed_from": observed_from, "observed_to": observed_to, "keys": keys}


def read_relationships(
    rel_type: str,
    start_label: str,
    end_label: str,
    observed_from: str | None = None,
    observed_to: str | None = None,
    schema: GraphSchema | None = None,
    starts: list[str] | None = None,
    ends: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Relationships of one type between two labels (optionally only from one of ``starts`` or
    to one of ``ends``, looked up through the keys' indexes): columns ``start, end, props``."""
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
        + f"RETURN a.{skey} AS start, b.{ekey} AS end, properties(r) AS props"
    )
    params = {"observed_from": observed_from, "observed_to": observed_to, "starts": starts, "ends": ends}
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
