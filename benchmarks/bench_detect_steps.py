"""``netanalysis detect``'s steps one by one: CPU seconds and memory of each stage (issue 21).

What ``netanalysis detect`` runs, in one process: the read of the detection graph
(``read_detection_graph``) and ``detect`` on it, or with ``--around`` what ``detect --max-memory``
runs (``detect_store``: the evidence, then each step's facts read around the groups). The CPU
seconds (``time.process_time``) and the resident memory are taken at every stage ``detect``
reports to its ``progress`` callback (``detect.STAGES``), so the figures are per step and do not
depend on the wall clock of a busy machine. The frames are written to ``--out`` as
``netanalysis detect`` writes them, so two checkouts' folders compare with ``diff -r``.

Nothing but the public calls is used, so the same script measures any checkout: run it with
that checkout's interpreter, from outside its tree, e.g. old and new started together:

    nice -n 10 /tmp/old/.venv/bin/python benchmarks/bench_detect_steps.py --store old.sqlite \\
        --out out-old --json old.json &
    nice -n 10 .venv/bin/python benchmarks/bench_detect_steps.py --store new.sqlite \\
        --out out-new --json new.json
    diff -r out-old out-new
    .venv/bin/python benchmarks/bench_detect_steps.py --compare old.json new.json

Prints one JSON object: the checkout, the stages with their CPU seconds and the resident memory
after each (MB), the peak (``ru_maxrss``), and the whole run's CPU; ``--compare`` prints the two
side by side as a Markdown table with the ratios new/old.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(store_uri: str, out: Path | None, around: bool) -> dict[str, Any]:
    """Detect on ``store_uri`` with the default settings; the per-stage figures."""
    import netanalysis
    from graphstore import open_store
    from netanalysis.detect import DetectionSettings, detect, detect_store
    from netanalysis.graphs import read_detection_graph

    stages: list[dict[str, Any]] = []
    start_cpu = time.process_time()
    mark = [start_cpu, time.perf_counter()]

    def close(stage: str) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        stages.append(
            {
                "stage": stage,
                "cpu": round(cpu - mark[0], 3),
                "wall": round(wall - mark[1], 3),
                "rss_mb": round(_rss_mb()),
                "peak_mb": round(_peak_mb()),
            }
        )
        mark[0], mark[1] = cpu, wall

    from netanalysis.detect import STAGES

    def progress(kind: str, done: int, total: int | None) -> None:
        # detect reports each stage once it is done, counting from 1
        if kind == "detect" and done:
            close(STAGES[done - 1] if done <= len(STAGES) else f"stage{done}")
        elif kind == "read" and total is not None and done == total:
            close("read")

    settings = DetectionSettings()
    store = open_store(store_uri)
    try:
        if around:
            result = detect_store(store, settings, progress=progress)
        else:
            graph = read_detection_graph(store, settings.date_from, settings.date_to)
            close("read")
    finally:
        store.close()
    if not around:
        result = detect(graph, settings, progress=progress)
        del graph
    if out is not None:
        result.write(out)
        close("write")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "checkout": str(Path(netanalysis.__file__).resolve().parent.parent),
        "store": store_uri,
        "around": around,
        "stages": stages,
        "cpu": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024),
        "groups": int(len(result.group_summary)),
        "loadavg": os.getloadavg(),
    }


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Markdown table: each stage's CPU seconds, old and new, and new/old."""
    lines = ["| stage | old CPU s | new CPU s | new/old | old RSS after (MB) | new RSS after (MB) |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    new_by = {s["stage"]: s for s in new["stages"]}
    for s in old["stages"]:
        n = new_by.get(s["stage"], {"cpu": float("nan"), "rss_mb": float("nan")})
        ratio = n["cpu"] / s["cpu"] if s["cpu"] else float("nan")
        cells = [s["stage"], f"{s['cpu']:.2f}", f"{n['cpu']:.2f}", f"{ratio:.2f}", s["rss_mb"], n["rss_mb"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append(
        f"| **whole process** | {old['cpu']:.1f} | {new['cpu']:.1f} | **{new['cpu'] / old['cpu']:.2f}** "
        f"| peak {old['peak_mb']} | peak {new['peak_mb']} ({new['peak_mb'] / old['peak_mb']:.2f}) |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="Embedded store file or bolt:// URI.")
    parser.add_argument("--out", type=Path, help="Write the detection files here.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument("--around", action="store_true", help="detect_store, as detect --max-memory.")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if args.compare:
        old, new = (json.loads(p.read_text(encoding="utf-8")) for p in args.compare)
        print(compare(old, new))
        return 0
    if not args.store:
        parser.error("--store is needed")
    figures = run(args.store, args.out, args.around)
    text = json.dumps(figures, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
