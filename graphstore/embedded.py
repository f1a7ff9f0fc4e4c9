"""The embedded graph store: one durable SQLite file, no server.

Layout (created on open, harmless to repeat):

``nodes(label, key, props)``
    primary key (label, key); ``props`` is the JSON object of the node's properties, including its
    key property. ``source`` and ``observed_on`` are generated columns read from ``props`` and
    indexed, for retention and time slices.
``rels(type, start_label, start_key, end_label, end_key, rel_key, props)``
    unique on (start, type, end, rel_key) - the identity of a fact - with the same generated and
    indexed ``source``/``observed_on`` columns. The unique index leads with the start node, so it
    is also the start-endpoint index (one B-tree fewer to update per write); the end node has an
    index of its own. Files written before this order (unique on type first, plus a separate
    ``rels_start`` index) keep working: the conflict target names the same columns.

Writes are ``INSERT ... ON CONFLICT DO UPDATE SET props = json_patch(old, new)``: the same
shallow merge as Cypher's ``SET n += props`` (properties are normalised by ``graphstore.props`` so
there are no nulls or nested maps for the two to disagree on). Each batch is one transaction
(``executemany``), and inside a load (``begin_load`` ... ``end_load``) part of the load's one
transaction: a load that fails (a full disk, Ctrl-C, a killed process) leaves the store as it
was before it, and readers see the store before the load until it commits. The file runs in WAL
mode with ``synchronous=NORMAL``: a committed load survives a crash of the process, a power cut
may lose the last committed one, never corrupt the file.

Write speed (``benchmarks/bench_store.py``): random-key inserts dirty about one index page per row
and index, and the cost is in writing those pages at commit and checkpoint. So a relationship batch
creates each distinct endpoint once, inserts its rows sorted by endpoint (neighbouring keys share
pages), and the WAL is checkpointed every 64 MB instead of every 4 MB. Within a load, an endpoint
the load already wrote gets no statement again, and a first load (into an empty store) fills the
blocking-key index at its end in the index's order instead of through the insert trigger
(``benchmarks/bench_load_replay.py``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

import networkx as nx

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
from graphstore.cypher import REFERENCE_LABELS
from graphstore.erasure import ErasurePlan
from graphstore.loads import FileLock, LoadRecord, busy_message, lock_path, now_iso
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
from netanalysis.errors import ConfigError, StoreError, StoreUnavailable

__all__ = ["EmbeddedStore"]

_FORMAT = "netanalysis-graphstore-1"

_BLOCKS_INSERT_TRIGGER = """CREATE TRIGGER IF NOT EXISTS record_blocks_insert AFTER INSERT ON nodes
    WHEN new.label = 'Record' AND json_extract(new.props, '$.blocks') IS NOT NULL
    BEGIN
        INSERT OR IGNORE INTO record_blocks (block, record)
        SELECT value, new.key FROM json_each(
            (CASE
            WHEN json_valid('["' || replace(json_extract(new.props, '$.blocks'), ' ', '","') || '"]')
            THEN '["' || replace(json_extract(new.props, '$.blocks'), ' ', '","') || '"]'
            ELSE '[]' END)) WHERE value != '';
    END"""
# What the insert trigger does, for every Record at once, in the order of the index: a load into
# an empty store drops the trigger and fills the index with this (see begin_load). Each Record's
# properties are parsed once (the trigger's form parsed them three times).
_FILL_BLOCKS = """
WITH b AS MATERIALIZED (
    SELECT key, '["' || replace(json_extract(props, '$.blocks'), ' ', '","') || '"]' AS arr
    FROM nodes WHERE label = 'Record'
)
INSERT OR IGNORE INTO record_blocks (block, record)
SELECT j.value, b.key FROM b, json_each(CASE WHEN json_valid(b.arr) THEN b.arr ELSE '[]' END) AS j
WHERE b.arr IS NOT NULL AND j.value != ''
ORDER BY 1, 2
"""

# The indexes a read uses beside the tables' keys. A load into an empty store builds them at its
# end from the sorted rows (CREATE INDEX) instead of one B-tree insert per row as it writes (see
# begin_load): the secondary indexes' inserts grew faster than the rows once they outgrew the page
# cache (benchmarks/RESULTS.md, "A first load builds its indexes at its end").
_SECONDARY_INDEXES = {
    "nodes_source": "CREATE INDEX IF NOT EXISTS nodes_source ON nodes (source)",
    "nodes_observed": "CREATE INDEX IF NOT EXISTS nodes_observed ON nodes (observed_on)",
    "rels_end": "CREATE INDEX IF NOT EXISTS rels_end ON rels (end_label, end_key)",
    "rels_source": "CREATE INDEX IF NOT EXISTS rels_source ON rels (source)",
    "rels_observed": "CREATE INDEX IF NOT EXISTS rels_observed ON rels (observed_on)",
}

_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # One row per load (graphstore.loads): finished stays NULL until its last write is committed.
    "CREATE TABLE IF NOT EXISTS loads (id INTEGER PRIMARY KEY, batch TEXT NOT NULL, "
    "started TEXT NOT NULL, finished TEXT)",
    """CREATE TABLE IF NOT EXISTS nodes (
        label TEXT NOT NULL,
        key TEXT NOT NULL,
        props TEXT NOT NULL,
        source TEXT GENERATED ALWAYS AS (json_extract(props, '$.source')) VIRTUAL,
        observed_on TEXT GENERATED ALWAYS AS (json_extract(props, '$.observed_on')) VIRTUAL,
        PRIMARY KEY (label, key)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS rels (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        start_label TEXT NOT NULL,
        start_key TEXT NOT NULL,
        end_label TEXT NOT NULL,
        end_key TEXT NOT NULL,
        rel_key TEXT NOT NULL,
        props TEXT NOT NULL,
        source TEXT GENERATED ALWAYS AS (json_extract(props, '$.source')) VIRTUAL,
        observed_on TEXT GENERATED ALWAYS AS (json_extract(props, '$.observed_on')) VIRTUAL,
        UNIQUE (start_label, start_key, type, end_label, end_key, rel_key)
    )""",
    *_SECONDARY_INDEXES.values(),
    # The blocking-key index of resolution across loads (loaders.crossload): one row per keyed
    # blocking key of a Record (its ``blocks`` property, space-separated hex keys), kept by
    # triggers, so every write, merge, erasure and retention delete keeps it in step with the nodes.
    # A trigger may not split text with a recursive CTE: the keys become a JSON array by replacing
    # each space with '","' (a key is "<rule>:<hex>", see loaders.crossload.blocking_keys; text
    # that would not make valid JSON gives no keys instead of an error).
    """CREATE TABLE IF NOT EXISTS record_blocks (
        block TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (block, record)
    ) WITHOUT ROWID""",
    _BLOCKS_INSERT_TRIGGER,
    """CREATE TRIGGER IF NOT EXISTS record_blocks_update AFTER UPDATE OF props ON nodes
    WHEN new.label = 'Record'
        AND json_extract(old.props, '$.blocks') IS NOT json_extract(new.props, '$.blocks')
    BEGIN
        DELETE FROM record_blocks WHERE record = old.key
            AND block IN (SELECT value FROM json_each(
            (CASE
            WHEN json_valid('["' || replace(json_extract(old.props, '$.blocks'), ' ', '","') || '"]')
            THEN '["' || replace(json_extract(old.props, '$.blocks'), ' ', '","') || '"]'
            ELSE '[]' END)));
        INSERT OR IGNORE INTO record_blocks (block, record)
        SELECT value, new.key FROM json_each(
            (CASE
            WHEN json_valid('["' || replace(json_extract(new.props, '$.blocks'), ' ', '","') || '"]')
            THEN '["' || replace(json_extract(new.props, '$.blocks'), ' ', '","') || '"]'
            ELSE '[]' END)) WHERE value != '';
    END""",
    """CREATE TRIGGER IF NOT EXISTS record_blocks_delete AFTER DELETE ON nodes
    WHEN old.label = 'Record' AND json_extract(old.props, '$.blocks') IS NOT NULL
    BEGIN
        DELETE FROM record_blocks WHERE record = old.key
            AND block IN (SELECT value FROM json_each(
            (CASE
            WHEN json_valid('["' || replace(json_extract(old.props, '$.blocks'), ' ', '","') || '"]')
            THEN '["' || replace(json_extract(old.props, '$.blocks'), ' ', '","') || '"]'
            ELSE '[]' END)));
    END""",
)

_UPSERT_NODE = (
    "INSERT INTO nodes (label, key, props) VALUES (?, ?, ?) "
    "ON CONFLICT (label, key) DO UPDATE SET props = json_patch(nodes.props, excluded.props)"
)
_ENSURE_NODE = (
    "INSERT INTO nodes (label, key, props) VALUES (?, ?, json_object(?, ?)) "
    "ON CONFLICT (label, key) DO NOTHING"
)
_UPSERT_REL = (
    "INSERT INTO rels (start_label, start_key, type, end_label, end_key, rel_key, props) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (start_label, start_key, type, end_label, end_key, rel_key) "
    "DO UPDATE SET props = json_patch(rels.props, excluded.props)"
)


# Every statement is a constant: lists travel as one JSON parameter (json_each) and an absent
# window bound as NULL, so no SQL text is ever built at run time.
_READ_NODES = """
SELECT label, key, props FROM nodes
WHERE label IN (SELECT value FROM json_each(:labels))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
_READ_RELS = """
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE type IN (SELECT value FROM json_each(:types))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
# Keyed look-ups for a slice around given persons (graphstore.slicing.around_persons): the
# primary key and the UNIQUE (start...) and rels_end indexes answer them without a scan.
_RELS_TOUCHING = """
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE start_label = :label AND start_key IN (SELECT value FROM json_each(:keys))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
UNION
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE end_label = :label AND end_key IN (SELECT value FROM json_each(:keys))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
# The ends a relationship type reaches from many distinct starts (GraphStore.busy_ends): one
# pass over the type, counted by SQLite; only the keys come back.
_BUSY_ENDS = """
SELECT end_key FROM rels
WHERE type = :type AND start_label = :sl AND end_label = :el
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
GROUP BY end_key HAVING COUNT(DISTINCT start_key) >= :n
ORDER BY end_key
"""
# One ring around given nodes (GraphStore.read_around): _RELS_TOUCHING of some types only, so
# that the facts of other types are never returned (nor their JSON parsed); UNION ALL, not
# UNION: slicing.around_nodes keeps a relationship met from both ends once, without SQLite
# sorting every row's JSON to find it.
_RELS_TOUCHING_TYPES = """
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE start_label = :label AND start_key IN (SELECT value FROM json_each(:keys))
  AND type IN (SELECT value FROM json_each(:types))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
UNION ALL
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE end_label = :label AND end_key IN (SELECT value FROM json_each(:keys))
  AND type IN (SELECT value FROM json_each(:types))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
# Person records for resolution across loads (GraphStore.person_records): the DESCRIBES of the
# records by blocking key (the record_blocks primary key, each record once), by person (rels_end)
# or by record (the UNIQUE start index); then the records' comparison data by key, in key order:
# looked up in the order the blocks give them, each record's wide row cost five times as much
# (5.2 against 0.9 CPU s for 80k of 96k records), and a record held under several keys was
# parsed once per key.
_DESCRIBED_IN_BLOCKS = """
SELECT r.start_key, r.end_key
FROM (SELECT DISTINCT record FROM record_blocks WHERE block IN (SELECT value FROM json_each(:keys))) AS b
CROSS JOIN rels AS r ON r.start_label = 'Record' AND r.start_key = b.record
    AND r.type = 'DESCRIBES' AND r.end_label = 'Person'
"""
_DESCRIBED_PERSONS = """
SELECT r.start_key, r.end_key
FROM json_each(:keys) AS k
CROSS JOIN rels AS r INDEXED BY rels_end ON r.end_label = 'Person' AND r.end_key = k.value
WHERE r.type = 'DESCRIBES' AND r.start_label = 'Record'
"""
_DESCRIBED_RECORDS = """
SELECT r.start_key, r.end_key
FROM json_each(:keys) AS k
CROSS JOIN rels AS r ON r.start_label = 'Record' AND r.start_key = k.value
    AND r.type = 'DESCRIBES' AND r.end_label = 'Person'
"""
_COMPARISONS = """
SELECT key, json_extract(props, '$.comparison') FROM nodes
WHERE label = 'Record' AND key IN (SELECT value FROM json_each(:keys))
"""
_NODE_PROPERTIES = """
SELECT key, (SELECT json_group_array(nodes.props -> p.value) FROM json_each(:paths) AS p)
FROM nodes WHERE label = :label ORDER BY key
"""
_DISTINCT_VALUES = """
SELECT DISTINCT props -> :path FROM nodes
WHERE label = :label AND props -> :path IS NOT NULL AND props -> :path <> 'null'
"""
_PERSONS_IN_BLOCKS = """
SELECT DISTINCT r.end_key
FROM (SELECT DISTINCT record FROM record_blocks WHERE block IN (SELECT value FROM json_each(:keys))) AS b
CROSS JOIN rels AS r ON r.start_label = 'Record' AND r.start_key = b.record
    AND r.type = 'DESCRIBES' AND r.end_label = 'Person'
"""
_BLOCK_SIZES = """
SELECT block, count(*) FROM record_blocks
WHERE block IN (SELECT value FROM json_each(:keys)) GROUP BY block
"""
_NODES_BY_KEY = """
SELECT label, key, props FROM nodes
WHERE label = :label AND key IN (SELECT value FROM json_each(:keys))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
_RELS_BETWEEN = """
SELECT type, start_label, start_key, end_label, end_key, props FROM rels
WHERE start_label = :sl AND start_key IN (SELECT value FROM json_each(:starts))
  AND type = :type AND end_label = :el AND end_key IN (SELECT value FROM json_each(:ends))
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
"""
# Provenance for a detection (GraphStore.provenance_rows): what read_graph would return of these
# labels and window, without reading it. A relationship counts when it and both its ends pass.
# A relationship and both its ends inside the window: the FROM and WHERE that provenance_rows and
# read_evidence_graph share (each adds its own filter with AND).
_WINDOWED_FROM = """
FROM rels AS r
CROSS JOIN nodes AS s ON s.label = r.start_label AND s.key = r.start_key
CROSS JOIN nodes AS e ON e.label = r.end_label AND e.key = r.end_key
WHERE (:from IS NULL OR r.observed_on IS NULL OR r.observed_on >= :from)
  AND (:to IS NULL OR r.observed_on IS NULL OR r.observed_on <= :to)
  AND (:from IS NULL OR s.observed_on IS NULL OR s.observed_on >= :from)
  AND (:to IS NULL OR s.observed_on IS NULL OR s.observed_on <= :to)
  AND (:from IS NULL OR e.observed_on IS NULL OR e.observed_on >= :from)
  AND (:to IS NULL OR e.observed_on IS NULL OR e.observed_on <= :to)
"""
_OF_LABELS = """  AND r.start_label IN (SELECT value FROM json_each(:labels))
  AND r.end_label IN (SELECT value FROM json_each(:labels))
"""
_WINDOWED_RELS = _WINDOWED_FROM + _OF_LABELS
# The latest date walks the rels_observed index from its end and stops at the first relationship
# that passes, window and both ends included: the unary plus keeps the planner off the rels_end
# index, with which it read and sorted every relationship (1.6 CPU s against 0.0 at 100k rows).
_OF_LABELS_LATEST_FIRST = """  AND +r.start_label IN (SELECT value FROM json_each(:labels))
  AND +r.end_label IN (SELECT value FROM json_each(:labels))
  AND r.observed_on > '' ORDER BY r.observed_on DESC LIMIT 1
"""
_LATEST_OBSERVED = "SELECT r.observed_on" + _WINDOWED_FROM + _OF_LABELS_LATEST_FIRST
_PERSON_ROWS = (
    "SELECT r.end_key, r.start_key, json_extract(s.props, '$.source'), json_extract(s.props, '$.row_id')"
    + _WINDOWED_RELS
    + "  AND r.type = 'DESCRIBES' AND r.start_label = 'Record' AND r.end_label = 'Person'"
)
_SIGNAL_ROWS = (
    "SELECT r.start_key, r.source, json_extract(r.props, '$.row_id')"
    + _WINDOWED_RELS
    + "  AND r.start_label = 'Signal' AND r.source IS NOT NULL AND r.source <> ''"
    + " AND json_extract(r.props, '$.row_id') IS NOT NULL"
)
# The same two reads without a window: the same joins without the window's tests. Each test reads
# the generated observed_on (a json_extract of the props) of the relationship and both its ends,
# and keeps the planner on the relationships' table instead of the covering (start ...) index,
# even when both bounds are NULL (the person rows at 100k rows: 2.1 CPU s against 7.8).
_UNWINDOWED_RELS = """
FROM rels AS r
CROSS JOIN nodes AS s ON s.label = r.start_label AND s.key = r.start_key
CROSS JOIN nodes AS e ON e.label = r.end_label AND e.key = r.end_key
WHERE r.start_label IN (SELECT value FROM json_each(:labels))
  AND r.end_label IN (SELECT value FROM json_each(:labels))
"""
_PERSON_ROWS_ALL = (
    "SELECT r.end_key, r.start_key, json_extract(s.props, '$.source'), json_extract(s.props, '$.row_id')"
    + _UNWINDOWED_RELS
    + "  AND r.type = 'DESCRIBES' AND r.start_label = 'Record' AND r.end_label = 'Person'"
)
_SIGNAL_ROWS_ALL = (
    "SELECT r.start_key, r.source, json_extract(r.props, '$.row_id')"
    + _UNWINDOWED_RELS
    + "  AND r.start_label = 'Signal' AND r.source IS NOT NULL AND r.source <> ''"
    + " AND json_extract(r.props, '$.row_id') IS NOT NULL"
)
# The facts the perpetrator network reads (GraphStore.read_evidence_graph, graphstore.slicing
# evidence_slice): relationships of some types inside the window with both ends, all of them or
# those of given start persons (through the UNIQUE (start_label, start_key, type ...) index).
_OF_TYPES = """  AND r.type IN (SELECT value FROM json_each(:types))
"""
_EVIDENCE_FROM = _WINDOWED_FROM + _OF_TYPES
_EVIDENCE_RELS = "SELECT r.type, r.start_label, r.start_key, r.end_label, r.end_key, r.props" + _EVIDENCE_FROM
_EVIDENCE_RELS_OF = """
SELECT r.type, r.start_label, r.start_key, r.end_label, r.end_key, r.props
FROM rels AS r
CROSS JOIN nodes AS s ON s.label = r.start_label AND s.key = r.start_key
CROSS JOIN nodes AS e ON e.label = r.end_label AND e.key = r.end_key
WHERE r.start_label = 'Person' AND r.start_key IN (SELECT value FROM json_each(:starts))
  AND r.type IN (SELECT value FROM json_each(:types))
  AND (:from IS NULL OR r.observed_on IS NULL OR r.observed_on >= :from)
  AND (:to IS NULL OR r.observed_on IS NULL OR r.observed_on <= :to)
  AND (:from IS NULL OR s.observed_on IS NULL OR s.observed_on >= :from)
  AND (:to IS NULL OR s.observed_on IS NULL OR s.observed_on <= :to)
  AND (:from IS NULL OR e.observed_on IS NULL OR e.observed_on >= :from)
  AND (:to IS NULL OR e.observed_on IS NULL OR e.observed_on <= :to)
"""
_SUSPECT_PERSONS = """
SELECT key FROM nodes
WHERE label = 'Person'
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
  AND EXISTS (SELECT 1 FROM json_each(props, '$.roles') WHERE value = 'suspect')
"""
_REGION_PERSONS = """
WITH munis AS (
  SELECT start_key AS code FROM rels
  WHERE type = 'IN' AND start_label = 'Municipality' AND end_label = 'Region'
    AND end_key IN (SELECT value FROM json_each(:regions))
    AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
    AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
), premises AS (
  SELECT start_key AS pid FROM rels
  WHERE type = 'IN' AND start_label = 'Premises' AND end_label = 'Municipality'
    AND end_key IN (SELECT code FROM munis)
    AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
    AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
)
SELECT DISTINCT start_key FROM rels
WHERE type = 'SEEN_AT' AND start_label = 'Person'
  AND (:from IS NULL OR observed_on IS NULL OR observed_on >= :from)
  AND (:to IS NULL OR observed_on IS NULL OR observed_on <= :to)
  AND ((end_label = 'Municipality' AND end_key IN (SELECT code FROM munis))
    OR (end_label = 'Premises' AND end_key IN (SELECT pid FROM premises)))
"""

# The days a node was observed on (GraphStore.observation_days): its relationships found through
# the UNIQUE (start_label, start_key ...) index, one row per distinct day; :combos are the schema's
# "TYPE>EndLabel" of the start label, as read_graph keeps them.
_OBSERVATION_DAYS = """
SELECT DISTINCT start_key, substr(observed_on, 1, 10) FROM rels
WHERE start_label = :label AND start_key IN (SELECT value FROM json_each(:keys))
  AND observed_on IS NOT NULL
  AND type || '>' || end_label IN (SELECT value FROM json_each(:combos))
"""
# A few values of the facts of one kind and of their ends (GraphStore.fact_rows): one column per
# value, ``props -> :<side><i>`` (the value's JSON text, NULL where absent; ``_fact_columns``), so
# the values need no JSON array built and parsed per row (a third of the query's CPU at 100k rows).
_FACT_KEYS = "SELECT r.start_key, r.end_key"
_FACT_JOINS = """
FROM rels AS r
CROSS JOIN nodes AS s ON s.label = r.start_label AND s.key = r.start_key
CROSS JOIN nodes AS e ON e.label = r.end_label AND e.key = r.end_key
"""
# All of them, or those of given start keys, through the UNIQUE (start_label, start_key, type ...)
# index: the unary plus keeps the planner off rels_end, which would read every relationship that
# ends at a node of the end label (0.48 against 0.08 CPU s for the AT of the signals at 100k rows).
_BY_START = "WHERE r.start_label = :sl AND r.type = :type AND +r.end_label = :el\n"
_OF_START_KEYS = "  AND r.start_key IN (SELECT value FROM json_each(:keys))\n"
# Those of given end keys, through rels_end.
_BY_END_KEYS = (
    "WHERE r.end_label = :el AND r.end_key IN (SELECT value FROM json_each(:keys))\n"
    "  AND r.type = :type AND +r.start_label = :sl\n"
)
_FACT_ROWS = _FACT_JOINS + _BY_START
_FACT_ROWS_FROM = _FACT_JOINS + _BY_START + _OF_START_KEYS
_FACT_ROWS_TO = _FACT_JOINS + _BY_END_KEYS


def _fact_columns(sides: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, dict[str, str]]:
    """The value columns of a ``fact_rows`` query and their path parameters: ``, r.props -> :r0``
    for the first property of the relationship (``s``, ``e``: its start and end). The names are
    checked (``check_property_names``) and only bound, never written into the SQL."""
    columns: list[str] = []
    params: dict[str, str] = {}
    for alias, names in sides:
        for i, name in enumerate(check_property_names(names)):
            columns.append(f", {alias}.props -> :{alias}{i}")
            params[f"{alias}{i}"] = f'$."{name}"'
    return "".join(columns), params


#: Keys per query of a keyed look-up: one JSON parameter each, a bounded one.
_KEYS_PER_QUERY = 20_000

# Deletion: a criterion fills the temp tables del_rels (ids) and gone (nodes); the steps after
# that are the same for every criterion. Each DELETE step's row count adds to the items deleted.
_DELETE_TEMP = (
    "CREATE TEMP TABLE IF NOT EXISTS del_rels (id INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS gone (label TEXT, key TEXT, PRIMARY KEY (label, key))",
    "CREATE TEMP TABLE IF NOT EXISTS ends (label TEXT, key TEXT, PRIMARY KEY (label, key))",
    "DELETE FROM del_rels",
    "DELETE FROM gone",
    "DELETE FROM ends",
)
_FIND = {
    "source": (
        "INSERT INTO del_rels SELECT id FROM rels WHERE source = :v",
        "INSERT INTO gone SELECT label, key FROM nodes "
        "WHERE source = :v AND label IN (SELECT value FROM json_each(:labels))",
    ),
    "observed_before": (
        "INSERT INTO del_rels SELECT id FROM rels WHERE observed_on < :v",
        "INSERT INTO gone SELECT label, key FROM nodes "
        "WHERE observed_on < :v AND label IN (SELECT value FROM json_each(:labels))",
    ),
}
_DELETE_PREPARE = (
    # Relationships of the deleted nodes join the relationships to delete.
    "INSERT OR IGNORE INTO del_rels SELECT id FROM rels "
    "WHERE (start_label, start_key) IN (SELECT label, key FROM gone) "
    "OR (end_label, end_key) IN (SELECT label, key FROM gone)",
    "INSERT OR IGNORE INTO ends SELECT start_label, start_key FROM rels "
    "WHERE id IN (SELECT id FROM del_rels) "
    "UNION SELECT end_label, end_key FROM rels WHERE id IN (SELECT id FROM del_rels)",
)
_DELETE_STEPS = (
    "DELETE FROM rels WHERE id IN (SELECT id FROM del_rels)",
    "DELETE FROM nodes WHERE (label, key) IN (SELECT label, key FROM gone)",
    "DELETE FROM nodes WHERE (label, key) IN (SELECT label, key FROM ends) "
    "AND label NOT IN (SELECT value FROM json_each(:keep)) "
    "AND NOT EXISTS (SELECT 1 FROM rels r WHERE r.start_label = nodes.label AND r.start_key = nodes.key) "
    "AND NOT EXISTS (SELECT 1 FROM rels r WHERE r.end_label = nodes.label AND r.end_key = nodes.key)",
)

# Merging persons (merge_persons): the merged person's relationships are copied onto the surviving
# one (a fact it already has is patched, as an upsert would), then deleted with the person.
_MOVE_RELS = (
    "INSERT INTO rels (start_label, start_key, type, end_label, end_key, rel_key, props) "
    "SELECT start_label, :into, type, end_label, end_key, rel_key, props FROM rels "
    "WHERE start_label = :label AND start_key = :merged "
    "AND NOT (end_label = :label AND end_key = :merged) "
    "ON CONFLICT (start_label, start_key, type, end_label, end_key, rel_key) "
    "DO UPDATE SET props = json_patch(rels.props, excluded.props)",
    "INSERT INTO rels (start_label, start_key, type, end_label, end_key, rel_key, props) "
    "SELECT start_label, start_key, type, end_label, :into, rel_key, props FROM rels "
    "WHERE end_label = :label AND end_key = :merged "
    "AND NOT (start_label = :label AND start_key = :merged) "
    "ON CONFLICT (start_label, start_key, type, end_label, end_key, rel_key) "
    "DO UPDATE SET props = json_patch(rels.props, excluded.props)",
    "DELETE FROM rels WHERE (start_label = :label AND start_key = :merged) "
    "OR (end_label = :label AND end_key = :merged)",
    "DELETE FROM nodes WHERE label = :label AND key = :merged",
)
# Splitting persons (split_persons): the relationships a record gave (its id is their rel_key, or
# starts it) leave the person for the new one; between two persons only the end it described.
_SPLIT_RELS = (
    "UPDATE OR REPLACE rels SET end_key = :into "
    "WHERE end_label = 'Person' AND end_key = :person "
    "AND (rel_key = :record OR substr(rel_key, 1, length(:record) + 1) = :record || ':')",
    "UPDATE OR REPLACE rels SET start_key = :into "
    "WHERE start_label = 'Person' AND start_key = :person AND end_label <> 'Person' "
    "AND (rel_key = :record OR substr(rel_key, 1, length(:record) + 1) = :record || ':')",
)
_DESCRIBES_PERSON = (
    "SELECT 1 FROM rels WHERE start_label = 'Record' AND start_key = ? AND type = 'DESCRIBES' "
    "AND end_label = 'Person' AND end_key = ?"
)
# Erasure (graphstore.erasure): rows by their identity; a deleted node takes what is attached.
_ERASE_REL = (
    "DELETE FROM rels WHERE start_label = ? AND start_key = ? AND type = ? AND end_label = ? "
    "AND end_key = ? AND rel_key = ?"
)
_ERASE_NODE_RELS = (
    "DELETE FROM rels WHERE (start_label = ?1 AND start_key = ?2) OR (end_label = ?1 AND end_key = ?2)"
)
_ERASE_NODE = "DELETE FROM nodes WHERE label = ? AND key = ?"
_REPLACE_NODE = "UPDATE nodes SET props = ? WHERE label = ? AND key = ?"
_REPLACE_REL = (
    "UPDATE rels SET props = ? WHERE start_label = ? AND start_key = ? AND type = ? AND end_label = ? "
    "AND end_key = ? AND rel_key = ?"
)


# One encoder for every row: json.dumps with options builds a new encoder per call, which cost
# a third of the time of encoding a load's rows (the same text comes out).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _one_shot_encoder() -> Callable[[dict[str, Any]], str]:
    """``_ENCODER.encode``, without setting up the C encoder again for every row.

    ``JSONEncoder.encode`` builds a new ``c_make_encoder`` on each call: a third of the time
    of encoding a row's properties (a 100k load writes 1.2 million rows). The one built here has
    ``_ENCODER``'s settings without the check for circular references (the properties are flat,
    ``clean_props``). Where the C encoder is missing or takes other arguments (another Python
    version), or gives another text, ``_ENCODER.encode`` is used.
    """
    try:
        iterencode = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
            None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
        )

        def encode(props: dict[str, Any]) -> str:
            return "".join(iterencode(props, 0))

        probe = {"a": '\u00e9"x', "b": 1.5, "c": [1, 2], "d": True, "e": -(2**63)}
        if encode(probe) == _ENCODER.encode(probe):
            return encode
    except (AttributeError, TypeError, ValueError):
        pass
    return _ENCODER.encode


# Endpoints a load remembers as written (about 150 bytes each) before it stops adding more.
_MAX_ENSURED = 2_000_000


_dumps = _one_shot_encoder()


class EmbeddedStore(RetentionDeletes):
    """A graph store in one SQLite file (see the module docstring).

    Parameters
    ----------
    path
        The store file; created (with its tables) when missing. ``sqlite://`` prefixes are accepted.
    schema
        The graph model; default the project's graph_schema.cypher.
    read_only
        Open an existing store for reading only (the reading commands): nothing is written, not
        even the tables, so a load that holds the write lock never blocks the open.
    """

    def __init__(self, path: str | Path, schema: GraphSchema | None = None, read_only: bool = False) -> None:
        text = str(path)
        if "://" in text:
            scheme, rest = text.split("://", 1)
            if scheme != "sqlite":
                raise ConfigError(
                    f"unknown store URI scheme {scheme!r}: give a file path for the embedded store "
                    "or a neo4j:// / bolt:// URI"
                )
            text = rest
        self.path = Path(text)
        self.uri = str(self.path)
        self.schema = schema or load_schema()
        if not self.path.parent.is_dir():
            raise StoreUnavailable(
                f"cannot open the embedded store {self.uri}: folder {self.path.parent} does not exist"
            )
        self.read_only = read_only
        self._lock = FileLock(lock_path(self.path))
        self._load_id: int | None = None
        # True while a load's transaction is open (begin_load ... end_load): see begin_load.
        self._load_tx = False
        # True while a load into an empty store leaves the blocking-key index to its end.
        self._blocks_deferred = False
        # Nodes this load has written or made sure of: a relationship's endpoint among them needs
        # no statement of its own (see upsert_relationships).
        self._ensured: set[tuple[str, str]] = set()
        if read_only:
            self._open_read_only()
            return
        try:
            # One thread at a time, but not always the one that opened it: the loaders write from
            # a background thread while the next rows are built (loaders.store_writer).
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # A new file gets 8 kB pages: a Record's properties (about 1.5 kB, its comparison data)
            # then fit in the page of the key's index instead of spilling into overflow pages. A
            # 30k load: 0.87x the store's CPU time, 0.69x the file (an existing file keeps its size).
            self._conn.execute("PRAGMA page_size=8192")
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            # Random-key inserts into the unique and endpoint indexes thrash the default 2 MB cache.
            self._conn.execute("PRAGMA cache_size=-262144")
            self._conn.execute("PRAGMA temp_store=MEMORY")
            # A batch dirties thousands of index pages; checkpointing every 4 MB (the default)
            # rewrites the same pages into the file after nearly every batch.
            self._conn.execute("PRAGMA wal_autocheckpoint=16384")
            if self._lock.taken_by_other() is None:
                self._create_tables()
            else:
                # A load holds the file's write transaction until it ends; it made the tables,
                # and begin_load tells the user who writes.
                self._check_format()
        except sqlite3.Error as exc:
            raise StoreUnavailable(self._open_failed(exc)) from None

    # -- plumbing -----------------------------------------------------------------------------

    def _open_failed(self, exc: sqlite3.Error) -> str:
        if "locked" in str(exc) or "busy" in str(exc):
            writer = self._lock.taken_by_other()
            who = " by a load that is writing to it" if writer is not None else ""
            return (
                f"cannot open the embedded store {self.uri}: it is locked{who}; wait until the load "
                "has finished"
            )
        return f"cannot open the embedded store {self.uri}: {exc} (is it a netanalysis store file?)"

    def _open_read_only(self) -> None:
        if not self.path.is_file():
            raise StoreUnavailable(f"cannot open the embedded store {self.uri}: the file does not exist")
        try:
            self._conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False
            )
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.execute("PRAGMA cache_size=-262144")
            self._check_format()
        except sqlite3.Error as exc:
            raise StoreUnavailable(self._open_failed(exc)) from None

    def _check_format(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if row is None or row[0] != _FORMAT:
            raise StoreUnavailable(
                f"the embedded store {self.uri} has format {row[0] if row else None!r}, this version "
                f"reads {_FORMAT!r}"
            )

    def _create_tables(self) -> None:
        with self._transaction() as cur:
            for ddl in _DDL:
                deferred = ddl is _BLOCKS_INSERT_TRIGGER or ddl in _SECONDARY_INDEXES.values()
                if not (self._blocks_deferred and deferred):
                    cur.execute(ddl)
            row = cur.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
            if row is None:
                cur.execute("INSERT INTO meta (name, value) VALUES ('format', ?)", (_FORMAT,))
            elif row[0] != _FORMAT:
                raise StoreUnavailable(
                    f"the embedded store {self.uri} has format {row[0]!r}, this version reads {_FORMAT!r}"
                )

    @contextmanager
    def _transaction(self, upsert: bool = False) -> Iterator[sqlite3.Cursor]:
        """One transaction; inside a load, part of the load's transaction (see ``_in_load``).
        Any write but an ``upsert`` may delete nodes: the endpoints known to exist are forgotten."""
        if self.read_only:
            raise StoreError(f"the embedded store {self.uri} was opened for reading only")
        if not upsert:
            self._ensured.clear()
        if self._load_tx:
            with self._in_load() as cur:
                yield cur
            return
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        finally:
            cur.close()

    @contextmanager
    def _in_load(self) -> Iterator[sqlite3.Cursor]:
        """A write inside a load joins the load's transaction. No savepoint per batch: a write
        that fails fails the load, and end_load rolls all of it back (a savepoint per batch
        doubled the CPU time of a load: benchmarks/bench_load_transaction.py)."""
        if not self._conn.in_transaction:
            # SQLite rolls a transaction back by itself on some errors (a full disk among them):
            # the load cannot go on, and what it wrote is gone.
            raise StoreError(self._load_lost())
        cur = self._conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _load_lost(self) -> str:
        return (
            f"the load into the embedded store {self.uri} was rolled back by SQLite after an "
            "earlier error; the store is as it was before the load"
        )

    def _failed(self, doing: str, exc: sqlite3.Error) -> str:
        """One sentence for a failed write; a full disk says what to do and what was kept."""
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
            kept = (
                "the load was rolled back and the store is as it was before it"
                if self._load_tx
                else "nothing of this step was written"
            )
            return (
                f"{doing} the embedded store {self.uri} failed: the disk is full ({exc}); {kept}. "
                f"Free space on the disk of {self.path.parent} and run it again"
            )
        return f"{doing} the embedded store {self.uri} failed: {exc}"

    def _write(
        self,
        statements: Sequence[tuple[str, list[tuple[Any, ...]]]],
        ensured: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Run ``statements`` in one transaction. ``ensured``: the nodes that exist after them
        (an upsert); None for any other write, which may delete nodes, so nothing is assumed."""
        try:
            with self._transaction(upsert=ensured is not None) as cur:
                for sql, rows in statements:
                    cur.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StoreError(self._failed("writing to", exc)) from None
        # Only within a load: it holds the write transaction, so no other process deletes a
        # node meanwhile. Bounded, so that a very big load does not keep every key.
        if ensured is not None and self._load_tx and len(self._ensured) < _MAX_ENSURED:
            self._ensured.update(ensured)

    # -- protocol -----------------------------------------------------------------------------

    def apply_schema(self) -> None:
        """Create the tables and indexes (they are also created on open; repeating is harmless)."""
        try:
            self._create_tables()
        except sqlite3.Error as exc:
            raise StoreError(self._failed("creating tables in", exc)) from None

    def upsert_nodes(self, label: str, rows: Iterable[Props], batch_size: int = 5000) -> int:
        """Merge nodes of ``label`` by their key property, one transaction per batch; returns rows
        written. Properties are merged into what is stored (``SET n += props``)."""
        key_prop = self.schema.key_of(label)
        written = 0
        for batch in batched(rows, batch_size):
            values = []
            for row in batch:
                key, props = prepare_node(label, key_prop, row)
                values.append((label, key, _dumps(props)))
            values.sort(key=itemgetter(1))  # stable: of repeated rows the last still wins
            self._write([(_UPSERT_NODE, values)], [(label, v[1]) for v in values])
            written += len(values)
        return written

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
        self.schema.check_rel(rel_type, start_label, end_label)
        skey, ekey = self.schema.key_of(start_label), self.schema.key_of(end_label)
        written = 0
        for batch in batched(rows, batch_size):
            starts: set[str] = set()
            ends: set[str] = set()
            values = []
            for row in batch:
                start, end, rel_key, props = prepare_rel(rel_type, row)
                starts.add(start)
                ends.add(end)
                values.append((start_label, start, rel_type, end_label, end, rel_key, _dumps(props)))
            # Sorting keeps the order of repeated rows (stable), so the last one still wins.
            values.sort(key=itemgetter(1, 4))
            # An endpoint this load wrote or made sure of already exists: at 100k rows, two
            # thirds of the endpoint statements were such repeats.
            known = self._ensured
            new_starts = sorted(k for k in starts if (start_label, k) not in known)
            new_ends = sorted(k for k in ends if (end_label, k) not in known)
            self._write(
                [
                    (_ENSURE_NODE, [(start_label, k, skey, k) for k in new_starts]),
                    (_ENSURE_NODE, [(end_label, k, ekey, k) for k in new_ends]),
                    (_UPSERT_REL, values),
                ],
                [*((start_label, k) for k in new_starts), *((end_label, k) for k in new_ends)],
            )
            written += len(values)
        return written

    def read_graph(
        self, graph_slice: GraphSlice | None = None, progress: RowProgress | None = None
    ) -> nx.MultiDiGraph:
        """Read the whole graph, or a slice (see ``graphstore.slicing``), into networkx;
        ``progress`` hears the rows read so far (``GraphStore.read_graph``)."""
        spec = resolve_slice(graph_slice, self.schema)
        window = {"from": spec.observed_from, "to": spec.observed_to}
        combos = set(spec.combos)
        counter = RowCounter(progress)
        if spec.person_ids is not None:
            graph = self._read_around_persons(spec, window)
            counter.done = graph.number_of_nodes() + graph.number_of_edges()
            counter.finish()
            return graph
        trim = trimmer(spec)
        try:
            seeds = None
            if spec.region_ids is not None:
                seeds = {
                    row[0]
                    for row in self._conn.execute(
                        _REGION_PERSONS, {"regions": json.dumps(spec.region_ids), **window}
                    )
                }
            # The rows go into the graph as they are read, not first into a list of all of them:
            # the graph is all that is held at the end, and nearly all at the peak.
            nodes = (
                (label, key, trim(json.loads(props)))
                for label, key, props in counter.rows(
                    self._conn.execute(_READ_NODES, {"labels": json.dumps(spec.labels), **window})
                )
            )
            types = sorted({c[0] for c in combos})
            # No relationship wanted (merges, sources ...): no scan of every relationship either.
            rels = (
                (typ, sl, sk, el, ek, trim(json.loads(props)))
                for typ, sl, sk, el, ek, props in counter.rows(
                    self._conn.execute(_READ_RELS, {"types": json.dumps(types), **window}) if types else ()
                )
                if (typ, sl, el) in combos
            )
            graph = assemble(nodes, rels, seeds)
            counter.finish()
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return graph

    def read_evidence_graph(self, graph_slice: GraphSlice | None = None) -> nx.MultiDiGraph:
        """The facts of a slice that the perpetrator network reads (``GraphStore.read_evidence_graph``),
        selected in SQL: the suspects, their evidence and the facts of the persons tied to them."""
        spec = resolve_slice(graph_slice, self.schema)
        window = {"from": spec.observed_from, "to": spec.observed_to}
        trim = trimmer(spec)

        def windowed_rels(combos: tuple[RelCombo, ...], starts: list[str] | None) -> list[RelRowOut]:
            wanted = set(combos)
            params: dict[str, Any] = {"types": json.dumps(sorted({c[0] for c in combos})), **window}
            if starts is None:
                cursor = self._conn.execute(_EVIDENCE_RELS, params)
            else:
                cursor = self._conn.execute(_EVIDENCE_RELS_OF, {**params, "starts": json.dumps(starts)})
            return [
                (t, sl, sk, el, ek, trim(json.loads(props)))
                for t, sl, sk, el, ek, props in cursor
                if (t, sl, el) in wanted
            ]

        def suspect_persons() -> list[str]:
            return [str(key) for (key,) in self._conn.execute(_SUSPECT_PERSONS, window)]

        def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
            cursor = self._conn.execute(_NODES_BY_KEY, {"label": label, "keys": json.dumps(keys), **window})
            return [(lab, key, trim(json.loads(props))) for lab, key, props in cursor]

        try:
            graph = evidence_slice(spec, windowed_rels, suspect_persons, nodes_by_key)
            params = {"labels": json.dumps(spec.labels), **window}
            (latest,) = self._conn.execute(_LATEST_OBSERVED, params).fetchone() or (None,)
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        graph.graph[LATEST_OBSERVED_ATTR] = None if latest is None else str(latest)
        return graph

    def read_around(
        self,
        graph_slice: GraphSlice,
        seeds: Mapping[str, Collection[str]],
        rel_types: Collection[str] | None = None,
    ) -> nx.MultiDiGraph:
        """One ring of a slice around ``seeds`` (``GraphStore.read_around``), looked up through the
        primary key and the start and end indexes of the relationships."""
        spec = resolve_slice(graph_slice, self.schema)
        window = {"from": spec.observed_from, "to": spec.observed_to}
        trim = trimmer(spec)

        def touching(label: str, keys: list[str], combos: tuple[RelCombo, ...]) -> list[RelRowOut]:
            wanted = set(combos)
            types = json.dumps(sorted({c[0] for c in combos}))
            params = {"label": label, "keys": json.dumps(keys), "types": types, **window}
            return [
                (t, sl, sk, el, ek, trim(json.loads(props)))
                for t, sl, sk, el, ek, props in self._conn.execute(_RELS_TOUCHING_TYPES, params)
                if (t, sl, el) in wanted
            ]

        def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
            cursor = self._conn.execute(_NODES_BY_KEY, {"label": label, "keys": json.dumps(keys), **window})
            return [(lab, key, trim(json.loads(props))) for lab, key, props in cursor]

        try:
            return around_nodes(spec, seeds, rel_types, touching, nodes_by_key)
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None

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
        grouped and counted in SQL."""
        self.schema.check_rel(rel_type, start_label, end_label)
        params = {
            "type": rel_type,
            "sl": start_label,
            "el": end_label,
            "n": int(min_starts),
            "from": observed_from,
            "to": observed_to,
        }
        try:
            return [str(key) for (key,) in self._conn.execute(_BUSY_ENDS, params)]
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None

    def provenance_rows(
        self,
        labels: frozenset[str],
        observed_from: str | None = None,
        observed_to: str | None = None,
        progress: RowProgress | None = None,
    ) -> ProvenanceRows:
        """The latest observation, the records of the persons and the rows of the signals that
        ``read_graph`` would return for these labels and window (``ProvenanceRows``), in SQL;
        ``progress`` hears the rows read so far."""
        counter = RowCounter(progress)
        spec = resolve_slice(
            GraphSlice(labels=labels, observed_from=observed_from, observed_to=observed_to), self.schema
        )
        params = {"labels": json.dumps(spec.labels), "from": spec.observed_from, "to": spec.observed_to}
        whole = spec.observed_from is None and spec.observed_to is None
        person_sql, signal_sql = (
            (_PERSON_ROWS_ALL, _SIGNAL_ROWS_ALL) if whole else (_PERSON_ROWS, _SIGNAL_ROWS)
        )
        try:
            (latest,) = self._conn.execute(_LATEST_OBSERVED, params).fetchone() or (None,)
            persons = [
                (str(p), str(r), None if src is None else str(src), None if row is None else str(row))
                for p, r, src, row in counter.rows(self._conn.execute(person_sql, params))
            ]
            signals = [
                (str(k), str(src), str(row))
                for k, src, row in counter.rows(self._conn.execute(signal_sql, params))
            ]
            counter.finish()
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return ProvenanceRows(None if latest is None else str(latest), persons, signals)

    def apply_erasure(self, plan: ErasurePlan, batch_size: int = 5000) -> None:
        """Apply an erasure plan in one transaction (all of it or, cut off, none of it), with
        ``secure_delete`` on so that SQLite overwrites the deleted content. ``compact`` then
        removes what remains of it in the file (see docs/retention.md)."""
        if plan.empty:
            return
        node_props = [(_dumps(props), label, key) for label, key, props in plan.node_props]
        rel_props = [
            (_dumps(props), r.start_label, r.start, r.rel_type, r.end_label, r.end, r.rel_key)
            for r, props in plan.rel_props
        ]
        rels = [(r.start_label, r.start, r.rel_type, r.end_label, r.end, r.rel_key) for r in plan.delete_rels]
        try:
            self._conn.execute("PRAGMA secure_delete=ON")
        except sqlite3.Error as exc:
            raise StoreError(self._failed("erasing from", exc)) from None
        self._write(
            [
                (_REPLACE_NODE, node_props),
                (_REPLACE_REL, rel_props),
                (_ERASE_REL, rels),
                (_ERASE_NODE_RELS, list(plan.delete_nodes)),
                (_ERASE_NODE, list(plan.delete_nodes)),
            ]
        )

    def compact(self) -> str:
        """Rewrite the file without free pages (``VACUUM``, with ``secure_delete`` on) and empty
        the write-ahead log before and after, so no deleted value stays readable in the store's
        files. Returns one sentence saying so."""
        try:
            # VACUUM cannot run inside a transaction: the deletes of the run that holds the write
            # lock (retention, erase) are committed first; the lock stays held.
            reopen = self._load_tx and self._conn.in_transaction
            if reopen:
                self._settle_blocks()  # what is committed here has its index and trigger
                self._conn.execute("COMMIT")
            try:
                self._conn.execute("PRAGMA secure_delete=ON")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._conn.execute("VACUUM")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                if reopen:
                    self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(self._failed("compacting", exc)) from None
        return (
            f"the embedded store {self.uri} was rewritten without free pages (VACUUM) and its "
            "write-ahead log emptied: deleted values are gone from its files (copies and backups "
            "made earlier still hold them)"
        )

    def _read_around_persons(self, spec: SliceSpec, window: dict[str, str | None]) -> nx.MultiDiGraph:
        def rel_rows(cursor: Iterable[tuple[str, ...]]) -> list[RelRowOut]:
            return [(t, sl, sk, el, ek, json.loads(props)) for t, sl, sk, el, ek, props in cursor]

        def touching(label: str, keys: list[str], combos: tuple[RelCombo, ...]) -> list[RelRowOut]:
            wanted = set(combos)
            params = {"label": label, "keys": json.dumps(keys), **window}
            rows = rel_rows(self._conn.execute(_RELS_TOUCHING, params))
            return [r for r in rows if (r[0], r[1], r[3]) in wanted]

        def nodes_by_key(label: str, keys: list[str]) -> list[NodeRow]:
            cursor = self._conn.execute(_NODES_BY_KEY, {"label": label, "keys": json.dumps(keys), **window})
            return [(lab, key, json.loads(props)) for lab, key, props in cursor]

        def between(combo: RelCombo, starts: list[str], ends: list[str]) -> list[RelRowOut]:
            typ, sl, el = combo
            params = {"sl": sl, "type": typ, "el": el, "starts": json.dumps(starts), "ends": json.dumps(ends)}
            return rel_rows(self._conn.execute(_RELS_BETWEEN, {**params, **window}))

        try:
            return around_persons(spec, touching, nodes_by_key, between)
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None

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
        described: set[tuple[str, str]] = set()
        try:
            if blocks:
                self._fill_blocks()
            for sql, keys in (
                (_DESCRIBED_IN_BLOCKS, blocks),
                (_DESCRIBED_PERSONS, persons),
                (_DESCRIBED_RECORDS, records),
            ):
                for part in batched(sorted(set(keys)), 50_000):
                    described.update(self._conn.execute(sql, {"keys": json.dumps(part)}))
            wanted = {rid for rid, _pid in described}
            comparison: dict[str, str | None] = {}
            for part in batched(sorted(wanted), 50_000):
                comparison.update(self._conn.execute(_COMPARISONS, {"keys": json.dumps(part)}))
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        out = [(rid, pid, comparison[rid]) for rid, pid in described if rid in comparison]
        return sorted(out, key=lambda row: (row[0], row[1]))

    def persons_in_blocks(self, blocks: Sequence[str]) -> list[str]:
        """Persons of the records holding one of ``blocks`` (see ``GraphStore.persons_in_blocks``)."""
        out: set[str] = set()
        try:
            self._fill_blocks()
            for part in batched(sorted(set(blocks)), 50_000):
                out.update(
                    row[0] for row in self._conn.execute(_PERSONS_IN_BLOCKS, {"keys": json.dumps(part)})
                )
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return sorted(out)

    def block_sizes(self, blocks: Sequence[str]) -> dict[str, int]:
        """Stored records per blocking key (see ``GraphStore.block_sizes``)."""
        out: dict[str, int] = {}
        try:
            self._fill_blocks()
            for part in batched(sorted(set(blocks)), 50_000):
                out.update(self._conn.execute(_BLOCK_SIZES, {"keys": json.dumps(part)}))
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return out

    def node_properties(
        self, label: str, properties: Sequence[str], progress: RowProgress | None = None
    ) -> list[tuple[Any, ...]]:
        """``(key, value, ...)`` of ``properties`` for every node of ``label``, sorted by key, in
        one SQL query (see ``GraphStore.node_properties``); ``progress`` hears the rows read."""
        counter = RowCounter(progress)
        self.schema.key_of(label)  # a label outside the schema: SchemaError naming it
        names = check_property_names(properties)
        # One JSON array of the values per node (null where absent), so that each reads back as
        # read_graph reads it: text, numbers, booleans and lists alike.
        paths = json.dumps([f'$."{name}"' for name in names])
        try:
            out = [
                (key, *json.loads(values))
                for key, values in counter.rows(
                    self._conn.execute(_NODE_PROPERTIES, {"label": label, "paths": paths})
                )
            ]
            counter.finish()
            return out
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None

    def distinct_values(self, label: str, prop: str) -> list[str]:
        """The distinct values of ``prop`` on the nodes of ``label`` as text, sorted, in one SQL
        query (see ``GraphStore.distinct_values``)."""
        self.schema.key_of(label)
        (name,) = check_property_names([prop])
        params = {"label": label, "path": f'$."{name}"'}
        try:
            rows = self._conn.execute(_DISTINCT_VALUES, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return sorted({str(json.loads(value)) for (value,) in rows})

    def observation_days(
        self, label: str, keys: Sequence[str], end_labels: Collection[str]
    ) -> list[tuple[str, str]]:
        """Distinct ``(key, day)`` of the relationships from these nodes, by key, in SQL (see
        ``GraphStore.observation_days``)."""
        self.schema.key_of(label)
        ends = set(end_labels)
        combos = json.dumps(
            sorted({f"{t}>{e}" for t, s, e in rel_combos(self.schema) if s == label and e in ends})
        )
        out: set[tuple[str, str]] = set()
        try:
            for part in batched(sorted(set(keys)), _KEYS_PER_QUERY):
                params = {"label": label, "keys": json.dumps(part), "combos": combos}
                out.update(self._conn.execute(_OBSERVATION_DAYS, params))
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return sorted(out)

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
        """The values of the facts of one kind and of their ends, in SQL (see
        ``GraphStore.fact_rows``)."""
        self.schema.check_rel(rel_type, start_label, end_label)
        if start_keys is not None and end_keys is not None:
            raise StoreError("fact_rows looks facts up by their start keys or by their end keys, not both")
        columns, paths = _fact_columns(
            (("r", rel_properties), ("s", start_properties), ("e", end_properties))
        )
        params: dict[str, str] = {"type": rel_type, "sl": start_label, "el": end_label, **paths}
        keys = start_keys if start_keys is not None else end_keys
        where = _FACT_ROWS if keys is None else (_FACT_ROWS_FROM if start_keys is not None else _FACT_ROWS_TO)
        query = _FACT_KEYS + columns + where
        parts = (
            [None] if keys is None else [json.dumps(p) for p in batched(sorted(set(keys)), _KEYS_PER_QUERY)]
        )
        out: list[tuple[Any, ...]] = []
        loads = json.loads
        try:
            for part in parts:
                rows = self._conn.execute(query, params if part is None else {**params, "keys": part})
                out.extend(
                    (sk, ek, *[None if v is None else loads(v) for v in values]) for sk, ek, *values in rows
                )
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return sort_fact_rows(out)

    def counts(self) -> dict[str, int]:
        """Number of nodes per label and relationships per type, every schema name present."""
        try:
            found = dict(self._conn.execute("SELECT label, count(*) FROM nodes GROUP BY label").fetchall())
            found.update(self._conn.execute("SELECT type, count(*) FROM rels GROUP BY type").fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        return sorted_counts(found, [*self.schema.node_keys, *self.schema.rel_types])

    def merge_persons(self, merges: Sequence[PersonMerge]) -> int:
        """Merge persons in one transaction (see ``GraphStore.merge_persons``); returns the persons
        merged (a merge whose person no longer exists is skipped)."""
        label = "Person"
        key_prop = self.schema.key_of(label)
        merge_key = self.schema.key_of("Merge")
        done = 0
        try:
            with self._transaction() as cur:
                for m in merges:
                    found = cur.execute(
                        "SELECT 1 FROM nodes WHERE label = ? AND key = ?", (label, m.merged)
                    ).fetchone()
                    if found is None or m.merged == m.into:
                        continue
                    params = {"label": label, "merged": m.merged, "into": m.into}
                    for sql in _MOVE_RELS:
                        cur.execute(sql, params)
                    _key, person = prepare_node(label, key_prop, {**m.person, key_prop: m.into})
                    cur.execute(_UPSERT_NODE, (label, m.into, _dumps(person)))
                    fact_key, fact = prepare_node(
                        "Merge", merge_key, {**m.fact, "merged": m.merged, "into": m.into}
                    )
                    cur.execute(_UPSERT_NODE, ("Merge", fact_key, _dumps(fact)))
                    done += 1
        except sqlite3.Error as exc:
            raise StoreError(self._failed("merging persons in", exc)) from None
        return done

    def split_persons(self, splits: Sequence[PersonSplit]) -> int:
        """Split persons in one transaction (see ``GraphStore.split_persons``); returns the splits
        made (one none of whose records describes its person any more is skipped)."""
        label = "Person"
        key_prop = self.schema.key_of(label)
        split_key = self.schema.key_of("Split")
        done = 0
        try:
            with self._transaction() as cur:
                for s in splits:
                    if s.person == s.into or not any(
                        cur.execute(_DESCRIBES_PERSON, (rid, s.person)).fetchone() for rid in s.records
                    ):
                        continue
                    for rid in s.records:
                        for sql in _SPLIT_RELS:
                            cur.execute(sql, {"person": s.person, "into": s.into, "record": rid})
                    for pid, props in ((s.person, s.kept), (s.into, s.moved)):
                        _key, person = prepare_node(label, key_prop, {**props, key_prop: pid})
                        cur.execute(_UPSERT_NODE, (label, pid, _dumps(person)))
                    fact_key, fact = prepare_node(
                        "Split",
                        split_key,
                        {**s.fact, "person": s.person, "into": s.into, "records": list(s.records)},
                    )
                    cur.execute(_UPSERT_NODE, ("Split", fact_key, _dumps(fact)))
                    done += 1
        except sqlite3.Error as exc:
            raise StoreError(self._failed("splitting persons in", exc)) from None
        return done

    def begin_load(self, batch: str, wait: float = 0.0) -> None:
        """Take the store's write lock for the load ``batch`` (waiting at most ``wait`` seconds
        for another load to finish) and record that the load started (``graphstore.loads``)."""
        import time

        deadline = time.monotonic() + max(wait, 0.0)
        started = now_iso()
        holder = f"{started} {batch} process {os.getpid()}"
        while not self._lock.acquire(holder):
            if time.monotonic() >= deadline:
                other = (self._lock.taken_by_other() or "").split()
                raise StoreError(
                    busy_message(
                        self.uri,
                        other[1] if len(other) > 1 else None,
                        other[0] if other else None,
                        f"process {other[3]}" if len(other) > 3 else None,
                    )
                )
            time.sleep(0.2)
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._load_tx = True
            cur = self._conn.execute("INSERT INTO loads (batch, started) VALUES (?, ?)", (batch, started))
            self._load_id = cur.lastrowid
            if self._conn.execute("SELECT 1 FROM nodes LIMIT 1").fetchone() is None:
                # A first load fills the blocking-key index at its end, in the index's order,
                # instead of one trigger run per Record (the trigger was two fifths of the
                # store's CPU time at 100k rows: benchmarks/bench_load_replay.py). Dropped
                # inside the load's transaction, the trigger comes back with a rollback.
                self._conn.execute("DROP TRIGGER IF EXISTS record_blocks_insert")
                # Likewise the secondary indexes, built from the table at the end (reads during
                # the load still see every row, by a scan).
                for name in _SECONDARY_INDEXES:
                    self._conn.execute(f"DROP INDEX IF EXISTS {name}")
                self._blocks_deferred = True
        except BaseException as exc:
            self._end_load_tx(commit=False)
            self._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(self._failed("starting a load in", exc)) from None
            raise

    def end_load(self, batch: str, completed: bool = True) -> None:
        """Commit the load ``batch`` (when ``completed``) or roll all of it back, and release the
        write lock.

        The whole load is one SQLite transaction, from ``begin_load`` on: a load that fails (a
        full disk, a broken input, Ctrl-C) or whose process is killed leaves the store as it was
        before it, and readers see the store before the load until it commits. The write-ahead
        log holds the load's pages until then (about the size of what the load adds).
        """
        try:
            if completed and self._load_tx and self._load_id is not None:
                try:
                    self._settle_blocks()
                    finished = (now_iso(), self._load_id)
                    self._conn.execute("UPDATE loads SET finished = ? WHERE id = ?", finished)
                    self._end_load_tx(commit=True)
                except sqlite3.Error as exc:
                    raise StoreError(self._failed("committing the load to", exc)) from None
        finally:
            self._end_load_tx(commit=False)
            self._load_id = None
            self._lock.release()

    def _fill_blocks(self) -> None:
        """Bring the blocking-key index up to date during a first load (see begin_load): every
        Record gets the rows the insert trigger would have given it (the update and delete
        triggers keep working meanwhile, so the rows already there stay right)."""
        if self._blocks_deferred:
            if not self._conn.in_transaction:
                raise StoreError(self._load_lost())
            self._conn.execute(_FILL_BLOCKS)

    def _settle_blocks(self) -> None:
        """End the deferral of the blocking-key index and the secondary indexes (see
        begin_load): fill the one, bring its trigger back, build the others."""
        if self._blocks_deferred:
            self._fill_blocks()
            self._conn.execute(_BLOCKS_INSERT_TRIGGER)
            for ddl in _SECONDARY_INDEXES.values():
                self._conn.execute(ddl)
            self._blocks_deferred = False

    def _end_load_tx(self, commit: bool) -> None:
        self._blocks_deferred = False
        self._ensured.clear()
        if not self._load_tx:
            return
        if self._conn.in_transaction:
            if commit:
                self._conn.execute("COMMIT")
            else:
                self._conn.execute("ROLLBACK")
        elif commit:
            self._load_tx = False
            raise StoreError(self._load_lost())
        self._load_tx = False

    def last_load(self) -> LoadRecord | None:
        """The most recent load recorded in the store, or None (no load, or a store written before
        loads were recorded). A load that another process is writing is only visible through its
        write lock (its rows commit together at its end), so that is where it is read from."""
        writer = None if self._lock.held else self._lock.taken_by_other()
        if writer is not None:
            started, batch = ([*writer.split(), "", ""])[:2]
            return LoadRecord(batch=batch or "unknown", started=started, finished=None, running=True)
        try:
            row = self._conn.execute(
                "SELECT batch, started, finished FROM loads ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise StoreError(f"reading the embedded store {self.uri} failed: {exc}") from None
        if row is None:
            return None
        return LoadRecord(batch=row[0], started=row[1], finished=row[2], running=self._lock.held)

    def close(self) -> None:
        """Close the file (a checkpoint folds the WAL back into it); a write lock still held (a
        load that stopped on an error) is released and what the load wrote is rolled back."""
        try:
            self._end_load_tx(commit=False)
        finally:
            self._lock.release()
            self._conn.close()

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------

    def _delete(self, criterion: str, value: str, labels: list[str]) -> int:
        """Delete relationships, then nodes of ``labels``, matching the criterion; then the
        endpoints of what was deleted that have no relationship left (except reference nodes)."""
        find_rels, find_nodes = _FIND[criterion]
        deleted = 0
        params = {"v": value, "labels": json.dumps(labels)}
        try:
            with self._transaction() as cur:
                for ddl in _DELETE_TEMP:
                    cur.execute(ddl)
                cur.execute(find_rels, params)
                cur.execute(find_nodes, params)
                for sql in _DELETE_PREPARE:
                    cur.execute(sql)
                for sql in _DELETE_STEPS:
                    deleted += max(cur.execute(sql, {"keep": json.dumps(REFERENCE_LABELS)}).rowcount, 0)
        except sqlite3.Error as exc:
            raise StoreError(self._failed("deleting from", exc)) from None
        return deleted
