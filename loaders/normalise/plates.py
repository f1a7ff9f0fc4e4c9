"""Dutch licence plates in any notation -> the dashed form of their sidecode (``XX-999-X``).

A plate has 6 letters and digits; the grouping (where the dashes go) follows from where letters
and digits change, except for sidecodes 1-6 (two-two-two) which always split in pairs when the
runs do not tell otherwise. Sidecodes (RDW): 1 XX-99-99, 2 99-99-XX, 3 99-XX-99, 4 XX-99-XX,
5 XX-XX-99, 6 99-XX-XX, 7 99-XXX-9, 8 9-XXX-99, 9 XX-999-X, 10 X-999-XX, 11 XXX-99-X,
12 X-99-XXX, 13 9-XX-999, 14 999-XX-9.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["SIDECODES", "normalise_plate"]

# letter/digit pattern of the 6 characters -> group sizes
SIDECODES: dict[str, tuple[int, ...]] = {
    "LLDDDD": (2, 2, 2),  # 1
    "DDDDLL": (2, 2, 2),  # 2
    "DDLLDD": (2, 2, 2),  # 3
    "LLDDLL": (2, 2, 2),  # 4
    "LLLLDD": (2, 2, 2),  # 5
    "DDLLLL": (2, 2, 2),  # 6
    "DDLLLD": (2, 3, 1),  # 7
    "DLLLDD": (1, 3, 2),  # 8
    "LLDDDL": (2, 3, 1),  # 9
    "LDDDLL": (1, 3, 2),  # 10
    "LLLDDL": (3, 2, 1),  # 11
    "LDDLLL": (1, 2, 3),  # 12
    "DLLDDD": (1, 2, 3),  # 13
    "DDDLLD": (3, 2, 1),  # 14
}
_NOT_PLATE = re.compile(r"[^0-9A-Z]")


@lru_cache(maxsize=200_000)
def normalise_plate(text: str) -> str:
    """Return a Dutch plate in its dashed upper-case form; ValueError when it is not one.

    >>> normalise_plate("ab123c"), normalise_plate("12 abc 3"), normalise_plate("XX-99-99")
    ('AB-123-C', '12-ABC-3', 'XX-99-99')
    """
    compact = _NOT_PLATE.sub("", text.upper())
    if len(compact) != 6:
        raise ValueError(f"{text.strip()!r} is not a Dutch licence plate (needs 6 letters and digits)")
    pattern = "".join("D" if ch.isdigit() else "L" for ch in compact)
    groups = SIDECODES.get(pattern)
    if groups is None:
        raise ValueError(f"{text.strip()!r} is not a Dutch licence plate (no sidecode fits)")
    parts, pos = [], 0
    for size in groups:
        parts.append(compact[pos : pos + size])
        pos += size
    return "-".join(parts)
