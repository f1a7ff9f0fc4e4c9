"""Entity resolution: decide which records describe the same person.

Method
------
1. **Exact rules** (strong identity): the same document number, or the same folded first name,
   last name (particle glued on, or the two names swapped) and birth date.
2. **Probabilistic rule**: Fellegi–Sunter scoring of candidate pairs on first name, last name
   (Jaro–Winkler from ``rapidfuzz``, swapped order allowed), birth date (exact, one typo, day and
   month swapped), nationality and gender, with term-frequency weights for exact name agreement
   (a shared rare name says more than a shared common one) and a small, capped bonus for shared
   phones, plates, bank accounts and premises. Those identifiers are *shared within criminal
   groups on purpose*, so they can support a name match but never make one: a pair is only
   accepted when both names agree at least approximately.
3. **Blocking**: candidate pairs come from a union of blocks (document number; name tokens +
   birth day and month; phonetic last name + first initial + birth year; phonetic first name +
   birth date; both phonetic names + birth year; initials + birth date; and, for a record without
   birth date only, its name tokens or one exact name with the other's initial), so the cost grows
   with the block sizes, not with the square of the number of records. A pair found by several
   blocks is scored once.
4. **Clustering**: connected components of accepted pairs, with a guard against chaining: a
   component in which two records contradict each other (birth dates that differ beyond a typical
   error, a name that clearly differs, or a strongly negative weight; joined through a third record) is split
   again greedily, strongest pairs first, never joining two groups that contain a contradicting
   pair.

The person id is the keyed hash of the cluster's canonical identity: the most complete folded
first + last name + birth date among its records (longest, then most frequent, then
lexicographically smallest; the two names in sorted order so that a swap does not matter), so it
is stable across reloads and the same in every region that uses the same key. A cluster without
any birth date (or without a name) cannot be identified across regions; its id is tied to its
smallest record id instead, stable across reloads of the same source.

References
----------
Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. JASA 64(328), 1183-1210.
Winkler, W. E. (1990). String comparator metrics and enhanced decision rules in the
Fellegi-Sunter model of record linkage.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import JaroWinkler

from loaders.records import Record

__all__ = [
    "DEFAULT_THRESHOLD",
    "Features",
    "PairMatch",
    "PairScore",
    "Resolution",
    "describes_person",
    "features",
    "resolve",
    "score_pair",
]

# Accept a pair when its log2 match weight is at least this (probability ~0.94 with the prior).
DEFAULT_THRESHOLD = 4.0
# A pair weighing less than this is a contradiction: the two records cannot be one person.
CANNOT_LINK = -6.0
# Blocks bigger than this are not compared whole; their pairs come from the finer blocks.
MAX_BLOCK = 400
# Prior odds (log2) that a candidate pair from a block is a match.
_PRIOR = -3.0
_EVIDENCE_CAP = 2.0

_PERSON_FIELDS = ("first_name", "last_name", "full_name", "document_number", "birth_date")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARTICLES = frozenset(
    "van der den de het ter ten te op in t s d l la le du da di del della dos das von zu el al".split()
)


class Features(NamedTuple):
    """The compact, clear comparison values of one record (in memory only)."""

    first: str  # folded first name(s), letters only
    last: str  # folded last name with particle glued on ("vanderberg")
    last_core: str  # last name without particles ("berg")
    name_key: str  # sorted folded name tokens
    birth: str  # ISO date or ""
    nationality: str
    gender: str
    document: str
    evidence: frozenset[str]  # shared-identifier tokens: phone/plate/iban/premises


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


@lru_cache(maxsize=1 << 18)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1 << 18)
def _letters(text: str) -> str:
    return _NON_ALNUM.sub("", _fold(text))


def describes_person(record: Record) -> bool:
    """True when the record names or identifies a person (not only a place or an event)."""
    values = record.values
    if any(values.get(name) for name in _PERSON_FIELDS):
        return True
    return bool(values.get("role")) and record.kind != "signal"


def features(record: Record, evidence: Iterable[str] = ()) -> Features:
    """Comparison values of ``record``, from its ``match`` forms, else folded from its values.

    Parameters
    ----------
    record : Record
        A normalised record (see ``loaders.records``).
    evidence : iterable of str
        Tokens of shared identifiers the record mentions (pseudonyms of phone, plate, IBAN,
        premises); they support a name match and never make one.
    """
    values, match = record.values, record.match
    particle = str(values.get("name_particle") or "")
    first = _letters(match.get("first_name") or str(values.get("first_name") or ""))
    last_display = str(values.get("last_name") or "")
    last = _letters(match.get("last_name") or f"{particle} {last_display}")
    core_tokens = [t for t in _fold(last_display).replace("-", " ").split() if t not in _PARTICLES]
    last_core = _letters(match.get("last_core") or " ".join(core_tokens)) or last
    raw_key = match.get("name_key") or f"{values.get('first_name') or ''} {last_display}"
    tokens = (_letters(tok) for tok in _fold(raw_key).replace("-", " ").split())
    name_key = " ".join(sorted(t for t in tokens if t and t not in _PARTICLES))
    return Features(
        first=first,
        last=last,
        last_core=last_core,
        name_key=name_key,
        birth=str(values.get("birth_date") or ""),
        nationality=str(values.get("nationality") or ""),
        gender=str(values.get("gender") or ""),
        document=str(values.get("document_number") or ""),
        evidence=frozenset(evidence),
    )


# --- comparison ---------------------------------------------------------------------------------

_PHON = str.maketrans("cqzvwdbhyj", "kksfftpgii")


@lru_cache(maxsize=1 << 18)
def phonetic(name: str) -> str:
    """A coarse phonetic key: first letter, then consonant classes without repeats, 4 characters."""
    if not name:
        return ""
    s = name.replace("sch", "s").replace("ch", "g").replace("ij", "y").replace("ph", "f").replace("ck", "k")
    head, tail = s[0], s[1:].translate(_PHON)
    out = [head.translate(_PHON)]
    for ch in tail:
        if ch in "aeiou" or ch == out[-1]:
            continue
        out.append(ch)
    return "".join(out)[:4]


def _name_level(a: str, b: str) -> int:
    """3 exact, 2 close (JW >= 0.92 or one is the other without particle), 1 similar, 0 different."""
    if not a or not b:
        return -1
    if a == b:
        return 3
    sim = JaroWinkler.similarity(a, b)
    if sim >= 0.92:
        return 2
    if sim >= 0.84:
        return 1
    return 0


def _birth_level(a: str, b: str) -> int:
    """3 equal; 2 a typical error (one part differs, day and month swapped, a few days off);
    1 same year otherwise; 0 different; -1 missing."""
    if not a or not b:
        return -1
    if a == b:
        return 3
    ya, ma, da = a[:4], a[5:7], a[8:10]
    yb, mb, db = b[:4], b[5:7], b[8:10]
    same = (ya == yb) + (ma == mb) + (da == db)
    if same == 2:
        return 2
    if ya == yb and ma == db and da == mb:
        return 2
    try:
        if abs(date.fromisoformat(a).toordinal() - date.fromisoformat(b).toordinal()) <= _DAYS_OFF:
            return 2
    except ValueError:
        pass
    return 1 if ya == yb else 0


_FIRST_W = {2: 4.0, 1: 1.0, 0: -5.0}
_LAST_W = {2: 5.0, 1: 2.0, 0: -5.0}
_BIRTH_W = {3: 9.0, 2: 2.5, 1: -6.0, 0: -10.0}
# A rare name is strong evidence, but not strong enough to outweigh a birth-date mismatch.
_FIRST_CAP = 8.0
_LAST_CAP = 9.0
_DAYS_OFF = 7


class _Weights:
    """Term-frequency weights for exact name agreement, estimated from the records themselves."""

    def __init__(self, feats: Sequence[Features]) -> None:
        n = max(len(feats), 1)
        first = Counter(f.first for f in feats if f.first)
        last = Counter(f.last for f in feats if f.last)
        self._first = {k: min(_FIRST_CAP, math.log2(0.9 * n / v)) for k, v in first.items()}
        self._last = {k: min(_LAST_CAP, math.log2(0.9 * n / v)) for k, v in last.items()}

    def first(self, name: str) -> float:
        return max(self._first.get(name, _FIRST_CAP), 4.5)

    def last(self, name: str) -> float:
        return max(self._last.get(name, _LAST_CAP), 5.5)


def _names(a: Features, b: Features, w: _Weights) -> tuple[float, int, int]:
    """Best name weight over direct and swapped order; returns (weight, first level, last level)."""
    best = (-math.inf, -1, -1)
    for swapped in (False, True):
        if swapped and best[1] == 3 and best[2] == 3:
            break  # the direct order agrees exactly; the swapped order cannot do better
        if swapped:
            # A swapped name often carries its particle on the wrong part: compare the cores.
            lf = _name_level(a.last_core, b.first)
            ll = max(_name_level(a.first, b.last_core), _name_level(a.first, b.last))
        else:
            lf = _name_level(a.first, b.first)
            ll = _name_level(a.last, b.last)
            if ll in (0, 1) and a.last_core and b.last_core:
                # The same surname with and without its particle ("Berg" / "van den Berg").
                ll = max(ll, min(2, _name_level(a.last_core, b.last_core)))
        weight = 0.0
        if lf == 3:
            weight += w.first(b.first)
        elif lf >= 0:
            weight += _FIRST_W[lf]
        if ll == 3:
            weight += w.last(b.last)
        elif ll >= 0:
            weight += _LAST_W[ll]
        if swapped:
            weight -= 1.0  # swapped order is a common error, but rarer than the direct order
        if weight > best[0]:
            best = (weight, lf, ll)
    return best


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


def score_pair(a: Features, b: Features, weights: _Weights | None = None) -> PairScore:
    """Compare two records: Fellegi–Sunter weight plus the match rules around it.

    Parameters
    ----------
    a, b : Features
        The two records' comparison values.
    weights : term-frequency weights, optional
        Built from all records by ``resolve``; a neutral set is used when None.

    Returns
    -------
    PairScore
        Shared phones, plates, accounts and premises only add to ``weight``; they never make a
        pair ``allowed`` (they are group evidence, not identity).
    """
    w = weights or _NEUTRAL
    total, lf, ll = _names(a, b, w)
    allowed = ll >= 1 and lf != 0 or (ll == -1 and lf >= 2) or (lf == -1 and ll >= 2)
    if ll == -1 and lf == -1:
        allowed = False
    contradiction = lf == 0 or ll == 0
    bl = _birth_level(a.birth, b.birth)
    if bl >= 0:
        total += _BIRTH_W[bl]
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
            total += min(_EVIDENCE_CAP, 1.0 * shared)
    total += _PRIOR
    return PairScore(total, allowed, contradiction or total < CANNOT_LINK)


_NEUTRAL = _Weights([])


def _probability(weight: float) -> float:
    return 1.0 / (1.0 + 2.0 ** (-weight))


def _exact(a: Features, b: Features) -> bool:
    if a.document and a.document == b.document:
        return True
    if not a.birth or a.birth != b.birth or not a.first or not a.last:
        return False
    return (a.first, a.last) in ((b.first, b.last), (b.last, b.first))


# --- blocking -------------------------------------------------------------------------------------

_BlockFn = Callable[[Features], "str | None"]


def _blocking_rules() -> list[tuple[_BlockFn, bool]]:
    """The blocking rules, each with a flag: True when the rule only pairs a record without a
    birth date with another record (pairs of dated records come from the date-based rules, so
    blocks on names alone stay cheap even where the same name is common)."""

    def document(f: Features) -> str | None:
        return f.document or None

    def name_monthday(f: Features) -> str | None:  # catches a typo in the birth year
        return f"{f.name_key}|{f.birth[5:]}" if f.name_key and f.birth else None

    def last_year(f: Features) -> str | None:
        return f"{phonetic(f.last_core)}|{f.first[:1]}|{f.birth[:4]}" if f.last and f.birth else None

    def first_date(f: Features) -> str | None:
        return f"{phonetic(f.first)}|{f.birth}" if f.first and f.birth else None

    def pair_year(f: Features) -> str | None:
        if not (f.first and f.last and f.birth):
            return None
        return "|".join(sorted((phonetic(f.first), phonetic(f.last_core)))) + f"|{f.birth[:4]}"

    def initials_date(f: Features) -> str | None:
        if not (f.first and f.last and f.birth):
            return None
        return "".join(sorted(f.first[0] + f.last_core[0])) + f"|{f.birth}"

    def name_tokens(f: Features) -> str | None:
        return f.name_key or None

    def last_initial(f: Features) -> str | None:
        return f"{f.last_core}|{f.first[:1]}" if f.last_core else None

    def first_initial(f: Features) -> str | None:
        return f"{f.first}|{f.last_core[:1]}" if f.first else None

    return [
        (document, False), (name_monthday, False), (last_year, False), (first_date, False),
        (pair_year, False), (initials_date, False),
        (name_tokens, True), (last_initial, True), (first_initial, True),
    ]


def _candidate_pairs(feats: Sequence[Features], stats: Counter[str]) -> Iterable[tuple[int, int]]:
    """Each candidate pair once, from the union of the blocking rules' blocks."""
    n = len(feats)
    seen: set[int] = set()
    for rule, undated_only in _blocking_rules():
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


# --- clustering -----------------------------------------------------------------------------------


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
    feats: Sequence[Features],
    weights: _Weights,
    stats: Counter[str],
) -> list[list[int]]:
    """Split a component that holds a contradicting pair; strongest edges first, no contradictions."""
    conflicts: set[tuple[int, int]] = set()
    for x in range(len(members)):
        for y in range(x + 1, len(members)):
            i, j = members[x], members[y]
            if _exact(feats[i], feats[j]):
                continue
            if score_pair(feats[i], feats[j], weights).contradiction:
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


def _canonical_identity(
    members: list[int], feats: Sequence[Features], record_ids: Sequence[str], local: bool = False
) -> str:
    """The identity string the person id is hashed from (see the module docstring).

    ``local`` forces the identity tied to the smallest record id (used when another cluster of
    the same load already holds the shared identity).
    """
    # The two names in sorted order: "Piet Jansen" and "Jansen Piet" are one identity, as in the
    # exact rule, so the id does not depend on which order a source happened to use.
    triples = Counter(
        (*sorted((feats[i].first, feats[i].last)), feats[i].birth)
        for i in members
        if feats[i].birth and feats[i].last and feats[i].first
    )
    if triples and not local:
        # Longest name first, then most frequent, then smallest.
        a, b, birth = min(triples, key=lambda t: (-len(t[0] + t[1]), -triples[t], t))
        return f"name\x1f{a}\x1f{b}\x1f{birth}"
    documents = sorted(feats[i].document for i in members if feats[i].document)
    if documents and not local:
        return f"document\x1f{documents[0]}"
    names = sorted(
        ((feats[i].first, feats[i].last) for i in members if feats[i].first or feats[i].last),
        key=lambda t: (-len(t[0] + t[1]), t),
    )
    anchor = min(record_ids[i] for i in members)
    name = "\x1f".join(names[0]) if names else ""
    return f"local\x1f{name}\x1f{anchor}"


def resolve(
    records: Sequence[Record],
    person_id: Callable[[str], str],
    *,
    evidence: Sequence[Iterable[str]] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Resolution:
    """Resolve person-describing records into persons.

    Parameters
    ----------
    records : sequence of Record
        Records that describe a person (see ``describes_person``); record ids must be unique.
    person_id : callable
        Maps the canonical identity string of a cluster to its person id, e.g.
        ``lambda ident: pseudonymiser.hash("person", ident)``.
    evidence : sequence of iterables of str, optional
        Per record, tokens of the shared identifiers it mentions (supporting evidence only).
    threshold : float
        Minimum log2 match weight for a probabilistic pair (default ``DEFAULT_THRESHOLD``).

    Returns
    -------
    Resolution
        record -> person, per-record match kind and score, accepted pairs and clusters.

    Examples
    --------
    >>> from loaders.records import Record
    >>> rows = [Record("a", "1", "case", {"first_name": "Piet", "last_name": "Jansen",
    ...                                    "birth_date": "1980-02-03"}),
    ...         Record("b", "7", "case", {"first_name": "Jansen", "last_name": "Piet",
    ...                                    "birth_date": "1980-02-03"})]
    >>> res = resolve(rows, person_id=lambda ident: str(hash(ident)))
    >>> res.person_of["a:1"] == res.person_of["b:7"]
    True
    """
    ev = evidence if evidence is not None else [()] * len(records)
    feats = [features(r, e) for r, e in zip(records, ev, strict=True)]
    record_ids = [r.record_id for r in records]
    weights = _Weights(feats)
    stats: Counter[str] = Counter(records=len(records))

    uf = _UnionFind(len(feats))
    accepted: dict[tuple[int, int], tuple[str, float]] = {}
    for i, j in _candidate_pairs(feats, stats):
        stats["scored_pairs"] += 1
        a, b = feats[i], feats[j]
        if _exact(a, b):
            accepted[(i, j)] = ("exact", 1.0)
            uf.union(i, j)
            continue
        weight, allowed, _contradiction = score_pair(a, b, weights)
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

    person_of: dict[str, str] = {}
    link: dict[str, tuple[str, float]] = {}
    clusters: dict[str, list[str]] = {}
    pairs: list[PairMatch] = []
    groups: list[list[int]] = []
    for root, members in components.items():
        if len(members) > 2:
            groups.extend(_split_incoherent(members, comp_edges[root], feats, weights, stats))
        else:
            groups.append(members)
    # Two clusters that the resolution kept apart must not share an id; the one whose smallest
    # record id comes later gets an identity of its own (stable for the same input).
    groups.sort(key=lambda g: min(record_ids[i] for i in g))
    for group in groups:
        pid = person_id(_canonical_identity(group, feats, record_ids))
        if pid in clusters:
            stats["identity_collisions"] += 1
            pid = person_id(_canonical_identity(group, feats, record_ids, local=True))
        ids = sorted(record_ids[i] for i in group)
        clusters[pid] = ids
        for i in group:
            person_of[record_ids[i]] = pid
            link[record_ids[i]] = ("exact", 1.0)
    best: dict[str, float] = {}
    in_exact: set[str] = set()
    for (i, j), (kind, w) in sorted(accepted.items()):
        rid_a, rid_b = record_ids[i], record_ids[j]
        if person_of[rid_a] != person_of[rid_b]:
            continue  # the pair was undone by the coherence guard
        score = 1.0 if kind == "exact" else round(_probability(w), 4)
        pairs.append(PairMatch(rid_a, rid_b, kind, score))
        for rid in (rid_a, rid_b):
            if kind == "exact":
                in_exact.add(rid)
            else:
                best[rid] = max(score, best.get(rid, 0.0))
    for rid, score in best.items():
        if rid not in in_exact:
            link[rid] = ("probabilistic", score)
    stats["persons"] = len(clusters)
    return Resolution(person_of, link, pairs, clusters, dict(stats))
