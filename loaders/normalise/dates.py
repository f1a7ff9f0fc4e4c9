"""Dates: the formats a source writes (its mapping's ``date_formats``) -> ISO ``YYYY-MM-DD``.

Rules:
- the mapping's formats are tried in order, then ISO (``2023-12-31``, also with a time, as Excel
  cells are read), so a date that Excel stored as a date always parses;
- a two-digit year (``%y``) is put in the century that makes the date not later than today
  (``31/12/23`` -> 2023, ``01/02/45`` -> 1945), instead of Python's fixed 1969 pivot;
- a date that has the shape of a format but cannot exist (``31-02-2023``) is refused as an
  impossible date; a date after today is refused; a date before the field's earliest plausible
  date is refused (by default 1900-01-01 for a birth date and 1970-01-01 for an observation; the
  mapping's ``earliest_dates`` changes them), so ``01-01-0001`` or ``01-01-1800`` never reach the
  graph as a time of observation.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

__all__ = ["DateError", "parse_date"]

_ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
_TOKEN = re.compile(r"%[dmyYbBHMS]")
_TOKEN_RE = {
    "%d": r"\d{1,2}",
    "%m": r"\d{1,2}",
    "%y": r"\d{2}",
    "%Y": r"\d{4}",
    "%H": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%b": r"[^\W\d_]+\.?",
    "%B": r"[^\W\d_]+",
}


class DateError(ValueError):
    """A date that cannot be read, cannot exist, or lies in the future."""


@lru_cache(maxsize=256)
def _shape(fmt: str) -> re.Pattern[str]:
    """A regex with the shape of a strptime format, to tell 'impossible' from 'not this format'."""
    out, pos = [], 0
    for match in _TOKEN.finditer(fmt):
        out.append(re.escape(fmt[pos : match.start()]))
        out.append(_TOKEN_RE[match.group()])
        pos = match.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out) + r"$", re.IGNORECASE)


_NUMERIC_TOKEN = {
    "%d": r"(?P<d>\d{1,2})",
    "%m": r"(?P<m>\d{1,2})",
    "%Y": r"(?P<Y>\d{4})",
    "%y": r"(?P<y>\d{2})",
}


@lru_cache(maxsize=256)
def _numeric(fmt: str) -> re.Pattern[str] | None:
    """A regex with named groups for a format made of %d %m %Y/%y and separators, else None."""
    tokens = sorted(_TOKEN.findall(fmt))
    if tokens not in (["%Y", "%d", "%m"], ["%d", "%m", "%y"]):
        return None
    out, pos = [], 0
    for match in _TOKEN.finditer(fmt):
        out.append(re.escape(fmt[pos : match.start()]))
        out.append(_NUMERIC_TOKEN[match.group()])
        pos = match.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out) + "$")


def _strptime(text: str, fmt: str) -> dt.date:
    """``datetime.strptime(text, fmt).date()``, without strptime for plain numeric formats."""
    numeric = _numeric(fmt)
    if numeric is None:
        return dt.datetime.strptime(text, fmt).date()
    match = numeric.match(text)
    if match is None:
        raise ValueError(f"time data {text!r} does not match format {fmt!r}")
    parts = match.groupdict()
    year = int(parts["Y"]) if parts.get("Y") else 1900 + int(parts["y"])
    if parts.get("y") is not None and int(parts["y"]) < 69:
        year += 100  # strptime's pivot; adjusted to "not in the future" by the caller
    return dt.date(year, int(parts["m"]), int(parts["d"]))


@lru_cache(maxsize=200_000)
def _parse(text: str, formats: tuple[str, ...], today: dt.date) -> dt.date:
    impossible: str | None = None
    for fmt in formats + _ISO:
        try:
            parsed = _strptime(text, fmt)
        except ValueError as exc:
            if impossible is None and _shape(fmt).match(text):
                impossible = str(exc)
            continue
        if "%y" in fmt and parsed > today:
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed
    if impossible is not None:
        return_reason = impossible.replace("unconverted data remains", "extra characters")
        raise DateError(f"impossible date {text!r} ({return_reason})")
    raise DateError(f"date {text!r} matches none of the formats {', '.join(formats)}")


def parse_date(
    text: str,
    formats: tuple[str, ...],
    *,
    birth: bool = False,
    today: dt.date | None = None,
    earliest: dt.date | None = None,
) -> str:
    """Return ``text`` as an ISO date string, or raise :class:`DateError` saying why not.

    Parameters
    ----------
    text : the date as written.
    formats : strptime formats to try in order (ISO is always tried last).
    birth : a date of birth (refused before 1900 unless ``earliest`` says otherwise).
    today : the reference day for "in the future" (default: the current date).
    earliest : the earliest plausible date; an earlier one is refused (default: 1900-01-01 for a
        birth date, none otherwise).

    >>> parse_date("31-12-2023", ("%d-%m-%Y",))
    '2023-12-31'
    >>> parse_date("01/02/45", ("%d/%m/%y",), today=dt.date(2025, 1, 1))
    '1945-02-01'
    >>> parse_date("01-01-1800", ("%d-%m-%Y",), earliest=dt.date(1970, 1, 1))
    Traceback (most recent call last):
    ...
    loaders.normalise.dates.DateError: date '01-01-1800' is before 1970-01-01, the earliest plausible date
    """
    text = text.strip()
    if not text:
        raise DateError("date is empty")
    today = today or dt.date.today()
    parsed = _parse(text, formats, today)
    if parsed > today:
        raise DateError(f"date {text!r} lies in the future")
    if birth and parsed < _EARLIEST_BIRTH and (earliest is None or earliest >= _EARLIEST_BIRTH):
        raise DateError(f"birth date {text!r} is before 1900")
    if earliest is not None and parsed < earliest:
        raise DateError(f"date {text!r} is before {earliest.isoformat()}, the earliest plausible date")
    return parsed.isoformat()
