"""Person names: particles, "Achternaam, Voornaam", swapped parts; display and matching forms.

Display forms keep the source's capitals (NFC, spaces collapsed) with the particle in lower case:
``first_name="Piet"``, ``name_particle="van der"``, ``last_name="Berg"``. Matching forms are
folded (:func:`loaders.normalise.text.fold`) and go into ``Record.match``:

- ``first_name``: folded first name(s), ``"piet"``;
- ``last_name``: folded particle glued to the last name without spaces or hyphens,
  ``"vanderberg"`` (so ``Van der Berg``, ``van der Berg`` and ``Vanderberg`` agree);
- ``last_core``: the last name without particle, ``"berg"``;
- ``name_key``: the sorted folded tokens of first and last name without particles, ``"berg piet"``:
  equal for swapped first/last names.

:func:`phonetic` is the sound key the resolver blocks on (``Jansen`` and ``Janssen`` both give
``insn``); the resolver computes it from these forms, so it is not stored in ``Record.match``.

Particles (tussenvoegsels) recognised: see :data:`PARTICLES`; the longest match wins
(``van der`` before ``van``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from loaders.normalise.text import clean, fold

__all__ = ["PARTICLES", "Name", "match_keys", "parse_full_name", "parse_name_parts", "phonetic"]

PARTICLES: tuple[str, ...] = tuple(
    sorted(
        {
            "van",
            "de",
            "der",
            "den",
            "het",
            "te",
            "ter",
            "ten",
            "'t",
            "'s",
            "d'",
            "in",
            "op",
            "uit",
            "van de",
            "van der",
            "van den",
            "van het",
            "van 't",
            "van 's",
            "in de",
            "in den",
            "in het",
            "in 't",
            "op de",
            "op den",
            "op het",
            "op 't",
            "onder de",
            "over de",
            "uit de",
            "uit den",
            "uit het",
            "uit 't",
            "aan de",
            "aan den",
            "aan het",
            "bij de",
            "voor de",
            "voor den",
            "de la",
            "de los",
            "de las",
            "del",
            "della",
            "di",
            "da",
            "dos",
            "das",
            "do",
            "du",
            "la",
            "le",
            "von",
            "von der",
            "zu",
            "vom",
            "el",
            "al",
            "bin",
            "ben",
        },
        key=lambda p: (-len(p.split()), -len(p), p),
    )
)
_PARTICLE_SET = frozenset(PARTICLES)
_MAX_PARTICLE_WORDS = max(len(p.split()) for p in PARTICLES)
_NON_LETTER = re.compile(r"[^a-z]")
# Particles that are also common given-name or surname words on their own are only taken as a
# particle when a name word follows them.


@dataclass(frozen=True)
class Name:
    """A person name split into display parts; ``swapped`` when the source had them reversed."""

    first_name: str
    name_particle: str
    last_name: str
    swapped: bool = False


def _split_particle_prefix(words: list[str]) -> tuple[str, list[str]]:
    """Split leading particle words off ``words`` (keeping at least one name word)."""
    for size in range(min(_MAX_PARTICLE_WORDS, len(words) - 1), 0, -1):
        candidate = " ".join(fold(w) for w in words[:size])
        if candidate in _PARTICLE_SET:
            return " ".join(w.lower() for w in words[:size]), words[size:]
    return "", words


def _split_particle_suffix(words: list[str]) -> tuple[list[str], str]:
    """Split trailing particle words (``"Berg van der"``) off ``words``."""
    for size in range(min(_MAX_PARTICLE_WORDS, len(words) - 1), 0, -1):
        candidate = " ".join(fold(w) for w in words[-size:])
        if candidate in _PARTICLE_SET:
            return words[:-size], " ".join(w.lower() for w in words[-size:])
    return words, ""


def _clean_name(text: str) -> str:
    """Display form of a name part; stray double quotes around it (from a broken export) removed."""
    return clean(text.strip().strip('"'))


def _is_particle(word: str) -> bool:
    return fold(word) in _PARTICLE_SET


@lru_cache(maxsize=200_000)
def parse_name_parts(first: str, particle: str, last: str) -> Name:
    """Clean name parts from separate columns; find a particle inside the last name.

    Recognises ``last="van der Berg"`` (particle in the last-name column), ``last="Berg, van der"``
    and ``last="Berg van der"`` (directory order), and a swap where the first-name column starts
    with a particle or is written ``"Berg, Piet"``.

    >>> parse_name_parts("Piet", "", "van der Berg")
    Name(first_name='Piet', name_particle='van der', last_name='Berg', swapped=False)
    >>> parse_name_parts("van Dijk", "", "Anna")
    Name(first_name='Anna', name_particle='van', last_name='Dijk', swapped=True)
    """
    first, particle, last = _clean_name(first), _clean_name(particle).lower(), _clean_name(last)
    swapped = False
    if "," in last and not first:
        return parse_full_name(last)
    first_words = first.split()
    if first_words and len(first_words) > 1 and _is_particle(first_words[0]) and last and not particle:
        maybe_particle, rest = _split_particle_prefix(first_words)
        if maybe_particle and rest:
            # The first-name column holds "van Dijk": the parts were entered the wrong way round.
            first, particle, last, swapped = last, maybe_particle, " ".join(rest), True
    if "," in last:
        head, _, tail = last.partition(",")
        tail_words = tail.split()
        if tail_words and _is_particle(" ".join(tail_words)) and not particle:
            last, particle = head.strip(), " ".join(w.lower() for w in tail_words)
    words = last.split()
    if not particle and len(words) > 1:
        particle, rest = _split_particle_prefix(words)
        if particle:
            words = rest
        else:
            words, particle = _split_particle_suffix(words)
        last = " ".join(words)
    return Name(first, particle, last, swapped)


@lru_cache(maxsize=200_000)
def parse_full_name(text: str) -> Name:
    """Split a name written in one column into first name, particle and last name.

    Understands ``"Jansen, Piet"``, ``"Berg, Piet van der"``, ``"van der Berg, Piet"``,
    ``"Berg van der, Piet"`` and ``"Piet van der Berg"``. Without a comma or particle the last
    word is the last name (``"Anna Maria Jansen"``).

    >>> parse_full_name("Berg, Piet van der")
    Name(first_name='Piet', name_particle='van der', last_name='Berg', swapped=False)
    >>> parse_full_name("Piet van der Berg")
    Name(first_name='Piet', name_particle='van der', last_name='Berg', swapped=False)
    """
    text = _clean_name(text)
    if "," in text:
        last_part, _, first_part = text.partition(",")
        last_words, first_words = last_part.split(), first_part.replace(",", " ").split()
        particle, rest = _split_particle_prefix(last_words)
        if not particle:
            rest, particle = _split_particle_suffix(last_words)
        if not particle and len(first_words) > 1:
            first_words, particle = _split_particle_suffix(first_words)
        return Name(" ".join(first_words), particle, " ".join(rest))
    words = text.split()
    if len(words) <= 1:
        return Name("", "", text)
    # The particle starts at the first particle word after the first word.
    for start in range(1, len(words) - 1):
        for size in range(min(_MAX_PARTICLE_WORDS, len(words) - start - 1), 0, -1):
            candidate = " ".join(fold(w) for w in words[start : start + size])
            if candidate in _PARTICLE_SET:
                return Name(
                    " ".join(words[:start]),
                    candidate
                    if candidate.isascii()
                    else " ".join(w.lower() for w in words[start : start + size]),
                    " ".join(words[start + size :]),
                )
    return Name(" ".join(words[:-1]), "", words[-1])


# Sound classes after the first letter: c/q -> k, z -> s, v/w -> f, d -> t, b -> p, h -> g, y/j -> i.
_PHONETIC_CLASSES = str.maketrans("cqzvwdbhyj", "kksfftpgii")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Spellings of one sound, replaced in this order before the classes apply.
_PHONETIC_SPELLINGS = (("sch", "s"), ("ch", "g"), ("ij", "y"), ("ph", "f"), ("ck", "k"))


@lru_cache(maxsize=1 << 18)
def phonetic(text: str) -> str:
    """A coarse Dutch sound key for blocking (not a linguistic transcription).

    The folded name, letters and digits only; ``sch`` -> s, ``ch`` -> g, ``ij`` -> y, ``ph`` -> f,
    ``ck`` -> k; then the first letter and the sound classes of the consonants after it, vowels
    and repeats dropped, at most 4 characters. :mod:`loaders.resolve` blocks on it (so do the
    encoded exports, through its blocking keys): changing it changes which pairs are compared.

    >>> phonetic("Janssen") == phonetic("Jansen"), phonetic("Meijer") == phonetic("Meyer")
    (True, True)
    >>> phonetic("Mohammed"), phonetic("Visser")
    ('mgmt', 'fsr')
    """
    word = _NON_ALNUM.sub("", fold(text))
    if not word:
        return ""
    word = (
        word.replace("sch", "s").replace("ch", "g").replace("ij", "y").replace("ph", "f").replace("ck", "k")
    )
    out = [word[0].translate(_PHONETIC_CLASSES)]
    for ch in word[1:].translate(_PHONETIC_CLASSES):
        if ch in "aeiou" or ch == out[-1]:
            continue
        out.append(ch)
    return "".join(out)[:4]


def match_keys(name: Name) -> dict[str, str]:
    """The folded matching forms of a name (see the module docstring); empty parts are left out.

    Returns a new dict each call (callers may change it).

    >>> match_keys(Name("Piet", "van der", "Berg"))["last_name"]
    'vanderberg'
    """
    return dict(_match_keys(name))


@lru_cache(maxsize=200_000)
def _match_keys(name: Name) -> dict[str, str]:
    first = fold(name.first_name)
    core = fold(name.last_name)
    glued = _NON_LETTER.sub("", fold(name.name_particle) + core) if core else ""
    keys: dict[str, str] = {}
    if first:
        keys["first_name"] = first
    if glued:
        keys["last_name"] = glued
        keys["last_core"] = _NON_LETTER.sub("", core)
    tokens = [t for t in re.split(r"[\s\-]+", f"{first} {core}") if t and t not in _PARTICLE_SET]
    if tokens:
        keys["name_key"] = " ".join(sorted(tokens))
    if name.swapped:
        keys["swapped"] = "1"
    return keys
