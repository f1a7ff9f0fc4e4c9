"""Entity resolution on data the resolver was not tuned on: the toolkit against Splink, side by side.

Usage::

    .venv/bin/python benchmarks/bench_resolution.py --records 100000 --seed 101
    .venv/bin/python benchmarks/bench_resolution.py --records 100000 --seed 101 --splink
    .venv/bin/python benchmarks/bench_resolution.py --records 20000 --seed 101 --sweep -4,0,2,4,6,8,10

Generates a ``benchmarks/person_records.py`` folder (independent noise per field, skewed name
frequencies) for a **held-out** seed (101-103; seeds 1-3 are the only ones looked at while
developing), reads it through the same read/validate/normalise steps as ``netanalysis load`` and
resolves it as ``load`` does. Prints pairwise precision, recall and F1, the CPU seconds of the
resolve step, the blocking recall (share of true pairs that are ever compared), and the share of
true pairs missed per combination of noise on the two records. With ``--splink`` the same folder
is also resolved by ``benchmarks/splink_run.py`` in ``.bench-venv`` (see its docstring) and
measured the same way (CPU seconds of its whole process, DuckDB threads included).
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from person_records import HELD_OUT, NOISE_KINDS, TUNING, generate

from loaders.linkage import candidate_pairs
from loaders.mapping import load_mapping
from loaders.pipeline import evidence_tokens, read_records, resolve_persons
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files
from loaders.resolve import blocking_rules, describes_person, features

REPO = Path(__file__).resolve().parents[1]
_SHORT = {
    "first_typo": "first",
    "last_typo": "last",
    "birth_missing": "nobirth",
    "day_month": "dm",
    "name_swap": "swap",
    "particle": "part",
    "nationality_missing": "nonat",
}


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        m = sorted(members)
        out.update((m[i], m[j]) for i in range(len(m)) for j in range(i + 1, len(m)))
    return out


def quality(
    predicted: dict[str, str], truth: dict[str, str]
) -> tuple[float, float, float, set[tuple[str, str]]]:
    """Pairwise precision, recall, F1 and the missed true pairs."""
    by_pred: dict[str, list[str]] = defaultdict(list)
    by_true: dict[str, list[str]] = defaultdict(list)
    for rid, person in truth.items():
        by_true[person].append(rid)
        by_pred[predicted.get(rid, "single:" + rid)].append(rid)
    pred, true = _pairs(by_pred), _pairs(by_true)
    hit = len(pred & true)
    p = hit / len(pred) if pred else 1.0
    r = hit / len(true) if true else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1, true - pred


def read_truth(folder: Path) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    truth: dict[str, str] = {}
    noise: dict[str, frozenset[str]] = {}
    with open(folder / "truth.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rid = f"{row['source']}:{row['row_id']}"
            truth[rid] = row["true_person"]
            noise[rid] = frozenset(_SHORT[k] for k in NOISE_KINDS if row[k] == "1")
    return truth, noise


def by_combination(
    truth: dict[str, str], noise: dict[str, frozenset[str]], missed: set[tuple[str, str]], top: int
) -> list[tuple[str, int, float]]:
    """(noise on the two records, true pairs, share missed), worst first, for frequent combinations."""
    total: Counter[str] = Counter()
    miss: Counter[str] = Counter()
    by_true: dict[str, list[str]] = defaultdict(list)
    for rid, person in truth.items():
        by_true[person].append(rid)
    for pair in _pairs(by_true):
        combo = "+".join(sorted(noise[pair[0]] | noise[pair[1]])) or "clean"
        total[combo] += 1
        if pair in missed:
            miss[combo] += 1
    rows = [(c, n, miss[c] / n) for c, n in total.items() if n >= 30]
    rows.sort(key=lambda t: -t[2] * t[1])
    return rows[:top]


def run_toolkit(
    folder: Path, threshold: float | None, estimate_m: bool | None = None
) -> tuple[dict[str, str], float, object]:
    mapping = load_mapping(folder / "sources.yaml")
    records = read_records(mapping, assign_files(mapping, [folder]), lambda _x: None, {})
    key = Pseudonymiser(bytes(32))
    cpu = time.process_time()
    res = resolve_persons(records, key, threshold, estimate_m=estimate_m)
    if res.model is not None and res.stats.get("m_estimated"):
        shown = {f: {lv: round(p, 4) for lv, p in m.items()} for f, m in res.model.m.items()}
        print(f"  m estimated by EM in {res.stats.get('em_iterations')} iterations: {shown}")
    return res.person_of, time.process_time() - cpu, (records, res)


def undated_line(records: list, predicted: dict[str, str], truth: dict[str, str]) -> str:
    """How many records without a birth date stay alone, and how many of those have a true partner."""
    size = Counter(predicted.values())
    true_size = Counter(truth.values())
    undated = [r.record_id for r in records if describes_person(r) and not r.values.get("birth_date")]
    alone = [rid for rid in undated if size[predicted[rid]] == 1]
    missed = [rid for rid in alone if rid in truth and true_size[truth[rid]] > 1]
    return (
        f"  records without birth date: {len(undated)}; unlinked: {len(alone)} "
        f"({len(missed)} of them have a true partner, {len(alone) - len(missed)} are alone in the truth too)"
    )


def blocking_recall(records: list, truth: dict[str, str]) -> float:
    persons = [r for r in records if describes_person(r)]
    feats = [features(r, evidence_tokens(r)) for r in persons]
    ids = [r.record_id for r in persons]
    compared = {
        (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i])
        for i, j in candidate_pairs(feats, blocking_rules(), Counter())
    }
    by_true: dict[str, list[str]] = defaultdict(list)
    for rid, person in truth.items():
        by_true[person].append(rid)
    true = _pairs(by_true)
    return len(true & compared) / len(true) if true else 1.0


def run_splink(folder: Path) -> tuple[dict[str, dict[str, str]], float]:
    """Clusters at Splink's declared threshold (0.9) and at its lenient one (0.5), and CPU seconds."""
    venv = REPO / ".bench-venv" / "bin" / "python"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = folder / "splink_clusters.csv"
    subprocess.run(
        [str(venv), str(REPO / "benchmarks" / "splink_run.py"), str(folder), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    clusters: dict[str, dict[str, str]] = {}
    for label, path in (("0.9", out), ("0.5", out.with_suffix(".lenient.csv"))):
        with open(path, encoding="utf-8", newline="") as handle:
            clusters[label] = {f"{r['source']}:{r['row_id']}": r["cluster"] for r in csv.DictReader(handle)}
    return clusters, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=HELD_OUT[0])
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--splink", action="store_true")
    parser.add_argument("--sweep", default="", help="comma-separated thresholds to sweep")
    parser.add_argument("--blocking", action="store_true", help="also measure the blocking recall")
    parser.add_argument("--combinations", type=int, default=12)
    parser.add_argument(
        "--estimate-m", choices=("default", "on", "off"), default="default", help="m by EM (default: as load)"
    )
    args = parser.parse_args()
    kind = "held-out" if args.seed in HELD_OUT else "TUNING" if args.seed in TUNING else "other"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(args.records, args.seed, folder, args.noise)
        truth, noise = read_truth(folder)
        label = f"records={args.records} seed={args.seed} ({kind}) noise={args.noise}"
        thresholds = [float(t) for t in args.sweep.split(",") if t] or [args.threshold]
        for threshold in thresholds:
            em = None if args.estimate_m == "default" else args.estimate_m == "on"
            predicted, cpu, (records, res) = run_toolkit(folder, threshold, em)
            p, r, f1, missed = quality(predicted, truth)
            print(
                f"toolkit {label} threshold={threshold} m_estimated={res.stats.get('m_estimated')}: "  # type: ignore[attr-defined]
                f"precision={p:.4f} recall={r:.4f} f1={f1:.4f} resolve_cpu_seconds={cpu:.1f}"
            )
            print(undated_line(records, predicted, truth))  # type: ignore[arg-type]
        if args.blocking:
            print(f"toolkit blocking recall={blocking_recall(records, truth):.4f}")
        for combo, n, share in by_combination(truth, noise, missed, args.combinations):
            print(f"  missed {share:6.1%} of {n:6d} true pairs with noise {combo}")
        if args.splink:
            clusterings, cpu = run_splink(folder)
            for at, predicted in clusterings.items():
                p, r, f1, missed = quality(predicted, truth)
                print(
                    f"splink  {label} match_probability={at}: precision={p:.4f} recall={r:.4f} f1={f1:.4f} "
                    f"cpu_seconds={cpu:.1f} (whole run, both clusterings)"
                )
                for combo, n, share in by_combination(truth, noise, missed, args.combinations):
                    print(f"  missed {share:6.1%} of {n:6d} true pairs with noise {combo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
