"""Dutch postcodes (``1012 AB``, ``1012ab``, ``1012``) -> PC4, and full addresses' parts.

A Dutch postcode is four digits not starting with 0 and two letters; the letter pairs SA, SD and
SS are not issued. An address is the full postcode (PC6) with the house number (a positive whole
number) and an optional addition (huisletter / toevoeging: "A", "2", "BIS", "3HG").
"""

from __future__ import annotations

import re

__all__ = ["normalise_addition", "normalise_house_number", "normalise_pc6", "normalise_postcode"]

_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*(?:[A-Za-z]{2})?$")
_PC6 = re.compile(r"^([1-9][0-9]{3})\s*([A-Za-z]{2})$")
_NOT_ISSUED = frozenset({"SA", "SD", "SS"})
_HOUSE_NUMBER = re.compile(r"^[0-9]{1,5}$")
_ADDITION = re.compile(r"^[A-Z0-9]{1,6}$")


def normalise_postcode(text: str) -> str:
    """Return the PC4 digits of a Dutch postcode; ValueError for anything else.

    >>> normalise_postcode(" 1012 ab ")
    '1012'
    """
    match = _POSTCODE.match(text.strip())
    if not match:
        raise ValueError(f"{text.strip()!r} is not a Dutch postcode")
    return match.group(1)


def normalise_pc6(text: str) -> str:
    """Return a full Dutch postcode as ``1012AB``; ValueError for a PC4 alone or a foreign code.

    >>> normalise_pc6("1012 ab")
    '1012AB'
    >>> normalise_pc6("1012 SS")
    Traceback (most recent call last):
    ...
    ValueError: '1012 SS' is not a full Dutch postcode (letters SA, SD and SS are not issued)
    """
    match = _PC6.match(text.strip())
    if not match:
        raise ValueError(f"{text.strip()!r} is not a full Dutch postcode such as 1012 AB")
    letters = match.group(2).upper()
    if letters in _NOT_ISSUED:
        raise ValueError(
            f"{text.strip()!r} is not a full Dutch postcode (letters SA, SD and SS are not issued)"
        )
    return match.group(1) + letters


def normalise_house_number(text: str) -> int:
    """A house number: a positive whole number of at most five digits.

    >>> normalise_house_number(" 012 ")
    12
    """
    value = text.strip()
    if not _HOUSE_NUMBER.match(value) or int(value) == 0:
        raise ValueError(f"{value!r} is not a house number (a positive whole number)")
    return int(value)


def normalise_addition(text: str) -> str:
    """A house-number addition in upper case without spaces or dashes ("-a" -> "A", "3 hg" -> "3HG").

    >>> normalise_addition(" -bis ")
    'BIS'
    """
    value = re.sub(r"[\s\-/]", "", text).upper()
    if not _ADDITION.match(value):
        raise ValueError(f"{text.strip()!r} is not a house-number addition (at most 6 letters or digits)")
    return value
