"""Statistical disclosure control for published tables.

Every count of at least 1 and below the threshold is shown as ``<threshold`` (primary
suppression). Where a table has totals, a single suppressed cell in a row or column could be
recovered by subtraction, so the smallest other non-zero cell of that row or column is
suppressed as well, until no row or column has exactly one suppressed cell (secondary
suppression, the classic "no lone suppressed cell per marginal" rule; Hundepool et al.,
*Statistical Disclosure Control*, Wiley 2012, ch. 4). Zeros are shown: they are structural.

A secondarily suppressed cell is shown as :data:`SECONDARY_MARK` (``x``), not as ``<threshold``:
its count can be large, and ``<5`` would state a false value.

Published cells are strings; cells that a spreadsheet would read as a formula are defused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loaders.csv_safety import guard_cell

__all__ = ["SECONDARY_MARK", "defuse_formula", "suppress_matrix", "suppress_series", "suppressed_label"]

#: The text shown for a cell hidden only so that a total cannot reveal a small count.
SECONDARY_MARK = "x"


def suppressed_label(threshold: int) -> str:
    """The text shown instead of a small count, e.g. ``"<5"``."""
    return f"<{threshold}"


def _secondary(values: np.ndarray, mask: np.ndarray, groups: Sequence[np.ndarray]) -> np.ndarray:
    """Extend ``mask`` until no group (a row or column of cells) has exactly one suppressed cell."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for idx in groups:
            sub = mask[idx]
            if sub.sum() != 1:
                continue
            candidates = [i for i in idx if not mask[i] and values[i] > 0]
            if not candidates:
                continue
            pick = min(candidates, key=lambda i: (values[i], i))
            mask[pick] = True
            changed = True
    return mask


def suppress_matrix(
    table: pd.DataFrame, threshold: int, totals: bool = True, secondary: str = "both"
) -> pd.DataFrame:
    """Publishable version of a two-way count table.

    Parameters
    ----------
    table : DataFrame of non-negative integer counts (rows x columns, no margins).
    threshold : counts ``1 <= n < threshold`` are suppressed.
    totals : add a ``Total`` row and column; secondary suppression then protects them.
    secondary : which lines add up to a published total elsewhere and so need secondary
        suppression: ``"both"``, ``"rows"``, ``"columns"`` or ``"none"``.

    Returns
    -------
    DataFrame of strings: numbers, ``"<threshold"`` for small counts, or ``"x"``
    (:data:`SECONDARY_MARK`) for cells hidden to protect a small count elsewhere.

    Examples
    --------
    >>> suppress_matrix(pd.DataFrame({"n": [2, 40, 60]}, index=["a", "b", "c"]), 5)["n"].tolist()
    ['<5', 'x', '60', '102']
    """
    counts = table.fillna(0).astype(int)
    if totals:
        counts = counts.copy()
        counts["Total"] = counts.sum(axis=1)
        counts.loc["Total"] = counts.sum(axis=0)
    values = counts.to_numpy().ravel()
    n_rows, n_cols = counts.shape
    primary = (values > 0) & (values < threshold)
    mask = primary
    if secondary not in {"both", "rows", "columns", "none"}:
        raise ValueError(f"secondary must be both, rows, columns or none, not {secondary!r}")
    groups: list[np.ndarray] = []
    if secondary in {"both", "rows"}:
        groups += [np.arange(r * n_cols, (r + 1) * n_cols) for r in range(n_rows)]
    if secondary in {"both", "columns"}:
        groups += [np.arange(c, n_rows * n_cols, n_cols) for c in range(n_cols)]
    mask = _secondary(values, mask, groups)
    label = suppressed_label(threshold)
    cells = [
        (label if p else SECONDARY_MARK) if m else str(int(v))
        for v, p, m in zip(values, primary, mask, strict=True)
    ]
    out = pd.DataFrame(np.array(cells, dtype=object).reshape(n_rows, n_cols))
    out.index = counts.index.map(str)
    out.columns = counts.columns.map(str)
    return out


def suppress_series(counts: pd.Series, threshold: int, total: bool = True) -> pd.Series:
    """Publishable version of a one-way count table (with an optional ``Total``)."""
    frame = counts.to_frame("n")
    published = suppress_matrix(frame, threshold, totals=total)
    if total:
        return published["Total"].rename(counts.name)
    return published["n"].rename(counts.name)


def defuse_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula (``= + - @``, tab, CR) with ``'``.

    The toolkit's one guard, :func:`loaders.csv_safety.guard_cell`.
    """
    return guard_cell(value)
