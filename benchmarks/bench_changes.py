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

    .venv/bin/python benchmarks/bench_changes.py DIR --tile FROM_DIR 10

makes DIR/previous and DIR/current from the two detections in FROM_DIR (of this script) as 10
copies side by side, every group, person and signal id suffixed with its copy's number (the
groups of a 100k-person pair become those of a 1M-person pair without two 1M detections; the
lineage is tiled too, so every copy changes as the original did), then times the command.
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


def _tile(source: Path, folder: Path, copies: int) -> None:
    """``copies`` copies of the detection pair in ``source``, ids suffixed ``-<copy>``."""
    import pandas as pd

    ids = {
        "groups": ["group_id", "person_id"],
        "group_summary": ["group_id"],
        "movements": ["group_id", "person_id"],
        "leads": ["signal_id", "group_id"],
        "lineage": ["group_id", "related"],
    }
    for run in ("previous", "current"):
        out = folder / run
        out.mkdir(parents=True, exist_ok=True)
        for name, columns in ids.items():
            path = source / run / f"{name}.csv"
            if not path.is_file():
                continue
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            parts = []
            for k in range(copies):
                part = frame.copy()
                for column in columns:
                    part[column] = [
                        "|".join(f"{v}-{k}" for v in value.split("|")) if value else value
                        for value in part[column].tolist()
                    ]
                parts.append(part)
            pd.concat(parts, ignore_index=True).to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        settings = json.loads((source / run / "settings.json").read_text(encoding="utf-8"))
        if settings.get("lineage"):
            settings["lineage"]["events"] = int(settings["lineage"]["events"]) * copies
        (out / "settings.json").write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--against", metavar="REV", help="also time na.changes of this commit, in-process")
    parser.add_argument("--tile", nargs=2, metavar=("FROM_DIR", "COPIES"), help="copies of another pair")
    args = parser.parse_args()
    previous, current, out = args.dir / "previous", args.dir / "current", args.dir / "changes"
    figures: dict[str, object] = {}
    if args.tile:
        if not (args.reuse and previous.is_dir() and current.is_dir()):
            _tile(Path(args.tile[0]), args.dir, int(args.tile[1]))
        figures["tiled"] = {"from": args.tile[0], "copies": int(args.tile[1])}
    elif not (args.reuse and previous.is_dir() and current.is_dir()):
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
