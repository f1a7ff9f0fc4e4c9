"""The Neo4j graph store, through the official ``neo4j`` driver (6.x).

Writes are batched ``UNWIND $rows`` MERGEs (``graphstore.cypher``) in managed transactions
(``session.execute_write``), which the driver retries on transient errors and lost connections
for at most ``retry_time`` seconds. Packing the rows in pure Python costs the client about 35 us
of CPU per relationship, two thirds of what the server spends merging it; the driver's Rust
extension (``neo4j-rust-ext``, a dependency) packs them in about 5 us. ``benchmarks/RESULTS.md``
has the query shapes that were measured against each other.

Every failure reaches the caller as a ``StoreError``:
``StoreUnavailable`` when the server cannot be reached, refuses the credentials or goes away
(with the URI, within ``connect_timeout + retry_time`` seconds, 3 + 4 by default), ``SchemaError``
when Neo4j rejects a schema statement. Passwords never appear in messages.

Property maps are normalised by ``graphstore.props`` exactly as in the embedded store (no nulls,
no nested maps), so both backends read back the same graph.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import networkx as nx
from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j import exceptions as neo4j_errors

from graphstore import cypher
from graphstore.base import (
    LATEST_OBSERVED_ATTR,
    GraphSlice,
    PersonMerge,
    PersonSplit,
    Props,
    ProvenanceRows,
    RelRow,
    RetentionDeletes,
    RowCounter,
    RowProgress,
    batched,
    sort_fact_rows,
    sorted_counts,
)
from graphstore.erasure import ErasurePlan, RelRef
from graphstore.loads import LEASE_RENEW, LEASE_STALE, LoadRecord, busy_message, now_iso
from graphstore.props import check_property_names, prepare_node, prepare_rel
from graphstore.schema import GraphSchema, load_schema
from graphstore.slicing import (
    NodeRow,
    RelCombo,
    RelRowOut,
    SliceSpec,
    around_nodes,
    around_persons,
    assemble,
    evidence_slice,
    rel_combos,
    resolve_slice,
    trimmer,
)
from netanalysis.errors import ConfigError, SchemaError, StoreError, StoreUnavailable

__all__ = ["Neo4jStore"]

T = TypeVar("T")

# Deletions run in chunks so that retention on a large graph never builds one huge transaction.
_DELETE_CHUNK = 10_000
#: Keys per query of a keyed look-up (observation_days, fact_rows): a bounded list parameter.
_KEYS_PER_QUERY = 20_000
# A keyed blocking key (loaders.crossload): only such text goes into a Lucene query.
_BLOCK_KEY = re.compile(r"^[0-9]+(?:u|ud)?:[0-9a-f]+$")


def _run_statement(tx: ManagedTransaction, statement: str) -> None:
    tx.run(statement).consume()


# Batches are written in key order: concurrent loads then take node locks in the same order (the
# commit-time locks of dense nodes can still deadlock; the driver retries those), and the server
# spent slightly less CPU per relationship on sorted batches (benchmarks/RESULTS.md). The sort is
# stable: of repeated rows in a batch the last still wins.
def _by_key(row: dict[str, Any]) -> str:
    return str(row["key"])


def _by_endpoints(row: dict[str, Any]) -> tuple[str, str]:
    return str(row["start"]), str(row["end"])


class Neo4jStore(RetentionDeletes):
    """A graph store on a Neo4j server (5.x, Community or Enterprise).

    Parameters
    ----------
    uri
        ``bolt://host:port`` for one server, ``neo4j://host:port`` for routing (a cluster).
    user, password
        Credentials (user default ``neo4j``); ``graphstore.store_from_env`` fills them from
        ``NEO4J_USERNAME`` and ``NEO4J_PASSWORD``.
    database
        The database to use; default the server's default database.
    connect_timeout
        Seconds to wait for a connection before giving up.
    retry_time
        Seconds the driver may spend retrying a transaction after transient errors or a lost
        connection.
    schema
        The graph model; default the project's graph_schema.cypher. ``apply_schema`` runs its
        statements.
    """

    def __init__(
        self,
        uri: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        connect_timeout: float = 3.0,
        retry_time: float = 4.0,
        schema: GraphSchema | None = None,
    ) -> None:
        self.uri = uri
        self.database = database
        self.schema = schema or load_schema()
        # The environment is read at the edge (graphstore.store_from_env), never here.
        user = user or "neo4j"
        if password is None:
            raise ConfigError(
                f"no password for Neo4j at {uri}: pass password= or set NEO4J_PASSWORD "
                "(`netanalysis neo4j status --show-password` prints it for the toolkit's own server)"
            )
        self._user = user
        self._lease: str | None = None
        self._lease_stop = threading.Event()
        self._lease_thread: threading.Thread | None = None
        # One thread sends write batches while the caller prepares the next (see _write_batches).
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neo4j-writer")
        try:
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connect_timeout,
                connection_acquisition_timeout=connect_timeout + retry_time,
                max_transaction_retry_time=retry_time,
                # Counting a type that has no relationship yet is normal here, not worth a warning.
                notifications_min_severity="OFF",
            )
        except (neo4j_errors.ConfigurationError, ValueError) as exc:
            raise ConfigError(f"cannot use the Neo4j URI {uri}: {exc}") from None
        try:
            with self._errors("connecting"):
                self._driver.verify_connectivity()
        except BaseException:
            self._sender.shutdown()
            self._driver.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn driver errors into the toolkit's, naming the URI and what was being done."""
        try:
            yield
        except neo4j_errors.AuthError:
            raise StoreUnavailable(
                f"Neo4j at {self.uri} refused the credentials of user {self._user!r} while {what}; "
                "check NEO4J_USERNAME and NEO4J_PASSWORD"
            ) from None
        except (
            neo4j_errors.ServiceUnavailable,
            neo4j_errors.SessionExpired,
            neo4j_errors.IncompleteCommit,
            neo4j_errors.ConnectionAcquisitionTimeoutError,
            neo4j_errors.DatabaseUnavailable,
            OSError,
        ) as exc:
            raise StoreUnavailable(
                f"cannot reach Neo4j at {self.uri} while {what} ({type(exc).__name__}); is the server "
                "running? Writes are idempotent: re-run the same load once it is back"
            ) from None
        except neo4j_errors.Neo4jError as exc:
            raise StoreError(f"Neo4j at {self.uri} failed while {what}: {exc.code}: {exc.message}") from None
        except neo4j_errors.DriverError as exc:
            raise StoreError(f"the Neo4j driver failed while {what} at {self.uri}: {exc}") from None

    def _write(self, what: str, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        with self._errors(what), self._driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _write_batches(self, what: str, query: str, batches: Iterator[list[dict[str, Any]]]) -> int:
        """Run ``query`` once per batch (``$rows``), each in its own transaction; returns the rows
        written.

        The server takes a batch while this thread prepares the next one, so checking and
        normalising rows (about 10 us each) runs beside the server's work instead of adding to
        it. At most one batch is in flight, and nothing is when this returns or raises: a refused
        row or a lost server leaves the same committed state as one batch after the other would.
        """
        pending: Future[list[dict[str, Any]]] | None = None
        written = 0
        try:
            for payload in batches:
                if pending is not None:
                    pending.result()
                pending = self._sender.submit(self._write, what, query, {"rows": payload})
                written += len(payload)
            if pending is not None:
                pending.result()
                pending = None
        finally:
            if pending is not None:
                wait([pending])
        return written

    def _read(self, what: str, work: Callable[[ManagedTransaction], T]) -> T:
        with self._errors(what), self._driver.session(database=self.database) as session:
            return session.execute_read(work)

    def run_once(self, what: str, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run one query (a ``graphstore.cypher`` builder's) in an auto-commit transaction and
        return its rows; driver errors become the toolkit's, naming ``what``.

        Not retried: a GDS projection that reached the server must not be made twice.
        """
        with self._errors(what), self._driver.session(database=self.database) as session:
            return [record.data() for record in session.run(query, params)]

    # -- protocol -----------------------------------------------------------------------------

    def apply_schema(self) -> None:
        """Run every statement of the schema (all ``IF NOT EXISTS``, so repeating is harmless),
        then wait until the indexes are online. A statement Neo4j rejects raises SchemaError
        naming it."""
        for statement in self.schema.statements:
            try:
                with self._errors("applying the schema"), self._driver.session(database=self.database) as s:
                    s.execute_write(_run_statement, statement)
            except StoreUnavailable:
                raise
            except StoreError as exc:
                raise SchemaError(
                    f"Neo4j at {self.uri} rejected the schema statement {statement!r}: {exc}"
                ) from None
        self._write("waiting for indexes", cypher.await_indexes(), {"seconds": 300})

    def restore_empty_lists(self, empty_lists: Iterable[tuple[str, str, str]]) -> int:
        """After an initial import: set each ``(label, property, marker)`` of
        ``ImportFiles.empty_lists`` back to an empty list where the marker is; returns the nodes set."""
        done = 0
        for label, prop, marker in empty_lists:
            rows = self._write(
                "restoring empty lists", cypher.restore_empty_list(label, prop, marker, self.schema), {}
            )
            done += int(rows[0]["n"]) if rows else 0
        return done

    def upsert_nodes(self, label: str, rows: Iterable[Props], batch_size: int = 5000) -> int:
        """Merge nodes of ``label`` by their key property, one transaction per batch; returns rows
        written. Properties are merged into what is stored (``SET n += props``)."""
        key_prop = self.schema.key_of(label)
        query = cypher.upsert_nodes(label, self.schema)

        def batches() -> Iterator[list[dict[str, Any]]]:
            for batch in batched(rows, batch_size):
                payload = []
                for row in batch:
                    key, props = prepare_node(label, key_prop, row)
                    payload.append({"key": key, "props": props})
                payload.sort(key=_by_key)
                yield payload

        return self._write_batches(f"writing {label} nodes", query, batches())

    def upsert_relationships(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        rows: Iterable[RelRow],
        batch_size: int = 5000,
    ) -> int:
        """Merge relationships by (type, endpoints, rel_key), one transaction per batch; endpoints
        that do not exist yet are created with only their key. Returns rows written."""
        query = cypher.upsert_relationships(rel_type, start_label, end_label, self.schema)

        def batches() -> Iterator[list[dict[str, Any]]]:
            for batch in batched(rows, batch_size):
                payload = []
                for row in batch:
                    start, end, rel_key, props = prepare_rel(rel_type, row)
                    payload.append({"start": start, "end": end, "rel_key": rel_key, "props": props})
                payload.sort(key=_by_endpoints)
                yield payload

        return self._write_batches(f"writing {rel_type} relationships", query, batches())

    def read_graph(
        self, graph_slice: GraphSlice | None = None, progress: RowProgress | None = None
    ) -> nx.MultiDiGraph:
        """Read the whole graph, or a slice (see ``graphstore.slicing``), into networkx;
        ``progress`` hears the rows read so far (``GraphStore.read_graph``)."""
        spec = resolve_slice(graph_slice, self.schema)
        obs_from, obs_to = spec.observed_from, spec.observed_to
        counter = RowCounter(progress)
        if spec.person_ids is not None:
            graph = self._read_around_persons(spec)
            counter.done = graph.number_of_nodes() + graph.number_of_edges()
            counter.finish()
            return graph

        # The server returns only the properties asked for, as [name, value] pairs.
        wanted = None if spec.properties is None else sorted(spec.properties | {"rel_key"})
        trim = trimmer(spec) if wanted is None else dict

        def work(tx: ManagedTransaction) -> tuple[list[Any], list[Any], set[str] | None]:
            counter.restart()
            nodes: list[Any] = []
            for label in spec.labels:
                query, params = cypher.read_nodes(label, obs_from, obs_to, self.schema, properties=wanted)
                nodes.extend((label, r["key"], trim(r["props"])) for r in counter.rows(tx.run(query, params)))
            rels: list[Any] = []
            for typ, sl, el in spec.combos:
                query, params = cypher.read_relationships(
                    typ, sl, el, obs_from, obs_to, self.schema, properties=wanted
                )
                rels.extend(
                    (typ, sl, r["start"], el, r["end"], trim(r["props"]))
                    for r in counter.rows(tx.run(query, params))
                )
            seeds = None
            if spec.region_ids is not None:
                query, params = cypher.region_persons(list(spec.region_ids), obs_from, obs_to, self.schema)
                seeds = {r["key"] for r in tx.run(query, params)}
            return nodes, rels, seeds

        nodes, rels, seeds = self._read("reading the graph", work)
        counter.finish()
        return assemble(nodes, rels, seeds)

    def read_evidence_graph(self, graph_slice: GraphSlice | None = None) -> nx.MultiDiGraph:
        """The facts of a slice that the perpetrator network reads (``GraphStore.read_evidence_graph``),
        selected in Cypher: the suspects, their evidence and the facts of the persons tied to them."""
        spec = resolve_slice(graph_slice, self.schema)
        obs_from, obs_to = spec.observed_from, spec.observed_to
        wanted = None if spec.properties is None else sorted(spec.properties | {"rel_key"})
        trim = trimmer(spec) if wanted is None else dict

        def work(tx: ManagedTransaction) -> nx.MultiDiGraph:
            def windowed_rels(combos: tuple[RelCombo, ...], starts: list[str] | None) -> list[RelRowOut]:
                out: list[RelRowOut] = []
                for typ, sl, el in combos:
                    query, params = cypher.evidence_relationships(
                        typ, sl, el, obs_from, obs_to, self.schema, starts=starts, properties=wanted
                    )
                    out.extend(
                        (typ, sl, r["start"], el, r["end"], trim(r["props"])) for r in tx.run(query, params)
                    )
                return out

            def suspect_persons() -> list[str]:
                query, params = cypher.suspect_persons(obs_from, obs_to, self.schema)
                return [str(r["key"]) for r in tx.run(query, params)]

            def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
                query, params = cypher.read_nodes(
                    label, obs_from, obs_to, self.schema, keys=keys, properties=wanted
                )
                return [(label, r["key"], trim(r["props"])) for r in tx.run(query, params)]

            graph = evidence_slice(spec, windowed_rels, suspect_persons, nodes_by_key)
            graph.graph[LATEST_OBSERVED_ATTR] = self._latest_observed(tx, spec.combos, obs_from, obs_to)
            return graph

        return self._read("reading the evidence", work)

    def _latest_observed(
        self,
        tx: ManagedTransaction,
        combos: Iterable[tuple[str, str, str]],
        obs_from: str | None,
        obs_to: str | None,
    ) -> str | None:
        """The latest ``observed_on`` of these relationship combos inside the window (None when
        none has one): one query per combo, each through its relationship index."""
        latest: str | None = None
        for typ, sl, el in combos:
            query, params = cypher.latest_observed(typ, sl, el, obs_from, obs_to, self.schema)
            row = tx.run(query, params).single()
            if row is not None and row["latest"] is not None:
                value = str(row["latest"])
                latest = value if latest is None else max(latest, value)
        return latest

    def provenance_rows(
        self,
        labels: frozenset[str],
        observed_from: str | None = None,
        observed_to: str | None = None,
        progress: RowProgress | None = None,
    ) -> ProvenanceRows:
        """The latest observation, the records of the persons and the rows of the signals that
        ``read_graph`` would return for these labels and window (``ProvenanceRows``), in Cypher;
        ``progress`` hears the rows read so far."""
        counter = RowCounter(progress)
        spec = resolve_slice(
            GraphSlice(labels=labels, observed_from=observed_from, observed_to=observed_to), self.schema
        )
        obs_from, obs_to = spec.observed_from, spec.observed_to

        def work(tx: ManagedTransaction) -> ProvenanceRows:
            counter.restart()
            latest = self._latest_observed(tx, spec.combos, obs_from, obs_to)
            signals: list[tuple[str, str, str]] = []
            for typ, sl, el in spec.combos:
                if sl == "Signal":
                    query, params = cypher.signal_row_rows(typ, el, obs_from, obs_to, self.schema)
                    signals.extend(
                        (str(r["signal"]), str(r["source"]), str(r["row_id"]))
                        for r in counter.rows(tx.run(query, params))
                    )
            persons: list[tuple[str, str, str | None, str | None]] = []
            if ("DESCRIBES", "Record", "Person") in spec.combos:
                query, params = cypher.person_record_rows(obs_from, obs_to, self.schema)
                persons = [
                    (
                        str(r["person"]),
                        str(r["record"]),
                        None if r["source"] is None else str(r["source"]),
                        None if r["row_id"] is None else str(r["row_id"]),
                    )
                    for r in counter.rows(tx.run(query, params))
                ]
            return ProvenanceRows(latest, persons, signals)

        rows = self._read("reading the provenance", work)
        counter.finish()
        return rows

    def apply_erasure(self, plan: ErasurePlan, batch_size: int = 5000) -> None:
        """Apply an erasure plan in batches of ``batch_size``, one transaction each: property
        rewrites, then relationships, then nodes. A run cut off between batches leaves a state
        from which a new plan of the same records finishes the job (``graphstore.erasure``)."""

        def by_combo(refs: list[tuple[RelRef, dict[str, Any]]]) -> dict[tuple[str, str, str], list[Any]]:
            groups: dict[tuple[str, str, str], list[Any]] = {}
            for ref, props in refs:
                row: dict[str, Any] = {"start": ref.start, "end": ref.end, "rel_key": ref.rel_key}
                if props:
                    row["props"] = props
                groups.setdefault((ref.rel_type, ref.start_label, ref.end_label), []).append(row)
            return groups

        node_rows: dict[str, list[dict[str, Any]]] = {}
        for label, key, props in plan.node_props:
            node_rows.setdefault(label, []).append({"key": key, "props": props})
        for label, rows in sorted(node_rows.items()):
            query = cypher.replace_node_props(label, self.schema)
            for chunk in batched(rows, batch_size):
                self._write(f"rewriting {label} nodes", query, {"rows": chunk})
        for (typ, sl, el), rows in sorted(by_combo(list(plan.rel_props)).items()):
            query = cypher.replace_rel_props(typ, sl, el, self.schema)
            for chunk in batched(rows, batch_size):
                self._write(f"rewriting {typ} relationships", query, {"rows": chunk})
        for (typ, sl, el), rows in sorted(by_combo([(r, {}) for r in plan.delete_rels]).items()):
            query = cypher.erase_relationships(typ, sl, el, self.schema)
            for chunk in batched(rows, batch_size):
                self._write(f"erasing {typ} relationships", query, {"rows": chunk})
        keys: dict[str, list[str]] = {}
        for label, key in plan.delete_nodes:
            keys.setdefault(label, []).append(key)
        # Record nodes last: until they are gone, a cut-off erasure still finds its records.
        for label, found in sorted(keys.items(), key=lambda item: (item[0] == "Record", item[0])):
            query = cypher.erase_nodes(label, self.schema)
            for chunk in batched(found, batch_size):
                self._write(f"erasing {label} nodes", query, {"keys": chunk})

    def compact(self) -> str:
        """Nothing can be compacted online on Neo4j: returns the sentence that says what remains
        (docs/retention.md: transaction logs, store files, ``neo4j-admin database copy``)."""
        return (
            f"Neo4j at {self.uri} no longer returns the deleted data, but its store files keep the "
            "deleted records until their space is reused and its transaction logs keep them until "
            "they are rotated out; see docs/retention.md for compacting the database offline"
        )

    def read_around(
        self,
        graph_slice: GraphSlice,
        seeds: Mapping[str, Collection[str]],
        rel_types: Collection[str] | None = None,
    ) -> nx.MultiDiGraph:
        """One ring of a slice around ``seeds`` (``GraphStore.read_around``), looked up through the
        key indexes, one parameterised query per relationship combo and end."""
        spec = resolve_slice(graph_slice, self.schema)
        obs_from, obs_to = spec.observed_from, spec.observed_to
        wanted = None if spec.properties is None else sorted(spec.properties | {"rel_key"})
        trim = trimmer(spec) if wanted is None else dict

        def work(tx: ManagedTransaction) -> nx.MultiDiGraph:
            def rels(combo: RelCombo, starts: list[str] | None, ends: list[str] | None) -> list[RelRowOut]:
                typ, sl, el = combo
                query, params = cypher.read_relationships(
                    typ, sl, el, obs_from, obs_to, self.schema, starts=starts, ends=ends, properties=wanted
                )
                return [(typ, sl, r["start"], el, r["end"], trim(r["props"])) for r in tx.run(query, params)]

            def touching(label: str, keys: list[str], combos: tuple[RelCombo, ...]) -> list[RelRowOut]:
                out = []
                for combo in combos:
                    if combo[1] == label:
                        out.extend(rels(combo, keys, None))
                    if combo[2] == label:
                        out.extend(rels(combo, None, keys))
                return out

            def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
                query, params = cypher.read_nodes(
                    label, obs_from, obs_to, self.schema, keys=keys, properties=wanted
                )
                return [(label, r["key"], trim(r["props"])) for r in tx.run(query, params)]

            return around_nodes(spec, seeds, rel_types, touching, nodes_by_key)

        return self._read("reading the graph", work)

    def busy_ends(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        min_starts: int,
        observed_from: str | None = None,
        observed_to: str | None = None,
    ) -> list[str]:
        """The ends reached from at least ``min_starts`` distinct starts (``GraphStore.busy_ends``),
        counted by the server."""
        query, params = cypher.busy_ends(
            rel_type, start_label, end_label, min_starts, observed_from, observed_to, self.schema
        )

        def work(tx: ManagedTransaction) -> list[str]:
            return [str(r["key"]) for r in tx.run(query, params)]

        return sorted(self._read("counting the busiest ends", work))

    def _read_around_persons(self, spec: SliceSpec) -> nx.MultiDiGraph:
        window = (spec.observed_from, spec.observed_to)

        def work(tx: ManagedTransaction) -> nx.MultiDiGraph:
            def rels(
                combo: RelCombo, starts: list[str] | None = None, ends: list[str] | None = None
            ) -> list[RelRowOut]:
                typ, sl, el = combo
                query, params = cypher.read_relationships(
                    typ, sl, el, *window, self.schema, starts=starts, ends=ends
                )
                return [(typ, sl, r["start"], el, r["end"], r["props"]) for r in tx.run(query, params)]

            def touching(label: str, keys: list[str], combos: tuple[RelCombo, ...]) -> list[RelRowOut]:
                out = []
                for combo in combos:
                    if combo[1] == label:
                        out.extend(rels(combo, starts=keys))
                    if combo[2] == label:
                        out.extend(rels(combo, ends=keys))
                return out

            def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
                query, params = cypher.read_nodes(label, *window, self.schema, keys=keys)
                return [(label, r["key"], r["props"]) for r in tx.run(query, params)]

            def between(combo: RelCombo, starts: list[str], ends: list[str]) -> list[RelRowOut]:
                return rels(combo, starts=starts, ends=ends)

            return around_persons(spec, touching, nodes_by_key, between)

        return self._read("reading the graph", work)

    def person_records(
        self,
        *,
        blocks: Sequence[str] = (),
        persons: Sequence[str] = (),
        records: Sequence[str] = (),
    ) -> list[tuple[str, str, str | None]]:
        """``(record id, person id, comparison)`` of each DESCRIBES of the records that hold one of
        ``blocks``, describe one of ``persons`` or have one of the ids ``records`` (see
        ``GraphStore.person_records``); repeats are left out."""
        keys = sorted(set(blocks))
        for key in keys:
            if not _BLOCK_KEY.match(key):
                raise StoreError(f"not a keyed blocking key: {key[:40]!r}")
        # Lucene allows 1,024 clauses in a query; the keys are quoted so that ':' stays inside.
        queries = [" ".join(f'"{k}"' for k in part) for part in batched(keys, 500)]
        steps = [(cypher.records_in_blocks(), {"queries": part}) for part in batched(queries, 40)] + [
            (query, {"keys": part})
            for query, wanted in ((cypher.records_of_persons(), persons), (cypher.records_by_key(), records))
            for part in batched(sorted(set(wanted)), 20_000)
        ]
        out: set[tuple[str, str, str | None]] = set()
        for query, params in steps:

            def work(
                tx: ManagedTransaction, query: str = query, params: dict[str, Any] = params
            ) -> list[Any]:
                return [
                    (str(row["record"]), str(row["person"]), row["comparison"])
                    for row in tx.run(query, params)
                ]

            out.update(self._read("reading person records", work))
        return sorted(out, key=lambda row: (row[0], row[1]))

    def persons_in_blocks(self, blocks: Sequence[str]) -> list[str]:
        """Persons of the records holding one of ``blocks`` (see ``GraphStore.persons_in_blocks``)."""
        keys = sorted(set(blocks))
        for key in keys:
            if not _BLOCK_KEY.match(key):
                raise StoreError(f"not a keyed blocking key: {key[:40]!r}")
        # Lucene allows 1,024 clauses in a query; the keys are quoted so that ':' stays inside.
        queries = [" ".join(f'"{k}"' for k in part) for part in batched(keys, 500)]
        out: set[str] = set()
        for part in batched(queries, 40):

            def work(tx: ManagedTransaction, part: list[str] = part) -> list[str]:
                rows = tx.run(cypher.persons_in_blocks(), {"queries": part})
                return [str(pid) for row in rows for pid in row["persons"]]

            out.update(self._read("reading the persons of blocking keys", work))
        return sorted(out)

    def block_sizes(self, blocks: Sequence[str]) -> dict[str, int]:
        """Stored records per blocking key (see ``GraphStore.block_sizes``), one full-text query
        per key."""
        keys = sorted(set(blocks))
        for key in keys:
            if not _BLOCK_KEY.match(key):
                raise StoreError(f"not a keyed blocking key: {key[:40]!r}")
        out: dict[str, int] = {}
        for part in batched(keys, 5_000):
            pairs = [{"key": k, "query": f'"{k}"'} for k in part]

            def work(tx: ManagedTransaction, pairs: list[dict[str, str]] = pairs) -> dict[str, int]:
                rows = tx.run(cypher.block_sizes(), {"keys": pairs})
                return {str(row["key"]): int(row["n"]) for row in rows}

            out.update(self._read("counting blocking keys", work))
        return {k: n for k, n in out.items() if n}

    def node_properties(
        self, label: str, properties: Sequence[str], progress: RowProgress | None = None
    ) -> list[tuple[Any, ...]]:
        """``(key, value, ...)`` of ``properties`` for every node of ``label``, sorted by key, in
        one query (see ``GraphStore.node_properties``); ``progress`` hears the rows read."""
        query = cypher.node_properties(label, self.schema)
        names = check_property_names(properties)
        counter = RowCounter(progress)

        def work(tx: ManagedTransaction) -> list[tuple[Any, ...]]:
            counter.restart()
            return [(r["key"], *r["values"]) for r in counter.rows(tx.run(query, {"properties": names}))]

        out = self._read("reading node properties", work)
        counter.finish()
        return out

    def distinct_values(self, label: str, prop: str) -> list[str]:
        """The distinct values of ``prop`` on the nodes of ``label`` as text, sorted, counted by
        the server (see ``GraphStore.distinct_values``)."""
        query = cypher.distinct_values(label, self.schema)
        (name,) = check_property_names([prop])

        def work(tx: ManagedTransaction) -> list[str]:
            return [str(r["value"]) for r in tx.run(query, {"property": name})]

        return sorted(set(self._read("reading distinct values", work)))

    def observation_days(
        self, label: str, keys: Sequence[str], end_labels: Collection[str]
    ) -> list[tuple[str, str]]:
        """Distinct ``(key, day)`` of the relationships from these nodes, looked up by key in
        the server (see ``GraphStore.observation_days``)."""
        query = cypher.observation_days(label, self.schema)
        ends = set(end_labels)
        combos = sorted({f"{t}>{e}" for t, s, e in rel_combos(self.schema) if s == label and e in ends})
        parts = list(batched(sorted(set(keys)), _KEYS_PER_QUERY))

        def work(tx: ManagedTransaction) -> set[tuple[str, str]]:
            found: set[tuple[str, str]] = set()
            for part in parts:
                found.update((r["key"], r["day"]) for r in tx.run(query, {"keys": part, "combos": combos}))
            return found

        return sorted(self._read("reading observation days", work))

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
        """The values of the facts of one kind and of their ends, read in the server (see
        ``GraphStore.fact_rows``)."""
        if start_keys is not None and end_keys is not None:
            raise StoreError("fact_rows looks facts up by their start keys or by their end keys, not both")
        keys = start_keys if start_keys is not None else end_keys
        keys_at: Literal["start", "end"] | None = (
            None if keys is None else ("start" if start_keys is not None else "end")
        )
        query = cypher.fact_rows(rel_type, start_label, end_label, keys_at, self.schema)
        params: dict[str, Any] = {
            "rel_properties": check_property_names(rel_properties),
            "start_properties": check_property_names(start_properties),
            "end_properties": check_property_names(end_properties),
        }
        parts: list[list[str] | None] = (
            [None] if keys is None else list(batched(sorted(set(keys)), _KEYS_PER_QUERY))
        )

        def work(tx: ManagedTransaction) -> list[tuple[Any, ...]]:
            out: list[tuple[Any, ...]] = []
            for part in parts:
                run = tx.run(query, params if part is None else {**params, "keys": part})
                out.extend(
                    (r["start"], r["end"], *r["rel"], *r["start_values"], *r["end_values"]) for r in run
                )
            return out

        return sort_fact_rows(self._read("reading facts", work))

    def counts(self) -> dict[str, int]:
        """Number of nodes per label and relationships per type, every schema name present."""

        def work(tx: ManagedTransaction) -> dict[str, int]:
            found = {}
            for label in self.schema.node_keys:
                found[label] = tx.run(cypher.count_nodes(label, self.schema)).single(strict=True)["n"]
            for rel_type in self.schema.rel_types:
                query = cypher.count_relationships(rel_type, self.schema)
                found[rel_type] = tx.run(query).single(strict=True)["n"]
            return found

        return sorted_counts(self._read("counting", work), [*self.schema.node_keys, *self.schema.rel_types])

    def merge_persons(self, merges: Sequence[PersonMerge]) -> int:
        """Merge persons in one transaction (see ``GraphStore.merge_persons``); returns the persons
        merged (a merge whose person no longer exists is skipped)."""
        if not merges:
            return 0
        key_prop = self.schema.key_of("Person")
        merge_key = self.schema.key_of("Merge")
        moves = [
            cypher.move_person_relationships(rel.name, start, end, self.schema, person_end)
            for rel in self.schema.rel_types.values()
            for start in rel.start_labels
            for end in rel.end_labels
            if "Person" in (start, end) and rel.allows(start, end)
            # Between two persons (EXPLOITED ...), the merged person may be either end.
            for person_end in ((False, True) if (start, end) == ("Person", "Person") else (False,))
        ]
        rows = []
        for m in merges:
            person_key, person = prepare_node("Person", key_prop, {**m.person, key_prop: m.into})
            fact_key, fact = prepare_node("Merge", merge_key, {**m.fact, "merged": m.merged, "into": m.into})
            rows.append((m, {"key": person_key, "props": person}, {"key": fact_key, "props": fact}))
        upsert_person = cypher.upsert_nodes("Person", self.schema)
        upsert_fact = cypher.upsert_nodes("Merge", self.schema)

        def work(tx: ManagedTransaction) -> int:
            done = 0
            for m, person_row, fact_row in rows:
                params = {"merged": m.merged, "into": m.into}
                if (
                    m.merged == m.into
                    or not tx.run(cypher.person_exists(self.schema), params).single(strict=True)["n"]
                ):
                    continue
                for query in moves:
                    tx.run(query, params).consume()
                tx.run(cypher.delete_person(self.schema), params).consume()
                tx.run(upsert_person, {"rows": [person_row]}).consume()
                tx.run(upsert_fact, {"rows": [fact_row]}).consume()
                done += 1
            return done

        with self._errors("merging persons"), self._driver.session(database=self.database) as session:
            return session.execute_write(work)

    def split_persons(self, splits: Sequence[PersonSplit]) -> int:
        """Split persons in one transaction (see ``GraphStore.split_persons``); returns the splits
        made (one none of whose records describes its person any more is skipped)."""
        if not splits:
            return 0
        key_prop = self.schema.key_of("Person")
        split_key = self.schema.key_of("Split")
        moves = [
            cypher.move_record_relationships(rel.name, start, end, self.schema)
            for rel in self.schema.rel_types.values()
            for start in rel.start_labels
            for end in rel.end_labels
            if "Person" in (start, end) and rel.allows(start, end)
        ]
        rows = []
        for s in splits:
            people = [
                {"key": k, "props": p}
                for k, p in (
                    prepare_node("Person", key_prop, {**props, key_prop: pid})
                    for pid, props in ((s.person, s.kept), (s.into, s.moved))
                )
            ]
            fact = {**s.fact, "person": s.person, "into": s.into, "records": list(s.records)}
            fact_key, fact_props = prepare_node("Split", split_key, fact)
            rows.append((s, people, {"key": fact_key, "props": fact_props}))
        upsert_person = cypher.upsert_nodes("Person", self.schema)
        upsert_fact = cypher.upsert_nodes("Split", self.schema)
        describes = cypher.records_describe_person(self.schema)

        def work(tx: ManagedTransaction) -> int:
            done = 0
            for s, people, fact_row in rows:
                params = {"person": s.person, "into": s.into, "records": list(s.records)}
                if s.person == s.into or not tx.run(describes, params).single(strict=True)["n"]:
                    continue
                for query in moves:
                    tx.run(query, params).consume()
                tx.run(upsert_person, {"rows": people}).consume()
                tx.run(upsert_fact, {"rows": [fact_row]}).consume()
                done += 1
            return done

        with self._errors("splitting persons"), self._driver.session(database=self.database) as session:
            return session.execute_write(work)

    def is_empty(self) -> bool:
        """Whether the database holds no node at all, of any label: ``counts`` sees only the
        schema's labels, and an initial import replaces everything."""
        return self._read("checking for data", lambda tx: tx.run(cypher.any_node()).single() is None)

    def begin_load(self, batch: str, wait: float = 0.0) -> None:
        """Take the store's load lease (``graphstore.loads``), waiting at most ``wait`` seconds for
        another load to finish, renew it in the background, and record that the load started."""
        started = now_iso()
        holder = f"{uuid.uuid4().hex} process {os.getpid()}"
        params = {"holder": holder, "batch": batch, "since": started, "stale": LEASE_STALE}
        self._write("preparing the load lock", cypher.LOAD_LOCK_CONSTRAINT, {})
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            row = self._write("taking the load lock", cypher.take_load_lease(), params)[0]
            if row["taken"]:
                break
            if time.monotonic() >= deadline:
                # A killed load cannot release its lease: say how long it may still block.
                stale = f" (a load that was killed holds it for at most {LEASE_STALE:.0f} s)"
                raise StoreError(busy_message(self.uri, row["batch"], row["since"], None) + stale)
            time.sleep(0.5)
        self._lease = holder
        self._lease_stop = threading.Event()
        self._lease_thread = threading.Thread(
            target=self._renew_lease, args=(holder, self._lease_stop), name="neo4j-load-lease", daemon=True
        )
        self._lease_thread.start()
        try:
            self._write(
                "recording the load",
                cypher.record_load_start(),
                {"id": holder, "batch": batch, "started": started, "seq": time.time_ns()},
            )
        except BaseException:
            self._release_lease()
            raise

    def _renew_lease(self, holder: str, stop: threading.Event) -> None:
        while not stop.wait(LEASE_RENEW):
            try:
                self._write("renewing the load lock", cypher.renew_load_lease(), {"holder": holder})
            except StoreError:
                # The load's own writes report a lost server; a missed renewal only shortens the
                # time until another load may take over.
                continue

    def _release_lease(self) -> None:
        holder, self._lease = self._lease, None
        if holder is None:
            return
        self._lease_stop.set()
        if self._lease_thread is not None:
            self._lease_thread.join()
        self._write("releasing the load lock", cypher.release_load_lease(), {"holder": holder})

    def end_load(self, batch: str, completed: bool = True) -> None:
        """Record that the load finished (when ``completed``) and release the load lease."""
        try:
            if completed and self._lease is not None:
                self._write(
                    "recording the end of the load",
                    cypher.record_load_end(),
                    {"id": self._lease, "finished": now_iso()},
                )
        finally:
            self._release_lease()

    def last_load(self) -> LoadRecord | None:
        """The most recent load recorded in the database, or None."""

        def work(tx: ManagedTransaction) -> tuple[dict[str, Any] | None, bool]:
            row = tx.run(cypher.last_load()).single()
            held = tx.run(cypher.load_lease_held(), {"stale": LEASE_STALE}).single(strict=True)["held"]
            return (row.data() if row is not None else None), bool(held)

        row, held = self._read("reading the last load", work)
        if row is None:
            return None
        return LoadRecord(row["batch"], row["started"], row.get("finished"), running=held)

    def close(self) -> None:
        """Close the driver and its connections (releasing a load lease still held: the load
        stays recorded as not completed)."""
        try:
            if self._lease is not None:
                self._release_lease()
        except StoreError:
            pass  # the lease goes stale by itself
        finally:
            self._sender.shutdown(wait=True)
            self._driver.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------

    def _delete(self, criterion: cypher.Criterion, value: str, labels: list[str]) -> int:
        deleted = 0
        params = {"value": value, "limit": _DELETE_CHUNK}
        for rel_type in self.schema.rel_types:
            query = cypher.delete_relationships(rel_type, criterion, self.schema)
            while True:
                row = self._write(f"deleting {rel_type} relationships", query, params)[0]
                deleted += row["rels"] + row["nodes"]
                if row["rels"] < _DELETE_CHUNK:
                    break
        for label in labels:
            query = cypher.delete_nodes(label, criterion, self.schema)
            while True:
                row = self._write(f"deleting {label} nodes", query, params)[0]
                deleted += row["rels"] + row["nodes"]
                if row["deleted"] < _DELETE_CHUNK:
                    break
        return deleted
