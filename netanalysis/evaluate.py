"""Measure detection outputs against the synthetic ground truth (``netanalysis synth``'s truth/).

Everything is matched through source rows: the truth names the true person behind every
``(source, row_id)`` (``truth/mentions.csv``), the detection names the resolved person behind
every row (``persons.csv``). The figures and the matching rules are documented in
``docs/detection.md``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from loaders.csv_safety import unguard_cell
from netanalysis.audit import audited
from netanalysis.errors import ConfigError

__all__ = [
    "Evaluation",
    "adjusted_rand_index",
    "evaluate",
    "majority_match",
    "match_moves",
    "pairwise_precision_recall",
]

Row = tuple[str, str]
K = TypeVar("K", bound=Hashable)
C = TypeVar("C", bound=Hashable)
L = TypeVar("L", bound=Hashable)


def adjusted_rand_index(labels_true: Sequence[Hashable], labels_pred: Sequence[Hashable]) -> float:
    """Adjusted Rand index of two labellings of the same items, from their contingency table.

    Parameters
    ----------
    labels_true, labels_pred : sequence
        One label per item, same length.

    Returns
    -------
    float
        1.0 for identical partitions (up to renaming), about 0 for random ones; 1.0 also when both
        put every item in one cluster or every item apart (the partitions agree).

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    >>> round(adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]), 3)
    -0.5

    References
    ----------
    Hubert & Arabie (1985), "Comparing partitions", Journal of Classification 2:193-218.
    """
    if len(labels_true) != len(labels_pred):
        raise ValueError("labels_true and labels_pred differ in length")
    n = len(labels_true)
    if n < 2:
        return 1.0
    cells = Counter(zip(labels_true, labels_pred, strict=True))
    index = sum(comb(c, 2) for c in cells.values())
    sum_a = sum(comb(c, 2) for c in Counter(labels_true).values())
    sum_b = sum(comb(c, 2) for c in Counter(labels_pred).values())
    expected = sum_a * sum_b / comb(n, 2)
    maximum = (sum_a + sum_b) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def pairwise_precision_recall(
    truth: Mapping[Row, Hashable], predicted: Mapping[Row, Hashable]
) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering of rows (entity resolution).

    A pair of rows is a true pair when the truth puts both under one person, a predicted pair when
    the prediction does. Only rows present in both mappings count.

    Returns
    -------
    (precision, recall)
        1.0 where there is nothing to count.

    Examples
    --------
    >>> t = {("s", "1"): "p", ("s", "2"): "p", ("s", "3"): "q"}
    >>> pairwise_precision_recall(t, {("s", "1"): 1, ("s", "2"): 1, ("s", "3"): 1})
    (0.3333333333333333, 1.0)
    """
    rows = [r for r in truth if r in predicted]
    cells = Counter((truth[r], predicted[r]) for r in rows)
    both = sum(comb(c, 2) for c in cells.values())
    true_pairs = sum(comb(c, 2) for c in Counter(truth[r] for r in rows).values())
    pred_pairs = sum(comb(c, 2) for c in Counter(predicted[r] for r in rows).values())
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall


def majority_match(items: Mapping[K, C], target: Mapping[K, L]) -> dict[C, L]:
    """For each cluster of ``items`` (item -> cluster), the ``target`` label most of its items carry.

    Items missing from ``target`` are ignored; ties go to the smallest label (as string).

    Examples
    --------
    >>> majority_match({"r1": "G1", "r2": "G1", "r3": "G1"}, {"r1": "T1", "r2": "T2", "r3": "T2"})
    {'G1': 'T2'}
    """
    votes: dict[C, Counter[L]] = defaultdict(Counter)
    for item, cluster in items.items():
        if item in target:
            votes[cluster][target[item]] += 1
    return {
        cluster: min(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
        for cluster, counter in sorted(votes.items(), key=lambda kv: str(kv[0]))
    }


def match_moves(
    true_moves: Sequence[tuple[Hashable, str, str, str]],
    found_moves: Sequence[tuple[Hashable, str, str, str]],
    tolerance_days: int = 30,
) -> int:
    """Number of true moves matched one-to-one by found moves.

    A move is ``(person, from_code, to_code, iso_date)``; a found move matches a true one with the
    same person, from and to codes and a date at most ``tolerance_days`` apart (closest first).

    Examples
    --------
    >>> match_moves([("p", "A", "B", "2023-01-10")], [("p", "A", "B", "2023-01-20")], 30)
    1
    """
    pool: dict[tuple[Hashable, str, str], list[dt.date]] = defaultdict(list)
    for person, a, b, date in found_moves:
        pool[(person, a, b)].append(dt.date.fromisoformat(date))
    matched = 0
    for person, a, b, date in sorted(true_moves, key=lambda m: (str(m[0]), m[1], m[2], m[3])):
        day = dt.date.fromisoformat(date)
        candidates = pool.get((person, a, b), [])
        best = min(candidates, key=lambda d: abs((d - day).days), default=None)
        if best is not None and abs((best - day).days) <= tolerance_days:
            candidates.remove(best)
            matched += 1
    return matched


@dataclass
class Evaluation:
    """The figures of one evaluation (see ``docs/detection.md``)."""

    figures: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"figures": self.figures, "counts": self.counts}


def _read(path: Path, required: Sequence[str]) -> pd.DataFrame:
    if not path.exists():
        raise ConfigError(
            f"{path} is missing; point --truth at a synth truth/ folder and --detected at "
            f"the output folder of `netanalysis detect`."
        )
    # Detection CSVs guard cells against formula injection; compare the values themselves.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).map(unguard_cell)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ConfigError(f"{path} lacks the column(s) {', '.join(missing)}; is it the right file?")
    return frame


def _flag(value: object) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


@audited("evaluate")
def evaluate(truth_dir: str | Path, detected_dir: str | Path, tolerance_days: int = 30) -> Evaluation:
    """Compare a detection output folder with a synthetic truth folder.

    Parameters
    ----------
    truth_dir : path
        ``truth/`` written by ``netanalysis synth`` (mentions, groups, group_facts, movements,
        signals).
    detected_dir : path
        Folder written by ``DetectionResult.write`` (persons, groups, group_summary, movements,
        leads).
    tolerance_days : int
        Largest date difference for a found move to match a true one.

    Returns
    -------
    Evaluation
        ``figures``: er_precision, er_recall, group_ari, cross_regional_precision,
        cross_regional_recall, moves_recall, moves_precision, leads_precision, leads_recall;
        ``counts``: what each figure was computed over.
    """
    truth_dir, detected_dir = Path(truth_dir), Path(detected_dir)
    mentions = _read(truth_dir / "mentions.csv", ["source", "row_id", "true_person"])
    t_groups = _read(truth_dir / "groups.csv", ["true_person", "group_id", "role"])
    t_facts = _read(truth_dir / "group_facts.csv", ["group_id", "cross_regional"])
    t_moves = _read(truth_dir / "movements.csv", ["true_person", "from_code", "to_code", "date"])
    t_signals = _read(truth_dir / "signals.csv", ["source", "row_id", "group_id"])
    persons = _read(detected_dir / "persons.csv", ["person_id", "source", "row_id"])
    d_groups = _read(detected_dir / "groups.csv", ["group_id", "person_id", "role"])
    d_summary = _read(detected_dir / "group_summary.csv", ["group_id", "cross_regional"])
    d_moves = _read(detected_dir / "movements.csv", ["person_id", "from_code", "to_code", "date"])
    d_leads = _read(detected_dir / "leads.csv", ["signal_id", "group_id"])

    row_true: dict[Row, str] = {
        (s, r): p for s, r, p in mentions[["source", "row_id", "true_person"]].itertuples(index=False)
    }
    row_person: dict[Row, str] = {
        (s, r): p for p, s, r in persons[["person_id", "source", "row_id"]].itertuples(index=False)
    }
    figures: dict[str, float] = {}
    counts: dict[str, int] = {}

    # Entity resolution, over the rows that were loaded.
    figures["er_precision"], figures["er_recall"] = pairwise_precision_recall(row_true, row_person)
    counts["truth_rows"] = len(row_true)
    counts["truth_rows_not_loaded"] = sum(1 for r in row_true if r not in row_person)

    # Groups, over the loaded rows of true suspects.
    true_group = {
        p: g
        for p, g, role in t_groups[["true_person", "group_id", "role"]].itertuples(index=False)
        if role == "suspect"
    }
    person_group = dict(zip(d_groups["person_id"], d_groups["group_id"], strict=True))
    suspect_rows = [r for r, p in row_true.items() if p in true_group and r in row_person]
    labels_true = [true_group[row_true[r]] for r in suspect_rows]
    labels_pred = [person_group.get(row_person[r], f"none:{row_person[r]}") for r in suspect_rows]
    figures["group_ari"] = adjusted_rand_index(labels_true, labels_pred)
    counts["suspect_rows"] = len(suspect_rows)

    # Cross-regional flag per group, groups matched by the majority of their suspects' rows.
    row_tgroup = dict(zip(suspect_rows, labels_true, strict=True))
    row_dgroup = dict(zip(suspect_rows, labels_pred, strict=True))
    d_to_t = majority_match(row_dgroup, row_tgroup)
    t_to_d = majority_match(row_tgroup, row_dgroup)
    t_cross = {g: _flag(f) for g, f in t_facts[["group_id", "cross_regional"]].itertuples(index=False)}
    d_cross = {g: _flag(f) for g, f in d_summary[["group_id", "cross_regional"]].itertuples(index=False)}
    flagged = [g for g in d_to_t if d_cross.get(str(g), False)]
    hits = sum(1 for g in flagged if t_cross.get(str(d_to_t[g]), False))
    figures["cross_regional_precision"] = hits / len(flagged) if flagged else 1.0
    true_cross = [g for g, f in t_cross.items() if f]
    found = sum(1 for g in true_cross if d_cross.get(str(t_to_d.get(g, "")), False))
    figures["cross_regional_recall"] = found / len(true_cross) if true_cross else 1.0
    counts["detected_groups_flagged"] = len(flagged)
    counts["true_cross_regional_groups"] = len(true_cross)

    # Moves: a detected victim is the true person most of its rows belong to.
    person_true = majority_match({r: row_person[r] for r in row_true if r in row_person}, row_true)
    truth_list = [
        (p, a, b, d)
        for p, a, b, d in t_moves[["true_person", "from_code", "to_code", "date"]].itertuples(index=False)
    ]
    found_list = [
        (person_true.get(p, f"none:{p}"), a, b, d)
        for p, a, b, d in d_moves[["person_id", "from_code", "to_code", "date"]].itertuples(index=False)
    ]
    matched = match_moves(truth_list, found_list, tolerance_days)
    figures["moves_recall"] = matched / len(truth_list) if truth_list else 1.0
    figures["moves_precision"] = matched / len(found_list) if found_list else 1.0
    counts["true_moves"] = len(truth_list)
    counts["detected_moves"] = len(found_list)

    # Leads: right when the signal's true group is the true group the detected group matches. A
    # signal's true group is the one most of its source rows belong to (signal_rows.csv).
    row_signal_group = {
        f"{s}:{r}": g for s, r, g in t_signals[["source", "row_id", "group_id"]].itertuples(index=False)
    }
    signal_rows_path = detected_dir / "signal_rows.csv"
    if signal_rows_path.exists():
        s_rows = _read(signal_rows_path, ["signal_id", "source", "row_id"])
        row_of_signal = {f"{s}:{r}": sig for sig, s, r in s_rows[["signal_id", "source", "row_id"]]
                         .itertuples(index=False)}  # fmt: skip
    else:
        row_of_signal = {row: row for row in row_signal_group}
    signal_group = majority_match(row_of_signal, row_signal_group)
    correct = 0
    for signal, group in d_leads[["signal_id", "group_id"]].itertuples(index=False):
        truth_group = signal_group.get(signal, "")
        if truth_group and str(d_to_t.get(group, "")) == truth_group:
            correct += 1
    figures["leads_precision"] = correct / len(d_leads) if len(d_leads) else 1.0
    group_signals = {s for s, g in signal_group.items() if g}
    led = {
        s for s, g in d_leads[["signal_id", "group_id"]].itertuples(index=False)
        if signal_group.get(s) and str(d_to_t.get(g, "")) == signal_group[s]
    }  # fmt: skip
    figures["leads_recall"] = len(led) / len(group_signals) if group_signals else 1.0
    counts["leads"] = len(d_leads)
    counts["group_signals"] = len(group_signals)
    return Evaluation({k: round(v, 4) for k, v in figures.items()}, counts)
