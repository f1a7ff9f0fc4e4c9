"""What a load costs when the embedded store writes it as one transaction (issue 21, full disk).

Writes ``--nodes`` Person nodes and ``--rels`` relationships (synthetic keys, no personal data) in
batches of 5,000 between ``begin_load`` and ``end_load`` into a fresh embedded store, as a load
does, and prints one JSON line: CPU s of the process, wall s, peak RSS, the size of the
write-ahead log just before ``end_load`` and the file's size after it.

Run it with two checkouts' interpreters to compare the code of each side by side (the script
imports ``graphstore`` from the interpreter's own install)::

    OLD/.venv/bin/python benchmarks/bench_load_transaction.py --nodes 300000 --rels 900000
    NEW/.venv/bin/python benchmarks/bench_load_transaction.py --nodes 300000 --rels 900000

Before the change each batch was a transaction of its own; after it, the load is one
transaction and each batch a savepoint in it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from graphstore import RelRow
from graphstore.embedded import EmbeddedStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=300_000)
    parser.add_argument("--rels", type=int, default=900_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    persons = [
        {"person_id": f"{rng.getrandbits(64):016x}", "roles": ["suspect"], "observed_on": "2024-01-01"}
        for _ in range(args.nodes)
    ]
    ids = [p["person_id"] for p in persons]
    phones = [{"phone_id": f"{rng.getrandbits(64):016x}"} for _ in range(args.nodes // 3)]
    phone_ids = [p["phone_id"] for p in phones]
    rels = [
        RelRow(
            rng.choice(ids),
            rng.choice(phone_ids),
            f"bench:{i}",
            {"source": "bench", "row_id": str(i), "observed_on": "2024-01-01", "batch": "b"},
        )
        for i in range(args.rels)
    ]
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        path = Path(tmp) / "g.sqlite"
        wal = Path(f"{path}-wal")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        store = EmbeddedStore(path)
        store.begin_load("bench")
        store.upsert_nodes("Person", persons)
        store.upsert_nodes("Phone", phones)
        store.upsert_relationships("USES", "Person", "Phone", rels)
        wal_before_end = wal.stat().st_size if wal.exists() else 0
        store.end_load("bench")
        store.close()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            json.dumps(
                {
                    "nodes": args.nodes,
                    "rels": args.rels,
                    "cpu_s": round(cpu, 1),
                    "wall_s": round(wall, 1),
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                    "wal_before_end_mb": round(wal_before_end / 2**20, 1),
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "loadavg": [round(x, 1) for x in os.getloadavg()],
                }
            )
        )


if __name__ == "__main__":
    main()
