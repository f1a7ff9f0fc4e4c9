"""Write throughput of the graph-store backends (issue 2).

Writes 100k nodes and 300k relationships (synthetic keys, no personal data) through each backend
in batches, and through Neo4j also with one transaction per row on a sample of 2,000 nodes and
2,000 relationships, whose throughput is extrapolated to the full size. Prints nodes/s,
relationships/s, the ratio batched / per-row and the load average of the machine.

The rows are generated before the clock starts: the figures are the store's, not the synthetic
generator's. The per-row baseline is the best a row-at-a-time loader can do with the driver: one
session, kept open, and one managed transaction (``execute_write``) per row, running the very
statement the batched writes use with a one-row list (same plan, same normalisation).

Usage::

    .venv/bin/python benchmarks/bench_store.py                    # embedded only
    NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_PASSWORD=... \\
        .venv/bin/python benchmarks/bench_store.py --wipe          # plus Neo4j (EMPTIES that database)
    .venv/bin/python benchmarks/bench_store.py --start-server --server-home /tmp/bench-neo4j --wipe

The Neo4j database must be empty, or ``--wipe`` given: the benchmark deletes everything in it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphstore import RelRow
from graphstore.base import GraphStore
from graphstore.embedded import EmbeddedStore
from graphstore.neo4j_store import Neo4jStore
from graphstore.schema import GraphSchema, load_schema

N_PERSONS, N_PHONES, N_PREMISES = 70_000, 20_000, 10_000  # 100k nodes
N_SEEN, N_USES = 200_000, 100_000  # 300k relationships
PER_ROW_SAMPLE = 2_000


def person_rows(n: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(1)
    for i in range(n):
        yield {
            "person_id": f"{i:032x}",
            "roles": sorted(rnd.sample(["suspect", "victim", "signalled"], rnd.randint(1, 2))),
            "birth_year": rnd.randint(1950, 2008),
            "nationality": rnd.choice(["NLD", "ROU", "BGR", "NGA", None]),
        }


def phone_rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"phone_id": f"ph{i:030x}"}


def premises_rows(n: int) -> Iterator[dict[str, Any]]:
    rnd = random.Random(2)
    for i in range(n):
        yield {
            "premises_id": f"pr{i:030x}",
            "kind": rnd.choice(["hotel", "car wash", "agency"]),
            "pc4": "1234",
        }


def provenance(rnd: random.Random, row: int) -> dict[str, Any]:
    return {
        "source": rnd.choice(["politie_zaken", "signalen_gemeente", "comensha"]),
        "row_id": str(row),
        "batch": "bench",
        "legal_basis": "Wpg art. 9",
        "reliability": "B2",
        "observed_on": f"20{rnd.randint(18, 24)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
    }


def seen_rows(n: int) -> Iterator[RelRow]:
    rnd = random.Random(3)
    for i in range(n):
        props = {**provenance(rnd, i), "role": rnd.choice(["suspect", "victim"])}
        yield RelRow(
            f"{rnd.randrange(N_PERSONS):032x}", f"pr{rnd.randrange(N_PREMISES):030x}", f"seen:{i}", props
        )


def uses_rows(n: int) -> Iterator[RelRow]:
    rnd = random.Random(4)
    for i in range(n):
        yield RelRow(
            f"{rnd.randrange(N_PERSONS):032x}",
            f"ph{rnd.randrange(N_PHONES):030x}",
            f"uses:{i}",
            provenance(rnd, i),
        )


def write_all(store: GraphStore, batch_size: int) -> dict[str, float]:
    """Nodes first (so relationship MERGEs find their endpoints by key), then relationships."""
    persons, phones = list(person_rows(N_PERSONS)), list(phone_rows(N_PHONES))
    premises, seen, uses = list(premises_rows(N_PREMISES)), list(seen_rows(N_SEEN)), list(uses_rows(N_USES))
    t0 = time.perf_counter()
    nodes = store.upsert_nodes("Person", persons, batch_size)
    nodes += store.upsert_nodes("Phone", phones, batch_size)
    nodes += store.upsert_nodes("Premises", premises, batch_size)
    t1 = time.perf_counter()
    rels = store.upsert_relationships("SEEN_AT", "Person", "Premises", seen, batch_size)
    rels += store.upsert_relationships("USES", "Person", "Phone", uses, batch_size)
    t2 = time.perf_counter()
    return {"nodes": nodes, "rels": rels, "node_s": t1 - t0, "rel_s": t2 - t1}


def write_per_row(driver: Any, schema: GraphSchema, sample: int) -> dict[str, float]:
    """One managed transaction per row, on a sample: Person nodes that do not exist yet, then
    SEEN_AT relationships (new rel_keys) between existing nodes."""
    from graphstore import cypher
    from graphstore.props import prepare_node, prepare_rel

    node_query = cypher.upsert_nodes("Person", schema)
    rel_query = cypher.upsert_relationships("SEEN_AT", "Person", "Premises", schema)
    key_prop = schema.key_of("Person")
    people = list(person_rows(N_PERSONS + sample))[N_PERSONS:]
    facts = [RelRow(r.start, r.end, f"single:{i}", r.props) for i, r in enumerate(seen_rows(sample))]

    def work(tx: Any, query: str, row: dict[str, Any]) -> None:
        tx.run(query, {"rows": [row]}).consume()

    with driver.session() as session:
        t0 = time.perf_counter()
        for person in people:
            key, props = prepare_node("Person", key_prop, person)
            session.execute_write(work, node_query, {"key": key, "props": props})
        t1 = time.perf_counter()
        for fact in facts:
            start, end, rel_key, props = prepare_rel("SEEN_AT", fact)
            row = {"start": start, "end": end, "rel_key": rel_key, "props": props}
            session.execute_write(work, rel_query, row)
        t2 = time.perf_counter()
    return {"nodes": len(people), "rels": len(facts), "node_s": t1 - t0, "rel_s": t2 - t1}


def report(name: str, r: dict[str, float]) -> tuple[float, float]:
    nps, rps = r["nodes"] / r["node_s"], r["rels"] / r["rel_s"]
    print(
        f"{name:<34} {int(r['nodes']):>8} nodes in {r['node_s']:7.1f} s = {nps:>9,.0f}/s   "
        f"{int(r['rels']):>8} rels in {r['rel_s']:7.1f} s = {rps:>9,.0f}/s"
    )
    return nps, rps


def load_average() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def neo4j_connection(args: argparse.Namespace) -> tuple[str, str, str] | None:
    uri, user, password = os.environ.get("NEO4J_URI"), os.environ.get("NEO4J_USERNAME"), None
    if args.start_server:
        from graphstore.neo4j_server import start

        home = Path(args.server_home).expanduser() if args.server_home else None
        info = start(home=home) if home else start()
        uri, user, password = info.uri, info.user, info.password
    if not uri:
        return None
    return uri, user or "neo4j", password or os.environ.get("NEO4J_PASSWORD", "")


def open_neo4j(uri: str, user: str, password: str, wipe: bool) -> Neo4jStore:
    from neo4j import GraphDatabase

    store = Neo4jStore(uri, user=user, password=password)
    if sum(store.counts().values()):
        if not wipe:
            sys.exit(f"the Neo4j database at {uri} is not empty; give --wipe to let the benchmark empty it")
        with GraphDatabase.driver(uri, auth=(user, password)) as d, d.session() as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    store.apply_schema()
    return store


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--per-row-sample", type=int, default=PER_ROW_SAMPLE)
    parser.add_argument("--wipe", action="store_true", help="empty the Neo4j database first")
    parser.add_argument("--start-server", action="store_true", help="start the toolkit's own Neo4j")
    parser.add_argument("--server-home", help="home of the toolkit's server (default its cache)")
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    from importlib.util import find_spec

    if find_spec("neo4j._rust") is not None:
        packer = "driver with Rust extension"
    else:
        packer = "driver without Rust extension (pure-Python packing)"
    print(
        f"{N_PERSONS + N_PHONES + N_PREMISES:,} nodes, {N_SEEN + N_USES:,} relationships, "
        f"batch {args.batch_size}; {os.cpu_count()} CPUs, {load_average()}; {packer}"
    )

    if not args.skip_embedded:
        with tempfile.TemporaryDirectory() as tmp, EmbeddedStore(Path(tmp) / "bench.sqlite") as emb:
            report("embedded (SQLite), batched", write_all(emb, args.batch_size))
        print(load_average())

    conn = neo4j_connection(args)
    if conn is None:
        print("no Neo4j (set NEO4J_URI/NEO4J_PASSWORD or give --start-server): Neo4j skipped")
        return
    from neo4j import GraphDatabase

    uri, user, password = conn
    with open_neo4j(uri, user, password, args.wipe) as store:
        b_nodes, b_rels = report("Neo4j, batched", write_all(store, args.batch_size))
        print(load_average())
        with GraphDatabase.driver(uri, auth=(user, password)) as driver:
            per_row = write_per_row(driver, load_schema(), args.per_row_sample)
        p_nodes, p_rels = report(f"Neo4j, one tx per row ({args.per_row_sample} sample)", per_row)
        print(load_average())
        total_nodes, total_rels = N_PERSONS + N_PHONES + N_PREMISES, N_SEEN + N_USES
        print(
            f"per-row extrapolated to the full size: {total_nodes:,} nodes in "
            f"{total_nodes / p_nodes:,.0f} s, {total_rels:,} rels in {total_rels / p_rels:,.0f} s"
        )
        print(f"batched / per-row: nodes {b_nodes / p_nodes:.1f}x, relationships {b_rels / p_rels:.1f}x")
        counts = store.counts()
        print(f"check: {counts['Person']:,} persons, {counts['SEEN_AT']:,} SEEN_AT, {counts['USES']:,} USES")


if __name__ == "__main__":
    main()
