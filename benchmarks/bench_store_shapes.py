"""Relationship-upsert query shapes for Neo4j, side by side in one run (issue 2).

The machine is shared, so absolute throughput moves by 2x between identical runs; what this script
reports that does not move much is CPU time per relationship: the client's (this process) and the
server's (read from /proc for the server's pid, so the server must run on this machine). Each
shape writes the same number of new SEEN_AT relationships (provenance properties, synthetic keys)
between 100k existing nodes; shapes take turns, ``--rounds`` times, and the medians are printed.

Shapes (all in one managed transaction per batch):

current      ``MERGE`` both endpoints, ``MERGE`` the relationship, ``SET r += row.props``
             (``graphstore.cypher.upsert_relationships``; plan has an Eager before the SET).
sorted       the same, rows sorted by (start, end) - what the store now sends.
match        endpoints ``MERGE``d first in their own UNWINDs of distinct keys, then ``MATCH``ed.
grouped      as match, rows grouped by start node (one start seek per group).
no_set       as match without the SET: not a valid upsert, the floor without the Eager.
create       ``CREATE`` instead of ``MERGE``: not idempotent, the floor without the MERGE.
sorted@N     batch size N (default 5000).
par2_sorted  two sessions in two threads, rows split by start node (par2e_sorted: by end node).
explicit     as sorted, each property SET by name (one statement per set of names): no Eager.
explicit_match  as explicit with endpoints MERGEd first and then MATCHed.
nokey        as sorted, ``rel_key`` left out of the SET map (the MERGE pattern sets it).
mix          two writers that never touch the same node ("mix and batch": four buckets by the
             parity of start and end key, the two disjoint buckets at once, then the other two).

Usage::

    .venv/bin/python benchmarks/bench_store_shapes.py --uri bolt://127.0.0.1:PORT --password ... \\
        --server-pid PID [--rels 20000] [--rounds 3] [--shapes current,sorted,...]

EMPTIES the database it is pointed at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from bench_store import N_SEEN, person_rows, phone_rows, premises_rows, seen_rows
from neo4j import Driver, GraphDatabase, ManagedTransaction

from graphstore import cypher
from graphstore.neo4j_store import Neo4jStore
from graphstore.props import prepare_rel

Row = dict[str, Any]
DEFAULT_SHAPES = "current,sorted,match,grouped,no_set,create,sorted@1000,sorted@20000,par2_sorted"
WIPE_RELS = "MATCH ()-[r:SEEN_AT]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS"
Statements = list[tuple[str, dict[str, Any]]]

CURRENT = cypher.upsert_relationships("SEEN_AT", "Person", "Premises")
ENSURE_START = "UNWIND $keys AS k MERGE (:Person {person_id: k})"
ENSURE_END = "UNWIND $keys AS k MERGE (:Premises {premises_id: k})"
MATCH = """UNWIND $rows AS row
MATCH (a:Person {person_id: row.start})
MATCH (b:Premises {premises_id: row.end})
MERGE (a)-[r:SEEN_AT {rel_key: row.rel_key}]->(b)
SET r += row.props"""
NO_SET = """UNWIND $rows AS row
MATCH (a:Person {person_id: row.start})
MATCH (b:Premises {premises_id: row.end})
MERGE (a)-[r:SEEN_AT {rel_key: row.rel_key}]->(b)"""
GROUPED = """UNWIND $groups AS g
MATCH (a:Person {person_id: g.start})
UNWIND g.rels AS row
MATCH (b:Premises {premises_id: row.end})
MERGE (a)-[r:SEEN_AT {rel_key: row.rel_key}]->(b)
SET r += row.props"""
CREATE = """UNWIND $rows AS row
MATCH (a:Person {person_id: row.start})
MATCH (b:Premises {premises_id: row.end})
CREATE (a)-[r:SEEN_AT]->(b) SET r = row.props"""


def _without_key(props: Row) -> Row:
    return {k: v for k, v in props.items() if k != "rel_key"}


def _explicit(batch: list[Row], match: bool = False) -> Statements:
    """One statement per set of property names, each SET by name: no Eager in the plan."""
    by_names: dict[tuple[str, ...], list[Row]] = {}
    for r in _sorted(batch):
        by_names.setdefault(tuple(sorted(k for k in r["props"] if k != "rel_key")), []).append(r)
    verb = "MATCH" if match else "MERGE"
    out = []
    for names, rows in by_names.items():
        sets = ", ".join(f"r.`{n}` = row.props.`{n}`" for n in names)
        query = (
            f"UNWIND $rows AS row\n{verb} (a:Person {{person_id: row.start}})\n"
            f"{verb} (b:Premises {{premises_id: row.end}})\n"
            f"MERGE (a)-[r:SEEN_AT {{rel_key: row.rel_key}}]->(b)\nSET {sets}"
        )
        out.append((query, {"rows": rows}))
    return out


def _ensure(batch: list[Row]) -> Statements:
    return [
        (ENSURE_START, {"keys": sorted({r["start"] for r in batch})}),
        (ENSURE_END, {"keys": sorted({r["end"] for r in batch})}),
    ]


def _groups(batch: list[Row]) -> list[Row]:
    groups: dict[str, list[Row]] = {}
    for r in batch:
        groups.setdefault(r["start"], []).append({k: r[k] for k in ("end", "rel_key", "props")})
    return [{"start": k, "rels": v} for k, v in groups.items()]


def _sorted(batch: list[Row]) -> list[Row]:
    return sorted(batch, key=lambda r: (r["start"], r["end"]))


SHAPES: dict[str, Callable[[list[Row]], Statements]] = {
    "current": lambda b: [(CURRENT, {"rows": b})],
    "sorted": lambda b: [(CURRENT, {"rows": _sorted(b)})],
    "match": lambda b: [*_ensure(b), (MATCH, {"rows": b})],
    "grouped": lambda b: [*_ensure(b), (GROUPED, {"groups": _groups(b)})],
    "no_set": lambda b: [*_ensure(b), (NO_SET, {"rows": b})],
    "create": lambda b: [(CREATE, {"rows": b})],
    "explicit": _explicit,
    # rel_key left out of the SET map (the MERGE pattern already sets it when it creates).
    "nokey": lambda b: [(CURRENT, {"rows": [{**r, "props": _without_key(r["props"])} for r in _sorted(b)]})],
    "explicit_match": lambda b: [*_ensure(b), *_explicit(b, match=True)],
}


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write(driver: Driver, shape: str, rows: list[Row], batch_size: int) -> None:
    def work(tx: ManagedTransaction, statements: Statements) -> None:
        for query, params in statements:
            tx.run(query, params).consume()

    with driver.session() as session:
        for i in range(0, len(rows), batch_size):
            session.execute_write(work, SHAPES[shape](rows[i : i + batch_size]))


def mix(driver: Driver, rows: list[Row], batch_size: int) -> None:
    """Two writers that never touch the same node: rows go to four buckets by the parity of
    their start and end keys; buckets (0,0) and (1,1) are written at the same time, then (0,1)
    and (1,0) ("mix and batch")."""
    from concurrent.futures import ThreadPoolExecutor

    def lane(part: list[Row]) -> None:
        write(driver, "explicit", part, batch_size)

    with ThreadPoolExecutor(2) as pool:
        for i in range(0, len(rows), 4 * batch_size):
            chunk = rows[i : i + 4 * batch_size]
            buckets: dict[tuple[int, int], list[Row]] = {(a, b): [] for a in (0, 1) for b in (0, 1)}
            for r in chunk:
                buckets[(zlib.crc32(r["start"].encode()) & 1, zlib.crc32(r["end"].encode()) & 1)].append(r)
            for pair in (((0, 0), (1, 1)), ((0, 1), (1, 0))):
                list(pool.map(lane, [buckets[k] for k in pair]))


def run_shape(driver: Driver, name: str, rows: list[Row]) -> None:
    shape, _, size = name.partition("@")
    batch_size = int(size or 5000)
    if shape == "mix":
        mix(driver, rows, batch_size)
        return
    if shape.startswith(("par2_", "par2e_")):
        # par2_ splits rows by start node, par2e_ by end node (the dense side: premises).
        side = "end" if shape.startswith("par2e_") else "start"
        inner = shape.split("_", 1)[1]
        parts = [[r for r in rows if zlib.crc32(r[side].encode()) % 2 == w] for w in (0, 1)]
        threads = [threading.Thread(target=write, args=(driver, inner, p, batch_size)) for p in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        write(driver, shape, rows, batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uri", required=True)
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--rels", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default=DEFAULT_SHAPES)
    args = parser.parse_args()
    names = args.shapes.split(",")

    with Neo4jStore(args.uri, user=args.user, password=args.password) as store:
        with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as d, d.session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        store.apply_schema()
        store.upsert_nodes("Person", person_rows(70_000))
        store.upsert_nodes("Phone", phone_rows(20_000))
        store.upsert_nodes("Premises", premises_rows(10_000))
    rows = []
    for rel in seen_rows(N_SEEN):
        start, end, rel_key, props = prepare_rel("SEEN_AT", rel)
        rows.append({"start": start, "end": end, "rel_key": rel_key, "props": props})

    wall: dict[str, list[float]] = {n: [] for n in names}
    client: dict[str, list[float]] = {n: [] for n in names}
    server: dict[str, list[float]] = {n: [] for n in names}
    offset = 0
    print(f"{args.rels:,} relationships per shape and round; {os.cpu_count()} CPUs")
    with GraphDatabase.driver(args.uri, auth=(args.user, args.password)) as driver:
        for _ in range(args.rounds):
            for name in names:
                with driver.session() as s:
                    s.run(WIPE_RELS).consume()
                sample = rows[offset : offset + args.rels]
                offset = (offset + args.rels) % (len(rows) - args.rels)
                load = os.getloadavg()[0]
                t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu(args.server_pid)
                run_shape(driver, name, sample)
                elapsed = time.perf_counter() - t0
                wall[name].append(len(sample) / elapsed)
                client[name].append((time.process_time() - c0) * 1e6 / len(sample))
                server[name].append((server_cpu(args.server_pid) - s0) * 1e6 / len(sample))
                print(f"  {name:<14} {wall[name][-1]:>8,.0f} rels/s  (load {load:.1f})", flush=True)
    print(f"{'shape':<14} {'rels/s':>8} {'client us/rel':>14} {'server us/rel':>14}   (medians)")
    for name in names:
        print(
            f"{name:<14} {statistics.median(wall[name]):>8,.0f} {statistics.median(client[name]):>14.0f} "
            f"{statistics.median(server[name]):>14.0f}"
        )


if __name__ == "__main__":
    main()
