"""Organisations: KvK (Chamber of Commerce) numbers, names without legal form, SBI sections, roles.

An organisation is known by its KvK number when the source has it, and otherwise by its name and
place. Names are written in many ways ("Schoonmaak Snel B.V.", "SCHOONMAAK SNEL BV", "Snel
Schoonmaak bv"): :func:`organisation_key` removes the legal-form words and sorts the remaining
words, so these forms meet. The name itself never leaves the loader; only a keyed hash of this key.
"""

from __future__ import annotations

import re

from loaders.normalise.text import fold

__all__ = [
    "LEGAL_FORMS",
    "ORGANISATION_ROLES",
    "normalise_kvk",
    "normalise_organisation_role",
    "normalise_sector",
    "organisation_key",
]

_KVK = re.compile(r"^[0-9]{8}$")
# Separators people write inside a KvK number ("1234 5678", "12.34.56.78").
_KVK_SEPARATORS = re.compile(r"[\s.\-]")
#: Legal-form words, folded and without dots, as single words or word sequences.
LEGAL_FORMS: tuple[tuple[str, ...], ...] = (
    ("bv",),
    ("b", "v"),
    ("nv",),
    ("n", "v"),
    ("vof",),
    ("v", "o", "f"),
    ("cv",),
    ("c", "v"),
    ("stichting",),
    ("vereniging",),
    ("cooperatie",),
    ("ua",),
    ("u", "a"),
    ("ba",),
    ("b", "a"),
    ("wa",),
    ("w", "a"),
    ("eenmanszaak",),
    ("holding",),
    ("besloten", "vennootschap"),
    ("naamloze", "vennootschap"),
    ("vennootschap", "onder", "firma"),
    ("commanditaire", "vennootschap"),
    ("in", "oprichting"),
    ("io",),
    ("i", "o"),
    ("ltd",),
    ("limited",),
    ("gmbh",),
    ("sp", "z", "o", "o"),
    ("srl",),
)
_LONGEST_FORM = max(len(form) for form in LEGAL_FORMS)
_FORMS = frozenset(LEGAL_FORMS)
_WORD = re.compile(r"[a-z0-9]+")
#: A person's tie to an organisation on a row -> the relationship type.
ORGANISATION_ROLES: dict[str, str] = {
    "employee": "EMPLOYED_BY",
    "employed": "EMPLOYED_BY",
    "worker": "EMPLOYED_BY",
    "werknemer": "EMPLOYED_BY",
    "medewerker": "EMPLOYED_BY",
    "uitzendkracht": "EMPLOYED_BY",
    "in dienst": "EMPLOYED_BY",
    "director": "DIRECTOR_OF",
    "bestuurder": "DIRECTOR_OF",
    "directeur": "DIRECTOR_OF",
    "owner": "OWNS",
    "eigenaar": "OWNS",
    "aandeelhouder": "OWNS",
    "shareholder": "OWNS",
}


def normalise_kvk(text: str) -> str:
    """The 8 digits of a KvK number; ValueError for anything else.

    >>> normalise_kvk(" 1234 5678 ")
    '12345678'
    >>> normalise_kvk("1234567")
    Traceback (most recent call last):
    ...
    ValueError: '1234567' is not a KvK number (exactly 8 digits)
    """
    value = _KVK_SEPARATORS.sub("", text.strip())
    if not _KVK.match(value):
        raise ValueError(f"{text.strip()!r} is not a KvK number (exactly 8 digits)")
    return value


def organisation_key(name: str) -> str:
    """The matching form of an organisation name: folded words, legal forms removed, sorted.

    Dots and other punctuation split words only where they stand between letters ("B.V." is
    "b v"), so "B.V.", "BV" and "b.v." are the same legal form. A name that is nothing but a legal
    form ("B.V.") is a ValueError: it names no organisation.

    >>> organisation_key("Schoonmaak Snel B.V.") == organisation_key("SNEL SCHOONMAAK bv")
    True
    >>> organisation_key("Stichting De Haven") == organisation_key("de haven")
    True
    >>> organisation_key("Bouw & Co V.O.F.")
    'bouw co'
    """
    words = _WORD.findall(fold(name))
    kept: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_FORM, len(words) - i), 0, -1):
            if tuple(words[i : i + size]) in _FORMS:
                i += size
                break
        else:
            kept.append(words[i])
            i += 1
    if not kept:
        raise ValueError(f"{name.strip()!r} is not an organisation name (only a legal form or no letters)")
    return " ".join(sorted(kept))


def normalise_sector(text: str) -> str:
    """The SBI section letter (A-U) of a sector written as the letter or a code starting with it.

    >>> normalise_sector("n"), normalise_sector("N - Verhuur en overige zakelijke diensten")
    ('N', 'N')
    """
    value = text.strip().upper()
    if not value or not "A" <= value[0] <= "U" or (len(value) > 1 and value[1].isalpha()):
        raise ValueError(f"{text.strip()!r} is not an SBI section (a letter A to U)")
    return value[0]


def normalise_organisation_role(text: str) -> str:
    """The relationship type of a person's tie to an organisation (EMPLOYED_BY, DIRECTOR_OF, OWNS).

    >>> normalise_organisation_role("Bestuurder")
    'DIRECTOR_OF'
    """
    found = ORGANISATION_ROLES.get(fold(text))
    if found is None:
        raise ValueError(
            f"{text.strip()!r} is not a tie to an organisation (employee, director or owner, or "
            "map the source's word in 'values')"
        )
    return found
