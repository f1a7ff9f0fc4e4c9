"""CPU cost of the comparison data kept for resolution across loads (issue 13).

    .venv/bin/python benchmarks/bench_delivery_load.py --rows 20000

Generates a synthetic set, splits it into 20 chronological deliveries
(``eval_deliveries.split``), and on an embedded store loads the whole set at once, then 19
deliveries at once followed by the last one alone: "before" with the comparison data switched
off (what a load did before issue 13), "with" as the toolkit loads now. Prints CPU seconds.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path
from typing import Any

from eval_deliveries import split

import loaders.pipeline as pipeline
from graphstore import open_store
from loaders import crossload
from loaders.pseudonymise import Pseudonymiser
from synth import generate

KEY = Pseudonymiser(bytes(range(5, 37)))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="delivery-load-"))
    generate(work / "set", seed=args.seed, rows=args.rows)
    mapping = work / "set" / "sources.yaml"
    deliveries = split(work / "set", work / "deliveries", 20)
    real: tuple[Any, Any] = (crossload.Comparer.value, pipeline.stored_comparisons)
    for mode in ("before", "with"):
        off = mode == "before"
        crossload.Comparer.value = (lambda self, record: None) if off else real[0]  # type: ignore[method-assign]
        # Before, a load read the stored records' person ids (and nothing to compare with).
        pipeline.stored_comparisons = (lambda store: (*real[1](store)[:2], set())) if off else real[1]  # type: ignore[assignment]
        figures = []
        for name, batches in (
            ("whole set", [[work / "set" / "sources"]]),
            ("19 + 1", [deliveries[:-1], deliveries[-1:]]),
        ):
            store = open_store(str(work / f"{mode}-{name}.db"))
            for number, batch in enumerate(batches):
                cpu = _cpu()
                pipeline.load(batch, store, mapping, KEY, rejects_path=work / f"{mode}-{name}-{number}.csv")
                figures.append(f"{name} [{number}]: {_cpu() - cpu:.1f} CPU s")
            records = store.counts()["Record"]
            store.close()
        print(f"{mode}: {'; '.join(figures)} ({records:,} person records)")


if __name__ == "__main__":
    main()
