"""What a retention run costs on a loaded store (issue 14 item 3).

Works on a copy of an embedded store (the original is left as it is): a dry run (read the graph,
plan), then the real run (read again under the write lock, plan, delete in one transaction,
``secure_delete`` + checkpoint + ``VACUUM``). Prints one JSON object: the counts, CPU and wall
seconds of each run, the peak memory of the process and the file size before and after.

    .venv/bin/netanalysis synth --out set --seed 7 --rows 100000
    .venv/bin/netanalysis load set/sources --mapping set/sources.yaml --store graph.sqlite
    .venv/bin/python benchmarks/bench_retention.py --store graph.sqlite --policy retention.yaml \\
        --as-of 2026-12-06
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--store", type=Path, required=True, help="A loaded embedded store (copied, not changed)."
    )
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()

    import netanalysis as na

    figures: dict[str, object] = {"store": str(args.store), "as_of": args.as_of}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "graph.sqlite"
        shutil.copyfile(args.store, copy)
        figures["file_mb_before"] = round(copy.stat().st_size / 1e6, 1)
        store = na.open_store(str(copy))
        try:
            for name, dry in (("dry_run", True), ("run", False)):
                cpu, wall = time.process_time(), time.perf_counter()
                result = na.apply_retention(store, args.policy, as_of=args.as_of, dry_run=dry)
                figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 1)
                figures[f"{name}_wall_s"] = round(time.perf_counter() - wall, 1)
                figures[f"{name}_counts"] = result.counts()
            figures["by_rule"] = result.by_rule
            figures["nodes_deleted"] = result.plan.nodes_deleted_by_label()
            before = store.counts()
            figures["nodes_after"] = sum(v for k, v in before.items() if k[:1].isupper() and not k.isupper())
        finally:
            store.close()
        figures["file_mb_after"] = round(copy.stat().st_size / 1e6, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
