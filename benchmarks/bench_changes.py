"""Speed of ``netanalysis changes`` between two detections of a store of N persons (issue 13).

    .venv/bin/python benchmarks/bench_changes.py DIR --persons 1000000

Builds a store-shaped graph of about N persons (``bench_detect.build_graph``, seed 0), detects
and writes the detection to ``DIR/previous``; then the graph of about 1% more persons (the same
seed: the first N persons are the same, a delivery adds groups and observations), detects it,
continues the previous group ids (``follow_groups``) and writes ``DIR/current``. Then runs the
command ``netanalysis changes --previous DIR/previous --current DIR/current`` in a child process
and prints its wall and CPU seconds (only the command is timed; ``--reuse`` skips the detections
when both folders exist).

    .venv/bin/python benchmarks/bench_changes.py DIR --reuse --against 9bbcf43

also times ``na.changes`` of that commit (``git show REV:netanalysis/changes.py``) against this
tree's, alternately twice each in this process, on the same folders, and checks they find the
same changed groups.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bench_detect import build_graph


def _detect(persons: int, out: Path, previous: Path | None) -> dict[str, object]:
    from netanalysis.detect import DetectionSettings, detect
    from netanalysis.lineage import follow_groups

    graph = build_graph(persons)
    result = detect(graph, DetectionSettings(stability_runs=0, betweenness_k=64))
    if previous is not None:
        result = follow_groups(result, previous)
    result.write(out)
    return {"persons": sum(1 for _n, a in graph.nodes(data=True) if a.get("label") == "Person")}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _against(folder: Path, rev: str) -> dict[str, object]:
    """CPU s of ``changes`` at commit ``rev`` and in this tree, alternately, in this process."""
    import importlib
    import importlib.util

    # The module, not the function ``na.changes`` that the package exports under the same name.
    now = importlib.import_module("netanalysis.changes")

    text = subprocess.run(
        ["git", "show", f"{rev}:netanalysis/changes.py"], capture_output=True, text=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "changes_before.py"
        path.write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("changes_before", path)
        assert spec is not None and spec.loader is not None
        before: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules["changes_before"] = before  # a dataclass looks its module up there
        spec.loader.exec_module(before)
    out: dict[str, object] = {}
    found = {}
    for name, module in (("old", before), ("new", now), ("old_again", before), ("new_again", now)):
        cpu, load = _cpu(), os.getloadavg()[0]
        result = module.changes(folder / "previous", folder / "current")
        out[f"{name}_cpu_s"] = round(_cpu() - cpu, 1)
        out[f"{name}_load_average"] = round(load, 2)
        found[name] = result.changed_groups.to_csv(index=False)
    out["same_result"] = len(set(found.values())) == 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--against", metavar="REV", help="also time na.changes of this commit, in-process")
    args = parser.parse_args()
    previous, current, out = args.dir / "previous", args.dir / "current", args.dir / "changes"
    figures: dict[str, object] = {}
    if not (args.reuse and previous.is_dir() and current.is_dir()):
        figures["previous"] = _detect(args.persons, previous, None)
        figures["current"] = _detect(args.persons + args.persons // 100, current, previous)
    command = [
        str(Path(sys.executable).with_name("netanalysis")),
        "changes",
        "--previous",
        str(previous),
        "--current",
        str(current),
        "--out",
        str(out),
    ]
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures.update(
        {
            "step": "changes",
            "wall_s": round(wall, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "peak_rss_mb": after.ru_maxrss // 1024,
            "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
            "summary": done.stdout.splitlines()[:12],
        }
    )
    if args.against:
        figures["against"] = {"rev": args.against, **_against(args.dir, args.against)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
