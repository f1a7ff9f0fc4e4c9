"""Resolve a synthetic set's person records as a load does and print a digest of the result.

    .venv/bin/python benchmarks/resolve_digest.py SET      # SET: a `netanalysis synth --out` folder

Prints one JSON line: persons, a digest of every record's person and one of the accepted pairs,
the components the guard against chaining split, and the CPU seconds of the resolution. Two
checkouts that give the same digests on the same set resolve it the same way (run each with its
own interpreter, e.g. an old worktree's `.venv/bin/python`).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
from pathlib import Path

from loaders.mapping import load_mapping
from loaders.pipeline import read_records, resolve_persons
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]


def main() -> None:
    folder = Path(sys.argv[1])
    mapping = load_mapping(folder / "sources.yaml")
    records = read_records(mapping, assign_files(mapping, [folder / "sources"]), lambda _issue: None, {})
    started = _cpu()
    res = resolve_persons(records, Pseudonymiser(bytes(range(5, 37))))
    spent = _cpu() - started
    print(
        json.dumps(
            {
                "persons": len(res.clusters),
                "digest": _digest(sorted(res.person_of.items())),
                "pairs": _digest(sorted(repr(p) for p in res.pairs)),
                "split_components": res.stats.get("split_components", 0),
                "resolve_cpu_s": round(spent, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
