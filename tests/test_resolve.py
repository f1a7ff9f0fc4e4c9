"""Entity resolution on hand-made records where the right answer is known."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.pseudonymise import Pseudonymiser
from loaders.records import Record
from loaders.resolve import (
    DEFAULT_THRESHOLD,
    Resolution,
    describes_person,
    features,
    phonetic,
    resolve,
    score_pair,
)

P = Pseudonymiser(bytes(range(32)))


def rec(
    row: str, first: str = "", last: str = "", birth: str = "", source: str = "src", **values: Any
) -> Record:
    vals: dict[str, Any] = {"role": values.pop("role", "suspect")}
    if first:
        vals["first_name"] = first
    if last:
        vals["last_name"] = last
    if birth:
        vals["birth_date"] = birth
    vals.update(values)
    return Record(source=source, row_id=row, kind="case", values=vals)


def run(records: list[Record], evidence: list[list[str]] | None = None) -> Resolution:
    return resolve(records, person_id=lambda ident: P.hash("person", ident), evidence=evidence)


def same(res: Resolution, a: str, b: str) -> bool:
    return res.person_of[f"src:{a}"] == res.person_of[f"src:{b}"]


def test_identical_identity_is_an_exact_match() -> None:
    res = run([rec("1", "Piet", "Jansen", "1980-02-03"), rec("2", "piet", "JANSEN", "1980-02-03")])
    assert same(res, "1", "2")
    assert res.link["src:1"] == ("exact", 1.0)
    assert [p.match for p in res.pairs] == ["exact"]


def test_swapped_first_and_last_name() -> None:
    res = run([rec("1", "Piet", "Jansen", "1980-02-03"), rec("2", "Jansen", "Piet", "1980-02-03")])
    assert same(res, "1", "2")


def test_particle_written_apart_or_dropped() -> None:
    res = run(
        [
            rec("1", "Anna", "Berg", "1990-05-06", name_particle="van den"),
            rec("2", "Anna", "van den Berg", "1990-05-06"),
            rec("3", "Anna", "Berg", "1990-05-06"),
        ]
    )
    assert same(res, "1", "2") and same(res, "1", "3")


def test_typo_in_name() -> None:
    res = run(
        [
            rec("1", "Mohamed", "El Amrani", "1985-03-11", nationality="MAR"),
            rec("2", "Mohammed", "El Amrani", "1985-03-11", nationality="MAR"),
        ]
    )
    assert same(res, "1", "2")
    assert res.link["src:1"][0] == "probabilistic"
    assert 0.9 < res.link["src:1"][1] <= 1.0


def test_day_month_swap_and_days_off() -> None:
    swap = run([rec("1", "Ionela", "Popescu", "1999-07-08"), rec("2", "Ionela", "Popescu", "1999-08-07")])
    assert same(swap, "1", "2")
    # Across a month boundary, three days apart.
    off = run([rec("1", "Ionela", "Popescu", "1999-07-30"), rec("2", "Ionela", "Popescu", "1999-08-02")])
    assert same(off, "1", "2")
    # Same year, otherwise unrelated dates: two people.
    other = run([rec("1", "Ionela", "Popescu", "1999-03-30"), rec("2", "Ionela", "Popescu", "1999-08-02")])
    assert not same(other, "1", "2")


@pytest.mark.parametrize(
    "a, b",
    [
        # A typo in both names, the same birth date.
        (("Rada", "Todeva", "2002-05-22"), ("Rade", "Todova", "2002-05-22")),
        # A typo in one name and no birth date on one side.
        (("Ionela", "Popescu", "1999-07-08"), ("Ionella", "Popescu", "")),
        (("Ionela", "Popescu", "1999-07-08"), ("Ionela", "Popesku", "")),
        # A typo in one name and day and month swapped.
        (("Ionela", "Popescu", "1999-07-08"), ("Ioneal", "Popescu", "1999-08-07")),
        (("Ionela", "Popescu", "1999-07-08"), ("Ionela", "Popecsu", "1999-08-07")),
        # A typo in the first letter of the first name (blocking must still compare the two).
        (("Jan", "Vermeulen", "1981-11-30"), ("Tan", "Vermeulen", "1981-11-30")),
        # Names swapped and a typo in one of them.
        (("Piet", "Jansen", "1980-02-03"), ("Jansen", "Pjet", "1980-02-03")),
        # A spelling variant and a birth date with one part off.
        (("Rada", "Todeva", "2002-05-22"), ("Rada", "Todova", "2002-09-22")),
    ],
)
def test_two_soft_disagreements_add_up(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    # Each is weak alone; the evidence of the rest of the record adds up (no veto on their number).
    res = run([rec("1", *a), rec("2", *b)])
    assert same(res, "1", "2")


def test_threshold_trades_recall_for_precision() -> None:
    pair = [rec("1", "Rada", "Todeva", "2002-05-22"), rec("2", "Rade", "Todova", "2002-05-22")]
    weight = score_pair(features(pair[0]), features(pair[1])).weight
    assert DEFAULT_THRESHOLD <= weight
    assert same(resolve(pair, person_id=str, threshold=weight), "1", "2")
    assert not same(resolve(pair, person_id=str, threshold=weight + 0.5), "1", "2")


def test_without_birth_date_only_a_rare_name_links() -> None:
    # A load big enough for term frequencies: 300 namesakes "Jan Jansen" and 900 rare names.
    rng = random.Random(3)
    records = [
        rec(f"j{i}", "Jan", "Jansen", f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}")
        for i in range(300)
    ]
    letters = "bdfgklmnprstvz"
    for i in range(900):
        first = "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(3))
        last = "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4))
        records.append(rec(f"r{i}", first, last, f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}"))
    common = rec("x1", "Jan", "Jansen", "")
    rare = rec("x2", str(records[400].values["first_name"]), str(records[400].values["last_name"]), "")
    res = run([*records, common, rare])
    assert res.stats["model_estimated"] == 1
    assert sum(res.person_of["src:x1"] == res.person_of[f"src:j{i}"] for i in range(300)) == 0
    assert res.person_of["src:x2"] == res.person_of[records[400].record_id]


def test_missing_birth_date_with_full_name_matches() -> None:
    res = run([rec("1", "Ionela", "Popescu", "1999-07-08", nationality="ROU"), rec("2", "Ionela", "Popescu")])
    assert same(res, "1", "2")


def test_different_birth_dates_keep_namesakes_apart() -> None:
    res = run([rec("1", "Jan", "de Vries", "1970-01-01"), rec("2", "Jan", "de Vries", "1993-09-27")])
    assert not same(res, "1", "2")


def test_shared_phone_plate_account_premises_never_merge_different_people() -> None:
    # Group members share identifiers on purpose; that is group evidence, not identity.
    shared = ["phone:aaa", "plate:bbb", "iban:ccc", "premises:ddd"]
    res = run(
        [rec("1", "Piet", "Jansen", "1980-02-03"), rec("2", "Karel", "Bakker", "1980-02-03")],
        evidence=[shared, shared],
    )
    assert not same(res, "1", "2")
    res = run(
        [rec("1", "Piet", "Jansen", "1980-02-03"), rec("2", "Kees", "Jansen", "1981-04-09")],
        evidence=[shared, shared],
    )
    assert not same(res, "1", "2")


def test_shared_identifiers_can_support_a_weak_match() -> None:
    # Same surname and birth date, no first name, contradicting nationality and gender: a pair just
    # under the threshold; shared identifiers (at most EVIDENCE_CAP) may tip the balance because
    # the names and dates do agree.
    base = [
        rec("1", "", "Ionescu", "1988-01-02", nationality="ROU", gender="m"),
        rec("2", "", "Ionescu", "1988-01-02", nationality="MDA", gender="f"),
    ]
    weight = score_pair(features(base[0]), features(base[1])).weight
    shared = [["phone:x", "plate:y"], ["phone:x", "plate:y"]]
    assert not same(resolve(base, person_id=str, threshold=weight + 1.5), "1", "2")
    assert same(resolve(base, person_id=str, evidence=shared, threshold=weight + 1.5), "1", "2")
    # Where no name agrees, no amount of shared evidence links, whatever the threshold.
    other = [rec("1", "Piet", "Jansen", "1980-02-03"), rec("2", "Karel", "Bakker", "1980-02-03")]
    assert not same(resolve(other, person_id=str, evidence=shared, threshold=-100.0), "1", "2")


def test_document_number_is_exact() -> None:
    res = run(
        [
            rec("1", "Ana", "Pop", "1995-01-01", document_number="X123"),
            rec("2", "Anna", "Popp", "", document_number="X123"),
        ]
    )
    assert same(res, "1", "2")
    assert res.link["src:2"] == ("exact", 1.0)


def test_chaining_through_a_weak_record_is_undone() -> None:
    # "J. Smit" without birth date would chain two different Jan Smits; the guard splits them.
    res = run(
        [
            rec("1", "Jan", "Smit", "1960-01-01", gender="m"),
            rec("2", "Jan", "Smit", ""),
            rec("3", "Jan", "Smit", "1999-12-31", gender="m"),
        ]
    )
    assert not same(res, "1", "3")
    assert res.stats.get("split_components", 0) == 1


def test_person_id_is_deterministic_and_order_independent() -> None:
    rows = [
        rec("1", "Piet", "Jansen", "1980-02-03"),
        rec("2", "Jansen", "Piet", "1980-02-03"),
        rec("3", "Karel", "Bakker", "1971-06-05"),
    ]
    a = run(rows)
    b = run(list(reversed(rows)))
    assert a.person_of == b.person_of
    # The same identity in another region (other source, same key) gets the same person id.
    other = run([rec("9", "Piet", "Jansen", "1980-02-03", source="other")])
    assert other.person_of["other:9"] == a.person_of["src:1"]


def test_person_id_differs_under_another_key() -> None:
    rows = [rec("1", "Piet", "Jansen", "1980-02-03")]
    a = run(rows)
    q = Pseudonymiser(bytes(range(1, 33)))
    b = resolve(rows, person_id=lambda ident: q.hash("person", ident))
    assert a.person_of != b.person_of


def test_clusters_keep_their_source_rows() -> None:
    res = run(
        [
            rec("1", "Piet", "Jansen", "1980-02-03"),
            rec("2", "Piet", "Jansen", "1980-02-03"),
            rec("3", "Karel", "Bakker", "1971-06-05"),
        ]
    )
    assert sorted(res.clusters.values()) == [["src:1", "src:2"], ["src:3"]]


def test_describes_person() -> None:
    assert describes_person(rec("1", "Piet", "Jansen"))
    place_only = Record("s", "1", "signal", {"municipality": "GM0363", "premises_name": "Salon X"})
    assert not describes_person(place_only)


def test_phonetic_groups_spelling_variants() -> None:
    assert phonetic("mohamed") == phonetic("mohammed")
    assert phonetic("jansen") == phonetic("janssen")


names = st.sampled_from(["Piet", "Karel", "Anna", "Fatima", "Ionela", "Jan", "Mehmet", "Olga"])
lasts = st.sampled_from(["Jansen", "Bakker", "Popescu", "Yilmaz", "de Vries", "Nowak"])
dates = st.sampled_from(["1980-02-03", "1991-11-12", "2001-06-07", ""])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(names, lasts, dates), min_size=1, max_size=12))
def test_clusters_partition_the_records_and_ignore_order(rows: list[tuple[str, str, str]]) -> None:
    records = [rec(str(i), f, last, b) for i, (f, last, b) in enumerate(rows)]
    res = run(records)
    assert sorted(r for ids in res.clusters.values() for r in ids) == sorted(r.record_id for r in records)
    assert run(list(reversed(records))).person_of == res.person_of


def test_initials_only_are_loaded_and_never_linked_on_names_alone() -> None:
    """'J. P.' with the same birth date as 'J. P.' is not enough to be one person; a document is."""
    res = run(
        [
            rec("1", "J.", "P", "1980-02-03"),
            rec("2", "J", "P.", "1980-02-03"),
            rec("3", "A", "B", "1975-05-05", document_number="NX123456"),
            rec("4", "A.", "B.", "", document_number="NX123456"),
            rec("5", "J.", "Jansen", "1980-02-03"),
            rec("6", "J.", "Jansen", "1980-02-03"),
        ]
    )
    assert len(res.person_of) == 6  # every record is loaded and has a person
    assert not same(res, "1", "2")
    assert same(res, "3", "4")  # a shared document number still makes an identity
    assert same(res, "5", "6")  # an initial with a full surname is a name
    assert res.stats["initials_only"] == 4
    assert features(rec("1", "J.", "P", "1980-02-03")).first == ""


def test_summary_counts_records_without_birth_date_left_unlinked() -> None:
    res = run(
        [
            rec("1", "Xandrijn", "Oomkensvelde", ""),
            rec("2", "Xandrijn", "Oomkensvelde", "1980-02-03"),
            rec("3", "Jan", "Jansen", ""),
            rec("4", "Piet", "de Vries", "1970-01-01"),
        ]
    )
    assert same(res, "1", "2")
    assert (res.stats["undated_records"], res.stats["undated_unlinked"]) == (2, 1)


def _split_listing_every_pair(
    members: list[int],
    edges: list[tuple[float, int, int]],
    feats: list[Any],
    comparison: Any,
    weights: Any,
    record_ids: list[str],
) -> list[list[int]]:
    """The guard as it was before it compared pairs lazily: every contradicting pair listed first."""
    from loaders.linkage import _join_without_conflicts, is_exact, score

    conflicts = {
        (i, j)
        for x, i in enumerate(members)
        for j in members[x + 1 :]
        if not is_exact(feats[i], feats[j]) and score(feats[i], feats[j], comparison, weights).contradiction
    }
    if not conflicts:
        return [members]
    group = _join_without_conflicts(members, edges, conflicts, record_ids)
    return [sorted(g) for g in {id(g): g for g in group.values()}.values()]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_guard_compares_pairs_only_when_joining_and_splits_as_listing_every_pair(seed: int) -> None:
    """Chained namesakes make one big component (tens of thousands of records at a million rows);
    the guard must split it as a listing of every contradicting pair does, without that listing."""
    from collections import Counter

    import loaders.linkage as linkage
    from loaders.resolve import CLEAR

    rng = random.Random(seed)
    births = ["1980-02-03", "1980-02-08", "1991-07-01", "1975-11-30", ""]
    firsts, lasts = ["jan", "jans", "johan"], ["smit", "smits", "smid"]
    records = [
        rec(str(n), rng.choice(firsts), rng.choice(lasts), rng.choice(births), gender=rng.choice(["m", ""]))
        for n in range(80)
    ]
    feats = [features(r, ()) for r in records]
    ids = [r.record_id for r in records]
    members = list(range(len(records)))
    # A chain through every record, with random strengths (ties included), plus random extra links.
    order = rng.sample(members, len(members))
    edges = [(float(rng.choice([2, 3, 5])), a, b) for a, b in zip(order, order[1:], strict=False)]
    for _ in range(60):
        a, b = sorted(rng.sample(members, 2))
        edges.append((float(rng.choice([2, 3, 5, math.inf])), a, b))
    weights = linkage.NEUTRAL_WEIGHTS
    expected = _split_listing_every_pair(members, edges, feats, CLEAR, weights, ids)
    calls = Counter[str]()
    real_score = linkage.score

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["score"] += 1
        return real_score(*args, **kwargs)

    stats = Counter[str]()
    linkage.score = counted
    try:
        got = linkage._split_incoherent(members, edges, feats, CLEAR, weights, stats, ids)
    finally:
        linkage.score = real_score
    assert sorted(map(sorted, got)) == sorted(map(sorted, expected))
    assert len(got) > 1 and stats["split_components"] == 1
    assert calls["score"] < len(members) * (len(members) - 1) // 2
