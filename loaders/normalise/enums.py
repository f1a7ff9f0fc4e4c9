"""Closed word lists: role, exploitation type, gender and reliability grade.

A source's own words are first translated by its mapping's ``values`` (see docs/mapping-format.md);
the defaults below cover the usual Dutch and English words, case- and accent-insensitively.
"""

from __future__ import annotations

import re

from loaders.normalise.text import fold

__all__ = ["normalise_exploitation", "normalise_gender", "normalise_reliability", "normalise_role"]

ROLES: dict[str, str] = {
    "suspect": "suspect",
    "victim": "victim",
    "signalled": "signalled",
    "verdachte": "suspect",
    "verdacht": "suspect",
    "dader": "suspect",
    "mogelijke dader": "suspect",
    "vermoedelijke dader": "suspect",
    "perpetrator": "suspect",
    "offender": "suspect",
    "slachtoffer": "victim",
    "mogelijk slachtoffer": "victim",
    "possible victim": "victim",
    "gesignaleerd": "signalled",
    "gesignaleerde": "signalled",
    "betrokkene": "signalled",
    "signalled person": "signalled",
    "signaled": "signalled",
    "onbekend": "signalled",
}
EXPLOITATION: dict[str, str] = {
    "sexual": "sexual",
    "labour": "labour",
    "labor": "labour",
    "criminal": "criminal",
    "organ": "organ",
    "organ removal": "organ",
    "unknown": "unknown",
    "seksueel": "sexual",
    "seksuele uitbuiting": "sexual",
    "seksuele": "sexual",
    "arbeid": "labour",
    "arbeidsuitbuiting": "labour",
    "uitbuiting in de arbeid": "labour",
    "overige uitbuiting": "labour",
    "crimineel": "criminal",
    "criminele uitbuiting": "criminal",
    "orgaan": "organ",
    "organen": "organ",
    "orgaanverwijdering": "organ",
    "onbekend": "unknown",
}
GENDERS: dict[str, str] = {
    "m": "m",
    "man": "m",
    "male": "m",
    "mannelijk": "m",
    "jongen": "m",
    "v": "f",
    "f": "f",
    "vrouw": "f",
    "female": "f",
    "vrouwelijk": "f",
    "meisje": "f",
    "x": "x",
    "o": "x",
    "anders": "x",
    "other": "x",
    "non-binair": "x",
    "divers": "x",
}
_GRADE = re.compile(r"^[A-F][1-6]$")


def _lookup(table: dict[str, str], text: str, what: str) -> str:
    value = table.get(fold(text))
    if value is None:
        raise ValueError(f"{text.strip()!r} is not a known {what}; add it under 'values' in the mapping")
    return value


def normalise_role(text: str) -> str:
    """``suspect``/``victim``/``signalled`` from the usual words (``Verdachte``, ``Slachtoffer``)."""
    return _lookup(ROLES, text, "role")


def normalise_exploitation(text: str) -> str:
    """``sexual``/``labour``/``criminal``/``organ``/``unknown`` from the usual words."""
    return _lookup(EXPLOITATION, text, "exploitation type")


def normalise_gender(text: str) -> str:
    """``m``/``f``/``x`` from ``M``/``V``/``X`` and words."""
    return _lookup(GENDERS, text, "gender")


def normalise_reliability(text: str) -> str:
    """An Admiralty grade ``A1``..``F6`` (source letter, information digit), upper case."""
    grade = text.strip().upper().replace(" ", "").replace("-", "")
    if not _GRADE.match(grade):
        raise ValueError(f"{text.strip()!r} is not a reliability grade (A-F then 1-6, e.g. B2)")
    return grade
