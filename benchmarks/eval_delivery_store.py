"""Entity resolution of a store after a delivery, against the synthetic truth (issue 13).

    .venv/bin/python benchmarks/eval_delivery_store.py SET_DIR --base BASE_STORE STORE [STORE ...]

``bench_delivery_scale.py delivery`` loads a delivery into a copy of a base store; this scores the
persons each resulting store gives the records (``Record -DESCRIBES-> Person``) against
``SET_DIR/truth/mentions.csv``: pairwise precision and recall over every record in the truth and
over the pairs that hold a record of the delivery, and for two stores the delivery records whose
person differs. It is how a change of what a delivery reads is checked at a store's scale, where
the replay of ``eval_deliveries.py`` (a few thousand records) has no large blocks.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

from graphstore import open_store
from loaders.crossload import stored_comparisons


def _pairs(sizes: Counter[tuple[str, ...]]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise(person_of: dict[str, str], truth: dict[str, str], focus: set[str]) -> dict[str, float]:
    """Pairwise precision and recall of ``person_of`` against ``truth`` over the records of both;
    with ``focus``, only the pairs that hold at least one of its records.

    >>> pairwise({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "x", "c": "x"}, set())
    {'precision': 1.0, 'recall': 0.3333, 'pairs_found': 1, 'pairs_true': 3}
    """
    ids = sorted(person_of.keys() & truth.keys())
    out: set[str] = set(ids) - focus if focus else set()

    def count(key: dict[str, str], both: bool = False) -> int:
        # Pairs of one cluster (or of one cell of both) minus those with no focus record.
        def of(rid: str) -> tuple[str, ...]:
            return (key[rid], truth[rid]) if both else (key[rid],)

        total = _pairs(Counter(of(rid) for rid in ids))
        return total - _pairs(Counter(of(rid) for rid in out)) if focus else total

    found, true, hit = count(person_of), count(truth), count(person_of, both=True)
    return {
        "precision": round(hit / found, 4) if found else 1.0,
        "recall": round(hit / true, 4) if true else 1.0,
        "pairs_found": found,
        "pairs_true": true,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("stores", nargs="+")
    parser.add_argument("--base", required=True, help="the store before the delivery")
    args = parser.parse_args()
    with open(args.set_dir / "truth" / "mentions.csv", encoding="utf-8") as handle:
        truth = {f"{row['source']}:{row['row_id']}": row["true_person"] for row in csv.DictReader(handle)}
    base = open_store(args.base)
    before = set(stored_comparisons(base)[1])
    base.close()
    results = []
    for uri in args.stores:
        store = open_store(uri)
        _stored, person_of, _missing = stored_comparisons(store)
        store.close()
        focus = person_of.keys() - before
        results.append(person_of)
        print(
            json.dumps(
                {
                    "store": uri,
                    "records": len(person_of),
                    "persons": len(set(person_of.values())),
                    "delivery_records": len(focus),
                    "all": pairwise(person_of, truth, set()),
                    "delivery_pairs": pairwise(person_of, truth, focus),
                }
            )
        )
    if len(results) == 2:
        a, b = results
        differ = sum(1 for rid in (a.keys() & b.keys()) - before if a[rid] != b[rid])
        print(json.dumps({"delivery_records_with_another_person": differ}))


if __name__ == "__main__":
    main()
