"""Where the CPU of the load's entity resolution goes, step by step, and how the steps grow.

    .venv/bin/python benchmarks/bench_resolve_steps.py SET [SET ...]   # SET: a `netanalysis synth --out`
    OLD/.venv/bin/python benchmarks/bench_resolve_steps.py SET          # the same for another checkout

Reads each set's records as ``load`` does (not counted; the cycle collector set and the records
frozen as ``load`` does, ``loaders.pipeline._long_lived``), then resolves them with
``loaders.pipeline.resolve_persons`` and prints one JSON line per set: the CPU seconds (of this
thread, ``time.thread_time``) of each step the engine takes, measured by wrapping the engine's
own functions (so it runs against any checkout that has them): the comparison values
(``features``), the match model (u from random pairs and term frequencies), the blocking
(``candidate_codes``), the comparison of the pairs (``_pairs_of``), EM (``fit_m``), the scores,
the guard against chaining (``_split_incoherent``), the person ids (``_canonical_identity`` and
its HMAC), and the rest of ``link`` (union-find, components, pairs, links). Also the candidate
pairs, the largest component the guard walked and the digest ``resolve_digest.py`` prints, so
two checkouts can be compared for the same persons in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loaders.linkage as linkage
import loaders.resolve as resolve
from loaders.mapping import load_mapping
from loaders.pipeline import _long_lived, read_records, resolve_persons
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files

_spent: Counter[str] = Counter()
_calls: Counter[str] = Counter()
_depth = [0]
_largest = [0]


def _timed(name: str, function: Callable[..., Any], outer: bool = False) -> Callable[..., Any]:
    """``function`` with its thread CPU added to ``_spent[name]``: the outermost timed step only
    (a step called inside another counts in that one), except for ``outer`` (``link`` itself)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if outer:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                _spent[name] += time.thread_time() - started
        if _depth[0]:
            return function(*args, **kwargs)
        _depth[0] += 1
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            _spent[name] += time.thread_time() - started
            _calls[name] += 1
            _depth[0] -= 1

    return wrapper


def _instrument() -> None:
    """Wrap the engine's steps where ``link`` and ``resolve`` look them up (module globals)."""
    for module, name, label in (
        (resolve, "features", "features"),
        (resolve, "_canonical_identity", "person_ids"),
        (linkage, "candidate_codes", "blocking"),
        (linkage, "_pairs_of", "compare_pairs"),
        (linkage, "fit_m", "em"),
        (linkage, "_split_incoherent", "split_guard"),
    ):
        setattr(module, name, _timed(label, getattr(module, name)))
    linkage.MatchModel.__init__ = _timed("model", linkage.MatchModel.__init__)  # type: ignore[method-assign]
    linkage._Pairs.scores = _timed("scores", linkage._Pairs.scores)  # type: ignore[method-assign]
    split = linkage._split_incoherent

    def sized(members: list[int], *args: Any, **kwargs: Any) -> Any:
        _largest[0] = max(_largest[0], len(members))
        return split(members, *args, **kwargs)

    linkage._split_incoherent = sized  # type: ignore[assignment]
    resolve.link = _timed("link", resolve.link, outer=True)


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]


def run(folder: Path) -> dict[str, Any]:
    """Resolve the records of one set and return the steps' CPU seconds and the digests."""
    _spent.clear()
    _calls.clear()
    _largest[0] = 0
    mapping = load_mapping(folder / "sources.yaml")
    # The cycle collector as the load sets it: the records frozen once read (``_long_lived``).
    with _long_lived() as settle:
        files = assign_files(mapping, [folder / "sources"])
        records = read_records(mapping, files, lambda _issue: None, {})
        settle()
        load = os.getloadavg()[0]
        started = time.thread_time()
        res = resolve_persons(records, Pseudonymiser(bytes(range(5, 37))))
        total = time.thread_time() - started
    # Inside link: everything it spent outside the steps timed on their own.
    inner = sum(v for k, v in _spent.items() if k not in ("features", "link"))
    steps = {k: round(v, 2) for k, v in sorted(_spent.items()) if k != "link"}
    steps["link_rest"] = round(_spent["link"] - inner, 2)
    steps["resolve_rest"] = round(total - _spent["link"] - _spent["features"], 2)
    return {
        "set": str(folder),
        "records": res.stats.get("records", 0),
        "persons": len(res.clusters),
        "digest": _digest(sorted(res.person_of.items())),
        "pairs": _digest(sorted(repr(p) for p in res.pairs)),
        "candidate_pairs": res.stats.get("scored_pairs", 0),
        "accepted_pairs": res.stats.get("accepted_pairs", 0),
        "split_components": res.stats.get("split_components", 0),
        "largest_component": _largest[0],
        "resolve_cpu_s": round(total, 2),
        "steps_cpu_s": steps,
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    _instrument()
    for folder in sys.argv[1:]:
        print(json.dumps(run(Path(folder))), flush=True)


if __name__ == "__main__":
    main()
