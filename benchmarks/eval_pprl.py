"""Privacy-preserving linkage (issue 9): encoded vs clear-text resolution and detection, and speed.

Quality, per (noise, seed): generate a synthetic set, read + normalise its records with the
loaders, split them into data holders by the police unit of the row's municipality (a row without
a municipality goes to a unit chosen by a hash of its record id), let every holder write its own
encoded export (``loaders.encode.encode_records``, one shared fresh key), and compare

* clear:   ``loaders.pipeline.load`` of all source files (one party holding all clear data);
* encoded: ``loaders.hub.load_encoded`` of the holders' exports (the hub sees no clear value);

on entity-resolution pairwise precision/recall (truth/mentions.csv) and, after
``netanalysis.detect.detect`` with default settings, on ``netanalysis.evaluate.evaluate``'s group
ARI and cross-regional-flag precision/recall.

Speed: ``--speed-rows N`` generates N rows and times read + normalise and the encoding separately
(wall and CPU seconds of this process).

    .venv/bin/python benchmarks/eval_pprl.py [--seeds 101 202] [--noise 0.1 0.3] [--groups 40]
    .venv/bin/python benchmarks/eval_pprl.py --speed-rows 1000000 --seeds --noise
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from graphstore import open_store
from loaders.encode import encode_records
from loaders.hub import load_encoded
from loaders.mapping import load_mapping
from loaders.pipeline import load, read_records, resolve_persons
from loaders.pseudonymise import keygen, load_key
from loaders.read import assign_files
from loaders.records import Record
from loaders.reference import region_of
from loaders.resolve_eval import pairwise_quality, read_truth
from netanalysis.detect import DetectionSettings, detect
from netanalysis.evaluate import evaluate
from netanalysis.graphs import read_analysis_graph
from synth import generate

UNITS = [f"RE{i:02d}" for i in range(1, 11)]
FIGURES = ["er_precision", "er_recall", "group_ari", "cross_regional_precision", "cross_regional_recall"]


def holder_of(record: Record) -> str:
    """The police unit that holds a record: its municipality's unit, else one chosen by hash."""
    code = record.values.get("municipality")
    if code:
        try:
            return region_of(str(code))
        except (KeyError, ValueError):
            pass
    digest = hashlib.sha256(record.record_id.encode()).digest()
    return UNITS[digest[0] % len(UNITS)]


def split(records: list[Record]) -> dict[str, list[Record]]:
    """Records per holder."""
    out: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        out[holder_of(record)].append(record)
    return dict(out)


def run(seed: int, noise: float, groups: int, work: Path) -> dict[str, dict[str, float]]:
    """Clear and encoded figures for one generated set."""
    data = work / f"synth-{seed}-{noise}"
    generate(data, seed=seed, groups=groups, noise=noise)
    key_file = keygen(work / f"key-{seed}-{noise}.hex")
    key = load_key(key_file)
    mapping = load_mapping(data / "sources.yaml")
    counts: dict = {}
    records = read_records(mapping, assign_files(mapping, [data / "sources"]), lambda _x: None, counts)
    truth = read_truth(data / "truth" / "mentions.csv")
    out: dict[str, dict[str, float]] = {}

    clear_store = open_store(str(work / f"clear-{seed}-{noise}.db"))
    try:
        load([data / "sources"], clear_store, mapping, key, rejects_path=work / f"rej-{seed}-{noise}.csv")
        clear_graph = read_analysis_graph(clear_store)
    finally:
        clear_store.close()
    q = pairwise_quality(resolve_persons(records, key).person_of, truth)

    holders = split(records)
    exports = []
    for unit, recs in sorted(holders.items()):
        target = work / f"export-{seed}-{noise}-{unit}"
        encode_records(recs, key, target)
        exports.append(target)
    enc_store = open_store(str(work / f"encoded-{seed}-{noise}.db"))
    try:
        load_encoded(exports, enc_store)
        enc_graph = read_analysis_graph(enc_store)
    finally:
        enc_store.close()
    for name, graph in (("clear", clear_graph), ("encoded", enc_graph)):
        target = work / f"detected-{name}-{seed}-{noise}"
        detect(graph, DetectionSettings()).write(target)
        out[name] = dict(evaluate(data / "truth", target).figures)
    # The resolution figures straight from the resolvers (all person records, no detection).
    from loaders.hub import _features, read_export
    from loaders.resolve_encoded import resolve_encoded

    rows = [r for e in exports for r in read_export(e).rows if r["person"] == "1"]
    bits = read_export(exports[0]).schema.bits
    enc_res = resolve_encoded(
        [_features(r, bits, "") for r in rows], [f"{r['source']}:{r['row_id']}" for r in rows]
    )
    qe = pairwise_quality(enc_res.person_of, truth)
    out["clear"]["resolve_precision"], out["clear"]["resolve_recall"] = q.precision, q.recall
    out["encoded"]["resolve_precision"], out["encoded"]["resolve_recall"] = qe.precision, qe.recall
    out["encoded"]["holders"] = len(holders)
    return out


def speed(rows: int, work: Path) -> None:
    """Time read + normalise and encoding of ``rows`` generated rows."""
    data = work / "speed"
    generate(data, seed=5, rows=rows, noise=0.1)
    key = load_key(keygen(work / "speed-key.hex"))
    mapping = load_mapping(data / "sources.yaml")
    wall, cpu = time.perf_counter(), time.process_time()
    records = read_records(mapping, assign_files(mapping, [data / "sources"]), lambda _x: None, {})
    read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    summary = encode_records(records, key, work / "speed-export")
    enc_wall, enc_cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = sum(p.stat().st_size for p in (work / "speed-export").iterdir()) / 1e6
    print(
        f"| {rows:,} | {summary.encoded:,} | {read_wall:.1f} | {read_cpu:.1f} | "
        f"{enc_wall:.1f} | {enc_cpu:.1f} | "
        f"{read_wall + enc_wall:.1f} | {size:.0f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[101, 202])
    parser.add_argument("--noise", type=float, nargs="*", default=[0.1, 0.3])
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--speed-rows", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.seeds and args.noise:
            cols = ["resolve_precision", "resolve_recall", *FIGURES]
            print("| noise | seed | variant | " + " | ".join(cols) + " |")
            print("|---" * (len(cols) + 3) + "|")
            sums: dict[tuple[float, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
            for noise in args.noise:
                for seed in args.seeds:
                    result = run(seed, noise, args.groups, Path(tmp))
                    for variant in ("clear", "encoded"):
                        figs = result[variant]
                        print(
                            f"| {noise} | {seed} | {variant} | "
                            + " | ".join(f"{figs[c]:.3f}" for c in cols)
                            + " |",
                            flush=True,
                        )
                        for c in cols:
                            sums[(noise, variant)][c] += figs[c] / len(args.seeds)
                for variant in ("clear", "encoded"):
                    figs = sums[(noise, variant)]
                    print(
                        f"| {noise} | mean | {variant} | " + " | ".join(f"{figs[c]:.3f}" for c in cols) + " |"
                    )
        if args.speed_rows:
            print(
                "| rows | records | read+normalise wall s | CPU s | encode wall s | CPU s | total wall s "
                "| export MB |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
            speed(args.speed_rows, Path(tmp))


if __name__ == "__main__":
    main()
