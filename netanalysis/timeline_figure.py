"""The figure of a group's timeline (:func:`netanalysis.timeline.group_timeline`), PNG and SVG."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from netanalysis.errors import ConfigError
from netanalysis.report.figures import Figure

__all__ = ["timeline_figure"]

_MARKERS = {"observation": "o", "move": ">", "case": "s", "signal": "^"}


def timeline_figure(table: pd.DataFrame, title: str = "Group timeline") -> Figure:
    """Draw a timeline table: one row per person, events as marks on a time axis.

    Parameters
    ----------
    table : the table of :func:`netanalysis.timeline.group_timeline`.
    title : the figure's title.

    The mark's shape gives the kind of event (observation, move, case, signal), its colour the
    region (legend). Persons are labelled with their pseudonym shortened to 8 characters and
    their role: no clear identifier is drawn.

    Returns
    -------
    Figure
        ``png`` bytes and ``svg`` text (``netanalysis.report.figures.Figure``).

    Raises
    ------
    ConfigError
        The table has no dated events.

    Examples
    --------
    >>> t = pd.DataFrame({"date": ["2024-05-01"], "kind": ["observation"], "person": ["a1b2c3d4e5"],
    ...                   "role": ["victim"], "region": ["RE06"]})
    >>> timeline_figure(t).png[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    dates = pd.to_datetime(table["date"], errors="coerce") if "date" in table.columns else pd.Series()
    if dates.notna().sum() == 0:
        raise ConfigError("the timeline has no dated events to draw")
    data = table.assign(when=dates)[dates.notna()]
    people = sorted({(str(r), str(p)) for p, r in zip(data["person"], data["role"], strict=True)})
    rows = {person: i for i, (_, person) in enumerate(people)}
    regions = sorted({str(r) for r in data["region"]})
    cmap = plt.get_cmap("tab10" if len(regions) <= 10 else "tab20")
    colours = {region: ("#999999" if not region else cmap(i % cmap.N)) for i, region in enumerate(regions)}
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * len(people)))
    for (kind, region), part in data.groupby(["kind", "region"], sort=True):
        ax.scatter(
            part["when"],
            [rows[str(p)] for p in part["person"]],
            marker=_MARKERS.get(str(kind), "x"),
            color=colours[str(region)],
            s=28,
            alpha=0.8,
            edgecolors="none",
        )
    ax.set_yticks(range(len(people)), [f"{p[:8]} ({r})" if r else p[:8] for r, p in people], fontsize=7)
    ax.set_ylim(-0.7, len(people) - 0.3)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))  # type: ignore[no-untyped-call]
    fig.autofmt_xdate()
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    kinds = [k for k in _MARKERS if k in set(data["kind"])]
    handles = [Line2D([], [], marker=_MARKERS[k], linestyle="", color="#444444", label=k) for k in kinds] + [
        Line2D([], [], marker="o", linestyle="", color=colours[r], label=r or "region unknown")
        for r in regions
    ]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title)
    return Figure("timeline", title, fig)
