"""Where the replay of deliveries loses entity-resolution quality against one load (issue 13).

    .venv/bin/python benchmarks/diagnose_deliveries.py --seed 5 --groups 200 --noise 0.3 [--across pairs]

Generates the set and its deliveries as ``eval_deliveries.py`` does, then resolves the person
records four ways, without detection:

* one load in clear (``loaders.pipeline.resolve_persons`` of every record);
* one load fully encoded (``loaders.resolve_encoded.resolve_encoded`` of every record's
  comparison data, as a load across deliveries compares them);
* the replay: the deliveries loaded one by one into an embedded store, the store's persons read
  after each;
* each delivery alone in clear (what the replay's clear step sees).

It prints pairwise precision/recall of each against the truth, and splits the replay's errors
that one load in clear does not make (false links and missed links, counted in record pairs as
the ER figures are) by where they were made:

* false links: first joined inside one delivery by its clear resolution; by the encoded
  comparison across loads (a new record joined a stored person directly, or through a record of
  its clear cluster that did); by a merge of two stored persons;
* missed links: both records in one delivery, or in two; and whether one encoded load of
  everything makes the same error (then the encoding is the cause, not the order of decisions).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

from eval_deliveries import KEY, split

import loaders.crossload as crossload
import loaders.linkage as linkage
import loaders.pipeline as pipeline
import loaders.resolve as resolve_module
import loaders.resolve_encoded as resolve_encoded_module
from graphstore import open_store
from loaders.crossload import METHOD, METHODS, Comparer, _decode, stored_comparisons
from loaders.mapping import load_mapping
from loaders.pipeline import load, read_records, resolve_persons
from loaders.read import assign_files
from loaders.resolve import describes_person
from loaders.resolve_encoded import resolve_encoded
from loaders.resolve_eval import read_truth
from synth import generate

Pair = tuple[str, str]


def pairs_of(person_of: Mapping[str, str], rows: set[str]) -> set[Pair]:
    """The record pairs that share a person, over ``rows``."""
    members: dict[str, list[str]] = defaultdict(list)
    for rid in rows:
        if rid in person_of:
            members[person_of[rid]].append(rid)
    return {(a, b) for group in members.values() for a, b in combinations(sorted(group), 2)}


def quality(predicted: set[Pair], true: set[Pair]) -> dict[str, Any]:
    both = len(predicted & true)
    return {
        "P": round(both / len(predicted), 4) if predicted else 1.0,
        "R": round(both / len(true), 4) if true else 1.0,
        "false_pairs": len(predicted - true),
        "missed_pairs": len(true - predicted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--deliveries", type=int, default=12)
    parser.add_argument("--across", choices=METHODS, default=METHOD)
    parser.add_argument(
        "--oracle",
        choices=["none", "encoded", "clear", "both"],
        default="none",
        help="diagnosis only: the replay uses one load's model (weights estimated on every record) "
        "in its encoded comparison, its clear resolution, or both",
    )
    parser.add_argument(
        "--join",
        choices=["whole", "matched"],
        default="whole" if crossload.WHOLE_PERSONS_ONLY else "matched",
        help="a new record joins a stored person when the encoded resolution keeps all its records "
        "in the new record's cluster, or the matched one and none contradicts (WHOLE_PERSONS_ONLY)",
    )
    parser.add_argument("--margin", type=float, default=crossload.ACROSS_MARGIN)
    parser.add_argument("--keep", type=Path, help="copy the work folder here")
    parser.add_argument(
        "--splits",
        choices=["on", "off"],
        default="on" if crossload.SPLIT_REACHED else "off",
        help="re-resolve the stored persons a delivery reaches and split them as one load would "
        "(loaders.crossload.SPLIT_REACHED)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="diagnose-"))
    set_dir = work / "set"
    generate(set_dir, seed=args.seed, groups=args.groups, noise=args.noise)
    folders = split(set_dir, work / "deliveries", args.deliveries)
    mapping = load_mapping(set_dir / "sources.yaml")
    truth = read_truth(set_dir / "truth" / "mentions.csv")

    delivery_of: dict[str, int] = {}
    per_delivery: list[list[Any]] = []
    for k, folder in enumerate(folders):
        recs = read_records(mapping, assign_files(mapping, [folder]), lambda _i: None, {})
        per_delivery.append(recs)
        for r in recs:
            if describes_person(r):
                delivery_of.setdefault(r.record_id, k)
    everything = read_records(mapping, assign_files(mapping, [set_dir / "sources"]), lambda _i: None, {})
    persons = [r for r in everything if describes_person(r)]
    rows = {r.record_id for r in persons} & set(truth) & set(delivery_of)
    true_pairs = pairs_of(truth, rows)

    clear = resolve_persons(everything, KEY).person_of
    comparer = Comparer(KEY)
    feats, ids = [], []
    for r in persons:
        value = comparer.value(r)
        f = _decode(value, r.record_id) if value else None
        if f is not None:
            feats.append(f)
            ids.append(r.record_id)
    encoded_res = resolve_encoded(feats, ids)
    encoded = {rid: cid for cid, members in encoded_res.clusters.items() for rid in members}
    alone: dict[str, str] = {}
    for k, recs in enumerate(per_delivery):
        alone.update({rid: f"{k}/{p}" for rid, p in resolve_persons(recs, KEY).person_of.items()})

    crossload.WHOLE_PERSONS_ONLY = args.join == "whole"
    crossload.ACROSS_MARGIN = args.margin
    crossload.SPLIT_REACHED = args.splits == "on"
    if args.oracle in ("encoded", "both"):
        model_e = encoded_res.model

        def fixed_encoded(f: Any, i: Any, *, threshold: float = 2.0, **_kw: Any) -> Any:
            pick = lambda members, local: resolve_encoded_module._person_id(members, f, i, local)  # noqa: E731
            return linkage.link(
                f,
                i,
                resolve_encoded_module.ENCODED,
                resolve_encoded_module.exported_rules(f),
                pick,
                threshold=threshold,
                model=model_e,
            )

        crossload.resolve_encoded = fixed_encoded  # type: ignore[assignment]
    if args.oracle in ("clear", "both"):
        model_c = resolve_persons(everything, KEY).model
        plain_link = linkage.link

        def fixed_clear(*a: Any, **kw: Any) -> Any:
            kw["model"] = model_c
            return plain_link(*a, **kw)

        resolve_module.link = fixed_clear  # type: ignore[assignment]
    # The replay, with what the encoded comparison matched in each delivery.
    matched: list[dict[str, list[str]]] = []
    reached: list[dict[str, set[str]]] = []
    original = pipeline.matches_across_loads

    def spy(*a: Any, **kw: Any) -> Any:
        reached.append({})
        found = original(*a, **kw)
        matched.append({rid: [m.person for m in ms] for rid, ms in found.items()})
        return found

    pipeline.matches_across_loads = spy  # type: ignore[assignment]
    # What the encoded comparison of each delivery found before the guard: new record -> the
    # stored records of its accepted pairs, and whether it shares an encoded cluster with them.
    inner = crossload._resolve_whole

    def spy_whole(new_feats: Any, old_feats: Any, threshold: float) -> Any:
        cluster_of, accepted = inner(new_feats, old_feats, threshold)
        got: dict[str, set[str]] = defaultdict(set)
        for a, b, _s in accepted:
            for x, y in ((a, b), (b, a)):
                if x in new_feats and y in old_feats:
                    got[x].add(y)
        reached[-1] = dict(got)
        return cluster_of, accepted

    crossload._resolve_whole = spy_whole  # type: ignore[assignment]
    store = open_store(str(work / "many.db"))
    snapshots: list[dict[str, str]] = []
    merges = 0
    for k, folder in enumerate(folders):
        summary = load(
            [folder],
            store,
            set_dir / "sources.yaml",
            KEY,
            rejects_path=work / f"r{k}.csv",
            across_loads=args.across,
        )
        merges += summary.merges
        snapshots.append(stored_comparisons(store)[1])
    splits_made = store.counts().get("Split", 0)
    store.close()
    replay = snapshots[-1]

    pairs = {
        "one_load_clear": pairs_of(clear, rows),
        "one_load_encoded": pairs_of(encoded, rows),
        "deliveries_alone_clear": pairs_of(alone, rows),
        "replay": pairs_of(replay, rows),
    }
    out: dict[str, Any] = {
        "seed": args.seed,
        "noise": args.noise,
        "across": args.across,
        "oracle": args.oracle,
        "join": args.join,
        "splits": args.splits,
        "margin": args.margin,
    }
    out["records"] = len(rows)
    out["true_pairs"] = len(true_pairs)
    out["merges"] = merges
    out["splits"] = splits_made
    out["quality"] = {name: quality(p, true_pairs) for name, p in pairs.items()}

    def joined_at(a: str, b: str) -> int:
        start = max(delivery_of[a], delivery_of[b])
        return next(t for t in range(start, len(snapshots)) if snapshots[t].get(a) == snapshots[t].get(b))

    def origin_of_link(a: str, b: str) -> str:
        t = joined_at(a, b)
        da, db = delivery_of[a], delivery_of[b]
        if da == db == t:
            if alone.get(a) == alone.get(b):
                return "within delivery, clear"
            return "both new, joined one stored person"
        if min(da, db) < t and max(da, db) == t:
            new = a if da == t else b
            old = b if new == a else a
            person_then = snapshots[t - 1].get(old)
            if person_then in matched[t].get(new, []):
                return "across loads, new record matched (encoded)"
            return "across loads, via a clear cluster mate"
        return "merge of stored persons"

    def side(a: str, b: str) -> str:
        return "same delivery" if delivery_of[a] == delivery_of[b] else "different deliveries"

    enc = pairs["one_load_encoded"]
    extra_false = (pairs["replay"] - true_pairs) - pairs["one_load_clear"]
    extra_missed = (true_pairs - pairs["replay"]) - (true_pairs - pairs["one_load_clear"])
    fixed_false = (pairs["one_load_clear"] - true_pairs) - pairs["replay"]
    fixed_missed = (true_pairs - pairs["one_load_clear"]) & pairs["replay"]
    out["replay_extra_false_links_by_origin"] = dict(
        Counter(
            f"{origin_of_link(a, b)}; encoded one load {'also' if (a, b) in enc else 'not'}"
            for a, b in extra_false
        )
    )
    out["replay_extra_false_links_by_delivery_joined"] = dict(
        sorted(Counter(joined_at(a, b) for a, b in extra_false).items())
    )
    out["replay_extra_missed_links"] = dict(
        Counter(
            f"{side(a, b)}; alone-clear {'linked' if alone.get(a) == alone.get(b) else 'not'}; "
            f"encoded one load {'missed too' if (a, b) not in enc else 'linked'}"
            for a, b in extra_missed
        )
    )

    def why_missed(a: str, b: str) -> str:
        if delivery_of[a] == delivery_of[b]:
            return "same delivery"
        old, new = (a, b) if delivery_of[a] < delivery_of[b] else (b, a)
        t = delivery_of[new]
        person = snapshots[t - 1].get(old)
        direct = matched[t].get(new, []) if t < len(matched) else []
        pairs_to = reached[t].get(new, set()) if t < len(reached) else set()
        persons_reached = {snapshots[t - 1].get(r) for r in pairs_to}
        if person in direct:
            return "matched at arrival, later separated"
        if person in persons_reached:
            return "encoded pair accepted, person not left whole (guard)"
        if direct:
            return "matched another stored person"
        return "no encoded pair to the person at arrival"

    out["replay_extra_missed_across_why"] = dict(
        Counter(
            f"{why_missed(a, b)}; encoded one load {'missed too' if (a, b) not in enc else 'linked'}"
            for a, b in extra_missed
            if delivery_of[a] != delivery_of[b]
        )
    )
    out["replay_avoids_false_links_of_one_load"] = len(fixed_false)
    out["replay_finds_links_one_load_misses"] = len(fixed_missed)
    # Persons: the replay's false pairs come in lumps; the biggest lumps by person.
    lump: Counter[str] = Counter(replay[a] for a, _b in extra_false)
    out["extra_false_pairs_in_top_persons"] = [n for _p, n in lump.most_common(10)]
    out["persons_with_extra_false_pairs"] = len(lump)
    print(json.dumps(out, indent=2))
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
