"""The Fellegi–Sunter record-linkage engine shared by clear and encoded entity resolution.

One implementation of the scoring, blocking and clustering rules serves two kinds of records:

* clear records (``loaders.resolve``): names compared with Jaro–Winkler, birth dates as ISO text;
* encoded records (``loaders.resolve_encoded``): names compared as Bloom filters (Dice), birth
  dates through keyed hashes of their error-tolerant views.

What differs between the two is passed in as a ``Comparison`` (how two names and two birth dates
agree, as levels) and a list of blocking rules; everything else (the weights, the match rules,
the guard against chaining, the person ids' collision rule) lives here once.

Method
------
1. **Exact rules** (``is_exact``): the same document number, or the same first name, last name
   (or the two swapped) and birth date.
2. **Probabilistic rule** (``score``): Fellegi–Sunter log2 match weights on first name, last name
   (swapped order allowed), birth date, nationality and gender, with term-frequency weights for
   exact name agreement and a small, capped bonus for shared phones, plates, bank accounts and
   premises, which can support a name match but never make one.
3. **Blocking** (``candidate_pairs``): the union of the rules' blocks; a block larger than
   ``MAX_BLOCK`` is skipped (its pairs come from finer rules); a rule flagged *undated only*
   pairs only a record without a birth date with the other members of its block.
4. **Clustering** (``link``): connected components of accepted pairs; a component that holds a
   contradicting pair is split again greedily, strongest pairs first.

References
----------
Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. JASA 64(328), 1183-1210.
Winkler, W. E. (1990). String comparator metrics and enhanced decision rules in the
Fellegi-Sunter model of record linkage.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

__all__ = [
    "BIRTH_WEIGHTS",
    "CANNOT_LINK",
    "DEFAULT_THRESHOLD",
    "EVIDENCE_CAP",
    "FIRST_CAP",
    "FIRST_WEIGHTS",
    "LAST_CAP",
    "LAST_WEIGHTS",
    "MAX_BLOCK",
    "PRIOR",
    "BlockingRule",
    "Comparison",
    "LinkFeatures",
    "PairMatch",
    "PairScore",
    "Resolution",
    "TermWeights",
    "candidate_pairs",
    "is_exact",
    "link",
    "probability",
    "score",
]

# Accept a pair when its log2 match weight is at least this (probability ~0.94 with the prior).
DEFAULT_THRESHOLD = 4.0
# A pair weighing less than this is a contradiction: the two records cannot be one person.
CANNOT_LINK = -6.0
# Blocks bigger than this are not compared whole; their pairs come from the finer blocks.
MAX_BLOCK = 400
# Prior odds (log2) that a candidate pair from a block is a match.
PRIOR = -3.0
EVIDENCE_CAP = 2.0
# Weights per agreement level (3 exact is weighted by term frequency, see TermWeights).
FIRST_WEIGHTS = {2: 4.0, 1: 1.0, 0: -5.0}
LAST_WEIGHTS = {2: 5.0, 1: 2.0, 0: -5.0}
BIRTH_WEIGHTS = {3: 9.0, 2: 2.5, 1: -6.0, 0: -10.0}
# A rare name is strong evidence, but not strong enough to outweigh a birth-date mismatch.
FIRST_CAP = 8.0
LAST_CAP = 9.0


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


@dataclass(frozen=True)
class Comparison(Generic[F]):
    """How two records' values agree: the only part that differs between clear and encoded records.

    name_level
        ``name_level(a, b)`` for two name values: 3 exact, 2 close, 1 similar, 0 different,
        -1 missing.
    birth_level
        ``birth_level(a, b)`` for two records: 3 equal, 2 a typical error (one part off, day and
        month swapped, within a week), 1 same year otherwise, 0 different, -1 missing.
    """

    name_level: Callable[[Any, Any], int]
    birth_level: Callable[[F, F], int]


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
        Counts: records, candidate pairs, scored pairs, accepted pairs, oversized blocks, splits.
    """

    person_of: dict[str, str]
    link: dict[str, tuple[str, float]]
    pairs: list[PairMatch]
    clusters: dict[str, list[str]]
    stats: dict[str, int] = field(default_factory=dict)


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


class TermWeights:
    """Term-frequency weights for exact name agreement, estimated from the records themselves.

    Parameters
    ----------
    feats : sequence of LinkFeatures
        All records of the resolution; a name value shared by few of them weighs more.
    """

    def __init__(self, feats: Sequence[LinkFeatures]) -> None:
        n = max(len(feats), 1)
        first = Counter(f.first for f in feats if f.first)
        last = Counter(f.last for f in feats if f.last)
        self._first = {k: min(FIRST_CAP, math.log2(0.9 * n / v)) for k, v in first.items()}
        self._last = {k: min(LAST_CAP, math.log2(0.9 * n / v)) for k, v in last.items()}

    def first(self, name: Hashable) -> float:
        """Weight of exact agreement on this first name."""
        return max(self._first.get(name, FIRST_CAP), 4.5)

    def last(self, name: Hashable) -> float:
        """Weight of exact agreement on this last name."""
        return max(self._last.get(name, LAST_CAP), 5.5)


NEUTRAL_WEIGHTS = TermWeights([])


def _names(a: F, b: F, level: Callable[[Any, Any], int], w: TermWeights) -> tuple[float, int, int]:
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
        weight = 0.0
        if lf == 3:
            weight += w.first(b.first)
        elif lf >= 0:
            weight += FIRST_WEIGHTS[lf]
        if ll == 3:
            weight += w.last(b.last)
        elif ll >= 0:
            weight += LAST_WEIGHTS[ll]
        if swapped:
            weight -= 1.0  # swapped order is a common error, but rarer than the direct order
        if weight > best[0]:
            best = (weight, lf, ll)
    return best


def score(a: F, b: F, comparison: Comparison[F], weights: TermWeights | None = None) -> PairScore:
    """Compare two records: Fellegi–Sunter weight plus the match rules around it.

    Parameters
    ----------
    a, b : LinkFeatures
        The two records' comparison values (of the same kind).
    comparison : Comparison
        How names and birth dates of this kind of record agree.
    weights : TermWeights, optional
        Built from all records by ``link``; a neutral set is used when None.

    Returns
    -------
    PairScore
        Shared phones, plates, accounts and premises only add to ``weight``; they never make a
        pair ``allowed`` (they are group evidence, not identity).
    """
    w = weights or NEUTRAL_WEIGHTS
    total, lf, ll = _names(a, b, comparison.name_level, w)
    allowed = ll >= 1 and lf != 0 or (ll == -1 and lf >= 2) or (lf == -1 and ll >= 2)
    if ll == -1 and lf == -1:
        allowed = False
    contradiction = lf == 0 or ll == 0
    bl = comparison.birth_level(a, b)
    if bl >= 0:
        total += BIRTH_WEIGHTS[bl]
        if bl <= 1:
            # Two recorded birth dates that differ beyond a typical error are two people, however
            # alike their names: namesakes are common in the groups' home regions.
            allowed = False
            contradiction = True
    # At most one soft disagreement (a name spelled differently, a birth date off or missing, a
    # first name missing): two at once is rarer than two different people with similar names.
    soft = (bl in (-1, 2)) + (lf in (-1, 1, 2)) + (ll in (1, 2))
    if soft > 1:
        allowed = False
    if a.nationality and b.nationality:
        total += 1.5 if a.nationality == b.nationality else -4.0
    if a.gender and b.gender:
        total += 0.8 if a.gender == b.gender else -4.0
    if a.document and b.document and a.document != b.document:
        total -= 3.0  # people may hold several documents, so a mismatch is not decisive
    if a.evidence and b.evidence:
        shared = len(a.evidence & b.evidence)
        if shared:
            total += min(EVIDENCE_CAP, 1.0 * shared)
    total += PRIOR
    return PairScore(total, allowed, contradiction or total < CANNOT_LINK)


def probability(weight: float) -> float:
    """Match probability of a log2 match weight (prior included)."""
    return 1.0 / (1.0 + 2.0 ** (-weight))


def is_exact(a: LinkFeatures, b: LinkFeatures) -> bool:
    """The exact rules: same document, or same first name, last name (or swapped) and birth date."""
    if a.document and a.document == b.document:
        return True
    if not a.birth or a.birth != b.birth or not a.first or not a.last:
        return False
    return (a.first, a.last) in ((b.first, b.last), (b.last, b.first))


def candidate_pairs(
    feats: Sequence[F], rules: Sequence[BlockingRule[F]], stats: Counter[str]
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
            if undated_only:
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


def _split_incoherent(
    members: list[int],
    edges: list[tuple[float, int, int]],
    feats: Sequence[F],
    comparison: Comparison[F],
    weights: TermWeights,
    stats: Counter[str],
) -> list[list[int]]:
    """Split a component that holds a contradicting pair; strongest edges first, no contradictions."""
    conflicts: set[tuple[int, int]] = set()
    for x in range(len(members)):
        for y in range(x + 1, len(members)):
            i, j = members[x], members[y]
            if is_exact(feats[i], feats[j]):
                continue
            if score(feats[i], feats[j], comparison, weights).contradiction:
                conflicts.add((i, j) if i < j else (j, i))
    if not conflicts:
        return [members]
    stats["split_components"] += 1
    group: dict[int, set[int]] = {m: {m} for m in members}
    for _w, i, j in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        gi, gj = group[i], group[j]
        if gi is gj:
            continue
        if any((min(a, b), max(a, b)) in conflicts for a in gi for b in gj):
            continue
        merged = gi | gj
        for m in merged:
            group[m] = merged
    unique = {id(g): g for g in group.values()}
    return [sorted(g) for g in unique.values()]


def link(
    feats: Sequence[F],
    record_ids: Sequence[str],
    comparison: Comparison[F],
    rules: Sequence[BlockingRule[F]],
    person_id: Callable[[list[int], bool], str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
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
        Minimum log2 match weight of a probabilistic pair.

    Returns
    -------
    Resolution
        record -> person, per-record match kind and score, accepted pairs and clusters.
    """
    weights = TermWeights(feats)
    stats: Counter[str] = Counter(records=len(feats))
    uf = _UnionFind(len(feats))
    accepted: dict[tuple[int, int], tuple[str, float]] = {}
    for i, j in candidate_pairs(feats, rules, stats):
        stats["scored_pairs"] += 1
        a, b = feats[i], feats[j]
        if is_exact(a, b):
            accepted[(i, j)] = ("exact", 1.0)
            uf.union(i, j)
            continue
        weight, allowed, _contradiction = score(a, b, comparison, weights)
        if allowed and weight >= threshold:
            accepted[(i, j)] = ("probabilistic", weight)
            uf.union(i, j)
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
            groups.extend(_split_incoherent(members, comp_edges[root], feats, comparison, weights, stats))
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
    return Resolution(person_of, link_of, pairs, clusters, dict(stats))
