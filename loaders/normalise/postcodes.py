"""Dutch postcodes (``1012 AB``, ``1012ab``, ``1012``) -> PC4, the four digits."""

from __future__ import annotations

import re

__all__ = ["normalise_postcode"]

_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*(?:[A-Za-z]{2})?$")


def normalise_postcode(text: str) -> str:
    """Return the PC4 digits of a Dutch postcode; ValueError for anything else.

    >>> normalise_postcode(" 1012 ab ")
    '1012'
    """
    match = _POSTCODE.match(text.strip())
    if not match:
        raise ValueError(f"{text.strip()!r} is not a Dutch postcode")
    return match.group(1)
