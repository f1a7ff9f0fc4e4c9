"""The Neo4j write step of a load, three ways (issue 4): batched MERGE, LOAD CSV, one transaction per row.

Generates a synthetic set (``netanalysis synth --rows N``, fictional people), runs the load
pipeline (read, normalise, resolve, graph rows) into a recorder that keeps the node and
relationship rows exactly as ``loaders.pipeline.load`` hands them to a store, then writes those
same rows into an empty Neo4j database

1. **batched** - through ``graphstore.neo4j_store.Neo4jStore`` (UNWIND ... MERGE, 5,000 rows per
   transaction), in the order the pipeline sends them: this is the toolkit's write step;
2. **LOAD CSV** - one CSV file per label and per relationship type (and end labels) written to
   the server's import folder, each loaded with ``LOAD CSV WITH HEADERS ... CALL (row) { MERGE ...
   } IN TRANSACTIONS OF 5000 ROWS``, nodes first; the time to write the CSV files is reported
   separately;
3. **one transaction per row** - the store's own upsert called with one row at a time, on a
   sample (every k-th row of every label and type), **extrapolated** to all rows.

After 1 and 2 the database counts per label and type are compared (they must be equal). The
server is the toolkit's own Neo4j (``graphstore.neo4j_server``) in its own home, started and
stopped here, unless ``--store`` names a running one (``NEO4J_USERNAME``/``NEO4J_PASSWORD``).

Usage::

    .venv/bin/python benchmarks/bench_load_write.py --rows 100000
    .venv/bin/python benchmarks/bench_load_write.py --rows 100000 --home /tmp/loadbench-neo4j --per-row 2000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BATCH = 5000


class RecordingStore:
    """Keeps the rows a load writes, in order, instead of writing them (no graph is read back)."""

    uri = "recording://bench"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...], list[Any]]] = []

    def apply_schema(self) -> None:
        pass

    def upsert_nodes(self, label: str, rows: Iterable[dict[str, Any]], batch_size: int = BATCH) -> int:
        rows = list(rows)
        self.calls.append(("node", (label,), rows))
        return len(rows)

    def upsert_relationships(
        self, rel_type: str, start_label: str, end_label: str, rows: Iterable[Any], batch_size: int = BATCH
    ) -> int:
        rows = list(rows)
        self.calls.append(("rel", (rel_type, start_label, end_label), rows))
        return len(rows)

    def read_graph(self, graph_slice: Any = None) -> nx.MultiDiGraph:
        return nx.MultiDiGraph()  # an empty store: no persons to merge with


def _wipe(store: Any) -> None:
    # Relationships first: a Municipality with 100k relationships is too big for one DETACH DELETE.
    _run_auto(store, "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS")
    _run_auto(store, "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS")


def _run_auto(store: Any, query: str) -> None:
    # CALL { } IN TRANSACTIONS must run in an auto-commit transaction (session.run).
    with store._driver.session(database=store.database) as session:
        session.run(query).consume()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    return str(value)


def _conversion(name: str, kinds: set[type]) -> str:
    col = f"row.`{name}`"
    if kinds <= {bool}:
        return f"toBoolean({col})"
    if kinds <= {int}:
        return f"toInteger({col})"
    if kinds <= {int, float}:
        return f"toFloat({col})"
    if kinds <= {list, tuple}:
        return f"split({col}, '|')"
    return col


def _write_csvs(
    calls: list[tuple[str, tuple[str, ...], list[Any]]], schema: Any, folder: Path
) -> list[tuple[str, str]]:
    """One CSV per label and per (type, start, end); returns (file name, LOAD CSV query) pairs."""
    from graphstore.props import prepare_node, prepare_rel

    nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rels: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for kind, what, rows in calls:
        if kind == "node":
            label = what[0]
            key_prop = schema.key_of(label)
            for row in rows:
                _key, props = prepare_node(label, key_prop, row)
                nodes[label].append(props)
        else:
            for row in rows:
                start, end, _rk, props = prepare_rel(what[0], row)
                rels[(what[0], what[1], what[2])].append({"__start": start, "__end": end, **props})
    plan: list[tuple[str, str]] = []
    for label, rows in sorted(nodes.items()):
        key_prop = schema.key_of(label)
        name = f"nodes_{label}.csv"
        sets = _sets("n", rows, skip={key_prop})
        _dump(folder / name, rows)
        plan.append((name, f"MERGE (n:{label} {{{key_prop}: row.`{key_prop}`}})" + sets))
    for (typ, start_label, end_label), rows in sorted(rels.items()):
        name = f"rels_{typ}_{start_label}_{end_label}.csv"
        sets = _sets("r", rows, skip={"__start", "__end", "rel_key"})
        _dump(folder / name, rows)
        plan.append(
            (
                name,
                f"MERGE (a:{start_label} {{{schema.key_of(start_label)}: row.__start}}) "
                f"MERGE (b:{end_label} {{{schema.key_of(end_label)}: row.__end}}) "
                f"MERGE (a)-[r:{typ} {{rel_key: row.rel_key}}]->(b)" + sets,
            )
        )
    return plan


def _sets(var: str, rows: list[dict[str, Any]], skip: set[str]) -> str:
    kinds: dict[str, set[type]] = defaultdict(set)
    for row in rows:
        for k, v in row.items():
            if v is not None:
                kinds[k].add(type(v))
    parts = [f"{var}.`{k}` = {_conversion(k, ks)}" for k, ks in sorted(kinds.items()) if k not in skip]
    return (" SET " + ", ".join(parts)) if parts else ""


def _dump(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = sorted({k for row in rows for k in row})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in columns])


def _same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> bool:
    def canon(d: dict[str, Any]) -> str:
        return json.dumps(d, sort_keys=True, default=str)

    nodes_a = {n: canon(d) for n, d in a.nodes(data=True)}
    nodes_b = {n: canon(d) for n, d in b.nodes(data=True)}
    edges_a = sorted((u, v, canon(d)) for u, v, d in a.edges(data=True))
    edges_b = sorted((u, v, canon(d)) for u, v, d in b.edges(data=True))
    return nodes_a == nodes_b and edges_a == edges_b


def _pipeline(folder: Path) -> tuple[RecordingStore, dict[str, Any]]:
    from loaders.pipeline import load
    from loaders.pseudonymise import Pseudonymiser

    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        if total is not None and done == total:
            marks[stage] = time.perf_counter()

    recorder = RecordingStore()
    start = time.perf_counter()
    summary = load(
        [folder],
        recorder,
        folder / "sources.yaml",
        Pseudonymiser(os.urandom(32)),  # type: ignore[arg-type]
        rejects_path=folder / "rejects.csv",
        progress=progress,
    )
    end = time.perf_counter()
    info = {
        "rows": summary.read,
        "loaded": summary.loaded,
        "records": summary.records,
        "persons": summary.persons,
        "node_rows": sum(len(r) for k, _w, r in recorder.calls if k == "node"),
        "rel_rows": sum(len(r) for k, _w, r in recorder.calls if k == "rel"),
        "seconds": {
            "read_normalise": round(marks["read"] - start, 1),
            "resolve": round(marks["resolve"] - marks["read"], 1),
            "graph_rows": round(end - marks["resolve"], 1),
        },
    }
    return recorder, info


def main() -> int:
    parser = argparse.ArgumentParser(description="Compare Neo4j write methods on the rows of one load.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--home", type=Path, default=Path("/tmp/loadbench-neo4j"))
    parser.add_argument("--store", default=None, help="a running Neo4j (bolt:// URI) instead of starting one")
    parser.add_argument(
        "--per-row", type=int, default=2000, help="rows in the one-transaction-per-row sample"
    )
    parser.add_argument(
        "--compare-graphs",
        action="store_true",
        help="also read both graphs back and compare every property (small sets)",
    )
    parser.add_argument("--skip-batched", action="store_true")
    args = parser.parse_args()

    from graphstore import neo4j_server
    from graphstore.neo4j_store import Neo4jStore

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synth"
        subprocess.run(
            [
                str(BIN / "netanalysis"),
                "synth",
                "--out",
                str(folder),
                "--seed",
                str(args.seed),
                "--rows",
                str(args.rows),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        recorder, info = _pipeline(folder)
        print(json.dumps({"pipeline": info}), flush=True)

        started = False
        if args.store:
            store = Neo4jStore(args.store)
            import_dir = None
        else:
            server = neo4j_server.start(home=args.home, heap="2g", pagecache="1g")
            started = True
            store = Neo4jStore(server.uri, user=server.user, password=server.password)
            import_dir = server.home / "import"
        results: dict[str, Any] = {"rows": args.rows}
        batched_graph = None
        try:
            total_rows = info["node_rows"] + info["rel_rows"]
            # 1. batched, the toolkit's write step
            if not args.skip_batched:
                _wipe(store)
                store.apply_schema()
                t0 = time.perf_counter()
                for kind, what, rows in recorder.calls:
                    if kind == "node":
                        store.upsert_nodes(what[0], rows, batch_size=BATCH)
                    else:
                        store.upsert_relationships(*what, rows, batch_size=BATCH)
                secs = time.perf_counter() - t0
                batched_counts = store.counts()
                batched_graph = store.read_graph() if args.compare_graphs else None
                results["batched"] = {"seconds": round(secs, 1), "rows_per_s": round(total_rows / secs)}
                print(json.dumps({"batched": results["batched"]}), flush=True)
            # 2. LOAD CSV
            if import_dir is not None:
                _wipe(store)
                store.apply_schema()
                import_dir.mkdir(parents=True, exist_ok=True)
                t0 = time.perf_counter()
                plan = _write_csvs(recorder.calls, store.schema, import_dir)
                csv_secs = time.perf_counter() - t0
                t0 = time.perf_counter()
                for name, body in plan:
                    _run_auto(
                        store,
                        f"LOAD CSV WITH HEADERS FROM 'file:///{name}' AS row "
                        f"CALL (row) {{ {body} }} IN TRANSACTIONS OF {BATCH} ROWS",
                    )
                secs = time.perf_counter() - t0
                csv_counts = store.counts()
                if batched_graph is not None:
                    results["load_csv_same_graph"] = _same_graph(batched_graph, store.read_graph())
                for name, _body in plan:
                    (import_dir / name).unlink()
                results["load_csv"] = {
                    "write_csv_seconds": round(csv_secs, 1),
                    "seconds": round(secs, 1),
                    "rows_per_s": round(total_rows / secs),
                }
                if not args.skip_batched:
                    results["load_csv"]["same_counts_as_batched"] = csv_counts == batched_counts
                    if csv_counts != batched_counts:
                        results["load_csv"]["diff"] = {
                            k: (batched_counts.get(k), csv_counts.get(k))
                            for k in batched_counts
                            if batched_counts.get(k) != csv_counts.get(k)
                        }
                print(json.dumps({"load_csv": results["load_csv"]}), flush=True)
            # 3. one transaction per row, on a sample, extrapolated
            _wipe(store)
            step = max(1, total_rows // args.per_row)
            sample = 0
            t0 = time.perf_counter()
            for kind, what, rows in recorder.calls:
                for row in rows[::step]:
                    if kind == "node":
                        store.upsert_nodes(what[0], [row], batch_size=1)
                    else:
                        store.upsert_relationships(*what, [row], batch_size=1)
                    sample += 1
            secs = time.perf_counter() - t0
            results["per_row"] = {
                "sample_rows": sample,
                "sample_seconds": round(secs, 1),
                "rows_per_s": round(sample / secs),
                "extrapolated_seconds": round(secs / sample * total_rows),
            }
            print(json.dumps({"per_row": results["per_row"]}), flush=True)
        finally:
            store.close()
            if started:
                neo4j_server.stop(home=args.home)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({**results, "pipeline": info}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
