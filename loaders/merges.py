"""Merges are facts: a record of a later load that joins persons an earlier load kept apart.

Resolution across loads (``loaders.crossload``) finds, for each record of a load, every stored
person it matches. When one resolved person of this load takes in records or matches of two or
more stored persons, one load of everything would have made them one person; so the load merges
them in the store (``GraphStore.merge_persons``): the surviving person (the one the resolution
chose, see ``loaders.resolve.resolve``'s ``known``) takes every record, relationship and
provenance of the others, and a ``Merge`` node records which persons, by which record of which
batch, with what score and when (graph_schema.cypher).

``plan_merges`` decides which merges a load makes, from plain data; ``merge_rows`` turns them into
what the store writes. A stored person is merged only when exactly one person of this load takes
it in and it is not itself a person of this load; otherwise it stays as it is (as before merges
were made). The merges run before the load writes its rows, each load's in one transaction: a
load cut off after them finds the persons merged when it runs again, a load cut off before them
makes them again, and a delivery loaded twice finds nothing left to merge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphstore.base import PersonMerge
from loaders.crossload import StoredMatch
from loaders.linkage import Resolution

__all__ = ["PlannedMerge", "keep_stored_persons", "merge_rows", "plan_merges"]


@dataclass(frozen=True)
class PlannedMerge:
    """One stored person to merge into another.

    merged, into
        Person ids: ``merged`` is absorbed by ``into``.
    record
        The record of this load that bridged them.
    score
        Match probability of the pair that joined them (None when the clear resolution of this
        load joined a reloaded record of ``merged`` without a scored pair).
    """

    merged: str
    into: str
    record: str
    score: float | None


def keep_stored_persons(resolution: Resolution, stored_person_of: Mapping[str, str]) -> Resolution:
    """Give back to a stored person the clusters of this load that lost it to another cluster.

    When a load resolves apart records that the store holds as one person (a reload of part of a
    merged person, whose bridging record is not in this load), ``resolve`` gives the person id to
    one cluster and an id of its own to the others, which would split the person in the store.
    The store's word stands: such a cluster joins the person its stored records describe (the most
    frequent, then the smallest id).

    >>> res = Resolution({"a": "P", "b": "X"}, {}, [], {"P": ["a"], "X": ["b"]})
    >>> keep_stored_persons(res, {"a": "P", "b": "P"}).clusters
    {'P': ['a', 'b']}
    """
    renamed: dict[str, str] = {}
    for pid, members in resolution.clusters.items():
        earlier = Counter(stored_person_of[r] for r in members if r in stored_person_of)
        if earlier and pid not in earlier:
            renamed[pid] = min(earlier, key=lambda p: (-earlier[p], p))
    if not renamed:
        return resolution
    clusters: dict[str, list[str]] = {}
    for pid, members in resolution.clusters.items():
        clusters.setdefault(renamed.get(pid, pid), []).extend(members)
    return Resolution(
        person_of={rid: renamed.get(pid, pid) for rid, pid in resolution.person_of.items()},
        link=resolution.link,
        pairs=resolution.pairs,
        clusters={pid: sorted(members) for pid, members in clusters.items()},
        stats=resolution.stats,
    )


def plan_merges(
    resolution: Resolution,
    stored_person_of: Mapping[str, str],
    matches: Mapping[str, Sequence[StoredMatch]],
) -> list[PlannedMerge]:
    """The merges a load makes.

    Parameters
    ----------
    resolution : Resolution
        This load's resolution (``loaders.pipeline.resolve_persons``), its clusters named by the
        person each keeps.
    stored_person_of : mapping
        record id -> person id of every stored person record (``crossload.stored_comparisons``).
    matches : mapping
        New record id -> the stored persons it matches (``crossload.matches_across_loads``).

    Returns
    -------
    list of PlannedMerge
        Sorted by surviving person, then merged person.

    Examples
    --------
    >>> from loaders.linkage import PairMatch, Resolution
    >>> res = Resolution({"new:1": "A"}, {}, [], {"A": ["new:1"]})
    >>> found = {"new:1": [StoredMatch("A", 0.99, "old:1"), StoredMatch("B", 0.97, "old:2")]}
    >>> plan_merges(res, {"old:1": "A", "old:2": "B"}, found)
    [PlannedMerge(merged='B', into='A', record='new:1', score=0.97)]
    """
    persons_of_load = set(resolution.clusters)
    # stored person -> the persons of this load that take it in -> (score, bridging record)
    taken: dict[str, dict[str, tuple[float | None, str]]] = {}

    def note(merged: str, into: str, score: float | None, record: str) -> None:
        best = taken.setdefault(merged, {})
        old = best.get(into)
        if old is None or _rank(score, record) < _rank(*old):
            best[into] = (score, record)

    pairs_of: dict[str, list[tuple[str, float]]] = {}
    for pair in resolution.pairs:
        pairs_of.setdefault(pair.record_a, []).append((pair.record_b, pair.score))
        pairs_of.setdefault(pair.record_b, []).append((pair.record_a, pair.score))
    for into, members in resolution.clusters.items():
        for rid in members:
            earlier = stored_person_of.get(rid)
            if earlier is not None and earlier != into:
                # A reloaded record of another stored person is in this person now: the record
                # that joined it is its best pair outside that person.
                outside = [(s, r) for r, s in pairs_of.get(rid, ()) if stored_person_of.get(r) != earlier]
                if outside:
                    score, record = min(outside, key=lambda t: _rank(*t))
                    note(earlier, into, score, record)
                else:
                    note(earlier, into, None, rid)
            for match in matches.get(rid, ()):
                if match.person != into:
                    note(match.person, into, match.score, rid)
    planned = [
        PlannedMerge(merged, into, record, score)
        for merged, intos in taken.items()
        if merged not in persons_of_load and len(intos) == 1
        for into, (score, record) in intos.items()
    ]
    return sorted(planned, key=lambda m: (m.into, m.merged))


def _rank(score: float | None, record: str) -> tuple[float, str]:
    """Smallest first: the higher score (a scored pair before none), then the smaller record id."""
    return (1.0 if score is None else -score, record)


def merge_rows(
    planned: Sequence[PlannedMerge],
    persons: Mapping[str, Mapping[str, Any]],
    stored_person_of: Mapping[str, str],
    batch: str,
    merged_at: str,
) -> list[PersonMerge]:
    """What the store writes for the planned merges.

    ``persons``: person id -> stored properties of the persons involved. The surviving person
    keeps its own nationality, birth year and gender, takes those it lacks from the merged ones,
    and has the roles of all of them.
    """
    records_of: dict[str, int] = {}
    for pid in stored_person_of.values():
        records_of[pid] = records_of.get(pid, 0) + 1
    combined: dict[str, dict[str, Any]] = {}
    out = []
    for m in planned:
        person = combined.setdefault(m.into, dict(persons.get(m.into, {})))
        other = persons.get(m.merged, {})
        person["roles"] = sorted(set(person.get("roles") or []) | set(other.get("roles") or []))
        for name in ("nationality", "birth_year", "gender"):
            if person.get(name) is None and other.get(name) is not None:
                person[name] = other[name]
        fact: dict[str, Any] = {
            "merge_id": f"{m.merged}@{batch}",
            "record_id": m.record,
            "batch": batch,
            "score": m.score,
            "records": records_of.get(m.merged, 0),
            "merged_at": merged_at,
        }
        out.append(PersonMerge(m.merged, m.into, fact, {}))
    # Every merge into a person sets the properties gathered over all of them.
    props = {
        pid: {k: v for k, v in p.items() if k in ("roles", "nationality", "birth_year", "gender")}
        for pid, p in combined.items()
    }
    return [PersonMerge(m.merged, m.into, m.fact, props[m.into]) for m in out]
