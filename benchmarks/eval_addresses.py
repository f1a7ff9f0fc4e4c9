"""Address and agency evidence against the synthetic truth: generate -> load -> detect twice -> evaluate.

For each held-out seed the script generates a set with ``synth.generate`` (groups that work
through employment agencies, share addresses, and groups tied *only* by an address or agency;
ordinary employers and crowded but innocent addresses for precision), loads it into a fresh
embedded store with a fresh random key and detects groups twice:

* **with** the new evidence: ``DetectionSettings()`` with the default ``EvidenceWeights``;
* **without**: ``EvidenceWeights(address=0.0, employer=0.0, director=0.0)``;
* with ``--rules-off`` also **rules-off**: the new evidence without the rules of 2026-12-07
  (``split_victim_facts=False, victim_tie_days=None``; docs/detection.md), to show what they do.

It prints per seed and variant the group ARI and cross-regional precision and recall
(``netanalysis.evaluate.evaluate``, as ``benchmarks/eval_detection.py``), the recall of the
groups planted to be found only through an address or an agency (``truth/link_only_groups.csv``:
found when all of the group's suspects are in one detected group), and the crowded-address
signal: how many flagged addresses are group addresses, and how many innocent crowded addresses
(students, seasonal workers with proper housing) it flags.

Held-out seeds: 7301 7302 7303 7304 7305 (chosen on 2026-12-06 before any figure was seen; no
test, no default and no tuning uses them). Tuning, if any, uses other seeds.

When the toolkit has no address, employer and director weights yet (an ``EvidenceWeights``
without those fields), the script says so and reports the "without" variant only.

    .venv/bin/python benchmarks/eval_addresses.py [--seeds 7301 7302 7303 7304 7305] [--noise 0.1]
        [--groups 40] [--rules-off] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

import netanalysis as na
from graphstore import open_store
from loaders.graph_rows import address_id
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser, keygen, load_key
from netanalysis.detect import DetectionResult, DetectionSettings, detect
from netanalysis.evaluate import evaluate
from netanalysis.graphs import read_analysis_graph
from synth import generate

HELD_OUT_SEEDS = [7301, 7302, 7303, 7304, 7305]
NEW_EVIDENCE = ("address", "employer", "director")
FIGURES = [
    "group_ari", "cross_regional_precision", "cross_regional_recall", "link_only_recall",
    "address_only_recall", "agency_only_recall",
]  # fmt: skip


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def has_new_evidence() -> bool:
    """Whether ``EvidenceWeights`` has the address, employer and director weights."""
    names = {f.name for f in dataclasses.fields(na.EvidenceWeights)}
    return set(NEW_EVIDENCE) <= names


def link_only_found(truth_dir: Path, detected_dir: Path) -> dict[str, bool]:
    """Per group planted to be found only through an address or agency: whether all its suspects
    are in one detected group (a suspect is the detected person most of its rows went to)."""
    mentions = _csv(truth_dir / "mentions.csv")
    members = _csv(truth_dir / "groups.csv")
    link_only = _csv(truth_dir / "link_only_groups.csv")
    persons = {(r["source"], r["row_id"]): r["person_id"] for r in _csv(detected_dir / "persons.csv")}
    group_of = {r["person_id"]: r["group_id"] for r in _csv(detected_dir / "groups.csv")}
    rows_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for m in mentions:
        rows_of[m["true_person"]].append((m["source"], m["row_id"]))
    found: dict[str, bool] = {}
    for g in link_only:
        suspects = [
            m["true_person"] for m in members if m["group_id"] == g["group_id"] and m["role"] == "suspect"
        ]
        detected = set()
        for s in suspects:
            ids = Counter(persons[r] for r in rows_of[s] if r in persons)
            person = ids.most_common(1)[0][0] if ids else ""
            detected.add(group_of.get(person, f"none:{s}"))
        found[g["group_id"]] = len(detected) == 1 and not next(iter(detected)).startswith("none:")
    return found


def truth_address_ids(truth_dir: Path, key: Pseudonymiser) -> dict[str, tuple[str, str]]:
    """Store address id (keyed hash) -> (kind, group) of every planted address."""
    out = {}
    for a in _csv(truth_dir / "addresses.csv"):
        joined = f"{a['postcode']}\x1f{a['house_number']}\x1f{a['addition']}"
        out[address_id(key, joined)] = (a["kind"], a["group_id"])
    return out


def has_crowded_signal() -> bool:
    """Whether the toolkit has the crowded-address signal (``na.crowded_addresses``)."""
    return callable(getattr(na, "crowded_addresses", None))


def flagged_addresses(graph: nx.MultiDiGraph, result: DetectionResult) -> set[str] | None:
    """The address ids the crowded-address signal flags with its default rule, as the detection
    reports them (``DetectionResult.crowded_addresses``), or None when the toolkit has no signal."""
    frame = getattr(result, "crowded_addresses", None)
    if frame is not None:
        return {str(a) for a in frame["address_id"]}
    if not has_crowded_signal():
        return None
    return {str(row["address_id"]) for row in na.crowded_addresses(graph)}


def address_signal_figures(flagged: set[str], truth: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Precision of the crowded-address signal and how many innocent crowded addresses it flags."""
    kinds = Counter(truth.get(a, ("unknown", ""))[0] for a in flagged)
    innocent = sum(1 for kind, _ in truth.values() if kind == "innocent_crowded")
    return {
        "flagged": len(flagged),
        "flagged_group": kinds["group"],
        "flagged_innocent_crowded": kinds["innocent_crowded"],
        "flagged_ordinary": kinds["ordinary"],
        "innocent_crowded": innocent,
        "precision": kinds["group"] / len(flagged) if flagged else 1.0,
    }


def run(seed: int, noise: float, groups: int, work: Path, rules_off: bool = False) -> list[dict[str, Any]]:
    """Figures of both variants (or of "without" only) for one generated set."""
    data = work / f"synth-{seed}-{noise}"
    generate(data, seed=seed, groups=groups, noise=noise)
    key_file = keygen(work / f"key-{seed}-{noise}.hex")
    key = load_key(key_file)
    store = open_store(str(work / f"store-{seed}-{noise}.db"))
    try:
        load(
            [data / "sources"],
            store,
            data / "sources.yaml",
            key,
            rejects_path=work / f"rej-{seed}-{noise}.csv",
        )
        graph = read_analysis_graph(store)
    finally:
        store.close()
    variants: dict[str, Any] = {}
    if has_new_evidence():
        variants["with"] = na.EvidenceWeights()
        variants["without"] = na.EvidenceWeights(address=0.0, employer=0.0, director=0.0)  # type: ignore[call-arg]
        if rules_off:
            variants["rules-off"] = na.EvidenceWeights(split_victim_facts=False, victim_tie_days=None)
    else:
        variants["without"] = na.EvidenceWeights()
    truth_dir = data / "truth"
    planted = truth_address_ids(truth_dir, key)
    link_only = {g["group_id"]: g["through"] for g in _csv(truth_dir / "link_only_groups.csv")}
    rows = []
    for name, weights in variants.items():
        out = work / f"detected-{seed}-{noise}-{name}"
        result = detect(graph, DetectionSettings(weights=weights))
        result.write(out)
        figures = dict(evaluate(truth_dir, out).figures)
        found = link_only_found(truth_dir, out)
        for through in ("address", "agency"):
            these = [g for g, t in link_only.items() if t == through]
            figures[f"{through}_only_recall"] = sum(found[g] for g in these) / len(these) if these else 1.0
        figures["link_only_recall"] = sum(found.values()) / len(found) if found else 1.0
        flagged = flagged_addresses(graph, result) if name == "with" else None
        signal = address_signal_figures(flagged, planted) if flagged is not None else None
        rows.append({"seed": seed, "noise": noise, "variant": name, **figures, "address_signal": signal})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=HELD_OUT_SEEDS)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.1])
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument(
        "--rules-off", action="store_true", help="also the variant without the 2026-12-07 rules"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not has_new_evidence():
        print(
            "note: this toolkit's EvidenceWeights has no address, employer and director weights yet; "
            "only the detection without the new evidence is measured"
        )
    if not has_crowded_signal():
        print("note: this toolkit has no crowded-address signal yet; its precision is not measured")
    rows: list[dict[str, Any]] = []
    print("| noise | seed | variant | " + " | ".join(FIGURES) + " | crowded-address signal |")
    print("|---" * (len(FIGURES) + 4) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for noise in args.noise:
            for seed in args.seeds:
                for row in run(seed, noise, args.groups, Path(tmp), args.rules_off):
                    rows.append(row)
                    sig = row["address_signal"]
                    text = (
                        f"{sig['flagged_group']}/{sig['flagged']} group, {sig['flagged_innocent_crowded']}/"
                        f"{sig['innocent_crowded']} innocent crowded flagged"
                        if sig
                        else "-"
                    )
                    print(
                        f"| {noise} | {seed} | {row['variant']} | "
                        + " | ".join(f"{row[f]:.3f}" for f in FIGURES)
                        + f" | {text} |",
                        flush=True,
                    )
    for noise in args.noise:
        for variant in ("with", "without", "rules-off"):
            these = [r for r in rows if r["noise"] == noise and r["variant"] == variant]
            if not these:
                continue
            means = {f: sum(float(r[f]) for r in these) / len(these) for f in FIGURES}
            signals = [r["address_signal"] for r in these if r["address_signal"]]
            text = "-"
            if signals:
                flagged = sum(s["flagged"] for s in signals)
                group = sum(s["flagged_group"] for s in signals)
                innocent = sum(s["flagged_innocent_crowded"] for s in signals)
                total = sum(s["innocent_crowded"] for s in signals)
                precision = group / flagged if flagged else 1.0
                text = f"precision {precision:.3f}, {innocent}/{total} innocent crowded flagged"
            print(
                f"| {noise} | mean | {variant} | "
                + " | ".join(f"{means[f]:.3f}" for f in FIGURES)
                + f" | {text} |"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
