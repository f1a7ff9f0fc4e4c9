"""The engine's array path (``candidate_codes``, the pairs compared all at once in ``link``) gives
what the one-pair-at-a-time functions give: the same pairs in the same order, the same levels,
weights, guards and exact rules, bit for bit (issue 21: the load's CPU, same results)."""

from __future__ import annotations

import itertools
import random
from array import array
from collections import Counter

import numpy as np
import pytest

import loaders.linkage as linkage
from loaders.linkage import (
    EVIDENCE_CAP,
    MAX_BLOCK,
    MatchModel,
    _Pairs,
    _pairs_of,
    candidate_codes,
    candidate_pairs,
    is_exact,
    levels,
    score,
)
from loaders.resolve import CLEAR, Features, blocking_rules
from loaders.resolve_encoded import EncodedFeatures, _ExportedKey, exported_rules

FIRST = ["jan", "jon", "piet", "pieter", "anna", "ana", "mohamed", "mohammed", "", "kees"]
LAST = ["jansen", "janssen", "vandenberg", "berg", "dejong", "jong", "bakker", "", "visser", "smit"]


def _features(count: int, seed: int) -> list[Features]:
    """Records with common names (some blocks larger than MAX_BLOCK), typos, swaps, missing
    values, undated records, documents and shared identifiers."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        core = last.replace("vanden", "").replace("de", "", 1) if last else ""
        if rng.random() < 0.1:
            first, last = last, first
        birth = (
            ""
            if rng.random() < 0.25
            else f"19{rng.randint(60, 62)}-0{rng.randint(1, 3)}-1{rng.randint(0, 3)}"
        )
        out.append(
            Features(
                first=first,
                last=last,
                last_core=core,
                name_key=" ".join(sorted(t for t in (first, core) if t)),
                birth=birth,
                nationality=rng.choice(["", "NLD", "MAR"]),
                gender=rng.choice(["", "M", "V"]),
                document=rng.choice([""] * 20 + ["D1", "D2"]),
                evidence=frozenset(rng.sample(["phone:1", "phone:2", "plate:x"], rng.randint(0, 2))),
            )
        )
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_candidate_codes_are_the_candidate_pairs_in_order(seed: int) -> None:
    feats = _features(3000, seed)
    one, many = Counter[str](), Counter[str]()
    n = len(feats)
    expected = [i * n + j for i, j in candidate_pairs(feats, blocking_rules(), one)]
    found = candidate_codes(feats, blocking_rules(), many)
    assert found.tolist() == expected
    assert many == one
    assert one["oversized_blocks"] > 0  # the data has blocks larger than MAX_BLOCK
    assert MAX_BLOCK < n


def _exported(feats: list[Features]) -> list[EncodedFeatures]:
    """Records with the keys the clear rules give them, as an export holds them ("<rule>:<key>",
    "u" for an undated-only rule), one rule's key given twice now and then (the first counts)."""
    out = []
    for f in feats:
        blocks = [
            f"{n}{'u' if undated else ''}:{key}"
            for n, (rule, undated) in enumerate(blocking_rules())
            if (key := rule(f)) is not None
        ]
        if blocks and len(f.first) % 3 == 0:
            blocks.append(blocks[0] + "x")
        out.append(
            EncodedFeatures(
                0, 0, 0, f.birth[:4], f.birth, "", "", "", "", frozenset(), "", "", "", frozenset(),
                tuple(blocks), "", "",
            )
        )  # fmt: skip
    return out


def test_exported_rules_find_each_records_keys_in_one_pass() -> None:
    """The rules of an export give the blocks of its keys read record by record, and the pairs
    that the same rules called one record at a time give."""
    feats = _exported(_features(3000, 4))
    rules = exported_rules(feats)
    one_by_one = [(_ExportedKey(rule._prefix[:-1]), undated) for rule, undated in rules]  # type: ignore[attr-defined]
    for (rule, _u), (plain, _v) in zip(rules, one_by_one, strict=True):
        assert rule.keys_of(feats) == [plain(f) for f in feats]  # type: ignore[attr-defined]
    n, stats = len(feats), Counter[str]()
    expected = [i * n + j for i, j in candidate_pairs(feats, one_by_one, stats)]
    assert candidate_codes(feats, rules, Counter[str]()).tolist() == expected
    assert stats["candidate_pairs"] > 1000


def test_candidate_codes_of_rules_without_blocks() -> None:
    feats = _features(50, 3)
    stats = Counter[str]()
    no_blocks = [(lambda f: None, False), (lambda f: f.first + f.last + f.birth + str(id(f)), True)]
    assert candidate_codes(feats, no_blocks, stats).tolist() == []
    assert candidate_codes([], blocking_rules(), stats).tolist() == []
    assert stats == Counter()


def test_pairs_compared_at_once_as_one_at_a_time() -> None:
    feats = _features(700, 4)
    n = len(feats)
    model = MatchModel(feats, CLEAR)
    codes = array("q", candidate_codes(feats, blocking_rules(), Counter()).tobytes())
    pairs = _pairs_of(feats, codes, CLEAR)
    weight, allowed = pairs.scores(feats, model)
    _weight, lf, ll = pairs.names_as_scored(feats, model)
    assert len(codes) > 3_000
    for k, code in enumerate(codes):
        i, j = divmod(code, n)
        a, b = feats[i], feats[j]
        expected = score(a, b, CLEAR, model)
        assert (float(weight[k]), bool(allowed[k])) == (expected.weight, expected.allowed)
        assert bool(pairs.exact[k]) == is_exact(a, b)
        found = (lf[k], ll[k], pairs.birth[k], pairs.nationality[k], pairs.gender[k])
        assert tuple(np.array(found).tolist()) == levels(a, b, CLEAR, model)


@pytest.mark.parametrize("chunk", [1 << 21, 1000, 7])
def test_shared_identifiers_counted_at_once_as_one_at_a_time(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_Pairs._evidence`` (a sorted join of every record's tokens) gives each pair the bonus
    ``score`` gives it: up to four tokens a record, so that the cap is reached and passed; the
    same in chunks of pairs of any size."""
    monkeypatch.setattr(linkage, "_EVIDENCE_CHUNK", chunk)
    rng = random.Random(5)
    pool = [f"phone:{k}" for k in range(6)]
    tokens = [frozenset(rng.sample(pool, rng.choice([0, 0, 1, 2, 3, 4]))) for _ in range(300)]
    feats = [f._replace(evidence=t) for f, t in zip(_features(300, 6), tokens, strict=True)]
    pairs = np.array(list(itertools.combinations(range(300), 2)), dtype=np.int64)
    left, right = pairs[:, 0], pairs[:, 1]
    bonus = _Pairs(feats, left, right, CLEAR).evidence
    expected = [min(EVIDENCE_CAP, 1.0 * len(tokens[i] & tokens[j])) for i, j in pairs.tolist()]
    assert bonus.tolist() == expected
    assert max(expected) == EVIDENCE_CAP and min(expected) == 0.0
