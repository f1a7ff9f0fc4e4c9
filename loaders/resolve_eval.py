"""Measure entity resolution against a synthetic truth (``truth/mentions.csv``).

Pairwise precision and recall: over all pairs of loaded person records that the truth lists, a
pair is predicted when both records got the same person id, and true when both mention the same
``true_person``. Used by ``benchmarks/eval_resolution.py`` and pinned by a test.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from loaders.mapping import load_mapping
from loaders.pipeline import read_records, resolve_persons
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files
from loaders.resolve import DEFAULT_THRESHOLD

__all__ = ["ResolutionQuality", "evaluate_folder", "pairwise_quality"]


@dataclass(frozen=True)
class ResolutionQuality:
    """Pairwise quality of a resolution and what it cost."""

    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    seconds: float = 0.0
    undated_records: int = 0  # person records without a birth date
    undated_unlinked: int = 0  # of them, those left a person of their own

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(groups: Iterable[list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups:
        ordered = sorted(members)
        for i in range(len(ordered)):
            for j in range(i + 1, len(ordered)):
                out.add((ordered[i], ordered[j]))
    return out


def pairwise_quality(predicted: Mapping[str, str], truth: Mapping[str, str]) -> ResolutionQuality:
    """Pairwise precision/recall of ``predicted`` (record -> person) against ``truth``.

    Only records present in both mappings count.

    >>> q = pairwise_quality({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "x", "c": "x"})
    >>> (q.precision, round(q.recall, 3))
    (1.0, 0.333)
    """
    common = sorted(set(predicted) & set(truth))
    by_pred: dict[str, list[str]] = defaultdict(list)
    by_true: dict[str, list[str]] = defaultdict(list)
    for rid in common:
        by_pred[predicted[rid]].append(rid)
        by_true[truth[rid]].append(rid)
    pred, true = _pairs(by_pred.values()), _pairs(by_true.values())
    return ResolutionQuality(len(common), len(true), len(pred), len(pred & true))


def read_truth(path: Path) -> dict[str, str]:
    """``truth/mentions.csv`` as record id -> true person."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {f"{r['source']}:{r['row_id']}": r["true_person"] for r in csv.DictReader(handle)}


def evaluate_folder(
    folder: str | Path,
    key: Pseudonymiser | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    estimate_m: bool | None = None,
) -> ResolutionQuality:
    """Read a synthetic data folder (sources.yaml, sources/, truth/) and measure resolution."""
    folder = Path(folder)
    mapping = load_mapping(folder / "sources.yaml")
    records = read_records(mapping, assign_files(mapping, [folder]), lambda _x: None, {})
    p = key or Pseudonymiser(bytes(32))
    start = time.perf_counter()
    res = resolve_persons(records, p, threshold, estimate_m=estimate_m)
    seconds = time.perf_counter() - start
    q = pairwise_quality(res.person_of, read_truth(folder / "truth" / "mentions.csv"))
    return ResolutionQuality(
        q.records,
        q.true_pairs,
        q.predicted_pairs,
        q.correct_pairs,
        seconds,
        res.stats.get("undated_records", 0),
        res.stats.get("undated_unlinked", 0),
    )
