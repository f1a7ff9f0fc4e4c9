"""The merges of persons recorded in a store (issue 13: merges are facts).

When a record of a later load joins persons an earlier load kept apart, the load merges them and
records a ``Merge`` node (``loaders.merges``, graph_schema.cypher). :func:`read_merges` lists
them, one row per absorbed person, with pseudonyms and record ids only; :func:`read_splits` lists
the splits (``loaders.splits``) the same way; :func:`current_person`
follows a chain of merges (B into A, later A into C) to the person that holds the records now.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from graphstore.base import GraphSlice, GraphStore
from netanalysis.audit import Processing, audited

__all__ = [
    "MERGE_COLUMNS",
    "SPLIT_COLUMNS",
    "current_person",
    "merged_persons",
    "read_merges",
    "read_splits",
    "write_merges",
    "write_splits",
]

#: Columns of ``read_merges`` and of ``merges.csv``.
MERGE_COLUMNS = [
    "merged_at",
    "batch",
    "record_id",
    "score",
    "merged",
    "into",
    "now",
    "records",
    "merge_id",
]


def current_person(into: Mapping[str, str], person: str) -> str:
    """The person that holds ``person``'s records now, following merges (``merged -> into``).

    >>> current_person({"b": "a", "a": "c"}, "b")
    'c'
    >>> current_person({"b": "a"}, "x")
    'x'
    """
    seen = {person}
    while person in into and into[person] not in seen:
        person = into[person]
        seen.add(person)
    return person


def merged_persons(store: GraphStore) -> dict[str, str]:
    """Absorbed person id -> the person that holds its records now, from the store's merges.

    A person id is the hash of an identity (``loaders.resolve``); after a merge the absorbed id is
    gone, and a look-up by identity (``netanalysis.find``) follows this map to the survivor.
    """
    graph = store.read_graph(GraphSlice(labels=frozenset({"Merge"}), rel_types=frozenset()))
    into = {
        str(attrs["merged"]): str(attrs["into"])
        for _node, attrs in graph.nodes(data=True)
        if attrs.get("merged") and attrs.get("into")
    }
    return {merged: current_person(into, merged) for merged in into}


def _record_merges(proc: Processing, result: pd.DataFrame, arguments: Mapping[str, Any]) -> None:
    proc.count("merges", len(result))


@audited("merges", store="store", after=_record_merges)
def read_merges(store: GraphStore) -> pd.DataFrame:
    """The merges recorded in ``store``, oldest first.

    Parameters
    ----------
    store : GraphStore
        An open store (``graphstore.open_store``).

    Returns
    -------
    pandas.DataFrame
        One row per person absorbed by another (columns ``MERGE_COLUMNS``): when, by which load
        (``batch``) and record (``record_id``), with what match probability (``score``, empty when
        the clear resolution joined them without a scored pair), the absorbed person ``merged``,
        the person it went ``into``, the person that holds its records ``now`` (after later
        merges), and how many records it had.
    """
    graph = store.read_graph(GraphSlice(labels=frozenset({"Merge"}), rel_types=frozenset()))
    rows = [
        {column: attrs.get(column) for column in MERGE_COLUMNS}
        for _node, attrs in graph.nodes(data=True)
        if attrs.get("label") == "Merge"
    ]
    frame = pd.DataFrame(rows, columns=MERGE_COLUMNS)
    into = {str(m): str(i) for m, i in zip(frame["merged"], frame["into"], strict=True)}
    frame["now"] = [current_person(into, str(i)) for i in frame["into"]]
    frame["records"] = frame["records"].astype("Int64")
    frame["score"] = frame["score"].astype("Float64")
    return frame.sort_values(["merged_at", "batch", "merge_id"], kind="stable").reset_index(drop=True)


def write_merges(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``read_merges``'s table as CSV (cells guarded against spreadsheet formulas)."""
    from loaders.csv_safety import guard_frame

    target = Path(path)
    guard_frame(frame[MERGE_COLUMNS]).to_csv(target, index=False, encoding="utf-8")
    return target


#: Columns of ``read_splits`` and of ``splits.csv``.
SPLIT_COLUMNS = ["split_at", "batch", "reason", "person", "into", "records", "split_id"]


def _record_splits(proc: Processing, result: pd.DataFrame, arguments: Mapping[str, Any]) -> None:
    proc.count("splits", len(result))


@audited("splits", store="store", after=_record_splits)
def read_splits(store: GraphStore) -> pd.DataFrame:
    """The splits recorded in ``store`` (``loaders.splits``), oldest first.

    Parameters
    ----------
    store : GraphStore
        An open store (``graphstore.open_store``).

    Returns
    -------
    pandas.DataFrame
        One row per person split off another (columns ``SPLIT_COLUMNS``): when, by which load
        (``batch``) and why (``reason``: ``contradiction``, the re-resolution of a person a load
        reached kept these records apart from its others), the person that was split
        (``person``, it keeps its other records), the new person ``into`` and the ids of the
        records that went to it (``records``, ``|``-joined).
    """
    graph = store.read_graph(GraphSlice(labels=frozenset({"Split"}), rel_types=frozenset()))
    rows = []
    for _node, attrs in graph.nodes(data=True):
        if attrs.get("label") != "Split":
            continue
        row = {column: attrs.get(column) for column in SPLIT_COLUMNS}
        row["records"] = "|".join(str(r) for r in attrs.get("records") or [])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=SPLIT_COLUMNS)
    return frame.sort_values(["split_at", "batch", "split_id"], kind="stable").reset_index(drop=True)


def write_splits(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``read_splits``'s table as CSV (cells guarded against spreadsheet formulas)."""
    from loaders.csv_safety import guard_frame

    target = Path(path)
    guard_frame(frame[SPLIT_COLUMNS]).to_csv(target, index=False, encoding="utf-8")
    return target
