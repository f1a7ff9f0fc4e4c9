"""Whole load pipeline (issue 4): read -> normalise -> resolve -> write, with peak memory.

Generates a synthetic set with ``netanalysis synth --rows N`` (fictional people only), then runs
``loaders.pipeline.load`` into a fresh store in a child process, so that the peak resident memory
(ru_maxrss) belongs to one load. Prints the time per stage (read + normalise, resolve, write) and
the resolution counts, so the growth of entity resolution with N can be read off. The machine is
shared, so CPU seconds of the loading process are printed next to wall seconds.

Usage::

    .venv/bin/python benchmarks/bench_load.py --rows 100000                 # embedded store
    .venv/bin/python benchmarks/bench_load.py --rows 100000 --store bolt://127.0.0.1:7687 --wipe
        # Neo4j (NEO4J_USERNAME / NEO4J_PASSWORD from the environment; --wipe EMPTIES the database)
    .venv/bin/python benchmarks/bench_load.py --rows 20000 100000 --er-only  # resolution alone
    .venv/bin/python benchmarks/bench_load.py --rows 100000 --initial-import
        # neo4j-admin import into a server of its own, in a temporary home (started and stopped
        # here); --neo4j-home DIR uses that home's running server instead (add --wipe to empty it)

The Neo4j write step compared with ``LOAD CSV`` and with one transaction per row, on the same
rows: ``benchmarks/bench_load_write.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _child_import(folder: str, home: str) -> None:
    """The initial-import path: load into CSV files, then stop, import, restart, apply the schema."""
    from graphstore import neo4j_server
    from loaders.initial_import import initial_import
    from loaders.pseudonymise import Pseudonymiser

    key = Pseudonymiser(os.urandom(32))
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, time.perf_counter())
        cpu.setdefault(name, time.process_time())

    def progress(stage: str, done: int, total: int | None) -> None:
        if total is not None and done == total:
            mark(f"{stage}_end")

    def server_progress(line: str) -> None:
        for prefix, name in (
            ("stopping", "stop"),
            ("importing", "import"),
            ("starting the Neo4j", "restart"),
            ("creating constraints", "schema"),
        ):
            if line.startswith(prefix):
                mark(name)

    start, cpu_start = time.perf_counter(), time.process_time()
    summary = initial_import(
        [folder],
        Path(folder) / "sources.yaml",
        key,
        home=home,
        rejects_path=Path(folder) / "rejects.csv",
        progress=progress,
        server_progress=server_progress,
    )
    end, cpu_end = time.perf_counter(), time.process_time()
    info = neo4j_server.status(home)
    assert info is not None
    from graphstore.neo4j_store import Neo4jStore

    with Neo4jStore(info.uri, user=info.user, password=info.password) as store:
        counts = store.counts()
    steps = ["read_end", "resolve_end", "write_end", "stop", "import", "restart", "schema"]
    names = ["read_normalise", "resolve", "write_csv", "files_finish", "stop", "import", "restart_server"]
    out: dict[str, object] = {
        "rows": summary.read,
        "loaded": summary.loaded,
        "rejected": summary.rejected,
        "records": summary.records,
        "persons": summary.persons,
        "store_counts": counts,
    }
    seconds, cpu_seconds, prev, prev_cpu = {}, {}, start, cpu_start
    for step, name in zip(steps, names, strict=True):
        seconds[name] = round(marks.get(step, prev) - prev, 1)
        cpu_seconds[name] = round(cpu.get(step, prev_cpu) - prev_cpu, 1)
        prev, prev_cpu = marks.get(step, prev), cpu.get(step, prev_cpu)
    seconds["schema"], cpu_seconds["schema"] = round(end - prev, 1), round(cpu_end - prev_cpu, 1)
    seconds["total"], cpu_seconds["total"] = round(end - start, 1), round(cpu_end - cpu_start, 1)
    out["seconds"] = seconds
    out["cpu_seconds"] = cpu_seconds  # this process only (not the import tool, not the server)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["import_tool_cpu_seconds"] = round(children.ru_utime + children.ru_stime, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # Not RUSAGE_CHILDREN's ru_maxrss: a child forked from this 4 GB process reports the parent's
    # size. The import tool prints its own peak ("Peak memory usage: ...") at the end of its log.
    log = Path(home) / "logs" / "import.log"
    peaks = [ln for ln in log.read_text(errors="replace").splitlines() if "Peak memory usage" in ln]
    out["import_tool_peak_memory"] = peaks[-1].split("Peak memory usage:", 1)[1].strip() if peaks else None
    print(json.dumps(out))


def _child(folder: str, store_uri: str, er_only: bool) -> None:
    from graphstore import open_store
    from loaders.mapping import load_mapping
    from loaders.pipeline import load, read_records, resolve_persons
    from loaders.pseudonymise import Pseudonymiser
    from loaders.read import assign_files

    key = Pseudonymiser(os.urandom(32))
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    if er_only:
        mapping = load_mapping(Path(folder) / "sources.yaml")
        records = read_records(mapping, assign_files(mapping, [folder]), lambda _x: None, {})
        marks["read_end"], cpu["read_end"] = time.perf_counter(), time.process_time()
        res = resolve_persons(records, key)
        marks["resolve_end"], cpu["resolve_end"] = time.perf_counter(), time.process_time()
        out = {
            "rows": sum(1 for _ in records),
            "records": len(res.person_of),
            "persons": len(res.clusters),
            "resolution": res.stats,
        }
    else:

        def progress(stage: str, done: int, total: int | None) -> None:
            if total is not None and done == total:
                marks[f"{stage}_end"], cpu[f"{stage}_end"] = time.perf_counter(), time.process_time()

        store = open_store(store_uri)
        try:
            summary = load(
                [folder],
                store,
                Path(folder) / "sources.yaml",
                key,
                rejects_path=Path(folder) / "rejects.csv",
                progress=progress,
            )
            counts = store.counts()
        finally:
            store.close()
        out = {
            "rows": summary.read,
            "loaded": summary.loaded,
            "rejected": summary.rejected,
            "records": summary.records,
            "persons": summary.persons,
            "resolution": summary.resolution,
            "store_counts": counts,
        }
    end, cpu_end = time.perf_counter(), time.process_time()
    out["cpu_seconds"] = {  # this process only (not the Neo4j server)
        "read_normalise": round(cpu.get("read_end", cpu_start) - cpu_start, 1),
        "resolve": round(cpu.get("resolve_end", cpu_start) - cpu.get("read_end", cpu_start), 1),
        "write": round(cpu_end - cpu.get("resolve_end", cpu_end), 1),
        "total": round(cpu_end - cpu_start, 1),
    }
    out["seconds"] = {
        "read_normalise": round(marks.get("read_end", start) - start, 1),
        "resolve": round(marks.get("resolve_end", start) - marks.get("read_end", start), 1),
        "write": round(end - marks.get("resolve_end", end), 1),
        "total": round(end - start, 1),
    }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def _wipe(uri: str) -> None:
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USERNAME", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session() as session:
        # Relationships first: a Municipality with 100k relationships is too big for one DETACH DELETE.
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def _synth(folder: Path, rows: int, seed: int) -> float:
    """Generate the synthetic sources; returns the seconds it took (not part of the load)."""
    t0 = time.perf_counter()
    subprocess.run(
        [str(BIN / "netanalysis"), "synth", "--out", str(folder), "--seed", str(seed), "--rows", str(rows)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def _bench_import(args: argparse.Namespace) -> int:
    from graphstore import neo4j_server

    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "synth"
            gen = _synth(folder, rows, args.seed)
            home = args.neo4j_home or str(Path(tmp) / "neo4j")
            own = args.neo4j_home is None
            if own:
                neo4j_server.start(home)
            try:
                info = neo4j_server.status(home)
                if info is None:
                    raise SystemExit(f"no server runs in {home}; start it: netanalysis neo4j start --home")
                if args.wipe:
                    os.environ.update(info.env())
                    _wipe(info.uri)
                result = subprocess.run(
                    [sys.executable, __file__, "--child-import", str(folder), home],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            finally:
                if own:
                    neo4j_server.stop(home)
            data = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"rows={rows} backend=neo4j-initial-import synth_seconds={gen:.1f} {json.dumps(data)}",
                flush=True,
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the whole load pipeline.")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--store", default=None, help="neo4j:// or bolt:// URI; default a temp embedded file")
    parser.add_argument("--wipe", action="store_true", help="empty the Neo4j database first")
    parser.add_argument("--er-only", action="store_true", help="read + resolve only, no store")
    parser.add_argument(
        "--initial-import",
        action="store_true",
        help="bulk path: neo4j-admin import into the toolkit's own server",
    )
    parser.add_argument(
        "--neo4j-home",
        default=None,
        help="with --initial-import: a home whose server runs (default: a temporary one)",
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-import", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.child[2] == "1")
        return 0
    if args.child_import:
        _child_import(*args.child_import)
        return 0
    if args.initial_import:
        return _bench_import(args)
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "synth"
            gen = _synth(folder, rows, args.seed)
            uri = args.store or str(Path(tmp) / "bench.db")
            if args.store and args.wipe:
                _wipe(args.store)
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), uri, "1" if args.er_only else "0"],
                check=True,
                capture_output=True,
                text=True,
            )
            data = json.loads(result.stdout.strip().splitlines()[-1])
            backend = "none (ER only)" if args.er_only else ("neo4j" if args.store else "embedded")
            print(f"rows={rows} backend={backend} synth_seconds={gen:.1f} {json.dumps(data)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
