"""Reference geography for the generator: municipalities, police units, and names as people write them.

Reads the CSV files in ``loaders/reference`` (CBS 2025 municipalities, aliases, places). Truth always
uses CBS codes (``GM####``); source rows write a municipality as a person would: the CBS name, a
colloquial or Dutch-language alias (``Den Haag``, ``Den Bosch``, ``Zuidwest-Friesland``), or the name
of an unambiguous woonplaats (town) inside the municipality. Every written form resolves to exactly
one code through ``aliases.csv``/``places.csv``, so the ground truth stays exact. Names are compared
in the loader's own lookup form (:func:`loaders.normalise.text.fold_place`), so a typo or a made-up
name the generator writes is one the loader does not already know.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

from loaders import reference
from loaders.normalise.text import fold_place

__all__ = ["BIG_CITIES", "Geography", "geography"]


# Cities that carry more of the (synthetic) activity, as real case loads do.
BIG_CITIES: tuple[str, ...] = (
    "GM0363",
    "GM0599",
    "GM0518",
    "GM0344",
    "GM0772",
    "GM0796",
    "GM0855",
    "GM0014",
    "GM0153",
    "GM0202",
    "GM0268",
    "GM0935",
    "GM0034",
    "GM0758",
    "GM0392",
    "GM0193",
    "GM0546",
    "GM0505",
)

# Aliases that are bare names of villages elsewhere too (see loaders/reference/README.md, Gaps):
# a reader may treat them as lower-confidence, so the generator does not write them.
_RISKY_ALIASES = {"Hengelo", "Laren", "Rijswijk", "Middelburg", "Beek", "Stein"}
_SLANG = {"Utca", "Damsco", "Agga", "Roffa", "Tilly", "Chillburg"}


def _cp1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Geography:
    """Municipalities with their police unit and the ways their names are written."""

    codes: list[str]
    name: dict[str, str]
    unit: dict[str, str]
    unit_codes: list[str]
    by_unit: dict[str, list[str]]
    aliases: dict[str, list[str]]
    towns: dict[str, list[str]]
    known: set[str] = field(default_factory=set)
    _known_list: list[str] = field(default_factory=list)

    def write(self, rng: random.Random, code: str) -> str:
        """A written form of the municipality: CBS name (most often), alias, or town name."""
        r = rng.random()
        if r < 0.45 and self.aliases.get(code):
            return rng.choice(self.aliases[code])
        if 0.45 <= r < 0.6 and self.towns.get(code):
            return rng.choice(self.towns[code])
        return self.name[code]

    def typo(self, rng: random.Random, code: str) -> str:
        """The CBS name with one typing error that is not itself a known place name."""
        base = self.name[code]
        for _ in range(20):
            chars = list(base)
            i = rng.randrange(1, max(2, len(chars) - 1))
            op = rng.randrange(3)
            if op == 0 and i + 1 < len(chars):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            elif op == 1:
                del chars[i]
            else:
                chars.insert(i, chars[i])
            cand = "".join(chars)
            if (
                cand != base
                and fold_place(cand) not in self.known
                and _cp1252(cand)
                and _reads_as(cand, code)
            ):
                return cand
        return base + "e" if fold_place(base + "e") not in self.known else base + "x"

    def unknown(self, rng: random.Random) -> str:
        """A made-up place name that matches no municipality, alias or place."""
        from rapidfuzz import fuzz, process

        heads = ("Noord", "Zuid", "Oost", "West", "Groot", "Klein", "Nieuw", "Oud")
        stems = ("wolde", "meer", "veen", "hoven", "broek", "zande", "horst", "dam", "kerk", "loo")
        tails = ("erdorp", "erwijk", "ervaart", "erburen", "kwartier", "ervelde")
        if not self._known_list:
            self._known_list = sorted(self.known)
        for _ in range(50):
            cand = f"{rng.choice(heads)}{rng.choice(stems)}{rng.choice(tails)}"
            # Far from every real name, so that a tolerant reader cannot match it to one.
            if (
                fold_place(cand) not in self.known
                and process.extractOne(fold_place(cand), self._known_list, scorer=fuzz.ratio, score_cutoff=75)
                is None
            ):
                return cand
        return "Plaats Onbekend-" + str(rng.randrange(100, 999))


def _reads_as(text: str, code: str) -> bool:
    """Whether the loader reads ``text`` as the municipality ``code`` (a typo of a short name can
    be as close to another place, and is then refused as ambiguous: not the typo meant here)."""
    try:
        return reference.resolve_place(text) == code
    except ValueError:
        return False


@lru_cache(maxsize=1)
def geography() -> Geography:
    """Build the geography once per process, from the tables :mod:`loaders.reference` reads."""
    munis = reference.rows("municipalities")
    codes = [m["code"] for m in munis]
    name = {m["code"]: m["name"] for m in munis}
    unit = {m["code"]: m["police_unit_code"] for m in munis}
    unit_codes = sorted(set(unit.values()))
    by_unit: dict[str, list[str]] = {u: [] for u in unit_codes}
    for c in codes:
        by_unit[unit[c]].append(c)
    known = {fold_place(n) for n in name.values()}
    alias_rows = reference.rows("aliases")
    known |= {fold_place(a["alias"]) for a in alias_rows}
    place_rows = reference.rows("places")
    known |= {fold_place(p["place"]) for p in place_rows}
    aliases: dict[str, list[str]] = {}
    for a in alias_rows:
        if a["kind"] == "former" or a["alias"] in _RISKY_ALIASES or a["alias"] in _SLANG:
            continue
        if "." in a["alias"] or not _cp1252(a["alias"]):
            continue
        aliases.setdefault(a["code"], []).append(a["alias"])
    # A town name is written only when it points at one municipality in every reference table.
    alias_folds = {fold_place(a["alias"]) for a in alias_rows}
    name_folds = {fold_place(n) for n in name.values()}
    place_count: dict[str, set[str]] = {}
    for p in place_rows:
        place_count.setdefault(fold_place(p["place"]), set()).add(p["code"])
    towns: dict[str, list[str]] = {}
    for p in place_rows:
        f = fold_place(p["place"])
        if (
            p["ambiguous"] != "false"
            or p["kind"] != "woonplaats"
            or len(place_count[f]) != 1
            or f in alias_folds
            or (f in name_folds and p["place"] != name[p["code"]])
        ):
            continue
        if p["place"] == name[p["code"]] or not _cp1252(p["place"]):
            continue
        towns.setdefault(p["code"], []).append(p["place"])
    for lst in towns.values():
        lst.sort()
    for lst in aliases.values():
        lst.sort()
    return Geography(codes, name, unit, unit_codes, by_unit, aliases, towns, known)
