"""Pairwise precision and recall of entity resolution against the synthetic truth.

Usage::

    .venv/bin/python benchmarks/eval_resolution.py                    # data_samples/
    .venv/bin/python benchmarks/eval_resolution.py --rows 20000 --seed 11 --noise 0.1
    .venv/bin/python benchmarks/eval_resolution.py --folder some/synth/output

With ``--rows`` a fresh set is generated with ``netanalysis synth`` into a temporary folder. The
records go through the same read/validate/normalise steps and the same resolution as
``netanalysis load``; the truth is ``truth/mentions.csv``. Seed 11 was used for tuning; the test
(tests/test_resolution_quality.py) pins the figures on seed 7.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from loaders.resolve_eval import evaluate_folder

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--estimate-m", choices=("default", "on", "off"), default="default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or REPO / "data_samples"
        if args.rows:
            folder = Path(tmp) / "synth"
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "netanalysis"),
                    "synth",
                    "--out",
                    str(folder),
                    "--seed",
                    str(args.seed),
                    "--rows",
                    str(args.rows),
                    "--noise",
                    str(args.noise),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        em = None if args.estimate_m == "default" else args.estimate_m == "on"
        q = evaluate_folder(folder, estimate_m=em)
    label = f"rows={args.rows} seed={args.seed} noise={args.noise}" if args.rows else str(folder)
    print(
        f"{label}: records={q.records} true_pairs={q.true_pairs} predicted_pairs={q.predicted_pairs} "
        f"correct={q.correct_pairs} precision={q.precision:.4f} recall={q.recall:.4f} "
        f"resolve_seconds={q.seconds:.2f} undated_records={q.undated_records} "
        f"undated_unlinked={q.undated_unlinked}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
