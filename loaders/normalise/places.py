"""Places: a municipality or town name as people write it -> CBS municipality code.

Lookup order on the folded name (:func:`loaders.normalise.text.fold_place`: case, accents,
``'s-``/hyphen/dots/brackets insensitive):

1. the CBS name of a current municipality (``Bergen (NH.)``, ``'s-Gravenhage``);
2. a colloquial alias (``Den Haag``, ``Den Bosch``);
3. a name that is an official woonplaats in more than one municipality (``Hengelo``,
   ``Rijswijk``, ``Haren``) is **ambiguous**: refused with the candidates, even where an alias
   points at one of them, because a guess would put people in the wrong region;
4. a spelling alias or a former municipality (merged ones map to their successor);
5. an official woonplaats, then another populated place (GeoNames) whose rows all lie in one
   municipality; a name found in several municipalities is ambiguous;
6. a typo: the nearest known name by optimal-string-alignment distance, accepted only when it
   starts with the same letter, is at most 1 edit away (names of 5-8 letters) or 2 edits (9
   letters or more), and no name of another municipality, whatever its first letter, is as close.
   Names under 5 letters are never fuzzy-matched. The first letter must agree because typing
   errors rarely hit it; a name close to places in two municipalities is refused because it is a
   typo of neither ("Nergenshuizen": 1 edit from the hamlet Bergenshuizen in Vught, 2 from
   Negenhuizen in Midden-Delfland).

Anything else raises :class:`PlaceError` whose message lists the closest known names.
A typo match is never silent: :func:`resolve_match` returns a note saying which name was read
(the loader writes it to the rejects file with outcome ``field_corrected``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from loaders import reference
from loaders.normalise.text import clean, fold_place

__all__ = ["PlaceError", "PlaceIndex", "PlaceMatch", "place_index", "resolve", "resolve_match"]


class PlaceError(ValueError):
    """A place name that cannot be resolved to one municipality; ``suggestions`` lists candidates."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass
class PlaceIndex:
    """Folded name -> code tables built from the reference CSVs (see the module docstring)."""

    names: dict[str, str] = field(default_factory=dict)  # CBS names
    colloquial: dict[str, str] = field(default_factory=dict)
    other_alias: dict[str, str] = field(default_factory=dict)  # spelling + former
    woonplaats: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    other_place: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    display: dict[str, str] = field(default_factory=dict)  # folded -> a written form
    code_name: dict[str, str] = field(default_factory=dict)
    fuzzy_keys: list[str] = field(default_factory=list)
    fuzzy_codes: list[str] = field(default_factory=list)
    # length -> (keys, codes) of that length, so a typo is compared only with names it can reach
    by_length: dict[int, tuple[list[str], list[str]]] = field(default_factory=dict)

    def describe(self, code: str) -> str:
        return f"{self.code_name.get(code, code)} ({code})"

    def candidates(self, key: str) -> set[str]:
        """All codes a folded name could mean, from every table."""
        found: set[str] = set()
        for table in (self.names, self.colloquial, self.other_alias):
            if key in table:
                found.add(table[key])
        found |= self.woonplaats.get(key, set())
        found |= self.other_place.get(key, set())
        return found

    def lookup(self, key: str) -> str | None:
        """Exact (folded) lookup; raises PlaceError for an ambiguous name, None when unknown."""
        if key in self.names:
            return self.names[key]
        if key in self.colloquial:
            return self.colloquial[key]
        woon = self.woonplaats.get(key)
        if woon is not None and len(woon) > 1:
            raise self._ambiguous(key, woon)
        if key in self.other_alias:
            return self.other_alias[key]
        if woon:
            return next(iter(woon))
        other = self.other_place.get(key)
        if other is not None:
            if len(other) > 1:
                raise self._ambiguous(key, other)
            return next(iter(other))
        return None

    def _ambiguous(self, key: str, codes: set[str]) -> PlaceError:
        options = [self.describe(code) for code in sorted(codes)]
        return PlaceError(
            f"place {self.display.get(key, key)!r} is ambiguous: it lies in {', '.join(options)}",
            options,
        )

    def fuzzy(self, key: str) -> str | None:
        """The code of the single nearest name within the allowed edits, or None."""
        found = self.fuzzy_match(key)
        return found[0] if found else None

    def fuzzy_match(self, key: str) -> tuple[str, str] | None:
        """``(code, nearest folded name)`` of the single nearest name within the allowed edits.

        None when the name is too short, no name with the same first letter is close enough, or
        a name of another municipality (with any first letter) is as close or closer: a name near
        two different places is not a typo of either.
        """
        if len(key) < 5:
            return None
        allowed = 1 if len(key) < 9 else 2
        hits: list[tuple[int, str, str]] = []
        for length in range(len(key) - allowed, len(key) + allowed + 1):
            keys, codes_of = self.by_length.get(length, ((), ()))
            for key_hit, distance, index in process.extract(
                key, keys, scorer=OSA.distance, score_cutoff=allowed, limit=20
            ):
                hits.append((int(distance), codes_of[index], key_hit))
        same_start = [hit for hit in hits if hit[2][:1] == key[:1]]
        if not same_start:
            return None
        best = min(distance for distance, _code, _key in same_start)
        nearest = sorted((code, key_hit) for distance, code, key_hit in same_start if distance == best)
        if len({code for distance, code, _key in hits if distance <= best}) != 1:
            return None
        return nearest[0]

    def suggestions(self, key: str, limit: int = 3) -> list[str]:
        hits = process.extract(key, self.fuzzy_keys, scorer=fuzz.ratio, limit=limit * 4)
        out: list[str] = []
        for key_hit, _score, index in hits:
            written = self.display.get(key_hit, key_hit)
            label = f"{written} -> {self.describe(self.fuzzy_codes[index])}"
            if label not in out:
                out.append(label)
            if len(out) == limit:
                break
        return out


@lru_cache(maxsize=1)
def place_index() -> PlaceIndex:
    """Build the lookup tables once per process, from the tables :mod:`loaders.reference` reads."""
    index = PlaceIndex()
    for row in reference.rows("municipalities"):
        key = fold_place(row["name"])
        index.names[key] = row["code"]
        index.display[key] = row["name"]
        index.code_name[row["code"]] = row["name"]
    for row in reference.rows("aliases"):
        key = fold_place(row["alias"])
        table = index.colloquial if row["kind"] == "colloquial" else index.other_alias
        table.setdefault(key, row["code"])
        index.display.setdefault(key, row["alias"])
    for row in reference.rows("places"):
        target = index.woonplaats if row["kind"] == "woonplaats" else index.other_place
        for written in {row["place"], row["source_name"]}:
            if not written:
                continue
            key = fold_place(written)
            target[key].add(row["code"])
            index.display.setdefault(key, written)
    index.woonplaats = dict(index.woonplaats)
    index.other_place = dict(index.other_place)
    # Fuzzy matching only against names that resolve to exactly one code on their own.
    for key in sorted(index.display):
        codes = index.candidates(key)
        try:
            code = index.lookup(key)
        except PlaceError:
            continue
        if code is not None and len(codes) >= 1:
            index.fuzzy_keys.append(key)
            index.fuzzy_codes.append(code)
            bucket = index.by_length.setdefault(len(key), ([], []))
            bucket[0].append(key)
            bucket[1].append(code)
    return index


@dataclass(frozen=True)
class PlaceMatch:
    """A resolved place: its CBS code and, for a typo match, what it was read as."""

    code: str
    # None for an exact (folded) match; else "place 'X' read as Y -> Name (GMxxxx)".
    correction: str | None = None


@lru_cache(maxsize=100_000)
def resolve_match(text: str) -> PlaceMatch:
    """Resolve a written place name; say so when it was read as a typo of a known name.

    Raises :class:`PlaceError` with suggestions for an unknown or ambiguous name.

    >>> resolve_match("Amsterdam")
    PlaceMatch(code='GM0363', correction=None)
    >>> resolve_match("Amsterdm").correction
    "place 'Amsterdm' read as Amsterdam -> Amsterdam (GM0363)"
    """
    written = clean(text)
    if not written:
        raise PlaceError("place is empty", [])
    index = place_index()
    key = fold_place(written)
    code = index.lookup(key)
    if code is not None:
        return PlaceMatch(code)
    found = index.fuzzy_match(key)
    if found is None:
        options = index.suggestions(key)
        hint = f"; closest: {'; '.join(options)}" if options else ""
        raise PlaceError(f"unknown place {written!r}{hint}", options)
    code, nearest = found
    read_as = index.display.get(nearest, nearest)
    return PlaceMatch(code, f"place {written!r} read as {read_as} -> {index.describe(code)}")


def resolve(text: str) -> str:
    """Return the CBS code for a written place name, or raise :class:`PlaceError` with suggestions.

    >>> resolve("'s-Hertogenbosch"), resolve("Den Bosch"), resolve("sudwest fryslan")
    ('GM0796', 'GM0796', 'GM1900')
    >>> resolve("Weesp")  # merged into Amsterdam in 2022
    'GM0363'
    """
    return resolve_match(text).code
