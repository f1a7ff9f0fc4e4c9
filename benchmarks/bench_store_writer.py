"""The loaders' write step into Neo4j: batches per store call side by side, and how busy each side is.

Loads one synthetic set (``netanalysis synth --seed 5``) into a Neo4j database several times,
emptied in between, with ``StoreWriter(batches_per_call=N)`` for each N given, in turns. For each
load it prints, from the moment the write step starts: wall seconds, the loader's CPU seconds, the
server's CPU seconds (from /proc, so the server must run on this machine), and the share of 0.5 s
samples in which the server and the loader were busy.

Usage::

    NEO4J_URI=bolt://127.0.0.1:PORT NEO4J_PASSWORD=... \\
        .venv/bin/python benchmarks/bench_store_writer.py --rows 100000 --server-pid PID --calls 1 4 1 4

EMPTIES the database it is pointed at.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from neo4j import GraphDatabase

import loaders.store_writer as store_writer
from graphstore.neo4j_store import Neo4jStore
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser

BIN = Path(sys.executable).parent


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wipe(uri: str, auth: tuple[str, str]) -> None:
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session() as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def one_load(folder: Path, uri: str, auth: tuple[str, str], server_pid: int) -> dict[str, float]:
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    start: list[tuple[float, float, float]] = []

    def sample() -> None:
        me = os.getpid()
        prev = (time.perf_counter(), cpu_seconds(server_pid), cpu_seconds(me))
        while not done.wait(0.5):
            now = (time.perf_counter(), cpu_seconds(server_pid), cpu_seconds(me))
            dt = now[0] - prev[0]
            samples.append(((now[1] - prev[1]) / dt, (now[2] - prev[2]) / dt))
            prev = now

    def progress(stage: str, _done: int, _total: int | None) -> None:
        if stage == "write" and not start:
            start.append((time.perf_counter(), time.process_time(), cpu_seconds(server_pid)))
            threading.Thread(target=sample, daemon=True).start()

    with Neo4jStore(uri, user=auth[0], password=auth[1]) as store:
        load(
            [folder],
            store,
            folder / "sources.yaml",
            Pseudonymiser(bytes(range(32))),
            rejects_path=folder / "rejects.csv",
            progress=progress,
        )
    end = (time.perf_counter(), time.process_time(), cpu_seconds(server_pid))
    done.set()
    n = max(len(samples), 1)
    return {
        "wall": end[0] - start[0][0],
        "loader_cpu": end[1] - start[0][1],
        "server_cpu": end[2] - start[0][2],
        "server_busy": sum(s for s, _ in samples) / n,
        "loader_busy": sum(c for _, c in samples) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument(
        "--calls", type=int, nargs="+", default=[1, 4, 1, 4], help="batches_per_call of each load, in turns"
    )
    args = parser.parse_args()
    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USERNAME", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    original = store_writer.StoreWriter.__init__
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synth"
        subprocess.run(
            [
                str(BIN / "netanalysis"),
                "synth",
                "--out",
                str(folder),
                "--seed",
                "5",
                "--rows",
                str(args.rows),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for per_call in args.calls:
            wipe(uri, auth)
            store_writer.StoreWriter.__init__ = functools.partialmethod(  # type: ignore[method-assign]
                original, batches_per_call=per_call
            )
            r = one_load(folder, uri, auth, args.server_pid)
            print(
                f"batches_per_call={per_call}: write {r['wall']:.1f} s, loader CPU {r['loader_cpu']:.1f} s, "
                f"server CPU {r['server_cpu']:.1f} s; busy: server {r['server_busy']:.0%}, "
                f"loader {r['loader_busy']:.0%}; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
