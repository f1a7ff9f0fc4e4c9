"""A group's timeline: what its members and victims did, by date (issue 18 item 3).

:func:`group_timeline` is a pure function over the analysis graph and a detection: one row per
event (an observation, a victim's move, a case, a signal) with its date, region and the source row
behind it, so the analyst can open the original. Only pseudonyms: the graph holds no clear
identifier. The figure is drawn by :func:`netanalysis.report.timeline.timeline_figure`.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import pandas as pd

from netanalysis.audit import audited
from netanalysis.errors import ConfigError
from netanalysis.movement import bare_key, municipality_regions, person_moves

__all__ = ["TIMELINE_COLUMNS", "TIMELINE_KINDS", "group_timeline"]

TIMELINE_COLUMNS = (
    "date",
    "kind",
    "person",
    "role",
    "region",
    "municipality",
    "item",
    "source",
    "row_id",
)
#: The kinds of event, in the order they are drawn.
TIMELINE_KINDS = ("observation", "move", "case", "signal")


def _members(detection: Any, group_id: str) -> dict[str, str]:
    """Person node id -> role (suspect or victim) of the group's members."""
    frame = getattr(detection, "groups", detection)
    if frame is None or not {"group_id", "person_id"} <= set(getattr(frame, "columns", ())):
        raise ConfigError("the detection has no group_id and person_id columns; give its groups.csv")
    rows = frame[frame["group_id"].astype(str) == str(group_id)]
    if rows.empty:
        known = frame["group_id"].nunique()
        raise ConfigError(
            f"group {group_id} is not in the detection ({known} groups); "
            "check the group ids in its groups.csv"
        )
    roles = rows["role"] if "role" in rows.columns else [""] * len(rows)
    return {f"Person:{p}": str(r) for p, r in zip(rows["person_id"], roles, strict=True)}


def _place(graph: nx.MultiDiGraph, node: str) -> str:
    """The municipality code of a premises, case or signal, or ``""``: a premises' own
    ``municipality`` or its ``IN`` link, a case's or signal's ``AT`` link (to a municipality or a
    premises)."""
    own = graph.nodes[node].get("municipality") if node.startswith("Premises:") else None
    if own:
        return str(own)
    for _, target, data in graph.out_edges(node, data=True):
        if data.get("type") not in ("AT", "IN"):
            continue
        if target.startswith("Municipality:"):
            return str(graph.nodes[target].get("code") or bare_key(target))
        if target.startswith("Premises:"):
            found = _place(graph, target)
            if found:
                return found
    return ""


def _moves(graph: nx.MultiDiGraph, detection: Any, group_id: str, victims: list[str]) -> pd.DataFrame:
    """The group's victim moves: the detection's, or computed by netanalysis.movement."""
    movements = getattr(detection, "movements", None)
    columns = ["person_id", "from_code", "to_code", "date"]
    if movements is not None and set(columns) <= set(movements.columns):
        frame = movements[movements["group_id"].astype(str) == str(group_id)]
        return frame[columns].astype(str)
    rows = [
        (bare_key(m.person), m.from_code, m.to_code, m.date)
        for moves in person_moves(graph, victims).values()
        for m in moves
    ]
    return pd.DataFrame(rows, columns=columns)


@audited("timeline", store="graph", only_from_store=True)
def group_timeline(
    graph: nx.MultiDiGraph, detection: Any, group_id: str, level: str | None = None
) -> pd.DataFrame:
    """What a group's members and victims did, by date: one row per event.

    Parameters
    ----------
    graph : the analysis graph (``read_analysis_graph``).
    detection : a detection result (``na.detect``), or an object with its ``groups`` frame
        (``groups.csv``) and optionally its ``movements`` frame; without movements the victims'
        moves are computed with :func:`netanalysis.movement.person_moves`.
    group_id : the group, e.g. ``"G001"``.
    level : region level (``police_unit``, ``province`` ...); default the detection's, else
        ``police_unit``.

    Returns
    -------
    pandas.DataFrame
        Columns ``TIMELINE_COLUMNS``, sorted by date (then kind, person):

        - ``observation``: a member or victim seen at a municipality or premises (``SEEN_AT``);
        - ``move``: a victim's move (as in ``movements.csv``); ``municipality`` is where to,
          ``item`` ``"<from>-><to>"``, ``source`` and ``row_id`` those of the observation at the
          new place that day when the graph has it;
        - ``case``: a member is suspect or victim in a case (the case's place when known);
        - ``signal``: a signal concerns a member.

        ``person`` is the pseudonym, ``role`` its role in the group, ``region`` the region code
        at ``level`` (``""`` when the place is unknown). Events without a date are left out.

    Raises
    ------
    ConfigError
        The detection has no groups, or the group is not in it (one sentence).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Municipality:GM0363", label="Municipality", code="GM0363")
    >>> g.add_node("Person:v1", label="Person")
    >>> _ = g.add_edge("Person:v1", "Municipality:GM0363", type="SEEN_AT", observed_on="2024-05-01",
    ...                source="s", row_id="7")
    >>> groups = pd.DataFrame({"group_id": ["G1"], "person_id": ["v1"], "role": ["victim"]})
    >>> group_timeline(g, groups, "G1")[["date", "kind", "person", "region"]].to_dict("records")
    [{'date': '2024-05-01', 'kind': 'observation', 'person': 'v1', 'region': 'RE05'}]

    References
    ----------
    The "timeline" view of link-analysis tools (i2 Analyst's Notebook, Linkurious): events of a
    network's entities placed on a time axis.
    """
    members = _members(detection, group_id)
    level = level or str(getattr(detection, "level", "") or "police_unit")
    regions = municipality_regions(graph, level)
    rows: list[dict[str, str]] = []
    seen: dict[tuple[str, str, str], tuple[str, str]] = {}

    def add(kind: str, person: str, date: Any, place: str, item: str, data: dict[str, Any]) -> None:
        rows.append(
            {
                "date": str(date),
                "kind": kind,
                "person": bare_key(person),
                "role": members.get(person, ""),
                "region": regions.get(place, "") if place else "",
                "municipality": place,
                "item": item,
                "source": str(data.get("source") or ""),
                "row_id": str(data.get("row_id") or ""),
            }
        )

    for person in sorted(p for p in members if p in graph):
        for _, target, data in graph.out_edges(person, data=True):
            kind = data.get("type")
            date = data.get("observed_on")
            if not date:
                continue
            if kind == "SEEN_AT":
                if target.startswith("Municipality:"):
                    place = str(graph.nodes[target].get("code") or bare_key(target))
                else:
                    place = _place(graph, target)
                add(
                    "observation",
                    person,
                    date,
                    place,
                    "" if target.startswith("Municipality:") else target,
                    data,
                )
                seen.setdefault(
                    (bare_key(person), str(date), place), (data.get("source"), data.get("row_id"))
                )
            elif kind in ("SUSPECT_IN", "VICTIM_IN"):
                add("case", person, date, _place(graph, target), target, data)
        for source, _, data in graph.in_edges(person, data=True):
            if data.get("type") == "CONCERNS" and data.get("observed_on"):
                add("signal", person, data["observed_on"], _place(graph, source), source, data)
    victims = [p for p, role in members.items() if role == "victim"]
    for move in _moves(graph, detection, group_id, victims).itertuples(index=False):
        person = f"Person:{move.person_id}"
        source, row_id = seen.get((move.person_id, move.date, move.to_code), ("", ""))
        add(
            "move",
            person,
            move.date,
            move.to_code,
            f"{move.from_code}->{move.to_code}",
            {"source": source, "row_id": row_id},
        )
    table = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    order = {kind: i for i, kind in enumerate(TIMELINE_KINDS)}
    table = table.sort_values(
        ["date", "kind", "person", "item", "row_id"], key=lambda c: c.map(order) if c.name == "kind" else c
    )
    return table.reset_index(drop=True)
