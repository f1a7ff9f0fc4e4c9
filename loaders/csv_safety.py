"""The one guard against spreadsheet formula injection, for every CSV the toolkit writes for people.

A cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is run as a formula
when the CSV is opened in Excel or LibreOffice (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``).
Source names, row ids and signal ids come from the exports, so such cells can reach the rejects
file, the detection CSVs and the report tables. Every writer of those files passes its cells
through :func:`guard_cell` (or a whole table through :func:`guard_frame`), which prefixes
``'`` (OWASP's CSV injection guidance); a reader of a guarded file that needs the value back uses
:func:`unguard_cell`.

This module lives in ``loaders`` because ``loaders`` may not import ``netanalysis`` while
``netanalysis`` may import ``loaders``; it imports neither.

Files made for other programs, not for people (the import CSVs of ``neo4j-admin``, encoded
exports, the synthetic sources and truth), are data and are written as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_START", "guard_cell", "guard_frame", "unguard_cell", "unguard_frame", "write_frames"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_T = TypeVar("_T")


def guard_cell(value: _T) -> _T:
    """Prefix ``'`` to text a spreadsheet would run as a formula; anything else is unchanged.

    >>> guard_cell("=HYPERLINK(1)"), guard_cell("Jansen"), guard_cell(-2)
    ("'=HYPERLINK(1)", 'Jansen', -2)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # type: ignore[return-value]
    return value


def unguard_cell(value: str) -> str:
    """The text :func:`guard_cell` was given, from the text it returned.

    >>> unguard_cell("'=HYPERLINK(1)"), unguard_cell("'t Hart")
    ('=HYPERLINK(1)', "'t Hart")
    """
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def unguard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (text read back from a guarded CSV) with :func:`unguard_cell` applied to every
    cell, changed in place and returned.

    Column-wise with pandas' string methods, not a Python call per cell: a detection of 1M
    persons has millions of cells and almost none is guarded (benchmarks/RESULTS.md).

    >>> import pandas as pd
    >>> unguard_frame(pd.DataFrame({"a": ["'=1", "'t Hart", "x", ""]}))["a"].tolist()
    ['=1', "'t Hart", 'x', '']
    """
    from pandas.api.types import is_string_dtype

    for column in frame.columns:
        values = frame[column]
        if not is_string_dtype(values):
            # Numbers and mixed cells: only text can have been guarded.
            frame[column] = values.map(lambda v: unguard_cell(v) if isinstance(v, str) else v)
            continue
        quoted = values.str.startswith("'")
        if not quoted.any():
            continue
        rest = values[quoted].str.slice(1)
        guarded = rest[rest.str.startswith(FORMULA_START)]
        if len(guarded):
            frame.loc[guarded.index, column] = guarded
    return frame


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell, index label and column name guarded."""
    guarded = frame.map(guard_cell)
    guarded.index = frame.index.map(guard_cell)
    guarded.columns = frame.columns.map(guard_cell)
    return guarded


def write_frames(frames: Mapping[str, pd.DataFrame], out: Path) -> list[Path]:
    """Write each frame, guarded, as ``out/<name>.csv`` (created if absent); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        guard_frame(frame).to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths
