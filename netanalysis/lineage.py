"""Stable group identity across detection runs: match new groups to earlier ones by their members.

A detection numbers its groups afresh (``G001`` is the largest group of *this* run). To follow a
group from month to month, the groups of a new run are matched to those of the previous run by the
overlap of their suspects:

1. **Continuation**: an optimal one-to-one assignment (maximum total Jaccard similarity, the
   blossom algorithm of ``networkx.max_weight_matching`` on each connected part of the overlap
   graph) between previous and current groups, keeping pairs whose Jaccard similarity is at least
   ``min_jaccard``. A matched current group keeps the previous group's id.
2. **Merges and splits**: a previous group P and a current group C are *related* when they share
   at least ``min_share`` of the smaller of the two. A current group related to two or more
   previous groups is *merged* (its parents are listed); the current groups related to one
   previous group that is related to two or more current groups are *split* from it.
3. Every other current group is *born* with a new id; a previous group without a match and without
   a related current group is *dissolved*. New ids continue after the highest number ever used, so
   an id is never given to two groups.

Events of a current group: ``born``, ``kept`` (same members), ``grew``, ``shrank``, ``changed``
(members both joined and left), ``merged``, ``split``. Events of a previous group whose id ends:
``dissolved``, ``merged_into``, ``split_up``.

References
----------
Greene, D., Doyle, D. & Cunningham, P. (2010). Tracking the evolution of communities in dynamic
social networks. Proc. ASONAM 2010, 176-183 (Jaccard matching of communities between time steps,
with birth, death, merge and split events).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from graphstore.base import GraphStore
from netanalysis.detect import COLUMNS, DetectionResult
from netanalysis.errors import ConfigError

__all__ = [
    "LINEAGE_COLUMNS",
    "GroupMatch",
    "PreviousDetection",
    "follow_groups",
    "group_number",
    "keep_groups",
    "match_groups",
    "read_previous",
    "suspects_by_group",
]

#: Columns of ``lineage.csv``: one row per current group, and one per previous group whose id ended.
LINEAGE_COLUMNS: list[str] = [
    "group_id",
    "event",
    "related",
    "jaccard",
    "members",
    "joined",
    "left",
    "as_of",
]

_NUMBER = re.compile(r"^[A-Za-z]*(\d+)$")


def group_number(group_id: str) -> int:
    """The number in a group id (``"G012"`` -> 12); 0 for an id without one.

    Examples
    --------
    >>> group_number("G012"), group_number("x")
    (12, 0)
    """
    found = _NUMBER.match(str(group_id))
    return int(found.group(1)) if found else 0


@dataclass
class GroupMatch:
    """The result of :func:`match_groups`.

    Attributes
    ----------
    renamed : dict
        Current-run group id -> stable group id.
    events : list of dict
        Lineage rows (``LINEAGE_COLUMNS`` without ``as_of``), current groups first.
    next_number : int
        The number the next new group gets.
    """

    renamed: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    next_number: int = 1


def _jaccard(a: set[Hashable], b: set[Hashable]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def match_groups(
    previous: Mapping[str, Collection[Hashable]],
    current: Mapping[str, Collection[Hashable]],
    *,
    next_number: int = 0,
    min_jaccard: float = 0.3,
    min_share: float = 0.5,
    prefix: str = "G",
) -> GroupMatch:
    """Give the current groups stable ids by matching them to the previous groups' members.

    Parameters
    ----------
    previous : mapping
        Stable group id -> members (suspects) of the previous run.
    current : mapping
        This run's group id -> members.
    next_number : int
        The lowest number a new group may get (the previous lineage's ``next_number``); the
        numbers of the previous ids are always skipped.
    min_jaccard : float
        Minimum Jaccard similarity for a current group to keep a previous group's id.
    min_share : float
        Minimum share of the smaller group that two groups must have in common to be related
        (merge and split events).
    prefix : str
        Prefix of new ids.

    Returns
    -------
    GroupMatch
        The renaming, the lineage events and the next free number.

    Examples
    --------
    >>> prev = {"G001": {"a", "b", "c"}, "G002": {"x", "y"}}
    >>> cur = {"G001": {"x", "y", "z"}, "G002": {"a", "b", "c"}, "G003": {"q"}}
    >>> m = match_groups(prev, cur)
    >>> m.renamed
    {'G001': 'G002', 'G002': 'G001', 'G003': 'G003'}
    >>> [(e["group_id"], e["event"]) for e in m.events]
    [('G001', 'kept'), ('G002', 'grew'), ('G003', 'born')]
    """
    if not 0 < min_jaccard <= 1 or not 0 < min_share <= 1:
        raise ConfigError("min_jaccard and min_share must lie above 0 and at most 1")
    prev = {str(g): set(m) for g, m in previous.items()}
    cur = {str(g): set(m) for g, m in current.items()}
    where: dict[Hashable, set[str]] = defaultdict(set)
    for g, members in prev.items():
        for member in members:
            where[member].add(g)
    overlap: dict[tuple[str, str], int] = defaultdict(int)
    for c, members in cur.items():
        for member in members:
            for q in where.get(member, ()):
                overlap[(q, c)] += 1

    # 1. Continuation: optimal one-to-one assignment on Jaccard, per connected part.
    bipartite = nx.Graph()
    for (q, c), shared in overlap.items():
        jac = shared / len(prev[q] | cur[c])
        if jac >= min_jaccard:
            bipartite.add_edge(("p", q), ("c", c), weight=jac)
    matched: dict[str, str] = {}  # current -> previous
    for part in nx.connected_components(bipartite):
        sub = bipartite.subgraph(part)
        for u, v in nx.max_weight_matching(sub, maxcardinality=False, weight="weight"):
            p_node, c_node = (u, v) if u[0] == "p" else (v, u)
            matched[c_node[1]] = p_node[1]

    # 2. Related pairs: merges and splits.
    parents: dict[str, set[str]] = defaultdict(set)
    children: dict[str, set[str]] = defaultdict(set)
    for (q, c), shared in overlap.items():
        if shared >= min_share * min(len(prev[q]), len(cur[c])):
            parents[c].add(q)
            children[q].add(c)

    number = max([1, next_number, *(group_number(g) + 1 for g in prev)])  # ids start at G001
    renamed: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    order = sorted(cur, key=lambda g: (-len(cur[g]), min((str(m) for m in cur[g]), default=""), g))
    width = max(3, len(str(number + len(cur) - 1)))  # as wide as the highest id it may give
    for c in order:
        members = cur[c]
        p = matched.get(c)
        if p is not None:
            new_id = p
        else:
            new_id = f"{prefix}{number:0{width}d}"
            number += 1
        renamed[c] = new_id
        before = prev.get(p, set()) if p is not None else set()
        joined, left = len(members - before), len(before - members) if p is not None else 0
        related = sorted(parents.get(c, set()) | ({p} if p else set()), key=group_number)
        split_from = [q for q in parents.get(c, ()) if len(children[q]) > 1]
        if len(parents.get(c, ())) > 1:
            event = "merged"
        elif split_from:
            event = "split"
        elif p is None:
            event = "born" if not related else "split"
        elif joined and left:
            event = "changed"
        elif joined:
            event = "grew"
        elif left:
            event = "shrank"
        else:
            event = "kept"
        events.append(
            {
                "group_id": new_id,
                "event": event,
                "related": "|".join(r for r in related if r != new_id),
                "jaccard": round(_jaccard(before, members), 4) if p is not None else 0.0,
                "members": len(members),
                "joined": len(members) if p is None else joined,
                "left": left,
            }
        )
    ended = sorted(set(prev) - set(matched.values()), key=lambda g: (group_number(g), g))
    for q in ended:
        into = sorted((renamed[c] for c in children.get(q, ())), key=group_number)
        event = "dissolved" if not into else ("merged_into" if len(into) == 1 else "split_up")
        events.append(
            {
                "group_id": q,
                "event": event,
                "related": "|".join(into),
                "jaccard": 0.0,
                "members": 0,
                "joined": 0,
                "left": len(prev[q]),
            }
        )
    return GroupMatch(renamed=dict(sorted(renamed.items())), events=events, next_number=number)


def suspects_by_group(groups: pd.DataFrame) -> dict[str, set[str]]:
    """Group id -> its suspects, from a ``groups`` frame (``groups.csv``).

    Examples
    --------
    >>> frame = pd.DataFrame({"group_id": ["G001", "G001", "G001"], "person_id": ["a", "b", "v"],
    ...                       "role": ["suspect", "suspect", "victim"]})
    >>> {group: sorted(members) for group, members in suspects_by_group(frame).items()}
    {'G001': ['a', 'b']}
    """
    out: dict[str, set[str]] = defaultdict(set)
    for group, person, role in zip(groups["group_id"], groups["person_id"], groups["role"], strict=True):
        if role == "suspect":
            out[str(group)].add(str(person))
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class PreviousDetection:
    """What a later run needs from an earlier detection folder (:func:`read_previous`)."""

    members: dict[str, set[str]]
    next_number: int
    lineage: pd.DataFrame | None
    as_of: str | None


def read_previous(folder: str | Path) -> PreviousDetection:
    """Read the groups, the next free group number and the lineage of a detection folder.

    Raises
    ------
    ConfigError
        The folder is not a detection folder of this version (one sentence, no cell values).
    """
    from loaders.csv_safety import unguard_cell

    path = Path(folder)
    groups_csv, settings_json = path / "groups.csv", path / "settings.json"
    if not groups_csv.is_file() or not settings_json.is_file():
        raise ConfigError(
            f"--previous {path} is not a detection folder (it needs groups.csv and settings.json "
            "written by netanalysis detect)"
        )
    try:
        settings = json.loads(settings_json.read_text(encoding="utf-8"))
        groups = pd.read_csv(groups_csv, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise ConfigError(
            f"--previous {path}: groups.csv or settings.json cannot be read ({type(exc).__name__})"
        ) from None
    if list(groups.columns) != COLUMNS["groups"] or not isinstance(settings, dict):
        raise ConfigError(
            f"--previous {path} was written by another version of netanalysis (its groups.csv "
            "columns differ); run detect again without --previous to start a new lineage"
        )
    for column in ("group_id", "person_id"):
        groups[column] = [unguard_cell(v) for v in groups[column]]
    members = suspects_by_group(groups)
    recorded = settings.get("lineage") or {}
    next_number = int(recorded.get("next_number") or 0)
    lineage = None
    lineage_csv = path / "lineage.csv"
    if lineage_csv.is_file():
        lineage = pd.read_csv(lineage_csv, dtype=str, keep_default_na=False)
        if list(lineage.columns) != LINEAGE_COLUMNS:
            raise ConfigError(
                f"--previous {path} has a lineage.csv of another version of netanalysis; run detect "
                "again without --previous to start a new lineage"
            )
        next_number = max([next_number, *(group_number(g) + 1 for g in lineage["group_id"])])
    return PreviousDetection(members, next_number, lineage, settings.get("as_of"))


_GROUP_FRAMES = (
    "groups",
    "movements",
    "group_summary",
    "key_players",
    "disruption",
    "leads",
    "links",
)


def follow_groups(
    result: DetectionResult,
    previous: str | Path | PreviousDetection | GraphStore | Mapping[str, Collection[Hashable]],
    *,
    next_number: int = 0,
    min_jaccard: float = 0.3,
    min_share: float = 0.5,
) -> DetectionResult:
    """A copy of ``result`` whose group ids continue those of the previous run, with its lineage.

    Parameters
    ----------
    result : DetectionResult
        This run (``netanalysis.detect.detect``).
    previous : path, GraphStore or mapping
        The previous run: its detection folder (``read_previous``; its lineage is continued), a
        store whose tracked groups to continue (``keep_groups``), or a mapping of stable group id
        -> suspects.
    next_number : int
        The lowest number a new group may get (see ``match_groups``).
    min_jaccard, min_share : float
        See ``match_groups``.

    Returns
    -------
    DetectionResult
        Every group id renamed, frames sorted as ``detect`` sorts them, ``lineage`` set (earlier
        rows first) and ``settings["lineage"]`` holding the next free number, the thresholds and
        the number of this run's lineage rows.

    Raises
    ------
    ConfigError
        The previous run shares no suspect with this one although both have several: it is a
        detection of another store (or of a store loaded with another key).
    """
    from netanalysis.graphs import read_tracked_groups

    earlier: pd.DataFrame | None = None
    if isinstance(previous, str | Path):
        previous = read_previous(previous)
    if isinstance(previous, PreviousDetection):
        members: Mapping[str, Collection[Hashable]] = previous.members
        next_number = max(next_number, previous.next_number)
        earlier = previous.lineage
    elif isinstance(previous, GraphStore):
        tracked = read_tracked_groups(previous)
        members, next_number = tracked.members, max(next_number, tracked.next_number)
    else:
        members = previous
    current = suspects_by_group(result.groups)
    before = {m for group in members.values() for m in group}
    now = {m for group in current.values() for m in group}
    if len(before) >= 5 and len(now) >= 5 and not before & now:
        raise ConfigError(
            "the previous detection shares no suspect with this one: it was made on another store "
            "or with another key; give the previous detection of this store"
        )
    match = match_groups(
        members, current, next_number=next_number, min_jaccard=min_jaccard, min_share=min_share
    )
    frames: dict[str, pd.DataFrame] = {}
    for name in _GROUP_FRAMES:
        frame = getattr(result, name).copy()
        if len(frame):
            frame["group_id"] = [match.renamed.get(g, g) if g else g for g in frame["group_id"]]
            frame = frame.sort_values(_SORT[name], kind="stable").reset_index(drop=True)
        frames[name] = frame[COLUMNS[name]]
    crowded = result.crowded_addresses.copy()
    if len(crowded):
        crowded["group_id"] = [match.renamed.get(g, g) if g else g for g in crowded["group_id"]]
        # most persons first, as crowded_address_leads sorts them
        crowded = crowded.sort_values(
            ["persons", "address_id", "group_id"], ascending=[False, True, True], kind="stable"
        ).reset_index(drop=True)
    frames["crowded_addresses"] = crowded[COLUMNS["crowded_addresses"]]
    # A hub names its groups "|"-joined: each renamed, the list sorted again.
    hubs = result.hubs.copy()
    if len(hubs):
        hubs["groups"] = [
            "|".join(sorted(match.renamed.get(g, g) for g in str(text).split("|") if g))
            for text in hubs["groups"]
        ]
    frames["hubs"] = hubs[COLUMNS["hubs"]]
    as_of = result.settings.get("as_of") or ""
    rows = pd.DataFrame([{**e, "as_of": as_of} for e in match.events], columns=LINEAGE_COLUMNS)
    if earlier is not None and len(earlier):
        rows = pd.concat([earlier[LINEAGE_COLUMNS], rows.astype(str)], ignore_index=True)
    settings = dict(result.settings)
    settings["lineage"] = {
        "next_number": match.next_number,
        "min_jaccard": min_jaccard,
        "min_share": min_share,
        "previous_groups": len(members),
        "events": len(match.events),
    }
    return replace(result, **frames, lineage=rows, settings=settings)


def keep_groups(store: GraphStore, result: DetectionResult) -> int:
    """Keep ``result``'s groups in the store, so that the next run continues their ids.

    ``result`` must come from ``follow_groups(result, store)`` (or from a first run: then its
    ids are taken as they are). Returns the number of Group nodes written.
    """
    from netanalysis.graphs import write_tracked_groups

    current = suspects_by_group(result.groups)
    if result.lineage is None:
        result = follow_groups(result, {})
    assert result.lineage is not None
    recorded = result.settings.get("lineage") or {}
    events = result.lineage.tail(int(recorded.get("events", len(result.lineage))))
    return write_tracked_groups(store, current, events.to_dict("records"), result.settings.get("as_of"))


# How ``detect`` orders each frame (group ids change, so the order is restored after renaming).
_SORT: dict[str, list[str]] = {
    "groups": ["group_id", "role", "person_id"],
    "movements": ["group_id", "person_id", "date", "from_code"],
    "group_summary": ["group_id"],
    "key_players": ["group_id"],  # stable: the order within a group is kept
    "disruption": ["group_id"],
    "leads": ["rank", "signal_id", "group_id"],
    "links": ["person_a", "person_b"],
}
