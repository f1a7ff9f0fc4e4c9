"""Phone numbers in any notation -> E.164 (``+31612345678``) with ``phonenumbers``, region NL.

Fast path (most numbers): the notation is reduced to country code + national significant number
(``06-12345678``, ``+31 (0)20 555 0123``, ``0031 6 ...``, ``+40 721 234 567``), which is then
checked against the number patterns and lengths of that country from ``phonenumbers``' own
metadata - the same test ``is_valid_number`` makes, without its parsing overhead. Anything the
fast path does not accept goes through ``phonenumbers.parse`` + ``is_valid_number``, so the
answer is always phonenumbers'; a property test checks both paths agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

__all__ = ["normalise_phone"]

_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_INTERNATIONAL = re.compile(r"^(?:\+|00)([1-9]\d{6,16})$")
_NATIONAL = re.compile(r"^0([1-9]\d{5,12})$")
_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)
Desc = tuple[frozenset[int], re.Pattern[str]]  # possible lengths (empty: any), pattern


def _desc(desc: object) -> Desc | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or not pattern:
        return None
    return frozenset(getattr(desc, "possible_length", ()) or ()), re.compile(pattern)


@lru_cache(maxsize=512)
def _region_rules(region: str) -> dict[int, re.Pattern[str]] | None:
    """Length -> one regex that a valid national number of that length in ``region`` matches.

    A number is valid when it fits the general description and at least one number type (length
    in the description's possible lengths, if it lists any, and a full match of its pattern), as
    in phonenumbers' ``is_valid_number_for_region``; here the checks are folded per length.
    """
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    general = _desc(metadata.general_desc)
    if general is None:
        return None
    types = [d for d in (_desc(getattr(metadata, name, None)) for name in _TYPES) if d is not None]
    rules: dict[int, re.Pattern[str]] = {}
    for length in range(1, 18):
        if general[0] and length not in general[0]:
            continue
        fitting = [p.pattern for lengths, p in types if not lengths or length in lengths]
        if fitting:
            alternatives = "|".join(f"(?:{p})" for p in fitting)
            rules[length] = re.compile(f"(?=(?:{general[1].pattern})$)(?:{alternatives})")
    return rules


def _valid_in(region: str, national: str) -> bool:
    rules = _region_rules(region)
    if rules is None:
        return False
    pattern = rules.get(len(national))
    return pattern is not None and pattern.fullmatch(national) is not None


def _fast(text: str, region: str) -> str | None:
    compact = _SEPARATORS.sub("", text.replace("(0)", ""))
    international = _INTERNATIONAL.match(compact)
    if international:
        digits = international.group(1)
        for size in (1, 2, 3):  # country codes are prefix-free
            regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size]))
            if regions:
                national = digits[size:]
                if any(_valid_in(r, national) for r in regions if r != "001"):
                    return f"+{digits[:size]}{national}"
                return None
        return None
    national_match = _NATIONAL.match(compact)
    if national_match and region == "NL" and _valid_in("NL", national_match.group(1)):
        return "+31" + national_match.group(1)
    return None


def _slow(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=200_000)
def normalise_phone(text: str, region: str = "NL") -> str:
    """Return the E.164 form of a phone number; ValueError when it is not a valid number.

    Numbers without a country code are read as Dutch (``region``); ``0031``/``+31``/``(0)`` forms
    are understood.

    >>> normalise_phone("06-12 34 56 78")
    '+31612345678'
    >>> normalise_phone("0031 (0)20 555 0123")
    '+31205550123'
    """
    text = text.strip()
    if not text:
        raise ValueError("phone number is empty")
    return _fast(text, region) or _slow(text, region)
