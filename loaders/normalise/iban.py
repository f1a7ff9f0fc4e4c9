"""IBANs: checked (country format and check digits, ``schwifty``) and written compact, upper case.

Dutch IBANs (``NLkk BBBB 0123 4567 89``) take a fast path: the fixed Dutch layout and the
ISO 7064 mod-97 check digits, which is what ``schwifty.IBAN`` checks for them; other countries go
through schwifty. A test checks both paths agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

__all__ = ["normalise_iban"]

_DUTCH = re.compile(r"^NL\d{2}[A-Z]{4}\d{10}$")
_SPACES = re.compile(r"[\s\-]")
_LETTER_DIGITS = {ord(letter): str(value) for value, letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10)}


def _mod97_ok(iban: str) -> bool:
    if not 2 <= int(iban[2:4]) <= 98:  # ISO 13616: check digits 00, 01 and 99 never occur
        return False
    return int((iban[4:] + iban[:4]).translate(_LETTER_DIGITS)) % 97 == 1


@lru_cache(maxsize=200_000)
def normalise_iban(text: str) -> str:
    """Return the compact IBAN (``NL91ABNA0417164300``); ValueError when it does not check out.

    >>> normalise_iban("nl91 abna 0417 1643 00")
    'NL91ABNA0417164300'
    """
    text = text.strip()
    if not text:
        raise ValueError("IBAN is empty")
    compact = _SPACES.sub("", text).upper()
    if _DUTCH.match(compact) and _mod97_ok(compact):
        return compact
    try:
        return str(IBAN(text).compact)
    except (SchwiftyException, ValueError) as exc:
        raise ValueError(f"{text!r} is not a valid IBAN ({exc})") from None
