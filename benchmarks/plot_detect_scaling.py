"""Draw the scaling curve of the detection from the Markdown tables printed by bench_detect.py.

    .venv/bin/python benchmarks/bench_detect.py --persons 10000 100000 > out/bench.md
    .venv/bin/python benchmarks/plot_detect_scaling.py out/bench.md [more.md ...] \
        --png docs/images/detect-scaling.png

Reads every table row (``| persons | method | stability runs | ... |``), and plots detect wall
time, detect CPU time and peak memory against persons on log-log axes, one line per method and
number of stability runs, with the 5-minute target as a line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def read_rows(paths: list[Path]) -> list[dict[str, float | str]]:
    """The benchmark rows of the given Markdown files."""
    rows: list[dict[str, float | str]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 10 or not cells[0].replace(",", "").isdigit():
                continue
            rows.append(
                {
                    "persons": float(cells[0].replace(",", "")),
                    "method": cells[1],
                    "runs": cells[2],
                    "detect_s": float(cells[7]),
                    "cpu_s": float(cells[8]),
                    "rss_mb": float(cells[9].replace(",", "")),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", type=Path, nargs="+")
    parser.add_argument("--png", type=Path, default=Path("docs/images/detect-scaling.png"))
    parser.add_argument("--note", default="", help="added to the title, e.g. the machine's load")
    args = parser.parse_args()
    rows = read_rows(args.tables)
    if not rows:
        raise SystemExit("no benchmark rows found in the given files")
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(10, 4))
    series = sorted({(str(r["method"]), str(r["runs"])) for r in rows})
    for method, runs in series:
        points = sorted(
            (r for r in rows if (r["method"], r["runs"]) == (method, runs)), key=lambda r: r["persons"]
        )
        x = [r["persons"] for r in points]
        label = f"{method}, {runs} stability runs"
        ax_time.plot(x, [r["detect_s"] for r in points], marker="o", label=f"{label}: wall")
        ax_time.plot(x, [r["cpu_s"] for r in points], marker="x", linestyle="--", label=f"{label}: CPU")
        ax_mem.plot(x, [r["rss_mb"] for r in points], marker="o", label=label)
    ax_time.axhline(300, color="grey", linewidth=0.8)
    ax_time.text(1.1e4, 330, "target: 5 minutes", color="grey", fontsize=8)
    for ax, title, unit in ((ax_time, "detect() time", "seconds"), (ax_mem, "peak memory", "MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("persons (suspects and victims)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", linewidth=0.3)
    ax_time.legend(fontsize=7)
    ax_mem.legend(fontsize=7)
    title = "Detection end to end, synthetic store-shaped graphs (shared 2-core machine)"
    fig.suptitle(f"{title}{'; ' + args.note if args.note else ''}", fontsize=9)
    fig.tight_layout()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)
    print(args.png)


if __name__ == "__main__":
    main()
