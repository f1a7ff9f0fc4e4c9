"""The Fellegi–Sunter record-linkage engine shared by clear and encoded entity resolution.

One implementation of the scoring, blocking and clustering rules serves two kinds of records:

* clear records (``loaders.resolve``): names compared with Jaro–Winkler and edit distance, birth
  dates as ISO text;
* encoded records (``loaders.resolve_encoded``): names compared as Bloom filters (Dice), birth
  dates through keyed hashes of their error-tolerant views.

What differs between the two is passed in as a ``Comparison`` (how two names and two birth dates
agree, as levels) and a list of blocking rules; everything else (the match model, the decision,
the guard against chaining, the person ids' collision rule) lives here once.

Method
------
1. **Exact rules** (``is_exact``): the same document number, or the same first name, last name
   (or the two swapped) and birth date.
2. **Match model** (``MatchModel``): per field (first name, last name, birth date, nationality,
   gender) an agreement level, "missing" included, and its Fellegi–Sunter weight
   ``log2(m / u)``. ``u`` (how often two *different* people agree at that level) is estimated
   from the load itself: from random record pairs, and, for exact agreement, from the value's
   own frequency (term-frequency adjustment: a shared rare name says more than a shared common
   one). ``m`` (how often the *same* person's records agree at that level) is the documented
   ``DEFAULT_M``, or, with ``estimate_m``, estimated by EM on a sample of the candidate pairs
   with u fixed, in two sessions as Splink trains: names, nationality and gender on the pairs
   that agree exactly on the birth date, the birth date on the pairs that agree exactly on both
   names (``estimate_m``; a field that selects a session's pairs is left out of its likelihood).
   When EM has too few pairs, does not converge or gives no model of matches, a warning is logged
   and ``DEFAULT_M`` is used. The prior (log2 odds that two random records are one person) is estimated from
   the number of pairs that agree exactly on both names and the birth date, divided by the
   share of true pairs that do (as Splink's ``estimate_probability_two_random_records_match``).
   A missing value weighs 0. A load too small to estimate from uses ``DEFAULT_U`` and
   ``DEFAULT_PRIOR``.
3. **Decision** (``score``): a pair is accepted when its weight (prior included) reaches the
   threshold, whatever mix of soft disagreements produced it (a typo in both names with the same
   birth date is accepted; a common name without a birth date is not). Two guards stay, as
   justified: shared phones, plates, accounts and premises add at most ``EVIDENCE_CAP`` and never
   make a pair alone (at least one name must agree); birth dates that clearly differ mark the pair
   a contradiction for the clustering guard.
4. **Blocking** (``candidate_pairs``): the union of the rules' blocks; a block larger than
   ``MAX_BLOCK`` is skipped (its pairs come from finer rules); a rule flagged *undated only*
   pairs only a record without a birth date with the other members of its block.
5. **Clustering** (``link``): connected components of accepted pairs; a component that holds a
   contradicting pair is split again greedily, strongest pairs first.

References
----------
Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. JASA 64(328), 1183-1210.
Winkler, W. E. (1990). String comparator metrics and enhanced decision rules in the
Fellegi-Sunter model of record linkage.
Linacre, R. et al. (2022). Splink: free software for probabilistic record linkage at scale.
International Journal of Population Data Science 7(3).
"""

from __future__ import annotations

import copy
import logging
import math
import random
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "CANNOT_LINK",
    "DEFAULT_M",
    "DEFAULT_PRIOR",
    "DEFAULT_THRESHOLD",
    "DEFAULT_U",
    "EM_MIN_PAIRS",
    "ESTIMATE_M",
    "EVIDENCE_CAP",
    "MAX_BLOCK",
    "BlockingRule",
    "Comparison",
    "LinkFeatures",
    "MatchModel",
    "PairMatch",
    "PairScore",
    "Resolution",
    "TermWeights",
    "EMResult",
    "candidate_codes",
    "candidate_pairs",
    "estimate_m",
    "fit_m",
    "is_exact",
    "levels",
    "link",
    "probability",
    "score",
]

# Accept a pair when its log2 match odds (prior included) reach this (probability 0.8). Chosen on
# the tuning seeds (1 and 2: F1 0.982-0.985 from 0 to 2, precision 0.992 at 0, 0.996 at 2)
# of benchmarks/person_records.py; benchmarks/RESULTS.md has the curve on held-out seeds.
DEFAULT_THRESHOLD = 2.0
# A pair whose evidence (prior left out) weighs less than this contradicts: the two records may not
# end up in one cluster through other records.
CANNOT_LINK = -6.0
# Blocks bigger than this are not compared whole; their pairs come from the finer blocks.
MAX_BLOCK = 400
# Shared phones, plates, accounts, premises: at most this much support (never identity alone).
EVIDENCE_CAP = 2.0
# A swapped first and last name is a common error, but rarer than the names in order.
SWAP_PENALTY = 1.0
# No one value weighs more than this (log2): a unique name is not an identity on its own.
MAX_WEIGHT = 14.0

#: P(level | same person) per field and level (names 3 exact, 2 close, 1 similar, 0 different;
#: birth 3 equal, 2 typical error, 1 same year, 0 different; nationality and gender 1 equal,
#: 0 different). A missing value (level -1) weighs 0.
DEFAULT_M: dict[str, dict[int, float]] = {
    "first": {3: 0.85, 2: 0.09, 1: 0.03, 0: 0.03},
    "last": {3: 0.85, 2: 0.09, 1: 0.03, 0: 0.03},
    "birth": {3: 0.87, 2: 0.129, 1: 0.0005, 0: 0.0005},
    "nationality": {1: 0.97, 0: 0.03},
    "gender": {1: 0.98, 0: 0.02},
}
#: P(level | two different people), used when the load is too small to estimate them
#: (``U_MIN_RECORDS``).
DEFAULT_U: dict[str, dict[int, float]] = {
    "first": {3: 0.005, 2: 0.002, 1: 0.01, 0: 0.983},
    "last": {3: 0.001, 2: 0.0008, 1: 0.005, 0: 0.9932},
    "birth": {3: 0.00005, 2: 0.005, 1: 0.018, 0: 0.977},
    "nationality": {1: 0.3, 0: 0.7},
    "gender": {1: 0.5, 0: 0.5},
}
#: log2 odds that two records of a small load (fewer than ``U_MIN_RECORDS``) are one person.
DEFAULT_PRIOR = -10.0
# Below this many records, u and the prior are the defaults (too few to estimate from).
U_MIN_RECORDS = 1000
# Random pairs drawn to estimate u.
RANDOM_PAIRS = 100_000
# The prior is estimated only when at least this many pairs agree exactly.
PRIOR_MIN_EXACT = 10
# EM of m on the candidate pairs (``estimate_m``): pairs sampled, the fewest it needs, when it
# stops, and the smallest m it gives a level.
#: Whether m is estimated by EM by default (``link(estimate_m=...)``, ``--estimate-m``): on, since
#: it raised F1 on both held-out seeds measured (benchmarks/RESULTS.md, issue 15).
ESTIMATE_M = True
EM_PAIRS = 50_000
EM_MIN_PAIRS = 1000
EM_MAX_ITERATIONS = 100
EM_TOLERANCE = 1e-4
EM_FLOOR = 1e-4

_log = logging.getLogger(__name__)


class LinkFeatures(Protocol):
    """What the engine reads from one record's comparison values.

    Names are compared only through ``Comparison.name_level`` and counted by equality, so they may
    be folded text or Bloom filters; ``birth`` is only tested for presence and equality.
    """

    @property
    def first(self) -> Hashable: ...
    @property
    def last(self) -> Hashable: ...
    @property
    def last_core(self) -> Hashable: ...
    @property
    def birth(self) -> str: ...
    @property
    def nationality(self) -> str: ...
    @property
    def gender(self) -> str: ...
    @property
    def document(self) -> str: ...
    @property
    def evidence(self) -> frozenset[str]: ...


F = TypeVar("F", bound=LinkFeatures)

# A blocking rule: the record's block key (None: not in this rule's blocks), and whether the rule
# only pairs records without a birth date with the other members of a block.
BlockingRule = tuple[Callable[[F], "str | None"], bool]

Levels = npt.NDArray[np.int8]
Indices = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Comparison(Generic[F]):
    """How two records' values agree: the only part that differs between clear and encoded records.

    name_level
        ``name_level(a, b)`` for two name values: 3 exact, 2 close, 1 similar, 0 different,
        -1 missing.
    birth_level
        ``birth_level(a, b)`` for two records: 3 equal, 2 a typical error (one part off, day and
        month swapped, within a week), 1 same year otherwise, 0 different, -1 missing.
    name_levels : optional
        ``name_levels(a, b)``: ``name_level`` of each pair ``(a[k], b[k])`` at once, as an array
        (the same levels; the engine scores many pairs in one go). One by one when None.
    birth_levels : optional
        ``birth_levels(feats, i, j)``: ``birth_level(feats[i[k]], feats[j[k]])`` of each pair, as
        an array. One by one when None.
    """

    name_level: Callable[[Any, Any], int]
    birth_level: Callable[[F, F], int]
    name_levels: Callable[[Sequence[Any], Sequence[Any]], Levels] | None = None
    birth_levels: Callable[[Sequence[F], Indices, Indices], Levels] | None = None

    def names(self, a: Sequence[Any], b: Sequence[Any]) -> Levels:
        """``name_level`` of each pair ``(a[k], b[k])``, as an array."""
        if self.name_levels is not None:
            return self.name_levels(a, b)
        level = self.name_level
        return np.fromiter((level(x, y) for x, y in zip(a, b, strict=True)), dtype=np.int8, count=len(a))

    def births(self, feats: Sequence[F], i: Indices, j: Indices) -> Levels:
        """``birth_level`` of the records ``feats[i[k]]`` and ``feats[j[k]]``, as an array."""
        if self.birth_levels is not None:
            return self.birth_levels(feats, i, j)
        level = self.birth_level
        pairs = zip(i.tolist(), j.tolist(), strict=True)
        return np.fromiter((level(feats[x], feats[y]) for x, y in pairs), dtype=np.int8, count=len(i))


@dataclass(frozen=True)
class PairMatch:
    """An accepted pair of records: how they matched and the match probability."""

    record_a: str
    record_b: str
    match: str  # "exact" | "probabilistic"
    score: float


@dataclass
class Resolution:
    """The outcome of entity resolution.

    person_of
        record_id -> person_id for every person-describing record.
    link
        record_id -> (match, score) for the record's DESCRIBES relationship: "exact" when the record
        is alone or joined by an exact rule, else "probabilistic" with its best pair probability.
    pairs
        Accepted pairs inside the final clusters.
    clusters
        person_id -> sorted record ids (each resolved person keeps where it came from).
    stats
        Counts: records, candidate pairs, scored pairs, accepted pairs, oversized blocks, splits,
        whether m was estimated (``m_estimated``), records without birth date and how many of
        them stayed unlinked.
    model
        The match model the pairs were scored with (its ``m``, ``u`` and ``prior``).
    """

    person_of: dict[str, str]
    link: dict[str, tuple[str, float]]
    pairs: list[PairMatch]
    clusters: dict[str, list[str]]
    stats: dict[str, int] = field(default_factory=dict)
    model: MatchModel | None = None


class PairScore(NamedTuple):
    """How two records compare.

    weight
        Fellegi–Sunter match weight, log2 odds with the prior included.
    allowed
        False when the names (and birth dates) do not support a match strongly enough for any
        other evidence to merge the two records.
    contradiction
        True when the two cannot be one person (birth dates or a name clearly differ): such a
        pair may not end up in one cluster, even through other records.
    """

    weight: float
    allowed: bool
    contradiction: bool


def _log2(x: float) -> float:
    return math.log2(max(x, 1e-12))


class MatchModel:
    """The Fellegi–Sunter weights of one load: ``log2(m / u)`` per field and agreement level.

    Parameters
    ----------
    feats : sequence of LinkFeatures, optional
        All records of the resolution. With at least ``U_MIN_RECORDS`` of them, u is estimated
        from ``RANDOM_PAIRS`` random pairs (seeded: the same load gives the same model) and from
        the values' frequencies, and the prior from the exactly agreeing pairs; otherwise (or
        without ``comparison``) ``DEFAULT_U`` and ``DEFAULT_PRIOR`` are used, with term
        frequencies only when the load is big enough.
    comparison : Comparison, optional
        How two values agree (needed to estimate u from random pairs).
    m : dict, optional
        P(level | same person) per field; ``DEFAULT_M`` when None.

    Examples
    --------
    >>> model = MatchModel()
    >>> round(model.level_weight("birth", 3), 1), round(model.level_weight("birth", 0), 1)
    (14.0, -10.9)
    >>> model.prior
    -10.0
    """

    def __init__(
        self,
        feats: Sequence[LinkFeatures] = (),
        comparison: Comparison[Any] | None = None,
        m: dict[str, dict[int, float]] | None = None,
    ) -> None:
        self.m = m or DEFAULT_M
        n = len(feats)
        self.records = n
        u = {k: dict(v) for k, v in DEFAULT_U.items()}
        self.estimated = comparison is not None and n >= U_MIN_RECORDS
        if self.estimated and comparison is not None:
            u = self._random_pair_u(feats, comparison, u)
        # Term frequencies: P(a random other record has this exact value).
        self._tf: dict[str, dict[Hashable, float]] = {}
        if n >= U_MIN_RECORDS:
            for name in ("first", "last", "birth", "nationality", "gender"):
                counts = Counter(getattr(f, name) for f in feats if getattr(f, name))
                total = sum(counts.values())
                if total:
                    self._tf[name] = {k: v / total for k, v in counts.items()}
                    # Exact agreement of two random records, averaged over values: sum of p^2.
                    u[name][max(DEFAULT_M[name])] = sum(p * p for p in self._tf[name].values())
        self.u = u
        exact = Counter((f.first, f.last, f.birth) for f in feats if f.first and f.last and f.birth)
        self._agreeing = sum(k * (k - 1) // 2 for k in exact.values())
        self.m_estimated = False
        self._set_m(self.m)

    def _set_m(self, m: dict[str, dict[int, float]]) -> None:
        self.m = m
        self._weights = {
            name: {level: self._clip(_log2(m[name][level] / self.u[name][level])) for level in m[name]}
            for name in m
        }
        self.prior = self._estimate_prior() if self.estimated else DEFAULT_PRIOR

    def with_m(self, m: dict[str, dict[int, float]]) -> MatchModel:
        """This model with other m probabilities (u, term frequencies kept; the prior re-estimated).

        >>> model = MatchModel().with_m({**DEFAULT_M, "birth": {3: 0.5, 2: 0.3, 1: 0.1, 0: 0.1}})
        >>> round(model.level_weight("birth", 3), 1)
        13.3
        """
        other = copy.copy(self)
        other._set_m(m)
        other.m_estimated = True
        return other

    @staticmethod
    def _clip(w: float) -> float:
        return max(-MAX_WEIGHT, min(MAX_WEIGHT, w))

    def _random_pair_u(
        self, feats: Sequence[LinkFeatures], comparison: Comparison[Any], u: dict[str, dict[int, float]]
    ) -> dict[str, dict[int, float]]:
        n = len(feats)
        rng = random.Random(n)
        left: list[int] = []
        right: list[int] = []
        for _ in range(RANDOM_PAIRS):
            i, j = rng.randrange(n), rng.randrange(n)
            if i != j:
                left.append(i)
                right.append(j)
        # The levels of all pairs at once (the same pairs and levels as one pair at a time).
        found = {
            "first": comparison.names([feats[i].first for i in left], [feats[j].first for j in right]),
            "last": comparison.names([feats[i].last for i in left], [feats[j].last for j in right]),
            "birth": comparison.births(
                feats, np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)
            ),
        }
        counts = {name: Counter(levels.tolist()) for name, levels in found.items()}
        for name, c in counts.items():
            present = sum(v for level, v in c.items() if level >= 0)
            if present < RANDOM_PAIRS // 10:
                continue  # the field is mostly missing: keep the defaults
            for level in self.m[name]:
                # Half a count added: a level never seen among random pairs is rare, not impossible.
                u[name][level] = (c[level] + 0.5) / (present + 0.5 * len(self.m[name]))
        return u

    def _estimate_prior(self) -> float:
        """log2 odds that two random records are one person: exactly agreeing pairs / P(exact | match)."""
        n = self.records
        agreeing = self._agreeing
        if agreeing < PRIOR_MIN_EXACT:
            return DEFAULT_PRIOR
        share = self.m["first"][3] * self.m["last"][3] * self.m["birth"][3]
        matches = agreeing / share
        pairs = n * (n - 1) / 2
        return _log2(matches / max(pairs - matches, 1.0))

    def level_weight(self, name: str, level: int) -> float:
        """Weight of ``level`` on field ``name`` (0 for a missing value)."""
        return 0.0 if level < 0 else self._weights[name][level]

    def exact_weight(self, name: str, value: Hashable) -> float:
        """Weight of exact agreement on ``value``: adjusted by its frequency when the load is big."""
        tf = self._tf.get(name)
        top = max(self.m[name])
        if tf is None:
            return self._weights[name][top]
        p = tf.get(value, 1.0 / max(self.records, 1))
        return self._clip(_log2(self.m[name][top] / p))

    def first(self, name: Hashable) -> float:
        """Weight of exact agreement on this first name."""
        return self.exact_weight("first", name)

    def last(self, name: Hashable) -> float:
        """Weight of exact agreement on this last name."""
        return self.exact_weight("last", name)


# The engine's earlier name for the model (it held the term-frequency weights only).
TermWeights = MatchModel
NEUTRAL_WEIGHTS = MatchModel()


def _name_weight(w: MatchModel, field_name: str, level: int, value: Hashable) -> float:
    if level == 3:
        return w.exact_weight(field_name, value)
    return w.level_weight(field_name, level)


def _names(a: F, b: F, level: Callable[[Any, Any], int], w: MatchModel) -> tuple[float, int, int]:
    """Best name weight over direct and swapped order; returns (weight, first level, last level)."""
    best = (-math.inf, -1, -1)
    for swapped in (False, True):
        if swapped and best[1] == 3 and best[2] == 3:
            break  # the direct order agrees exactly; the swapped order cannot do better
        if swapped:
            # A swapped name often carries its particle on the wrong part: compare the cores.
            lf = level(a.last_core, b.first)
            ll = max(level(a.first, b.last_core), level(a.first, b.last))
        else:
            lf = level(a.first, b.first)
            ll = level(a.last, b.last)
            if ll in (0, 1) and a.last_core and b.last_core:
                # The same surname with and without its particle ("Berg" / "van den Berg").
                ll = max(ll, min(2, level(a.last_core, b.last_core)))
        weight = _name_weight(w, "first", lf, b.first) + _name_weight(w, "last", ll, b.last)
        if swapped:
            weight -= SWAP_PENALTY
        if weight > best[0]:
            best = (weight, lf, ll)
    return best


def score(a: F, b: F, comparison: Comparison[F], weights: MatchModel | None = None) -> PairScore:
    """Compare two records: the Fellegi–Sunter weight and the two guards around it.

    Parameters
    ----------
    a, b : LinkFeatures
        The two records' comparison values (of the same kind).
    comparison : Comparison
        How names and birth dates of this kind of record agree.
    weights : MatchModel, optional
        Estimated from all records by ``link``; the defaults of a small load when None.

    Returns
    -------
    PairScore
        ``weight`` is the sum of the fields' weights and the prior. Shared phones, plates,
        accounts and premises only add to it (at most ``EVIDENCE_CAP``); a pair on which neither
        name agrees at least approximately is not ``allowed``, whatever else it shares (birth
        date, nationality and shared identifiers are group evidence, not identity).
    """
    w = weights or NEUTRAL_WEIGHTS
    evidence, lf, ll = _names(a, b, comparison.name_level, w)
    allowed = lf >= 1 or ll >= 1
    bl = comparison.birth_level(a, b)
    if bl == 3:
        evidence += w.exact_weight("birth", a.birth)
    else:
        evidence += w.level_weight("birth", bl)
    if a.nationality and b.nationality:
        if a.nationality == b.nationality:
            evidence += w.exact_weight("nationality", a.nationality)
        else:
            evidence += w.level_weight("nationality", 0)
    if a.gender and b.gender:
        if a.gender == b.gender:
            evidence += w.exact_weight("gender", a.gender)
        else:
            evidence += w.level_weight("gender", 0)
    if a.document and b.document and a.document != b.document:
        evidence -= 3.0  # people may hold several documents, so a mismatch is not decisive
    if a.evidence and b.evidence:
        shared = len(a.evidence & b.evidence)
        if shared:
            evidence += min(EVIDENCE_CAP, 1.0 * shared)
    # Two recorded birth dates that differ beyond a typical error are two people for the clustering
    # guard (namesakes are common in the groups' home regions), as is a strongly negative weight.
    contradiction = bl in (0, 1) or evidence < CANNOT_LINK
    return PairScore(evidence + w.prior, allowed, contradiction)


FIELDS: tuple[str, ...] = ("first", "last", "birth", "nationality", "gender")


def levels(a: F, b: F, comparison: Comparison[F], weights: MatchModel | None = None) -> tuple[int, ...]:
    """The agreement level of each field of ``FIELDS`` for two records, as ``score`` sees them
    (-1 missing); the names in the order (direct or swapped) that ``score`` takes."""
    w = weights or NEUTRAL_WEIGHTS
    _weight, lf, ll = _names(a, b, comparison.name_level, w)
    bl = comparison.birth_level(a, b)
    nat = -1 if not (a.nationality and b.nationality) else int(a.nationality == b.nationality)
    gen = -1 if not (a.gender and b.gender) else int(a.gender == b.gender)
    return (lf, ll, bl, nat, gen)


# --- many pairs at once: the same levels, weights and decisions as ``levels``, ``score`` and
# ``is_exact`` one pair at a time, as numpy arrays over the candidate pairs (``link``). The
# weights are summed in the same order as ``score`` sums them, so every float is the same.

_CHUNK = 1 << 18  # pairs whose values are gathered at once for the name levels
_EVIDENCE_CHUNK = 1 << 21  # pairs whose shared identifiers are counted at once


def _ids(values: Iterable[Hashable], table: dict[Hashable, int]) -> Indices:
    """An id per value (equal values, equal ids; ``table`` shared across calls), 0 when missing."""
    return np.fromiter((table.setdefault(v, len(table) + 1) if v else 0 for v in values), dtype=np.int64)


def _value_ids(values: Iterable[Hashable], table: dict[Hashable, int]) -> Indices:
    """The id of each value in ``table`` (added when new): its position among the distinct values."""
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64)


def _distinct_pairs(
    levels: Callable[[Sequence[Any], Sequence[Any]], Levels], values: Sequence[Any]
) -> Callable[[Indices, Indices], Levels]:
    """``levels`` over pairs of value ids, each distinct pair of values computed once."""
    size = max(len(values), 1)

    def of_ids(a: Indices, b: Indices) -> Levels:
        if not len(a):
            return np.zeros(0, dtype=np.int8)
        # A hash table, not a sort: the pairs grow faster than the rows (at 300k rows 8 million
        # pairs, about 400,000 distinct name pairs), and sorting them cost 4x the hashing.
        inverse, distinct = pd.factorize(a * size + b)
        va, vb = np.divmod(distinct, size)
        found = np.empty(len(distinct), dtype=np.int8)
        for start in range(0, len(distinct), _CHUNK):
            part = slice(start, start + _CHUNK)
            found[part] = levels(
                [values[i] for i in va[part].tolist()], [values[j] for j in vb[part].tolist()]
            )
        out: Levels = found[inverse]
        return out

    return of_ids


def _exact_weights(w: MatchModel, name: str, values: Sequence[Hashable]) -> npt.NDArray[np.float64]:
    """``w.exact_weight(name, v)`` of each value, computed once per distinct value."""
    weights = {v: w.exact_weight(name, v) for v in dict.fromkeys(values)}
    return np.fromiter(map(weights.__getitem__, values), dtype=np.float64, count=len(values))


class _Pairs:
    """The model-free part of the comparison of the pairs ``(left[k], right[k])``: the name levels
    of both orders, the birth, nationality and gender levels, the exact rules, a document that
    differs and the capped bonus of shared identifiers."""

    def __init__(self, feats: Sequence[F], left: Indices, right: Indices, comparison: Comparison[F]) -> None:
        self.left, self.right = left, right
        count = len(left)
        # Each distinct name value once (first names, last names and their cores share the ids),
        # and each distinct pair of values compared once: a block's pairs repeat its names.
        table: dict[Hashable, int] = {}
        first = _value_ids((f.first for f in feats), table)
        last = _value_ids((f.last for f in feats), table)
        core = _value_ids((f.last_core for f in feats), table)
        values = list(table)
        present = np.array([bool(v) for v in values], dtype=bool)
        names = _distinct_pairs(comparison.names, values)
        # Each record's values gathered for the pairs once: the pairs outnumber the records
        # (28 to 1 at 300k rows), and a gather of millions of random positions is what costs.
        fa, fb, la, lb = first[left], first[right], last[left], last[right]
        lf = names(fa, fb)
        ll = names(la, lb)
        documents = _ids((f.document for f in feats), {})
        da, db = documents[left], documents[right]
        births = _ids((f.birth for f in feats), {})
        self.exact = self._exact(da, db, births[left], births[right], (fa, fb, la, lb), present)
        self.document_differs = (da != 0) & (db != 0) & (da != db)
        # Each of these holds 8 bytes a pair (at 1M rows tens of millions of pairs): let them go
        # before the births and the shared identifiers make their own.
        del fa, fb, la, lb, da, db
        # The same surname with and without its particle: the cores, where ``_names`` looks.
        ca, cb = core[left], core[right]
        cores = np.flatnonzero(((ll == 0) | (ll == 1)) & present[ca] & present[cb])
        ll[cores] = np.maximum(ll[cores], np.minimum(names(ca[cores], cb[cores]), 2))
        self.first, self.last = lf, ll
        # The swapped order, where ``_names`` tries it (not when the direct order is exact).
        self.swap_tried = ~((lf == 3) & (ll == 3))
        swap = np.flatnonzero(self.swap_tried)
        sa, sb = left[swap], right[swap]
        self.swapped_first = np.full(count, -1, dtype=np.int8)
        self.swapped_last = np.full(count, -1, dtype=np.int8)
        self.swapped_first[swap] = names(core[sa], first[sb])
        self.swapped_last[swap] = np.maximum(names(first[sa], core[sb]), names(first[sa], last[sb]))
        del ca, cb, cores, swap, sa, sb
        self.birth = comparison.births(feats, left, right)
        self.nationality = self._agree([f.nationality for f in feats])
        self.gender = self._agree([f.gender for f in feats])
        self.evidence = self._evidence([f.evidence for f in feats])

    def _agree(self, values: Sequence[Hashable]) -> Levels:
        """1 equal, 0 different, -1 when either is missing (``levels``' nationality and gender)."""
        ids = _ids(values, {})
        a, b = ids[self.left], ids[self.right]
        return np.where((a == 0) | (b == 0), -1, (a == b).astype(np.int8)).astype(np.int8)

    @staticmethod
    def _exact(
        da: Indices,
        db: Indices,
        ba: Indices,
        bb: Indices,
        names: tuple[Indices, Indices, Indices, Indices],
        present: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.bool_]:
        """``is_exact`` of each pair, from the pairs' document and birth ids (0: missing) and
        first and last name ids (one table for both: the swapped rule; ``present``: not empty)."""
        fa, fb, la, lb = names
        same_document = (da != 0) & (da == db)
        dated = (ba != 0) & (ba == bb) & present[fa] & present[la]
        in_order = (fa == fb) & (la == lb)
        swapped = (fa == lb) & (la == fb)
        exact: npt.NDArray[np.bool_] = same_document | (dated & (in_order | swapped))
        return exact

    def _evidence(self, tokens: Sequence[frozenset[str]]) -> npt.NDArray[np.float64]:
        """What shared identifiers add to each pair (``score``: at most ``EVIDENCE_CAP``): the
        tokens each pair shares counted as arrays (about half the records hold a token, so
        millions of pairs at 300k rows hold one on both sides)."""
        left, right = self.left, self.right
        bonus = np.zeros(len(left), dtype=np.float64)
        table: dict[str, int] = {}
        held = [[table.setdefault(t, len(table)) for t in ts] for ts in tokens]
        counts = np.fromiter(map(len, held), dtype=np.int64, count=len(held))
        both = np.flatnonzero((counts[left] > 0) & (counts[right] > 0))
        if not len(both):
            return bonus
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        flat = np.fromiter((t for ts in held for t in ts), dtype=np.int64, count=int(counts.sum()))
        kinds = max(len(table), 1)
        # Every (record, token) the records hold, as one sorted code; a pair shares a token of its
        # left record when (right record, token) is among them.
        holds = np.sort(np.repeat(np.arange(len(held), dtype=np.int64), counts) * kinds + flat)
        # In chunks of pairs: the arrays below hold 8 bytes per pair and token, which for all the
        # pairs of a 1M-row load at once raised its peak by gigabytes.
        for start in range(0, len(both), _EVIDENCE_CHUNK):
            chunk = both[start : start + _EVIDENCE_CHUNK]
            i = left[chunk]
            each = counts[i]
            pair = np.repeat(chunk, each)
            offset = np.arange(int(each.sum())) - np.repeat(np.r_[0, np.cumsum(each)[:-1]], each)
            wanted = right[pair] * kinds + flat[np.repeat(starts[i], each) + offset]
            place = np.minimum(np.searchsorted(holds, wanted), len(holds) - 1)
            found = pair[holds[place] == wanted]
            if len(found):
                where, shared = np.unique(found, return_counts=True)
                bonus[where] = np.minimum(EVIDENCE_CAP, 1.0 * shared)
        return bonus

    def names_as_scored(
        self, feats: Sequence[F], w: MatchModel
    ) -> tuple[npt.NDArray[np.float64], Levels, Levels]:
        """The name weight and the first and last name levels of the order ``_names`` takes."""
        right = self.right
        first_exact = _exact_weights(w, "first", [f.first for f in feats])[right]
        last_exact = _exact_weights(w, "last", [f.last for f in feats])[right]

        def weight(name: str, level: Levels, exact: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            table = np.array([w.level_weight(name, lv) for lv in (-1, 0, 1, 2, 2)], dtype=np.float64)
            out: npt.NDArray[np.float64] = np.where(level == 3, exact, table[level.astype(np.intp) + 1])
            return out

        direct = weight("first", self.first, first_exact) + weight("last", self.last, last_exact)
        swapped = weight("first", self.swapped_first, first_exact) + weight(
            "last", self.swapped_last, last_exact
        )
        swapped = swapped - SWAP_PENALTY
        take = self.swap_tried & (swapped > direct)
        return (
            np.where(take, swapped, direct),
            np.where(take, self.swapped_first, self.first),
            np.where(take, self.swapped_last, self.last),
        )

    def scores(
        self, feats: Sequence[F], w: MatchModel
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """``score`` of each pair: its weight (prior included) and whether it is allowed."""
        evidence, lf, ll = self.names_as_scored(feats, w)
        left = self.left
        birth_exact = _exact_weights(w, "birth", [f.birth for f in feats])[left]
        birth_table = np.array([w.level_weight("birth", lv) for lv in (-1, 0, 1, 2, 2)], dtype=np.float64)
        evidence = evidence + np.where(
            self.birth == 3, birth_exact, birth_table[self.birth.astype(np.intp) + 1]
        )
        for name, agree in (("nationality", self.nationality), ("gender", self.gender)):
            same = _exact_weights(w, name, [getattr(f, name) for f in feats])[left]
            evidence = evidence + np.where(
                agree == 1, same, np.where(agree == 0, w.level_weight(name, 0), 0.0)
            )
        evidence = evidence - np.where(self.document_differs, 3.0, 0.0)
        evidence = evidence + self.evidence
        allowed: npt.NDArray[np.bool_] = (lf >= 1) | (ll >= 1)
        return evidence + w.prior, allowed

    def patterns(self, feats: Sequence[F], w: MatchModel, chosen: Iterable[int]) -> Counter[tuple[int, ...]]:
        """The pairs ``chosen`` counted by ``levels``, in the order they are chosen."""
        _weight, lf, ll = self.names_as_scored(feats, w)
        columns = [
            lf.tolist(),
            ll.tolist(),
            self.birth.tolist(),
            self.nationality.tolist(),
            self.gender.tolist(),
        ]
        patterns: Counter[tuple[int, ...]] = Counter()
        for k in chosen:
            patterns[tuple(column[k] for column in columns)] += 1
        return patterns


def _pairs_of(feats: Sequence[F], codes: array[int] | Indices, comparison: Comparison[F]) -> _Pairs:
    n = max(len(feats), 1)
    # No copy of an array of codes already (``link``'s): it is 8 bytes a candidate pair.
    flat = np.asarray(codes, dtype=np.int64) if len(codes) else np.zeros(0, dtype=np.int64)
    left, right = np.divmod(flat, n)
    return _Pairs(feats, left, right, comparison)


class EMResult(NamedTuple):
    """What ``estimate_m`` found: m per field and level, the share of matches among the pairs,
    the iterations run and whether the estimate converged to a sensible model."""

    m: dict[str, dict[int, float]]
    match_share: float
    iterations: int
    converged: bool
    reason: str  # why not, when not converged


def estimate_m(
    patterns: Counter[tuple[int, ...]],
    u: dict[str, dict[int, float]],
    m_start: dict[str, dict[int, float]] | None = None,
    *,
    fields: Sequence[str] = FIELDS,
    match_share: float = 0.1,
    max_iterations: int = EM_MAX_ITERATIONS,
    tolerance: float = EM_TOLERANCE,
) -> EMResult:
    """Expectation-maximisation of m on candidate pairs, with u fixed (as Splink trains m).

    Parameters
    ----------
    patterns : Counter
        Candidate pairs counted by their agreement levels, one per field of ``FIELDS``
        (``levels``); -1 is a missing value and says nothing either way.
    u : dict
        P(level | two different people) per field, fixed (estimated from random pairs).
    m_start : dict, optional
        Where m starts (``DEFAULT_M`` when None).
    fields : sequence of str
        The fields whose m is estimated; the others are left out of the likelihood (as Splink
        leaves out the fields of the blocking rule a session trains on) and keep ``m_start``.
    match_share : float
        Where the share of matches among the candidate pairs starts.
    max_iterations, tolerance : int, float
        Stop when no m and no match share moves more than ``tolerance``; not converged when
        ``max_iterations`` are used up first.

    Returns
    -------
    EMResult
        ``converged`` is False, with the ``reason``, when the iterations ran out or when the
        estimate is not a model of matches: exact agreement on a name or the birth date not more
        likely among matches than among different people (the two classes swapped or one empty).

    Examples
    --------
    Planted: 1,000 true pairs (90% exact names, 10% close) among 9,000 different-people pairs.

    >>> u = {"first": {3: 0.01, 2: 0.01, 1: 0.03, 0: 0.95}, "last": {3: 0.01, 2: 0.01, 1: 0.03, 0: 0.95},
    ...      "birth": {3: 0.01, 2: 0.02, 1: 0.07, 0: 0.9}, "nationality": {1: 0.3, 0: 0.7},
    ...      "gender": {1: 0.5, 0: 0.5}}
    >>> pairs = Counter({(3, 3, 3, -1, -1): 810, (2, 3, 3, -1, -1): 90, (3, 2, 3, -1, -1): 90,
    ...                  (2, 2, 3, -1, -1): 10, (0, 0, 0, -1, -1): 8000, (0, 0, 1, -1, -1): 1000})
    >>> found = estimate_m(pairs, u)
    >>> found.converged, round(found.m["first"][3], 2), round(found.match_share, 2)
    (True, 0.9, 0.1)
    """
    m = {f: dict(v) for f, v in (m_start or DEFAULT_M).items()}
    lam = match_share
    used = [k for k, f in enumerate(FIELDS) if f in fields]
    merged: Counter[tuple[int, ...]] = Counter()
    for pattern, count in patterns.items():
        merged[tuple(pattern[k] if k in used else -1 for k in range(len(FIELDS)))] += count
    items = list(merged.items())
    iterations = 0
    converged = False
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is returned)
        counts = {f: dict.fromkeys(m[f], 0.0) for f in FIELDS}
        total_match = 0.0
        total = 0.0
        for pattern, count in items:
            pm, pu = lam, 1.0 - lam
            for f, level in zip(FIELDS, pattern, strict=True):
                if level >= 0:
                    pm *= m[f][level]
                    pu *= u[f][level]
            p = pm / (pm + pu) if pm + pu > 0 else 0.0
            total += count
            total_match += count * p
            for f, level in zip(FIELDS, pattern, strict=True):
                if level >= 0:
                    counts[f][level] += count * p
        new_lam = total_match / total if total else lam
        new_m: dict[str, dict[int, float]] = {}
        for f in FIELDS:
            seen = sum(counts[f].values())
            if seen <= 0 or f not in fields:
                new_m[f] = m[f]  # the field is never present: keep its m
                continue
            # A level never seen among matches is rare, not impossible (its weight stays finite).
            new_m[f] = {lv: max(c / seen, EM_FLOOR) for lv, c in counts[f].items()}
        change = max([abs(new_lam - lam)] + [abs(new_m[f][lv] - m[f][lv]) for f in FIELDS for lv in m[f]])
        m, lam = new_m, new_lam
        if change < tolerance:
            converged = True
            break
    if not converged:
        return EMResult(m, lam, iterations, False, f"no convergence in {max_iterations} iterations")
    for f in ("first", "last", "birth"):
        if f not in fields:
            continue
        top = max(m[f])
        if m[f][top] <= u[f][top]:
            return EMResult(m, lam, iterations, False, f"exact agreement on {f} does not point to a match")
    if not 0.0 < lam < 1.0:
        return EMResult(m, lam, iterations, False, "all or none of the pairs are matches")
    return EMResult(m, lam, iterations, True, "")


def probability(weight: float) -> float:
    """Match probability of a log2 match weight (prior included)."""
    return 1.0 / (1.0 + float(2.0 ** (-weight)))


def is_exact(a: LinkFeatures, b: LinkFeatures) -> bool:
    """The exact rules: same document, or same first name, last name (or swapped) and birth date."""
    if a.document and a.document == b.document:
        return True
    if not a.birth or a.birth != b.birth or not a.first or not a.last:
        return False
    return (a.first, a.last) in ((b.first, b.last), (b.last, b.first))


def candidate_pairs(
    feats: Sequence[F],
    rules: Sequence[BlockingRule[F]],
    stats: Counter[str],
    focus: Sequence[bool] | None = None,
) -> Iterable[tuple[int, int]]:
    """Each candidate pair ``(i, j)``, ``i < j``, once, from the union of the rules' blocks.

    Parameters
    ----------
    feats : sequence of LinkFeatures
        All records.
    rules : sequence of (key function, undated only)
        Blocking rules; blocks are built one rule at a time so that memory holds one rule's blocks.
    stats : Counter
        Incremented: ``candidate_pairs`` (with repeats across rules), ``oversized_blocks``.
    focus : sequence of bool, optional
        When given (one per record), only the pairs that hold at least one record marked True:
        the resolution across loads pairs a delivery's records with each other and with the
        stored ones, never two stored records (``loaders.crossload``). A block is still skipped
        when it holds more than ``MAX_BLOCK`` records, focused or not.
    """
    n = len(feats)
    seen: set[int] = set()
    for rule, undated_only in rules:
        blocks: dict[str, list[int]] = defaultdict(list)
        for i, f in enumerate(feats):
            key = rule(f)
            if key is not None:
                blocks[key].append(i)
        for members in blocks.values():
            size = len(members)
            if size < 2:
                continue
            if size > MAX_BLOCK:
                # Too common a key to compare whole; its pairs come from the finer rules.
                stats["oversized_blocks"] += 1
                continue
            pairs: Iterable[tuple[int, int]]
            if focus is not None:
                pairs = _focused_pairs(members, feats, focus, undated_only)
            elif undated_only:
                undated = [i for i in members if not feats[i].birth]
                if not undated:
                    continue
                dated = [i for i in members if feats[i].birth]
                pairs = [(u, undated[y]) for x, u in enumerate(undated) for y in range(x + 1, len(undated))]
                pairs += [(u, d) for u in undated for d in dated]
            else:
                pairs = ((members[x], members[y]) for x in range(size) for y in range(x + 1, size))
            for i, j in pairs:
                stats["candidate_pairs"] += 1
                a, b = (i, j) if i < j else (j, i)
                code = a * n + b
                if code not in seen:
                    seen.add(code)
                    yield a, b


def candidate_codes(feats: Sequence[F], rules: Sequence[BlockingRule[F]], stats: Counter[str]) -> Indices:
    """The pairs of ``candidate_pairs`` (without ``focus``), in the same order, as codes
    ``i * len(feats) + j``: each rule's blocks found and paired with numpy instead of one pair at
    a time. ``stats`` is incremented as there."""
    n = len(feats)
    dated = np.fromiter((bool(f.birth) for f in feats), dtype=bool, count=n)
    parts: list[Indices] = []
    for rule, undated_only in rules:
        # Ids in the order the keys first appear (-1: none), as a dict filled record by record.
        keys_of = getattr(rule, "keys_of", None)
        raw = keys_of(feats) if keys_of is not None else [rule(f) for f in feats]
        keys = pd.factorize(pd.Series(raw, dtype=object))[0].astype(np.int64, copy=False)
        # The blocks in the order their keys first appear (as a dict of lists fills), each block's
        # members in record order.
        members = np.flatnonzero(keys >= 0)
        order = members[np.argsort(keys[members], kind="stable")]
        if not len(order):
            continue
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        oversized = int(np.count_nonzero(sizes > MAX_BLOCK))
        if oversized:  # (a Counter keeps no key that was never counted)
            stats["oversized_blocks"] += oversized
        kept = (sizes >= 2) & (sizes <= MAX_BLOCK)
        starts, sizes = starts[kept], sizes[kept]
        if not len(starts):
            continue
        if undated_only:
            # Undated members first (each kept in record order): the pairs among them, then each
            # undated member with every dated one.
            block_starts = np.r_[0, np.cumsum(sizes)[:-1]]
            rank = np.repeat(np.arange(len(starts)), sizes)
            within = order[
                np.repeat(starts, sizes) + np.arange(int(sizes.sum())) - np.repeat(block_starts, sizes)
            ]
            regrouped = within[np.lexsort((dated[within], rank))]
            undated = np.add.reduceat((~dated[within]).astype(np.int64), block_starts)
            codes, places = _block_pairs(regrouped, block_starts, sizes, undated, n)
        else:
            codes, places = _block_pairs(order, starts, sizes, sizes, n)
        if len(codes):
            stats["candidate_pairs"] += len(codes)
        parts.append(codes[np.argsort(places, kind="stable")])
    if not parts:
        return np.zeros(0, dtype=np.int64)
    every = np.concatenate(parts)
    _distinct, first_seen = np.unique(every, return_index=True)
    found: Indices = every[np.sort(first_seen)]
    return found


def _block_pairs(
    order: Indices, block_starts: Indices, sizes: Indices, first: Indices, n: int
) -> tuple[Indices, Indices]:
    """The pairs of each block (``order[start:start + size]``) as codes, and where each comes in
    ``candidate_pairs``' order: the pairs among a block's ``first`` members (row by row), then
    each of those with every later member. ``first`` is each block's size for a rule that pairs
    everyone, and its undated members (put first) for an undated-only rule."""
    later = sizes - first
    counts = first * (first - 1) // 2 + first * later
    offsets = np.r_[0, np.cumsum(counts)]
    codes: list[Indices] = []
    places: list[Indices] = []
    shapes = np.unique(np.stack([first, later], axis=1), axis=0)
    for nf, nl in shapes.tolist():
        if nf == 0:
            continue
        which = np.flatnonzero((first == nf) & (later == nl))
        matrix = order[block_starts[which][:, None] + np.arange(nf + nl)]
        x, y = np.triu_indices(nf, 1)
        head, tail = np.repeat(np.arange(nf), nl), np.tile(np.arange(nf, nf + nl), nf)
        x, y = np.r_[x, head], np.r_[y, tail]
        a, b = matrix[:, x], matrix[:, y]
        codes.append((np.minimum(a, b) * n + np.maximum(a, b)).reshape(-1))
        places.append((offsets[which][:, None] + np.arange(len(x))).reshape(-1))
    if not codes:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(codes), np.concatenate(places)


def _focused_pairs(
    members: list[int], feats: Sequence[F], focus: Sequence[bool], undated_only: bool
) -> list[tuple[int, int]]:
    """The pairs of one block that hold a focused record (and, for an undated-only rule, an
    undated one): each focused member with every member after it and every unfocused one."""
    mine = [i for i in members if focus[i]]
    if not mine:
        return []
    others = [i for i in members if not focus[i]]
    pairs = [(a, mine[y]) for x, a in enumerate(mine) for y in range(x + 1, len(mine))]
    pairs += [(a, b) for a in mine for b in others]
    if undated_only:
        pairs = [(a, b) for a, b in pairs if not feats[a].birth or not feats[b].birth]
    return pairs


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _contradiction_check(
    feats: Sequence[F], comparison: Comparison[F], weights: MatchModel | None = None
) -> Callable[[int, int], bool]:
    """Whether the records at two positions contradict each other (``score(...).contradiction``,
    never for an exact pair), each pair compared once, when ``_join_without_conflicts`` asks."""
    checked: dict[tuple[int, int], bool] = {}

    def contradicts(i: int, j: int) -> bool:
        pair = (i, j) if i < j else (j, i)
        found = checked.get(pair)
        if found is None:
            # In the order of the records' positions, as a listing of every pair compares them.
            a, b = feats[pair[0]], feats[pair[1]]
            found = not is_exact(a, b) and score(a, b, comparison, weights).contradiction
            checked[pair] = found
        return found

    return contradicts


def _split_incoherent(
    members: list[int],
    edges: list[tuple[float, int, int]],
    feats: Sequence[F],
    comparison: Comparison[F],
    weights: MatchModel,
    stats: Counter[str],
    record_ids: Sequence[str],
) -> list[list[int]]:
    """Split a component that holds a contradicting pair; strongest edges first, no contradictions.

    Equally strong edges are taken in the order of their records' ids, not of the records'
    positions, so that the same records give the same persons in any order (an undated record
    that matches two contradicting ones equally well joins the one with the smaller id).

    A pair is compared only when the join of its two groups is tried: listing every contradicting
    pair of the component first costs the square of its size, and chained namesakes make
    components of tens of thousands of records at a million rows. The groups are the same,
    since every pair of a joined group is compared when its two parts join, and a component
    splits exactly when some pair in it contradicts."""
    group = _join_without_conflicts(
        members, edges, _contradiction_check(feats, comparison, weights), record_ids
    )
    unique = {id(g): g for g in group.values()}
    if len(unique) == 1:
        return [members]
    stats["split_components"] += 1
    return [sorted(g) for g in unique.values()]


def _join_without_conflicts(
    members: Iterable[int],
    edges: Iterable[tuple[float, int, int]],
    conflicts: set[tuple[int, int]] | Callable[[int, int], bool],
    record_ids: Sequence[str],
) -> dict[int, set[int]]:
    """Each member's group: the edges ``(weight, i, j)`` joined strongest first, equal ones in the
    order of their records' ids, skipping an edge that would put a conflicting pair in one group
    (also ``loaders.crossload``'s guard across loads). ``conflicts`` is the set of conflicting
    pairs ``(low, high)``, or a function that tells whether two members conflict."""
    group: dict[int, set[int]] = {m: {m} for m in members}
    conflict: Callable[[int, int], bool]
    if isinstance(conflicts, set):
        pairs = conflicts

        def conflict(a: int, b: int) -> bool:
            return ((a, b) if a < b else (b, a)) in pairs

    else:
        conflict = conflicts

    def order(edge: tuple[float, int, int]) -> tuple[float, str, str]:
        a, b = sorted((record_ids[edge[1]], record_ids[edge[2]]))
        return (-edge[0], a, b)

    for _w, i, j in sorted(edges, key=order):
        gi, gj = group[i], group[j]
        if gi is gj:
            continue
        if any(conflict(a, b) for a in gi for b in gj):
            continue
        merged = gi | gj
        for m in merged:
            group[m] = merged
    return group


def fit_m(
    weights: MatchModel,
    feats: Sequence[F],
    codes: array[int] | Indices,
    comparison: Comparison[F],
    stats: Counter[str],
    pairs: _Pairs | None = None,
) -> MatchModel:
    """The model with m estimated by EM on (a sample of) the candidate pairs, or ``weights``
    unchanged, with a warning, when EM cannot give a sensible m. ``pairs``: the comparison of
    the pairs ``codes`` when made already (``link``)."""
    if not weights.estimated:
        return weights  # a small load: the documented defaults, by design (U_MIN_RECORDS)
    n = len(feats)
    if len(codes) < EM_MIN_PAIRS:
        _log.warning(
            "entity resolution: %d candidate pairs are too few to estimate m by EM (at least %d); "
            "the documented m (DEFAULT_M) is used",
            len(codes),
            EM_MIN_PAIRS,
        )
        return weights
    rng = random.Random(n)
    chosen = range(len(codes)) if len(codes) <= EM_PAIRS else rng.sample(range(len(codes)), EM_PAIRS)
    if pairs is None:
        pairs = _pairs_of(feats, codes, comparison)
    patterns = pairs.patterns(feats, weights, chosen)
    # Two sessions, as Splink trains: the names (and nationality, gender) on the pairs that agree
    # exactly on the birth date, the birth date on the pairs that agree exactly on both names. On
    # all pairs at once EM may take "same surname" for "same person" (the pairs of a surname block).
    by_birth = Counter({p: c for p, c in patterns.items() if p[2] == 3})
    by_names = Counter({p: c for p, c in patterns.items() if p[0] == 3 and p[1] == 3})
    m = {f: dict(v) for f, v in weights.m.items()}
    for chosen_pairs, fields in (
        (by_birth, ("first", "last", "nationality", "gender")),
        (by_names, ("birth",)),
    ):
        if sum(chosen_pairs.values()) < EM_MIN_PAIRS // 2:
            _log.warning(
                "entity resolution: %d candidate pairs are too few to estimate m of %s by EM; the "
                "documented m (DEFAULT_M) is used",
                sum(chosen_pairs.values()),
                ", ".join(fields),
            )
            return weights
        found = estimate_m(chosen_pairs, weights.u, m, fields=fields)
        stats["em_iterations"] += found.iterations
        if not found.converged:
            _log.warning(
                "entity resolution: EM did not give a sensible m (%s); the documented m (DEFAULT_M) is used",
                found.reason,
            )
            return weights
        for f in fields:
            m[f] = found.m[f]
    return weights.with_m(m)


def link(
    feats: Sequence[F],
    record_ids: Sequence[str],
    comparison: Comparison[F],
    rules: Sequence[BlockingRule[F]],
    person_id: Callable[[list[int], bool], str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    model: MatchModel | None = None,
    estimate_m: bool = ESTIMATE_M,
) -> Resolution:
    """Resolve records into persons: block, score, accept, cluster, split, name.

    Parameters
    ----------
    feats : sequence of LinkFeatures
        One per person-describing record.
    record_ids : sequence of str
        The records' ids, unique, in the same order.
    comparison : Comparison
        How names and birth dates of these records agree.
    rules : sequence of BlockingRule
        Where candidate pairs come from.
    person_id : callable
        ``person_id(member_indices, local)``: the id of a cluster; with ``local=True`` an id of its
        own, used when another cluster of this resolution already has the shared one.
    threshold : float
        Minimum log2 match odds (prior included) of a probabilistic pair.
    model : MatchModel, optional
        The weights; estimated from ``feats`` with ``comparison`` when None.
    estimate_m : bool
        Estimate m by EM on the candidate pairs (``estimate_m``, u fixed) instead of using
        ``DEFAULT_M``. When EM has too few pairs or does not converge to a sensible model, a
        warning is logged and ``DEFAULT_M`` is used; a load too small to estimate u from
        (``U_MIN_RECORDS``) uses the defaults without a warning. ``stats["m_estimated"]`` says
        which m was used.

    Returns
    -------
    Resolution
        record -> person, per-record match kind and score, accepted pairs and clusters.
    """
    weights = model if model is not None else MatchModel(feats, comparison)
    stats: Counter[str] = Counter(records=len(feats))
    # The pairs are kept (8 bytes each) and compared all at once, as arrays (``_Pairs``); EM sees
    # them before any is decided.
    codes = candidate_codes(feats, rules, stats)
    compared = _pairs_of(feats, codes, comparison)
    if estimate_m and model is None:
        weights = fit_m(weights, feats, codes, comparison, stats, compared)
    scored = len(codes)
    del codes  # the pairs are ``compared.left`` and ``.right`` now
    stats["m_estimated"] = int(weights.m_estimated)
    # The model in the summary: the prior in hundredths of a bit (stats are counts).
    stats["model_estimated"] = int(weights.estimated)
    stats["prior_log2_centibits"] = round(100 * weights.prior)
    uf = _UnionFind(len(feats))
    accepted: dict[tuple[int, int], tuple[str, float]] = {}
    weight, allowed = compared.scores(feats, weights)
    # Each pair as ``is_exact`` and ``score`` decide it one at a time, in the order of the pairs.
    taken = np.flatnonzero(compared.exact | (allowed & (weight >= threshold)))
    if scored:
        stats["scored_pairs"] += scored  # (a Counter keeps no key that was never counted)
    for i, j, exact, w in zip(
        compared.left[taken].tolist(),
        compared.right[taken].tolist(),
        compared.exact[taken].tolist(),
        weight[taken].tolist(),
        strict=True,
    ):
        accepted[(i, j)] = ("exact", 1.0) if exact else ("probabilistic", w)
        uf.union(i, j)
    del compared, weight, allowed, taken  # about 40 bytes a candidate pair, not needed below
    stats["accepted_pairs"] = len(accepted)

    components: dict[int, list[int]] = defaultdict(list)
    for i in range(len(feats)):
        components[uf.find(i)].append(i)
    comp_edges: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for (i, j), (kind, w) in accepted.items():
        comp_edges[uf.find(i)].append((math.inf if kind == "exact" else w, i, j))
    groups: list[list[int]] = []
    for root, members in components.items():
        if len(members) > 2:
            groups.extend(
                _split_incoherent(members, comp_edges[root], feats, comparison, weights, stats, record_ids)
            )
        else:
            groups.append(members)
    # Two clusters that the resolution kept apart must not share an id; the one whose smallest
    # record id comes later gets an identity of its own (stable for the same input).
    groups.sort(key=lambda g: min(record_ids[i] for i in g))

    person_of: dict[str, str] = {}
    link_of: dict[str, tuple[str, float]] = {}
    clusters: dict[str, list[str]] = {}
    for group in groups:
        pid = person_id(group, False)
        if pid in clusters:
            stats["identity_collisions"] += 1
            pid = person_id(group, True)
        clusters[pid] = sorted(record_ids[i] for i in group)
        for i in group:
            person_of[record_ids[i]] = pid
            link_of[record_ids[i]] = ("exact", 1.0)
    pairs: list[PairMatch] = []
    best: dict[str, float] = {}
    in_exact: set[str] = set()
    for (i, j), (kind, w) in sorted(accepted.items()):
        rid_a, rid_b = record_ids[i], record_ids[j]
        if person_of[rid_a] != person_of[rid_b]:
            continue  # the pair was undone by the coherence guard
        pair_score = 1.0 if kind == "exact" else round(probability(w), 4)
        pairs.append(PairMatch(rid_a, rid_b, kind, pair_score))
        for rid in (rid_a, rid_b):
            if kind == "exact":
                in_exact.add(rid)
            else:
                best[rid] = max(pair_score, best.get(rid, 0.0))
    for rid, pair_score in best.items():
        if rid not in in_exact:
            link_of[rid] = ("probabilistic", pair_score)
    stats["persons"] = len(clusters)
    # Records without a birth date link only where their name carries the identity (issue 15,
    # item 4); how many stay alone says how much that costs.
    undated = [i for i, f in enumerate(feats) if not f.birth]
    stats["undated_records"] = len(undated)
    stats["undated_unlinked"] = sum(1 for i in undated if len(clusters[person_of[record_ids[i]]]) == 1)
    return Resolution(person_of, link_of, pairs, clusters, dict(stats), weights)
