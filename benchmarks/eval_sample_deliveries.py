"""Entity resolution of the shipped samples: one load against 59 monthly deliveries, both scored
against the samples' truth (``data_samples/truth/mentions.csv``).

    .venv/bin/python benchmarks/eval_sample_deliveries.py

Prints persons, record pairs, precision and recall of each way of loading, and how many pairs the
deliveries make that one load does not (and the reverse). The deliveries are cut as in
``tests/test_living.py`` (each row in the delivery of its observation month).
"""

from __future__ import annotations

import csv
import sys
import tempfile
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_living import DATA_SAMPLES, KEY, MAPPING, persons_as_records, split_deliveries  # noqa: E402

from graphstore import open_store  # noqa: E402
from loaders.pipeline import load  # noqa: E402


def pairs(clusters):
    return {frozenset(p) for c in clusters for p in combinations(sorted(c), 2)}


def main() -> None:
    truth: dict[str, str] = {}
    with open(DATA_SAMPLES / "truth" / "mentions.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            truth[f"{row['source']}:{row['row_id']}"] = row["true_person"]
    by_person: dict[str, set[str]] = {}
    for rid, person in truth.items():
        by_person.setdefault(person, set()).add(rid)
    true_pairs = pairs(by_person.values())
    tmp = Path(tempfile.mkdtemp())
    one = open_store(str(tmp / "one.db"))
    load([DATA_SAMPLES / "sources"], one, MAPPING, KEY, rejects_path=tmp / "r.csv")
    whole = persons_as_records(one)
    one.close()
    store = open_store(str(tmp / "monthly.db"))
    deliveries = split_deliveries(tmp / "deliveries")
    for number, delivery in enumerate(deliveries):
        load([delivery], store, MAPPING, KEY, rejects_path=tmp / f"r{number}.csv")
    monthly = persons_as_records(store)
    store.close()
    print(f"{len(deliveries)} deliveries")
    for name, clusters in (("one load", whole), ("deliveries", monthly)):
        made = {p for p in pairs(clusters) if all(r in truth for r in p)}
        good = made & true_pairs
        print(
            f"{name}: {len(clusters)} persons, {len(made)} pairs, "
            f"precision {len(good) / len(made):.4f}, recall {len(good) / len(true_pairs):.4f}"
        )
    one_pairs, monthly_pairs = pairs(whole), pairs(monthly)
    print(f"pairs only the deliveries make: {len(monthly_pairs - one_pairs)}")
    print(f"pairs only one load makes: {len(one_pairs - monthly_pairs)}")


if __name__ == "__main__":
    main()
