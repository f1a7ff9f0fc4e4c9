"""What changed between two detections of the same store: the analyst's monthly question.

After a new delivery is loaded and detected with ``--previous`` (or ``--track``), the group ids of
the two runs name the same groups (``netanalysis.lineage``), so the two detections can be compared
group by group. :func:`changes` lists, most urgent first:

1. **new leads**: signals linked to a group that were not linked to it before;
2. **groups that changed**: grew (new suspects or victims), reached a region they were not seen in
   before, became cross-regional, or were born, merged, split or dissolved (from the lineage);
3. **new victim moves**: moves of a group's victims that the previous run did not have, those
   between regions first;
4. **persons merged**: merges a load made since (``merges.csv`` of the two detection folders,
   ``netanalysis.merges``): a record of a later delivery joined persons kept apart before.

Everything is read from the detection outputs, so the result holds what they hold: pseudonyms,
group ids, signal ids (``source:row_id``), region names and counts, never a clear identifier.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from netanalysis.detect import DetectionResult
from netanalysis.errors import ConfigError

__all__ = ["CHANGE_COLUMNS", "Changes", "changes"]

#: Columns of the files ``Changes.write`` writes: file stem -> columns.
CHANGE_COLUMNS: dict[str, list[str]] = {
    "new_leads": ["signal_id", "group_id", "score", "rank", "evidence", "via"],
    "changed_groups": [
        "group_id",
        "changes",
        "members_before",
        "members",
        "victims_before",
        "victims",
        "new_regions",
        "cross_regional",
        "priority",
    ],
    "new_moves": ["group_id", "person_id", "from_region", "to_region", "date", "cross_region"],
    "merged_persons": ["merged_at", "batch", "record_id", "score", "merged", "into", "now", "records"],
}

# Order of the group changes in the output: what needs action first.
_RANK = {
    "became cross-regional": 0,
    "new region": 1,
    "grew": 2,
    "merged": 3,
    "split": 4,
    "born": 5,
    "dissolved": 6,
    "merged_into": 6,
    "split_up": 6,
}
# How the summary says each change.
_SAY = {
    "became cross-regional": "became cross-regional",
    "new region": "reached a new region",
    "grew": "grew",
    "merged": "merged from several groups",
    "split": "split off from a group",
    "born": "are new",
    "dissolved": "dissolved",
    "merged_into": "merged into another group",
    "split_up": "split up",
}
_NEEDED = ("groups", "group_summary", "movements", "leads")


@dataclass
class Changes:
    """What changed between two detections (:func:`changes`); one DataFrame per file."""

    new_leads: pd.DataFrame
    changed_groups: pd.DataFrame
    new_moves: pd.DataFrame
    previous_as_of: str
    as_of: str
    merged_persons: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.merged_persons is None:
            self.merged_persons = pd.DataFrame(columns=CHANGE_COLUMNS["merged_persons"])

    def frames(self) -> dict[str, pd.DataFrame]:
        """File stem -> DataFrame."""
        return {name: getattr(self, name) for name in CHANGE_COLUMNS}

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return all(len(frame) == 0 for frame in self.frames().values())

    def summary(self) -> str:
        """A one-screen summary: counts and the most urgent group ids, no person ids."""
        lines = [f"changes since the detection of {self.previous_as_of or '?'} (now {self.as_of or '?'})"]
        if self.empty:
            return lines[0] + ": nothing new."
        leads = self.new_leads
        lines.append(
            f"- {_count(len(leads), 'new lead')}"
            + (f" for groups {_few(leads['group_id'])}" if len(leads) else "")
        )
        groups = self.changed_groups
        for change in _RANK:
            hit = groups[[change in str(c).split("; ") for c in groups["changes"]]] if len(groups) else groups
            if len(hit):
                lines.append(f"- {_count(len(hit), 'group')} {_SAY[change]}: {_few(hit['group_id'])}")
        moves = self.new_moves
        cross = int(moves["cross_region"].astype(str).isin(["True", "true"]).sum()) if len(moves) else 0
        lines.append(f"- {_count(len(moves), 'new victim move')}, {cross} between regions")
        merged = self.merged_persons
        if merged is not None and len(merged):
            lines.append(f"- {_count(len(merged), 'person')} merged into another by a new record")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A short self-contained page: the summary, the changed groups, the new leads and the new
        moves per group and pair of regions (no person ids; every value escaped)."""
        moves = self.new_moves
        per_route = (
            moves.groupby(["group_id", "from_region", "to_region"]).size().reset_index(name="new_moves")
            if len(moves)
            else pd.DataFrame(columns=["group_id", "from_region", "to_region", "new_moves"])
        )
        parts = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            "<title>netanalysis: what changed</title><style>body{font-family:sans-serif;margin:2em}"
            "table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #bbb;padding:2px 6px}"
            "</style></head><body>",
            f"<h1>What changed</h1><pre>{html.escape(self.summary())}</pre>",
        ]
        for title, frame in (
            ("Groups that changed", self.changed_groups),
            ("New leads", self.new_leads),
            ("New victim moves per group and route", per_route),
        ):
            parts.append(f"<h2>{html.escape(title)}</h2>")
            parts.append(frame.to_html(index=False, escape=True, border=0) if len(frame) else "<p>none</p>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write one CSV per frame, ``summary.txt`` and ``changes.html`` into ``out_dir``; returns
        the paths."""
        from loaders.csv_safety import write_frames

        out = Path(out_dir)
        paths = write_frames(self.frames(), out)
        path = out / "summary.txt"
        path.write_text(self.summary() + "\n", encoding="utf-8")
        paths.append(path)
        path = out / "changes.html"
        path.write_text(self.to_html(), encoding="utf-8")
        paths.append(path)
        return paths


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _few(ids: pd.Series, limit: int = 8) -> str:
    unique = list(dict.fromkeys(str(i) for i in ids))
    shown = ", ".join(unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def _read(where: DetectionResult | str | Path, flag: str) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The frames and settings of a detection, as text (a folder is read as ``detect`` wrote it)."""
    if isinstance(where, DetectionResult):
        frames = {name: getattr(where, name).astype(str) for name in _NEEDED}
        lineage = where.lineage.astype(str) if where.lineage is not None else None
        settings = dict(where.settings)
    else:
        from loaders.csv_safety import unguard_frame

        folder = Path(where)
        files = [folder / f"{name}.csv" for name in _NEEDED] + [folder / "settings.json"]
        if not all(f.is_file() for f in files):
            raise ConfigError(f"{flag} {folder} is not a detection folder (netanalysis detect --out)")
        frames = {
            name: unguard_frame(pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False))
            for name in _NEEDED
        }
        settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
        path = folder / "lineage.csv"
        lineage = pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else None
        path = folder / "merges.csv"
        if path.is_file():
            frames["merges"] = unguard_frame(pd.read_csv(path, dtype=str, keep_default_na=False))
    if lineage is not None:
        frames["lineage"] = lineage
    return frames, settings


def changes(previous: DetectionResult | str | Path, current: DetectionResult | str | Path) -> Changes:
    """What changed from the previous detection to the current one.

    Parameters
    ----------
    previous, current : DetectionResult or path
        Two detections of the same store (results, or folders written by ``detect``); the current
        one made with ``--previous`` (``follow_groups``) or ``--track``, so that its group ids
        continue the previous ones.

    Returns
    -------
    Changes
        New leads, changed groups and new victim moves, most urgent first.

    Raises
    ------
    ConfigError
        The current detection does not continue the previous one's group ids.
    """
    before, prev_settings = _read(previous, "--previous")
    now, settings = _read(current, "--current")
    if "lineage" not in now or not (settings.get("lineage") or {}):
        raise ConfigError(
            "the current detection was not made with --previous or --track, so its group ids do not "
            "continue the previous ones; run detect again with --previous PREVIOUS_DIR"
        )
    lineage = now["lineage"]
    this_run = lineage.tail(int(settings["lineage"].get("events", len(lineage))))

    # 1. New leads: a (signal, group) pair the previous run did not have.
    old_leads = set(_tuples(before["leads"], ["signal_id", "group_id"]))
    leads = now["leads"]
    fresh = [pair not in old_leads for pair in _tuples(leads, ["signal_id", "group_id"])]
    new_leads = leads[_mask(fresh, leads)][CHANGE_COLUMNS["new_leads"]].reset_index(drop=True)

    # 2. Changed groups.
    # Plain dicts, not iterrows and .loc: a row as a Series costs a Series per group, which made
    # this loop most of the command's time on 100k persons (benchmarks/RESULTS.md).
    old = {str(row["group_id"]): row for row in _records(before["group_summary"])}
    rows = []
    events = dict(_tuples(this_run, ["group_id", "event"]))
    for group in _records(now["group_summary"]):
        gid = group["group_id"]
        found: list[str] = []
        event = events.get(gid, "")
        if gid in old:
            was = old[gid]
            new_regions = sorted(set(_split(group["regions"])) - set(_split(was["regions"])))
            grew = int(group["members"]) > int(was["members"]) or int(group["victims"]) > int(was["victims"])
            if str(group["cross_regional"]) == "True" and str(was["cross_regional"]) != "True":
                found.append("became cross-regional")
            if new_regions:
                found.append("new region")
            if grew:
                found.append("grew")
            members_before, victims_before = int(was["members"]), int(was["victims"])
        else:
            new_regions = _split(group["regions"])
            members_before = victims_before = 0
        if event in ("merged", "split", "born"):
            found.append(event)
        if found:
            rows.append(
                {
                    "group_id": gid,
                    "changes": "; ".join(sorted(found, key=_RANK.__getitem__)),
                    "members_before": members_before,
                    "members": int(group["members"]),
                    "victims_before": victims_before,
                    "victims": int(group["victims"]),
                    "new_regions": "|".join(new_regions),
                    "cross_regional": str(group["cross_regional"]) == "True",
                    "priority": float(group["priority"] or 0),
                }
            )
    for event in _records(this_run):
        if event["event"] in ("dissolved", "merged_into", "split_up"):
            was_members = int(old[event["group_id"]]["members"]) if event["group_id"] in old else 0
            rows.append(
                {
                    "group_id": event["group_id"],
                    "changes": event["event"],
                    "members_before": was_members,
                    "members": 0,
                    "victims_before": 0,
                    "victims": 0,
                    "new_regions": "",
                    "cross_regional": False,
                    "priority": 0.0,
                }
            )
    changed = pd.DataFrame(rows, columns=CHANGE_COLUMNS["changed_groups"])
    if len(changed):
        changed["_rank"] = [min(_RANK[c] for c in str(cs).split("; ")) for cs in changed["changes"]]
        changed = (
            changed.sort_values(
                ["_rank", "priority", "group_id"], ascending=[True, False, True], kind="stable"
            )
            .drop(columns="_rank")
            .reset_index(drop=True)
        )

    # 3. New victim moves: a move (victim, from, to, date) the previous run did not have.
    key = ["person_id", "from_code", "to_code", "date"]
    old_moves = set(_tuples(before["movements"], key))
    moves = now["movements"]
    fresh = [m not in old_moves for m in _tuples(moves, key)]
    new_moves = moves[_mask(fresh, moves)][CHANGE_COLUMNS["new_moves"]].copy()
    new_moves["cross_region"] = new_moves["cross_region"].astype(str) == "True"
    new_moves = new_moves.sort_values(
        ["cross_region", "group_id", "date"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    # 4. Persons merged: merges recorded since the previous detection (its merges.csv; a folder
    # without one, or a result in memory, has none to compare with).
    merged = now.get("merges", pd.DataFrame(columns=CHANGE_COLUMNS["merged_persons"] + ["merge_id"]))
    seen = set(before["merges"]["merge_id"].tolist()) if "merges" in before else set()
    unseen = [m not in seen for m in merged["merge_id"].tolist()]
    merged_persons = merged[_mask(unseen, merged)][CHANGE_COLUMNS["merged_persons"]]
    return Changes(
        new_leads=new_leads,
        changed_groups=changed,
        new_moves=new_moves,
        previous_as_of=str(prev_settings.get("as_of") or ""),
        as_of=str(settings.get("as_of") or ""),
        merged_persons=merged_persons.reset_index(drop=True),
    )


def _tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    """The rows of ``columns`` as tuples, through ``tolist`` of each column: iterating a column of
    pandas' Arrow-backed text (``itertuples``, ``zip`` over Series) goes through a Python call
    per cell, most of ``changes`` at 1M persons (benchmarks/RESULTS.md)."""
    return list(zip(*(frame[c].tolist() for c in columns), strict=True)) if len(frame) else []


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")`` through ``_tuples``."""
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in _tuples(frame, columns)]


def _mask(keep: list[bool], frame: pd.DataFrame) -> pd.Series:
    """Rows to keep as a boolean Series (an empty list would select columns, not rows)."""
    return pd.Series(keep, index=frame.index, dtype=bool)


def _split(regions: Any) -> list[str]:
    return [r for r in str(regions or "").split("|") if r]
