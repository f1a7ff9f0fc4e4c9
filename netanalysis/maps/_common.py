"""What the three map views share: the size limits, the detection result they read, and helpers."""

from __future__ import annotations

import datetime as _dt
import math
import random
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import networkx as nx
import pandas as pd

from netanalysis.errors import ConfigError
from netanalysis.maps._facts import (
    PersonFacts,
    bare_key,
    short,
)

#: Above this many nodes a view aggregates (groups as nodes) instead of drawing every person.
MAX_NODES = 5000
#: Up to this many nodes the browser settles the layout with physics (bounded iterations);
#: above it the layout is computed in Python and physics stays off.
PHYSICS_MAX_NODES = 300
#: From this many nodes on the page draws straight edges and hides them while dragging or zooming.
LARGE_NODES = 1000


class DetectionLike(Protocol):
    """What the maps read from ``netanalysis.detect.DetectionResult`` (frames as in its contract)."""

    groups: pd.DataFrame
    movements: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    settings: dict[str, Any]
    level: str


# ---------------------------------------------------------------------------------------------
# helpers


def _frame(result: Any, name: str, columns: Sequence[str]) -> pd.DataFrame:
    frame = getattr(result, name, None)
    if frame is None:
        return pd.DataFrame(columns=list(columns))
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"the detection result's {name} is not a table; run the detection again")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the detection result's {name} lacks the columns {', '.join(missing)}; "
            "it was made by another version of netanalysis, run the detection again"
        )
    return frame


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _split(value: Any) -> list[str]:
    return [v for v in _text(value).split("|") if v]


def _region_label(codes: Iterable[str], names: dict[str, str]) -> str:
    return ", ".join(f"{c} {names.get(c, '')}".strip() for c in codes) or "unknown"


def _subtitle(graph: nx.MultiDiGraph, result: Any, level: str, data_label: str | None) -> str:
    sources = sorted(
        {str(a.get("name") or bare_key(n)) for n, a in graph.nodes(data=True) if a.get("label") == "Source"}
    )
    dates = [d for *_, d in graph.edges(data="observed_on") if isinstance(d, str) and d]
    parts = [f"Data: {data_label}" if data_label else "Data: graph store"]
    if sources:
        parts.append("sources " + ", ".join(sources))
    if dates:
        parts.append(f"observations {min(dates)[:10]} to {max(dates)[:10]}")
    parts.append(f"regions: {level.replace('_', ' ')}")
    settings = getattr(result, "settings", None) or {}
    scalars = [f"{k}={v}" for k, v in sorted(settings.items()) if isinstance(v, str | int | float | bool)]
    if scalars:
        parts.append("detection " + ", ".join(scalars)[:200])
    from netanalysis import __version__

    parts.append(f"made {_dt.date.today().isoformat()} with netanalysis {__version__}")
    return " · ".join(parts)


def _options(n: int, positioned: bool, smooth: Any = False) -> dict[str, Any]:
    physics = not positioned and 1 < n <= PHYSICS_MAX_NODES
    opts: dict[str, Any] = {
        "autoResize": True,
        "nodes": {"font": {"size": 11, "strokeWidth": 3, "strokeColor": "#ffffff"}, "borderWidth": 1},
        # Curved edges cost a bezier per edge on every frame; large maps draw straight lines.
        "edges": {"smooth": smooth if n <= LARGE_NODES else False, "selectionWidth": 2},
        "interaction": {
            "hover": True,
            "tooltipDelay": 100,
            "hideEdgesOnDrag": n > LARGE_NODES,
            "hideEdgesOnZoom": n > LARGE_NODES,
        },
        "layout": {"improvedLayout": physics and n <= 100, "randomSeed": 7},
    }
    if physics:
        opts["physics"] = {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -40, "springLength": 90},
            # Bounded so a page never spins: the browser stops after these and switches physics off.
            "stabilization": {"enabled": True, "iterations": 400, "updateInterval": 50, "fit": True},
        }
    else:
        opts["physics"] = {"enabled": False}
    return opts


def layout_positions(
    ids: Sequence[str], pairs: Iterable[tuple[str, str]], seed: int = 7
) -> dict[str, tuple[float, float]]:
    """Force-directed positions per connected part, the parts packed in rows, in canvas pixels.

    Each connected part is laid out on its own (Fruchterman-Reingold, igraph), so small groups
    stay compact instead of drifting apart, and the parts are then packed largest first in rows
    of roughly square overall shape. Lone nodes share a tight grid.

    Parameters
    ----------
    ids : node ids, in a fixed order (the result depends on it).
    pairs : links between ids; pairs with an unknown end are ignored.
    seed : seed of the random start positions.

    Returns
    -------
    dict id -> (x, y) in pixels, centred on 0.

    References
    ----------
    Fruchterman & Reingold (1991), Graph drawing by force-directed placement.
    """
    import igraph as ig
    import numpy as np

    if not ids:
        return {}
    index = {n: i for i, n in enumerate(ids)}
    edges = sorted({(index[a], index[b]) for a, b in pairs if a in index and b in index and a != b})
    g = ig.Graph(n=len(ids), edges=edges)
    parts = sorted(g.connected_components(), key=lambda c: (-len(c), c[0]))
    rng = np.random.default_rng(seed)
    boxes: list[tuple[list[int], Any, float]] = []  # (members, centred pixel coords, half size)
    singles = [c[0] for c in parts if len(c) == 1]
    # igraph draws from one process-wide generator; seed it for this call, then hand it back.
    ig.set_random_number_generator(random.Random(seed))
    try:
        for members in (c for c in parts if len(c) > 1):
            k = len(members)
            sub = g.induced_subgraph(members)
            # Start spread over about sqrt(k) units: igraph's grid variant sorts nodes into unit
            # cells, and a start squeezed into one cell makes every step quadratic (20 s at 5k).
            start = (rng.uniform(-1.0, 1.0, (k, 2)) * max(1.0, math.sqrt(k) / 2)).tolist()
            niter = 500 if k <= 1000 else 150
            coords = np.asarray(sub.layout_fruchterman_reingold(seed=start, niter=niter, grid="auto").coords)
            coords -= coords.mean(axis=0)
            span = float(np.abs(coords).max()) or 1.0
            half = 45.0 * math.sqrt(k)
            boxes.append((list(members), coords * (half / span), half))
    finally:
        ig.set_random_number_generator(random)
    if singles:
        side = math.ceil(math.sqrt(len(singles)))
        cell = 40.0
        grid = np.array([[(i % side) * cell, (i // side) * cell] for i in range(len(singles))], dtype=float)
        grid -= grid.mean(axis=0)
        boxes.append((singles, grid, max(cell / 2, float(np.abs(grid).max()))))
    gap = 60.0
    width = math.sqrt(sum((2 * h + gap) ** 2 for *_, h in boxes)) * 1.2
    out: dict[int, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for members, coords, half in boxes:
        size = 2 * half + gap
        if x > 0 and x + size > width:
            x, y, row_height = 0.0, y + row_height, 0.0
        cx, cy = x + size / 2, y + size / 2
        for i, (px, py) in zip(members, coords.tolist(), strict=True):
            out[i] = (cx + px, cy + py)
        x += size
        row_height = max(row_height, size)
    xs = [p[0] for p in out.values()]
    ys = [p[1] for p in out.values()]
    mx, my = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return {n: (round(out[i][0] - mx, 1), round(out[i][1] - my, 1)) for n, i in index.items()}


def _place(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], seed: int) -> bool:
    """Give nodes fixed positions when the browser should not run physics; True when placed."""
    if len(nodes) <= PHYSICS_MAX_NODES:
        return False
    pos = layout_positions([n["id"] for n in nodes], ((e["from"], e["to"]) for e in edges), seed=seed)
    for n in nodes:
        n["x"], n["y"] = pos[n["id"]]
    return True


def _size(value: float, vmax: float, lo: float = 8.0, hi: float = 34.0) -> float:
    if vmax <= 0 or value <= 0:
        return lo
    return round(lo + (hi - lo) * math.sqrt(value / vmax), 2)


def _person_tip(
    facts: PersonFacts, level: str, names: dict[str, str], extra: Sequence[Sequence[str]] = ()
) -> list[list[str]]:
    counts = (
        f"{facts.cases} cases, {facts.signals} signals, {facts.places} sightings, "
        f"{facts.identifiers} identifiers, {facts.records} source rows"
    )
    rows = [
        ["Pseudonym", short(facts.key)],
        ["Roles", ", ".join(sorted(facts.roles)) or "unknown"],
        *[[str(k), str(v)] for k, v in extra],
        ["Regions", _region_label(facts.regions(level), names)],
        ["First seen", facts.first_seen or "unknown"],
        ["Last seen", facts.last_seen or "unknown"],
        ["Counts", counts],
    ]
    if facts.types:
        rows.append(["Exploitation", ", ".join(sorted(facts.types))])
    return rows


def _filter_choices(nodes: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[list[str]]]:
    regions: set[str] = set()
    groups: set[str] = set()
    types: set[str] = set()
    for n in nodes:
        f = n.get("f", {})
        regions.update(f.get("regions", []))
        groups.update(f.get("groups", []))
        types.update(f.get("types", []))
    return {
        "regions": [[r, f"{r} {names.get(r, '')}".strip()] for r in sorted(regions)],
        "groups": [[g, g] for g in sorted(groups)],
        "types": [[t, t] for t in sorted(types)],
    }


def _group_members(result: Any, group_ids: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    groups = _frame(result, "groups", ("group_id", "person_id", "role"))
    known = sorted(groups["group_id"].astype(str).unique())
    if group_ids:
        unknown = [g for g in group_ids if g not in set(known)]
        if unknown:
            hint = f"known groups: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
            raise ConfigError(
                f"group {', '.join(unknown)} is not in the detection result ({hint or 'none found'})"
            )
        chosen = list(dict.fromkeys(group_ids))
    else:
        chosen = known
    sel = groups[groups["group_id"].astype(str).isin(chosen)]
    return sel, chosen


def _summary_by_group(result: Any) -> dict[str, dict[str, Any]]:
    summary = _frame(result, "group_summary", ("group_id",))
    return {str(r["group_id"]): r for r in summary.to_dict("records")}
