"""Figures of the report, drawn with matplotlib from already-published (suppressed) tables.

Each function takes a published table (strings: numbers, ``"<5"`` or ``"x"``) so a figure can never
show more than its table does. Suppressed cells are drawn empty and labelled with their table's mark.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["Figure", "bar_figure", "flow_figure", "trend_figure"]

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "netanalysis"})


class Figure:
    """A rendered figure: SVG text and PNG bytes."""

    def __init__(self, name: str, title: str, fig: plt.Figure) -> None:
        self.name = name
        self.title = title
        png, svg = io.BytesIO(), io.StringIO()
        fig.savefig(png, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        self.png = png.getvalue()
        self.svg = svg.getvalue()


def _numeric(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, hidden, marks): the numbers, which cells are suppressed, and each cell's text."""
    values = table.apply(pd.to_numeric, errors="coerce")
    return values.to_numpy(dtype=float), values.isna().to_numpy(), table.astype(str).to_numpy()


def flow_figure(name: str, title: str, table: pd.DataFrame) -> Figure:
    """Heat map of a from x to matrix (without its totals)."""
    body = table.drop(index="Total", columns="Total", errors="ignore")
    values, hidden, marks = _numeric(body)
    size = max(4.0, 0.55 * len(body.columns) + 2)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    shown = np.where(hidden, 0, values)
    ax.imshow(shown, cmap="Blues")
    dark = np.nanmax(shown) * 0.6 if shown.size and np.nanmax(shown) > 0 else np.inf
    ax.set_xticks(range(len(body.columns)), body.columns, rotation=60, ha="right")
    ax.set_yticks(range(len(body.index)), body.index)
    for (i, j), v in np.ndenumerate(values):
        text = str(marks[i, j]) if hidden[i, j] else (f"{int(v)}" if v else "")
        colour = "white" if not hidden[i, j] and v > dark else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xlabel(str(body.columns.name or "to"))
    ax.set_ylabel(str(body.index.name or "from"))
    ax.set_title(title)
    return Figure(name, title, fig)


def trend_figure(name: str, title: str, table: pd.DataFrame) -> Figure:
    """Lines per column over the index (quarters); suppressed points are left out and marked."""
    values, hidden, marks = _numeric(table)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(table.index))
    for j, column in enumerate(table.columns):
        y = np.where(hidden[:, j], np.nan, values[:, j])
        ax.plot(x, y, marker="o", label=str(column))
        for i in np.flatnonzero(hidden[:, j]):
            ax.annotate(marks[i, j], (x[i], 0), fontsize=7, ha="center")
    ax.set_xticks(x, [str(i) for i in table.index], rotation=45, ha="right")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=3)
    ax.set_title(title)
    return Figure(name, title, fig)


def bar_figure(name: str, title: str, table: pd.DataFrame, stacked: bool = False) -> Figure:
    """Grouped bars per index value; suppressed bars are left out and marked."""
    body = table.drop(index="Total", columns="Total", errors="ignore")
    values, hidden, marks = _numeric(body)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    n = max(len(body.columns), 1)
    width = 0.8 / (1 if stacked else n)
    x = np.arange(len(body.index))
    bottom = np.zeros(len(body.index))
    for j, column in enumerate(body.columns):
        y = np.where(hidden[:, j], 0, values[:, j])
        offset = 0 if stacked else (j - (n - 1) / 2) * width
        ax.bar(x + offset, y, width, bottom=bottom if stacked else None, label=str(column))
        for i in np.flatnonzero(hidden[:, j]):
            ax.annotate(marks[i, j], (x[i] + offset, bottom[i] if stacked else 0), fontsize=7, ha="center")
        if stacked:
            bottom = bottom + y
    ax.set_xticks(x, [str(i) for i in body.index], rotation=30, ha="right")
    if n > 1:
        ax.legend(fontsize=7)
    ax.set_title(title)
    return Figure(name, title, fig)
