"""Replay a synthetic set as monthly deliveries and compare with one load of everything (issue 13).

    .venv/bin/python benchmarks/eval_deliveries.py --seed 11 --groups 40 --noise 0.1 [--across pairs]

Generates the set (``netanalysis synth``), splits every CSV source into ``--deliveries``
chronological deliveries by the observation month of its rows (consecutive months, about equal
numbers of rows each; Excel sources go whole into the first delivery, and so do rows without a
readable observation date), then:

* loads everything at once into one embedded store, detects and evaluates against the truth;
* loads the deliveries one by one into another store, detecting with ``--track`` after each
  delivery, and evaluates the last detection;
* reports entity-resolution precision/recall, group ARI and cross-regional precision/recall of
  both, the CPU seconds of the loads, and the share of planted groups present in two consecutive
  deliveries whose group id stayed the same (a planted group "is" the detected group holding most of
  its suspects' records).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import loaders.crossload as crossload
from graphstore import open_store
from loaders.crossload import METHOD, METHODS
from loaders.mapping import load_mapping
from loaders.pipeline import load, read_records
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files
from netanalysis.detect import detect
from netanalysis.evaluate import evaluate
from netanalysis.graphs import read_analysis_graph
from netanalysis.lineage import follow_groups, keep_groups
from synth import generate

KEY = Pseudonymiser(bytes(range(7, 39)))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def split(set_dir: Path, out: Path, deliveries: int) -> list[Path]:
    """Write the deliveries; returns their folders in order."""
    mapping = load_mapping(set_dir / "sources.yaml")
    files = assign_files(mapping, [set_dir / "sources"])
    month_of: dict[tuple[str, str], str] = {}
    records = read_records(mapping, files, lambda _issue: None, {})
    for record in records:
        month_of[(record.source, record.row_id)] = str(record.values.get("observed_on") or "")[:7]
    # Consecutive months in `deliveries` periods of about equal numbers of rows (a synthetic set
    # spans years, with few rows in most months).
    per_month = Counter(m for m in month_of.values() if m)
    target = sum(per_month.values()) / deliveries
    period_of: dict[str, int] = {}
    period, filled = 0, 0
    for month in sorted(per_month):
        if filled >= target * (period + 1) and period < deliveries - 1:
            period += 1
        period_of[month] = period
        filled += per_month[month]
    folders = [out / f"delivery-{i:02d}" for i in range(deliveries)]
    for folder in folders:
        folder.mkdir(parents=True)
    for source in mapping.sources:
        row_col = next(c for c, f in source.columns.items() if f == "row_id")
        for path in files.get(source.name, []):
            if path.suffix.lower() != ".csv":
                shutil.copy(path, folders[0] / path.name)
                continue
            encoding = source.encoding if source.encoding not in (None, "auto") else "utf-8-sig"
            delimiter = source.delimiter if source.delimiter not in (None, "auto") else ","
            with open(path, encoding=encoding, newline="") as handle:
                rows = list(csv.reader(handle, delimiter=delimiter))
            header, body = rows[0], rows[1:]
            at = header.index(row_col)
            parts: dict[int, list[list[str]]] = defaultdict(list)
            for row in body:
                month = month_of.get((source.name, row[at].strip() if len(row) > at else ""), "")
                parts[period_of.get(month, 0)].append(row)
            for index, part in parts.items():
                with open(folders[index] / path.name, "w", encoding=encoding, newline="") as handle:
                    writer = csv.writer(handle, delimiter=delimiter)
                    writer.writerow(header)
                    writer.writerows(part)
    return folders


def planted_ids(set_dir: Path, detected: Path) -> dict[str, str]:
    """Planted group -> the detected group id holding most of its suspects' records."""
    mentions = defaultdict(set)
    with open(set_dir / "truth" / "mentions.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            mentions[row["true_person"]].add(f"{row['source']}:{row['row_id']}")
    person_of = {}
    with open(detected / "persons.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            person_of[f"{row['source'].lstrip(chr(39))}:{row['row_id'].lstrip(chr(39))}"] = row["person_id"]
    group_of = {}
    with open(detected / "groups.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["role"] == "suspect":
                group_of[row["person_id"]] = row["group_id"]
    out = {}
    with open(set_dir / "truth" / "groups.csv", encoding="utf-8") as handle:
        planted: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(handle):
            if row["role"] == "suspect":
                planted[row["group_id"]].append(row["true_person"])
    for group, people in planted.items():
        votes = Counter(
            group_of[person_of[r]]
            for p in people
            for r in mentions.get(p, ())
            if r in person_of and person_of[r] in group_of
        )
        if votes:
            out[group] = votes.most_common(1)[0][0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--deliveries", type=int, default=12)
    parser.add_argument(
        "--across",
        choices=METHODS,
        default=METHOD,
        help="resolution across loads (loaders.crossload.METHOD): the delivery with the stored "
        "records read, or only the pairs that hold a delivery record",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=crossload.ACROSS_MARGIN,
        help="bits added to the threshold across loads (loaders.crossload.ACROSS_MARGIN)",
    )
    parser.add_argument(
        "--join",
        choices=["whole", "matched"],
        default="whole" if crossload.WHOLE_PERSONS_ONLY else "matched",
        help="a new record joins a stored person whose records the encoded resolution keeps whole "
        "with it, or whose matched record shares its cluster and none contradicts it "
        "(loaders.crossload.WHOLE_PERSONS_ONLY)",
    )
    parser.add_argument(
        "--splits",
        choices=["on", "off"],
        default="on" if crossload.SPLIT_REACHED else "off",
        help="re-resolve the stored persons a delivery reaches and split them as one load would "
        "(loaders.crossload.SPLIT_REACHED)",
    )
    parser.add_argument(
        "--lookup-cap",
        default="default",
        help="the most stored records a new record looks up under one key "
        "(loaders.crossload.LOOKUP_CAP): a number, none, or default",
    )
    args = parser.parse_args()
    if args.lookup_cap != "default":
        crossload.LOOKUP_CAP = None if args.lookup_cap == "none" else int(args.lookup_cap)
    crossload.ACROSS_MARGIN = args.margin
    crossload.WHOLE_PERSONS_ONLY = args.join == "whole"
    crossload.SPLIT_REACHED = args.splits == "on"
    work = Path(tempfile.mkdtemp(prefix="deliveries-"))
    set_dir = work / "set"
    generate(set_dir, seed=args.seed, groups=args.groups, noise=args.noise)
    deliveries = split(set_dir, work / "deliveries", args.deliveries)
    result: dict[str, Any] = {
        "seed": args.seed,
        "groups": args.groups,
        "noise": args.noise,
        "across": args.across,
        "margin": args.margin,
        "join": args.join,
        "splits": args.splits,
        "lookup_cap": crossload.LOOKUP_CAP,
    }

    one = open_store(str(work / "one.db"))
    cpu = _cpu()
    load([set_dir / "sources"], one, set_dir / "sources.yaml", KEY, rejects_path=work / "r.csv")
    result["one_load_cpu_s"] = round(_cpu() - cpu, 1)
    detect(read_analysis_graph(one)).write(work / "one-detected")
    one.close()
    result["one_load"] = evaluate(set_dir / "truth", work / "one-detected").figures

    many = open_store(str(work / "many.db"))
    kept = total = 0
    previous: dict[str, str] | None = None
    cpu_loads = []
    for number, folder in enumerate(deliveries):
        cpu = _cpu()
        load(
            [folder],
            many,
            set_dir / "sources.yaml",
            KEY,
            rejects_path=work / f"r{number}.csv",
            across_loads=args.across,
        )
        cpu_loads.append(round(_cpu() - cpu, 2))
        run = follow_groups(detect(read_analysis_graph(many)), many)
        keep_groups(many, run)
        out = work / f"detected-{number:02d}"
        run.write(out)
        ids = planted_ids(set_dir, out)
        if previous is not None:
            both = set(ids) & set(previous)
            total += len(both)
            kept += sum(1 for g in both if ids[g] == previous[g])
        previous = ids
    result["splits_made"] = many.counts().get("Split", 0)
    result["merges_made"] = many.counts().get("Merge", 0)
    many.close()
    result["deliveries"] = len(deliveries)
    result["delivery_rows"] = [
        sum(max(sum(1 for _ in open(f, "rb")) - 1, 0) for f in folder.glob("*.csv")) for folder in deliveries
    ]
    result["delivery_load_cpu_s"] = cpu_loads
    result["replay"] = evaluate(set_dir / "truth", work / f"detected-{len(deliveries) - 1:02d}").figures
    share = f" = {kept / total:.1%}" if total else ""
    result["planted_group_transitions_keeping_id"] = f"{kept}/{total}{share}"
    print(json.dumps(result, indent=2))
    shutil.rmtree(work)


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"wall {time.time() - start:.0f} s")
