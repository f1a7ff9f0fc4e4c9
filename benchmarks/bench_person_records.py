"""CPU of ``GraphStore.person_records`` on an embedded store, by blocking key and by person.

    PYTHONHASHSEED=0 .venv/bin/python benchmarks/bench_person_records.py STORE [--code CHECKOUT]

Random sets of the store's blocking keys (60,000 and 2,000) and persons (40,000 and 1,000), the
same for every run (seed 1); prints each read's CPU seconds, rows and a hash of the rows, so that
two checkouts (``--code`` puts another one first on the path) can be compared side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store")
    parser.add_argument("--code", help="a checkout to import the store from (default: this one)")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, args.code)
    from graphstore import open_store

    conn = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    keys = [row[0] for row in conn.execute("SELECT DISTINCT block FROM record_blocks")]
    persons = [row[0] for row in conn.execute("SELECT key FROM nodes WHERE label = 'Person'")]
    conn.close()
    rng = random.Random(1)
    reads = {
        "blocks 60k": {"blocks": rng.sample(keys, min(60_000, len(keys)))},
        "blocks 2k": {"blocks": rng.sample(keys, min(2_000, len(keys)))},
        "persons 40k": {"persons": rng.sample(persons, min(40_000, len(persons)))},
        "persons 1k": {"persons": rng.sample(persons, min(1_000, len(persons)))},
    }
    store = open_store(args.store)
    try:
        for name, kwargs in reads.items():
            start = time.process_time()
            rows = store.person_records(**kwargs)
            cpu = round(time.process_time() - start, 2)
            print(json.dumps({"read": name, "cpu_s": cpu, "rows": len(rows), "hash": hash(tuple(rows))}))
    finally:
        store.close()


if __name__ == "__main__":
    main()
