"""Nationality: country names (Dutch or English), adjectives and ISO codes -> ISO 3166-1 alpha-3.

Dutch country names and adjectives (``Nederlandse``, ``Roemeens``, ``Roemenië``) come from the
data file ``data/nationalities.csv``; alpha-2, alpha-3 and English country names for every
country from ``pycountry``. Matching is case- and accent-insensitive. ``XKX`` (Kosovo) is the
user-assigned code in common use; ``onbekend``/``unknown``/``stateloos`` are not nationalities and
are refused like any other unknown word.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import pycountry

from loaders.normalise.text import fold

__all__ = ["normalise_nationality"]

_DATA = Path(__file__).resolve().parent / "data" / "nationalities.csv"


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_3", "alpha_2", "name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                table.setdefault(fold(value), country.alpha_3)
    with _DATA.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            words = [row["dutch_country"], row["dutch_adjective"], row["iso3"], *row["other"].split("|")]
            for word in words:
                if word:
                    # The file wins over pycountry names (e.g. "Congo" variants).
                    table[fold(word)] = row["iso3"]
    return table


@lru_cache(maxsize=10_000)
def normalise_nationality(text: str) -> str:
    """Return the ISO 3166-1 alpha-3 code; ValueError for a word that is not a known country.

    >>> normalise_nationality("Nederlandse"), normalise_nationality("RO"), normalise_nationality("roemenie")
    ('NLD', 'ROU', 'ROU')
    """
    key = fold(text).strip(" .")
    code = _table().get(key)
    if code is None:
        raise ValueError(f"{text.strip()!r} is not a known nationality or country")
    return code
