"""What the progress of the store reads costs (issue 21 item 4): CPU seconds of
``read_detection_graph`` and ``read_report_graph`` without progress, with a progress function that
does nothing, and with the command's bar callback (``stage_bar``, its rich ``Progress`` not
drawn), side by side in one process, alternating; and the same reads by the code before
(``--old``, a worktree at the base commit) in a process of its own. Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_read_progress.py STORE [--repeat 5] [--old DIR]

Prints the median CPU seconds (``time.process_time``: the machine is shared, wall time measures
the neighbours) of each read and mode, the rows read and the ratios to "none".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def _modes() -> dict[str, Any]:
    from rich.console import Console

    from netanalysis.commands.progress import RowsRead, stage_bar

    def noop(done: int, total: int) -> None:
        pass

    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    _bar, shown = stage_bar(console, {"read": "read"}, unit="stages", units={"read": "rows"})
    return {"none": None, "noop": noop, "bar": RowsRead(shown, "read")}


def worker(uri: str, repeat: int, modes: list[str]) -> dict[str, Any]:
    """Run in this process: every read in every mode ``repeat`` times, the modes alternating."""
    import netanalysis as na
    from graphstore import open_store

    store = open_store(uri)
    # The code before has no RowsRead: it runs "none" only.
    made = _modes() if modes != ["none"] else {"none": None}
    reads: dict[str, Callable[..., Any]] = {
        "detection": na.read_detection_graph,
        "report": na.read_report_graph,
    }
    seen: dict[str, list[int]] = {}
    out: dict[str, dict[str, list[float]]] = {name: {m: [] for m in modes} for name in reads}
    for name, read in reads.items():
        read(store)  # warm: the page cache, the imports, the schema
        for _ in range(repeat):
            for mode in modes:
                calls: list[int] = []
                progress = made[mode]
                if progress is not None:
                    inner = progress

                    def progress(done: int, total: int, inner: Any = inner, calls: list[int] = calls) -> None:
                        calls.append(done)
                        inner(done, total)

                kwargs = {} if progress is None else {"progress": progress}
                start = time.process_time()
                read(store, **kwargs)
                out[name][mode].append(time.process_time() - start)
                if calls:
                    seen[name] = [calls[-1], len(calls)]
    store.close()
    return {"cpu": out, "rows": seen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old", help="a worktree of the code before (its reads take no progress)")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.store, args.repeat, args.worker.split(","))))
        return
    print(f"load average {os.getloadavg()}", flush=True)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = [("new", here, "none,noop,bar")]
    if args.old:
        runs.append(("old", os.path.abspath(args.old), "none"))
    results: dict[str, Any] = {}
    for label, root, modes in runs:
        env = {**os.environ, "PYTHONPATH": root}
        cmd = [sys.executable, os.path.abspath(__file__), args.store, "--repeat", str(args.repeat)]
        done = subprocess.run(
            [*cmd, "--worker", modes], env=env, cwd=root, check=True, capture_output=True, text=True
        )
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("detection", "report"):
        base = statistics.median(results["new"]["cpu"][name]["none"])
        rows, calls = results["new"]["rows"].get(name, [0, 0])
        print(f"{name}: {rows:,} rows read, {calls} progress calls")
        for label, _root, modes in runs:
            for mode in modes.split(","):
                times = results[label]["cpu"][name][mode]
                med = statistics.median(times)
                spread = ", ".join(f"{t:.3f}" for t in times)
                print(f"  {label} {mode:5s} median {med:.3f} cpu_s  ratio {med / base:.3f}  ({spread})")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
