"""Entity resolution: decide which records describe the same person.

The engine (scoring, blocking, clustering) is ``loaders.linkage``, shared with the resolution of
encoded records (``loaders.resolve_encoded``); this module gives it what is specific to clear
records: their comparison values (``features``), Jaro–Winkler name levels, ISO birth-date levels,
the blocking rules and the canonical identity a person id is hashed from.

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

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from loaders.linkage import (
    CANNOT_LINK,
    DEFAULT_THRESHOLD,
    ESTIMATE_M,
    MAX_BLOCK,
    BlockingRule,
    Comparison,
    Indices,
    Levels,
    PairMatch,
    PairScore,
    Resolution,
    TermWeights,
    link,
    score,
)
from loaders.normalise.names import phonetic
from loaders.normalise.text import fold
from loaders.records import Record

__all__ = [
    "CANNOT_LINK",
    "CLEAR",
    "DEFAULT_THRESHOLD",
    "ESTIMATE_M",
    "MAX_BLOCK",
    "Features",
    "PairMatch",
    "PairScore",
    "Resolution",
    "birth_level",
    "blocking_rules",
    "describes_person",
    "document_identity_string",
    "features",
    "identity_string",
    "initials_only",
    "name_level",
    "phonetic",
    "resolve",
    "score_pair",
]

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


@lru_cache(maxsize=1 << 18)
def _letters(text: str) -> str:
    return _NON_ALNUM.sub("", fold(text))


def describes_person(record: Record) -> bool:
    """True when the record names or identifies a person (not only a place or an event)."""
    values = record.values
    if any(values.get(name) for name in _PERSON_FIELDS):
        return True
    return bool(values.get("role")) and record.kind != "signal"


def initials_only(record: Record) -> bool:
    """True when the record names a person by initials only: every part of its name has at most
    one letter ("J. P.", "A B"). Such a name says almost nothing about who it is, so entity
    resolution treats it as missing (the record links only on a document number).

    >>> from loaders.records import Record
    >>> initials_only(Record("a", "1", "case", {"first_name": "J.P.", "last_name": "K"}))
    True
    >>> initials_only(Record("a", "2", "case", {"first_name": "J.", "last_name": "Jansen"}))
    False
    """
    values = record.values
    text = f"{values.get('first_name') or ''} {values.get('last_name') or ''}"
    tokens = [t for t in _NON_ALNUM.split(fold(text)) if t]
    return bool(tokens) and all(len(t) <= 1 for t in tokens)


def features(record: Record, evidence: Iterable[str] = ()) -> Features:
    """Comparison values of ``record``, from its ``match`` forms, else folded from its values.

    A name of initials only (``initials_only``) is left out: the record has no name to compare.

    Parameters
    ----------
    record : Record
        A normalised record (see ``loaders.records``).
    evidence : iterable of str
        Tokens of shared identifiers the record mentions (pseudonyms of phone, plate, IBAN,
        premises); they support a name match and never make one.
    """
    values, match = record.values, record.match
    if initials_only(record):
        return Features(
            first="",
            last="",
            last_core="",
            name_key="",
            birth=str(values.get("birth_date") or ""),
            nationality=str(values.get("nationality") or ""),
            gender=str(values.get("gender") or ""),
            document=str(values.get("document_number") or ""),
            evidence=frozenset(evidence),
        )
    particle = str(values.get("name_particle") or "")
    first = _letters(match.get("first_name") or str(values.get("first_name") or ""))
    last_display = str(values.get("last_name") or "")
    last = _letters(match.get("last_name") or f"{particle} {last_display}")
    core_tokens = [t for t in fold(last_display).replace("-", " ").split() if t not in _PARTICLES]
    last_core = _letters(match.get("last_core") or " ".join(core_tokens)) or last
    raw_key = match.get("name_key") or f"{values.get('first_name') or ''} {last_display}"
    tokens = (_letters(tok) for tok in fold(raw_key).replace("-", " ").split())
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


# --- comparison: what is specific to clear records (the engine is loaders.linkage) --------------


def name_level(a: str, b: str) -> int:
    """3 exact; 2 close (one letter inserted, dropped, replaced or two swapped, or Jaro–Winkler
    >= 0.92); 1 similar (>= 0.84); 0 different; -1 missing.

    >>> name_level("jan", "jon"), name_level("jan", "piet"), name_level("jansen", "janssen")
    (2, 0, 2)
    """
    if not a or not b:
        return -1
    if a == b:
        return 3
    # A one-letter typo in a short name (Jan / Jon) is far from it by Jaro–Winkler alone.
    if min(len(a), len(b)) >= 3 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return 2
    sim = JaroWinkler.similarity(a, b)
    if sim >= 0.92:
        return 2
    if sim >= 0.84:
        return 1
    return 0


# Two birth dates at most this many days apart are one date with a typing error.
DAYS_OFF = 7


def birth_level(a: str, b: str) -> int:
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
        if abs(date.fromisoformat(a).toordinal() - date.fromisoformat(b).toordinal()) <= DAYS_OFF:
            return 2
    except ValueError:
        pass
    return 1 if ya == yb else 0


def _birth_of_features(a: Features, b: Features) -> int:
    return birth_level(a.birth, b.birth)


def name_levels(a: Sequence[str], b: Sequence[str]) -> Levels:
    """``name_level`` of each pair ``(a[k], b[k])``, with rapidfuzz's ``process.cpdist``.

    >>> name_levels(["jan", "jan", "", "jansen"], ["jon", "piet", "jan", "janssen"]).tolist()
    [2, 0, -1, 2]
    """
    count = len(a)
    if not count:
        return np.zeros(0, dtype=np.int8)
    len_a = np.fromiter(map(len, a), dtype=np.int64, count=count)
    len_b = np.fromiter(map(len, b), dtype=np.int64, count=count)
    # float64: the very similarity JaroWinkler.similarity gives, compared with the same bounds.
    similarity = cpdist(a, b, scorer=JaroWinkler.similarity, dtype=np.float64)
    typo = cpdist(a, b, scorer=OSA.distance, score_cutoff=1) <= 1
    out = np.zeros(count, dtype=np.int8)
    out[similarity >= 0.84] = 1
    out[similarity >= 0.92] = 2
    out[typo & (np.minimum(len_a, len_b) >= 3)] = 2
    out[np.fromiter(map(str.__eq__, a, b), dtype=bool, count=count)] = 3
    out[(len_a == 0) | (len_b == 0)] = -1
    return out


def _birth_levels(feats: Sequence[Features], i: Indices, j: Indices) -> Levels:
    """``birth_level`` of the birth dates of ``feats[i[k]]`` and ``feats[j[k]]``, as arrays: each
    record's date, year, month, day and day number once, then compared pair by pair."""
    births = [f.birth for f in feats]
    whole = _value_ids(births, {})
    years = _value_ids([b[:4] for b in births], {})
    parts: dict[str, int] = {}  # months and days share ids: the swapped day and month
    months = _value_ids([b[5:7] for b in births], parts)
    days = _value_ids([b[8:10] for b in births], parts)
    ordinals = np.array([_ordinal(b) for b in births], dtype=np.int64)
    # Each array gathered for the pairs once: the pairs outnumber the records many times, and
    # the gathers of random positions are what this costs.
    wi, wj = whole[i], whole[j]
    mi, mj, di, dj = months[i], months[j], days[i], days[j]
    oi, oj = ordinals[i], ordinals[j]
    same_year = years[i] == years[j]
    same = same_year.astype(np.int8) + (mi == mj) + (di == dj)
    dated = (oi >= 0) & (oj >= 0)
    close = dated & (np.abs(oi - oj) <= DAYS_OFF)
    swapped = same_year & (mi == dj) & (di == mj)
    out: Levels = same_year.astype(np.int8)
    out[(same == 2) | swapped | close] = 2
    out[wi == wj] = 3
    out[(wi == 0) | (wj == 0)] = -1
    return out


def _value_ids(values: Sequence[str], table: dict[str, int]) -> Indices:
    """An id per value, equal for equal values (``table`` may be shared), 0 for the empty one."""
    return np.fromiter((table.setdefault(v, len(table) + 1) if v else 0 for v in values), dtype=np.int64)


def _ordinal(text: str) -> int:
    """The day number of an ISO date, -1 when it is none (``birth_level`` then skips the test)."""
    try:
        return date.fromisoformat(text).toordinal() if text else -1
    except ValueError:
        return -1


# How clear records compare; the encoded counterpart is loaders.resolve_encoded.ENCODED.
CLEAR: Comparison[Features] = Comparison(
    name_level=name_level,
    birth_level=_birth_of_features,
    name_levels=name_levels,
    birth_levels=_birth_levels,
)


def score_pair(a: Features, b: Features, weights: TermWeights | None = None) -> PairScore:
    """Compare two clear records (``loaders.linkage.score`` with Jaro–Winkler names).

    Parameters
    ----------
    a, b : Features
        The two records' comparison values.
    weights : TermWeights, optional
        Built from all records by ``resolve``; a neutral set is used when None.

    Returns
    -------
    PairScore
        Shared phones, plates, accounts and premises only add to ``weight``; they never make a
        pair ``allowed`` (they are group evidence, not identity).
    """
    return score(a, b, CLEAR, weights)


# --- blocking -------------------------------------------------------------------------------------


def blocking_rules() -> list[BlockingRule[Features]]:
    """The blocking rules, each with a flag: True when the rule only pairs a record without a
    birth date with another record (pairs of dated records come from the date-based rules, so
    blocks on names alone stay cheap even where the same name is common).

    The order is part of the encoded export format (``loaders.encode`` numbers the keys by it).
    """

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

    # Added after the rules above (the encoded export numbers the keys by position): they make
    # blocking survive an error in any one name, including its first letter.
    def surname_date(f: Features) -> str | None:  # the birth date with day and month in either order
        if not (f.last_core and f.birth):
            return None
        return f"{phonetic(f.last_core)}|{f.birth[:4]}|" + "".join(sorted((f.birth[5:7], f.birth[8:10])))

    def first_date_either(f: Features) -> str | None:
        if not (f.first and f.birth):
            return None
        return f"{phonetic(f.first)}|{f.birth[:4]}|" + "".join(sorted((f.birth[5:7], f.birth[8:10])))

    def surname_year(f: Features) -> str | None:  # a typo in the first name and one in the date
        return f"{f.last_core}|{f.birth[:4]}" if f.last_core and f.birth else None

    def surname_alone(f: Features) -> str | None:
        return f.last_core or None

    def first_alone(f: Features) -> str | None:
        return f.first or None

    return [
        (document, False),
        (name_monthday, False),
        (last_year, False),
        (first_date, False),
        (pair_year, False),
        (initials_date, False),
        (name_tokens, True),
        (last_initial, True),
        (first_initial, True),
        (surname_date, False),
        (first_date_either, False),
        (surname_year, False),
        (surname_alone, True),
        (first_alone, True),
    ]


# --- person ids -----------------------------------------------------------------------------------


def identity_string(first: str, last: str, birth: str) -> str:
    """The identity a person id is hashed from, for a folded first name, last name and ISO birth date.

    The two names go in sorted order: "Piet Jansen" and "Jansen Piet" are one identity, as in the
    exact rule, so the id does not depend on which order a source happened to use.
    """
    a, b = sorted((first, last))
    return f"name\x1f{a}\x1f{b}\x1f{birth}"


def document_identity_string(document: str) -> str:
    """The identity of a cluster known only by a document number."""
    return f"document\x1f{document}"


def _canonical_identity(
    members: list[int], feats: Sequence[Features], record_ids: Sequence[str], local: bool = False
) -> str:
    """The identity string the person id is hashed from (see the module docstring).

    ``local`` forces the identity tied to the smallest record id (used when another cluster of
    the same load already holds the shared identity).
    """
    triples = Counter(
        (*sorted((feats[i].first, feats[i].last)), feats[i].birth)
        for i in members
        if feats[i].birth and feats[i].last and feats[i].first
    )
    if triples and not local:
        # Longest name first, then most frequent, then smallest.
        a, b, birth = min(triples, key=lambda t: (-len(t[0] + t[1]), -triples[t], t))
        return identity_string(a, b, birth)
    documents = sorted(feats[i].document for i in members if feats[i].document)
    if documents and not local:
        return document_identity_string(documents[0])
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
    known: Mapping[str, str] | None = None,
    estimate_m: bool = ESTIMATE_M,
    prepared: tuple[Sequence[str], Sequence[Features], int] | None = None,
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
    known : mapping, optional
        record id -> person id that an earlier load already gave the record (read back from the
        store). A cluster that holds such records keeps that person id (the most frequent, then
        the smallest) instead of a new one from its canonical identity, so a reload that adds
        records to a person does not leave the earlier records describing an older Person.
    estimate_m : bool
        Estimate the m probabilities by EM on the candidate pairs (``loaders.linkage.link``)
        instead of the documented ``DEFAULT_M``; default ``ESTIMATE_M``.
    prepared : (record ids, features, initials-only count), optional
        What resolution needs of the records, made before (``features`` of each record with its
        evidence, and how many have a name of initials only), so that a load need not hold its
        records (``loaders.pipeline``); ``records`` and ``evidence`` must then be empty.

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
    if prepared is not None:
        if records or evidence:
            raise ValueError("resolve takes records or prepared features, not both")
        record_ids, feats, initials = prepared
    else:
        ev = evidence if evidence is not None else [()] * len(records)
        feats = [features(r, e) for r, e in zip(records, ev, strict=True)]
        record_ids = [r.record_id for r in records]
        initials = sum(1 for r in records if initials_only(r))

    def pick(members: list[int], local: bool) -> str:
        if known and not local:
            earlier = Counter(known[record_ids[i]] for i in members if record_ids[i] in known)
            if earlier:
                return min(earlier, key=lambda pid: (-earlier[pid], pid))
        return person_id(_canonical_identity(members, feats, record_ids, local))

    resolution = link(
        feats, record_ids, CLEAR, blocking_rules(), pick, threshold=threshold, estimate_m=estimate_m
    )
    resolution.stats["initials_only"] = initials
    return resolution
