"""Figures of the report, drawn with matplotlib from already-published (suppressed) tables.

Each function takes a published table (strings: numbers, ``"<5"`` or ``"x"``) so a figure can never
show more than its table does. Suppressed cells are drawn empty and labelled with their table's mark.
"""

from __future__ import annotations

import io
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.transforms import Bbox

__all__ = ["Figure", "bar_figure", "flow_figure", "mostly_hidden", "trend_figure"]


@cache
def _pyplot() -> ModuleType:
    """matplotlib's pyplot, set up for files (Agg, SVG text as text).

    Imported on first use, not with the package: it costs about half a second, which every
    command and notebook would otherwise pay even when it draws nothing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "netanalysis"})
    return plt


class Figure:
    """A rendered figure: PNG bytes, and SVG text drawn when first asked for.

    The page embeds the PNG; the SVG is only needed when the report's files are written, and
    drawing it costs as much as the PNG, so a report that is only looked at never pays for it.
    Both are cut to one tight bounding box, laid out once: ``bbox_inches="tight"`` would lay the
    figure out again for each format before drawing it (a third of the figures' time).
    """

    def __init__(self, name: str, title: str, fig: MplFigure) -> None:
        self.name = name
        self.title = title
        self._bbox = _tight_bbox(fig, _PNG_DPI)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=_PNG_DPI, bbox_inches=self._bbox, metadata={"Software": None})
        _pyplot().close(fig)  # out of pyplot's registry; the figure itself can still be saved
        self.png = png.getvalue()
        self._fig: MplFigure | None = fig
        self._svg = ""

    @property
    def svg(self) -> str:
        if self._fig is not None:
            svg = io.StringIO()
            self._fig.savefig(svg, format="svg", bbox_inches=self._bbox, metadata={"Date": None})
            self._svg, self._fig = svg.getvalue(), None
        return self._svg


#: Resolution of the PNG figures (the page and the PDF embed them).
_PNG_DPI = 130


def _tight_bbox(fig: MplFigure, dpi: float) -> Bbox:
    """The bounding box, in inches, that ``savefig(..., dpi=dpi, bbox_inches="tight")`` cuts the
    figure to: its artists laid out once at ``dpi`` without rendering, padded by
    ``savefig.pad_inches``. Given to ``savefig`` for the PNG (the same pixels) and the SVG (the same
    box, measured with the PNG's text metrics, which differ from the SVG's by a fraction of a point).
    """
    plt = _pyplot()
    original = fig.dpi
    fig.dpi = dpi
    try:
        fig.draw_without_rendering()
        box = fig.get_tightbbox()
    finally:
        fig.dpi = original
    pad = float(plt.rcParams["savefig.pad_inches"])
    return box.padded(pad, pad)


def _numeric(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, hidden, marks): the numbers, which cells are suppressed, and each cell's text."""
    values = table.apply(pd.to_numeric, errors="coerce")
    return values.to_numpy(dtype=float), values.isna().to_numpy(), table.astype(str).to_numpy()


def mostly_hidden(table: pd.DataFrame, share: float = 0.5) -> bool:
    """True when a figure of the table would show next to nothing.

    That is when fewer than two cells (totals left out) show a non-zero count, or when more than
    ``share`` of the non-zero cells are hidden. The report then prints a one-line note instead.
    (A heat map still shows its pattern with more hidden cells: the report passes 0.75 for it.)

    Examples
    --------
    >>> mostly_hidden(pd.DataFrame({"n": ["<5", "<5", "x", "12"]}))
    True
    >>> mostly_hidden(pd.DataFrame({"n": ["<5", "40", "12", "0"]}))
    False
    """
    body = table.drop(index="Total", columns="Total", errors="ignore")
    values, hidden, _marks = _numeric(body)
    shown = int(((~hidden) & (np.nan_to_num(values) > 0)).sum())
    return shown < 2 or int(hidden.sum()) > share * (shown + int(hidden.sum()))


def _label_axes(ax: Axes, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)


def flow_figure(
    name: str,
    title: str,
    table: pd.DataFrame,
    xlabel: str = "to",
    ylabel: str = "from",
    unit: str = "moves",
) -> Figure:
    """Heat map of a from x to matrix (without its totals), sized to fit an A4 page.

    Counts are written in their cells; suppressed cells are hatched grey and carry their mark;
    the colour scale has a legend (``unit``). 10 police units and 25 safety regions both fit.
    """
    body = table.drop(index="Total", columns="Total", errors="ignore")
    values, hidden, marks = _numeric(body)
    n = max(len(body.columns), 1)
    small = n > 12
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 7.4) if small else (6.4, 5.6))
    shown = np.where(hidden, np.nan, values)
    top = np.nanmax(shown) if np.isfinite(shown).any() and np.nanmax(shown) > 0 else 1.0
    import matplotlib.patches  # loaded with pyplot; named for the Rectangle below

    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, vmin=0, vmax=top, aspect="auto")
    for (i, j), flag in np.ndenumerate(hidden):
        if flag:
            ax.add_patch(
                matplotlib.patches.Rectangle(
                    (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="////", edgecolor="#999999", lw=0
                )
            )
    fontsize = 5 if small else 7
    ax.set_xticks(range(n), [str(c) for c in body.columns], rotation=60, ha="right", fontsize=fontsize + 1)
    ax.set_yticks(range(len(body.index)), [str(i) for i in body.index], fontsize=fontsize + 1)
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(body.index), 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    for (i, j), v in np.ndenumerate(values):
        if hidden[i, j]:
            text, colour = str(marks[i, j]), "black"
        else:
            text = f"{int(v)}" if v else ""
            colour = "white" if v > 0.6 * top else "black"
        if text:
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=colour)
    bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
    bar.set_label(unit)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return Figure(name, title, fig)


def trend_figure(name: str, title: str, table: pd.DataFrame, xlabel: str = "", ylabel: str = "") -> Figure:
    """Lines per column over the index (quarters, years); suppressed points are left out and marked."""
    body = table.drop(columns="Total", errors="ignore")
    values, hidden, marks = _numeric(body)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = np.arange(len(body.index))
    for j, column in enumerate(body.columns):
        y = np.where(hidden[:, j], np.nan, values[:, j])
        (line,) = ax.plot(x, y, marker="o", label=str(column))
        for i in np.flatnonzero(hidden[:, j]):
            ax.annotate(marks[i, j], (x[i], 0), fontsize=7, ha="center", color=line.get_color())
    ax.set_xticks(
        x,
        [str(i) for i in body.index],
        rotation=45 if len(x) > 6 else 0,
        ha="right" if len(x) > 6 else "center",
    )
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=3, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _label_axes(ax, xlabel, ylabel)
    ax.set_title(title)
    return Figure(name, title, fig)


def bar_figure(
    name: str,
    title: str,
    table: pd.DataFrame,
    stacked: bool = False,
    xlabel: str = "",
    ylabel: str = "",
) -> Figure:
    """Grouped bars per index value; suppressed bars are left out and marked."""
    body = table.drop(index="Total", columns="Total", errors="ignore")
    values, hidden, marks = _numeric(body)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
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
    ax.set_xticks(
        x,
        [str(i) for i in body.index],
        rotation=30 if len(x) > 5 else 0,
        ha="right" if len(x) > 5 else "center",
    )
    if n > 1:
        ax.legend(fontsize=7, frameon=False)
    _label_axes(ax, xlabel, ylabel)
    ax.set_title(title)
    return Figure(name, title, fig)
