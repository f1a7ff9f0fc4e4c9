"""Splits are facts: a load that reaches a stored person re-resolves it and may split it.

One load of everything undoes a false link with the records that arrive later: its guard
against chaining (``loaders.linkage``) keeps apart two records that contradict each other, and a
record that matches both joins the one it matches best. A replay of deliveries made such a link
in an early delivery and never saw the later records then; so a load re-resolves every stored
person its records reach (``loaders.crossload.matches_across_loads``, ``_reresolve``: the
person's stored comparison data with the new records, by the same guard), and when the guard
keeps some of the person's records apart, the load splits them off to a new person
(``GraphStore.split_persons``): the records with every relationship they gave, and a ``Split``
node that records which person, which records went to which new person, by which batch and why
(graph_schema.cypher). ``netanalysis.merges.read_splits`` lists them.

The splits run before the load's merges and rows, each load's in one transaction: a load cut off
after them finds the persons split when it runs again (the split ids are the same), and a
delivery loaded twice reaches no stored person with a new record, so it splits nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from graphstore.base import GraphSlice, GraphStore, PersonSplit
from loaders.crossload import Matches, PlannedSplit

__all__ = ["make_splits", "split_rows"]

#: The person properties a split gives both persons again, from their records.
_FROM_COMPARISON = ("nationality", "birth_year", "gender")


def _most_common(values: Iterable[Any]) -> Any:
    counts = Counter(v for v in values if v not in (None, ""))
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], str(v)))


def _person_props(
    records: Iterable[str], roles: Mapping[str, str], stored: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    """Roles, nationality, birth year and gender of a person with these records, as a load gives
    them (``loaders.graph_rows``): the roles of all, the most frequent of the others."""
    rows = []
    for rid in records:
        try:
            data = json.loads(stored[rid][1]) if rid in stored else {}
        except ValueError:
            data = {}
        rows.append(data if isinstance(data, dict) else {})
    props: dict[str, Any] = {"roles": sorted({roles[r] for r in records if roles.get(r)})}
    for name in _FROM_COMPARISON:
        value = _most_common(row.get(name) for row in rows)
        if name == "birth_year" and value is not None:
            value = int(value)
        props[name] = value
    return props


def split_rows(
    splits: Iterable[PlannedSplit],
    stored: Mapping[str, tuple[str, str]],
    stored_person_of: Mapping[str, str],
    roles: Mapping[str, str],
    batch: str,
    split_at: str,
) -> list[PersonSplit]:
    """What the store writes for the planned splits.

    ``roles``: record id -> the role on its ``DESCRIBES``. Both persons get the roles of the
    records they hold afterwards and the most frequent nationality, birth year and gender of them.

    >>> s = PlannedSplit("P", "Q", ("r:2",), "contradiction")
    >>> rows = split_rows([s], {}, {"r:1": "P", "r:2": "P"}, {"r:1": "suspect", "r:2": "victim"}, "b", "t")
    >>> rows[0].kept["roles"], rows[0].moved["roles"], rows[0].fact["split_id"]
    (['suspect'], ['victim'], 'Q@b')
    """
    planned = list(splits)
    leaving: dict[str, set[str]] = {}
    for s in planned:
        leaving.setdefault(s.person, set()).update(s.records)
    # The records of the persons split, found in one pass: a delivery into a big store reads
    # hundreds of thousands of stored records, and a pass per split grew with both.
    held: dict[str, list[str]] = {person: [] for person in leaving}
    for r, p in stored_person_of.items():
        if p in held:
            held[p].append(r)
    out = []
    for s in planned:
        kept = sorted(r for r in held[s.person] if r not in leaving[s.person])
        fact = {"split_id": f"{s.into}@{batch}", "batch": batch, "reason": s.reason, "split_at": split_at}
        out.append(
            PersonSplit(
                s.person,
                s.into,
                s.records,
                fact,
                _person_props(kept, roles, stored),
                _person_props(s.records, roles, stored),
            )
        )
    return out


def make_splits(
    store: GraphStore,
    matches: Matches,
    stored: Mapping[str, tuple[str, str]],
    stored_person_of: Mapping[str, str],
    known: Mapping[str, str],
    batch: str,
    split_at: str,
) -> tuple[int, dict[str, str], dict[str, str]]:
    """Make the splits ``matches_across_loads`` planned (``matches.splits``) in the store.

    Returns
    -------
    (int, dict, dict)
        The splits made, and ``stored_person_of`` and ``known`` (record id -> person id of the
        stored records, of this load's records the store holds) with the moved records' new
        persons.
    """
    if not matches.splits:
        return 0, dict(stored_person_of), dict(known)
    persons = frozenset(s.person for s in matches.splits)
    graph = store.read_graph(
        GraphSlice(
            labels=frozenset({"Record", "Person"}), rel_types=frozenset({"DESCRIBES"}), person_ids=persons
        )
    )
    roles = {
        str(graph.nodes[u].get("record_id")): str(d["role"])
        for u, _v, d in graph.edges(data=True)
        if d.get("type") == "DESCRIBES" and d.get("role")
    }
    rows = split_rows(matches.splits, stored, stored_person_of, roles, batch, split_at)
    made = store.split_persons(rows)
    moved = {rid: s.into for s in matches.splits for rid in s.records}
    person_of = {rid: moved.get(rid, pid) for rid, pid in stored_person_of.items()}
    return made, person_of, {rid: moved.get(rid, pid) for rid, pid in known.items()}
