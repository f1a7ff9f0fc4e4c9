"""The pipeline a user runs, step by step, at growing sizes (issue 21): synth, load, detect, report.

Each step is the command line itself (``netanalysis synth``, ``load``, ``detect``, ``report``) in a
process of its own, so each step's CPU seconds and peak memory are the operating system's own
accounting of that process (``os.wait4``), start-up included. Nothing is imported from the
toolkit: the same script measures any checkout through ``--netanalysis PATH`` (its console
script), so an old and a new checkout can be run on the same sizes and compared.

    nice -n 10 .venv/bin/python benchmarks/bench_pipeline.py --rows 100000 300000 1000000 \\
        --dir /work/bench-pipeline --out benchmarks/pipeline.jsonl
    .venv/bin/python benchmarks/bench_pipeline.py --plot benchmarks/pipeline.jsonl \\
        --png docs/images/pipeline-scaling.png

Each step appends one JSON line to ``--out``: rows asked for, step, wall and CPU seconds, peak RSS
(MB), the load average before and after, the store's size on disk and the command. A step that
fails stops that size (its line has ``"exit"`` != 0 and the last lines of its error output).
``--keep`` keeps each size's folder (the synthetic set, the store, the outputs) for reuse;
``--reuse`` skips synth and load when the folder already has a complete store.
The report reports on the detection step's folder (``report --detection``, the routine of
docs/report.md); ``--report-alone`` makes it detect again, as it did before that option existed
(and as a checkout without it does).
``--plot`` draws wall time and peak memory per step (and the total) against rows, log-log, with
the issue's targets: 10 minutes and 8 GB at 1M rows, 60 minutes and 16 GB at 10M rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STEPS = ("synth", "load", "detect", "report")


def _run(cmd: list[str], log: Path) -> dict[str, Any]:
    before = os.getloadavg()[0]
    start = time.perf_counter()
    with open(log, "ab") as fh:
        fh.write(("$ " + " ".join(cmd) + "\n").encode())
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": usage.ru_maxrss // 1024,
        "load_before": round(before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "command": " ".join(cmd),
    }


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.parent.glob(path.name + "*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def run_size(
    exe: str, rows: int, folder: Path, seed: int, reuse: bool, out: Path, report_alone: bool = False
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "pipeline.log"
    data, store, key = folder / "set", folder / "graph.sqlite", folder / "k.key"
    done = folder / "loaded.ok"
    env_note = {"rows": rows, "seed": seed, "netanalysis": exe, "report_alone": report_alone}
    commands = {
        "synth": [exe, "synth", "--out", str(data), "--seed", str(seed), "--rows", str(rows), "--quiet"],
        "load": [
            exe,
            "load",
            str(data / "sources"),
            "--mapping",
            str(data / "sources.yaml"),
            "--store",
            str(store),
            "--key-file",
            str(key),
            "--rejects",
            str(folder / "rejects.csv"),
        ],
        "detect": [exe, "detect", "--store", str(store), "--out", str(folder / "detect")],
        # The synthetic observations fall in 2021-2025: a five-year series, as bench_report.py.
        "report": [
            *(exe, "report", "--store", str(store), "--out", str(folder / "report")),
            *("--from-year", "2021", "--to-year", "2025", "--quiet"),
            *(() if report_alone else ("--detection", str(folder / "detect"))),
        ],
    }
    steps = list(STEPS)
    if reuse and done.exists():
        steps = ["detect", "report"]
    else:
        for stale in (data, folder / "detect", folder / "report"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in folder.glob("graph.sqlite*"):
            stale.unlink()
        done.unlink(missing_ok=True)
        if not key.exists():
            subprocess.run([exe, "keygen", "--out", str(key)], check=True, capture_output=True)
    for step in steps:
        if step in ("detect", "report"):
            shutil.rmtree(folder / step, ignore_errors=True)
        result = _run(commands[step], log)
        line = {**env_note, "step": step, **result}
        if step != "synth":
            line["store_mb"] = _size_mb(store)
        if result["exit"] != 0:
            line["error"] = log.read_text(errors="replace").splitlines()[-5:]
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        print(json.dumps(line), flush=True)
        if result["exit"] != 0:
            return
        if step == "load":
            done.touch()


def plot(paths: list[Path], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.5))
    for n_file, path in enumerate(paths):
        # The latest line of each size and step counts (a size re-run with --reuse replaces it).
        latest: dict[tuple[int, str], dict[str, Any]] = {}
        for text in path.read_text().splitlines():
            x = json.loads(text) if text.strip() else {}
            if x.get("exit") == 0:
                latest[x["rows"], x["step"]] = x
        tag = f" ({path.stem})" if len(paths) > 1 else ""
        style = ("-", ":", "-.")[n_file % 3]
        for step in STEPS:
            pts = sorted(
                (n, x["wall_s"] / 60, x["peak_mb"] / 1024) for (n, st), x in latest.items() if st == step
            )
            if pts:
                xs = [p[0] for p in pts]
                ax_t.plot(xs, [p[1] for p in pts], style, marker="o", label=step + tag)
                ax_m.plot(xs, [p[2] for p in pts], style, marker="o", label=step + tag)
        # Load, detect and report: what the 10-minute and 60-minute targets count.
        totals = [
            (n, sum(latest[n, s]["wall_s"] for s in ("load", "detect", "report")) / 60)
            for n in sorted({n for n, _ in latest})
            if all((n, s) in latest for s in ("load", "detect", "report"))
        ]
        if totals:
            xs, ys = [t[0] for t in totals], [t[1] for t in totals]
            ax_t.plot(xs, ys, "k" + style, marker="s", label="load+detect+report" + tag)
    ax_t.scatter([1e6, 1e7], [10, 60], marker="*", s=150, color="red", zorder=5, label="target")
    ax_m.scatter([1e6, 1e7], [8, 16], marker="*", s=150, color="red", zorder=5, label="target")
    for ax, what in ((ax_t, "wall time (minutes)"), (ax_m, "peak memory (GB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("synthetic rows")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("netanalysis pipeline on the embedded store, 2 cores / 24 GB")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    print(f"wrote {png}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000])
    parser.add_argument("--dir", type=Path, default=Path("pipeline-bench"))
    parser.add_argument("--out", type=Path, default=Path("pipeline.jsonl"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--netanalysis", default=str(Path(sys.executable).with_name("netanalysis")))
    parser.add_argument("--keep", action="store_true", help="keep each size's folder")
    parser.add_argument("--reuse", action="store_true", help="skip synth and load when a store is there")
    parser.add_argument(
        "--report-alone", action="store_true", help="the report detects again (no --detection)"
    )
    parser.add_argument("--plot", type=Path, nargs="*", help="JSON-lines files to draw (no run)")
    parser.add_argument("--png", type=Path, default=Path("pipeline-scaling.png"))
    args = parser.parse_args()
    if args.plot:
        plot(args.plot, args.png)
        return
    for rows in args.rows:
        folder = args.dir / f"r{rows}"
        run_size(args.netanalysis, rows, folder, args.seed, args.reuse, args.out, args.report_alone)
        if not args.keep and not args.reuse:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
