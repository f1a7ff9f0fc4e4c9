"""An i2 Analyst's Notebook chart (ANX XML) of a selection of the analysis graph.

The XML is written by ``anxwritter`` (MIT licence), which knows the ANX schema: the chart's
entity and link types, attribute classes, grade collections and source types, and one
``ChartItem`` per entity or link. This module only says what goes on the chart:

* one entity per node, its type the node label (Person, Case, Phone ...), its identity the node
  id (``Person:<pseudonym>``), its label ``P-`` and the pseudonym's first 8 characters, its
  attributes the node's;
* one link per edge, its type the relationship (``SUSPECT_IN``, ``USES`` ...), its date the fact's
  ``observed_on``, its grades the fact's Admiralty grade (``B2``: source grade B, information
  grade 2), its source reference ``<source>:<row id>``;
* cards: each link carries one card for its fact, each person one card per record that
  describes it (date, source reference, source type, grades), so the analyst sees in i2 which
  rows of which source say what, and how reliable they are.

Only what the graph holds goes in, as in the other exports: no clear identifier can reach the
chart. See docs/exports.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx

from netanalysis.export import _value

__all__ = ["INFORMATION_GRADES", "SOURCE_GRADES", "anx_grades", "write_anx"]

#: The Admiralty (NATO) source grades, as i2's first grade collection.
SOURCE_GRADES: dict[str, str] = {
    "A": "A - completely reliable",
    "B": "B - usually reliable",
    "C": "C - fairly reliable",
    "D": "D - not usually reliable",
    "E": "E - unreliable",
    "F": "F - reliability cannot be judged",
}
#: The Admiralty information grades, as i2's second grade collection.
INFORMATION_GRADES: dict[str, str] = {
    "1": "1 - confirmed by other sources",
    "2": "2 - probably true",
    "3": "3 - possibly true",
    "4": "4 - doubtful",
    "5": "5 - improbable",
    "6": "6 - truth cannot be judged",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Node attributes that are the node's identity or label, already on the chart item.
_NOT_ATTRIBUTES = frozenset({"label"})
# Edge attributes already on the link itself (type, date, grades, source reference).
_ON_THE_LINK = frozenset({"type", "observed_on", "reliability", "source", "row_id", "rel_key"})


def anx_grades(reliability: Any) -> tuple[str | None, str | None]:
    """The i2 source and information grade names of an Admiralty grade such as ``"B2"``.

    Parameters
    ----------
    reliability : the fact's grade (``"B2"``, ``"C"``, or anything unreadable).

    Returns
    -------
    tuple
        ``(source grade, information grade)``, each None when the grade does not give it.

    Examples
    --------
    >>> anx_grades("B2")
    ('B - usually reliable', '2 - probably true')
    >>> anx_grades("c")
    ('C - fairly reliable', None)
    >>> anx_grades(None)
    (None, None)
    """
    if not isinstance(reliability, str):
        return None, None
    grade = reliability.strip().upper()
    source = SOURCE_GRADES.get(grade[:1]) if grade else None
    information = INFORMATION_GRADES.get(grade[1:2]) if len(grade) == 2 and source else None
    return source, information


def _date(value: Any) -> str | None:
    """The ISO date (``yyyy-mm-dd``) at the start of ``value``, None for anything else."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value[:10]
    return None


def _label(node: str, attrs: dict[str, Any]) -> str:
    """What the chart shows under an entity, made from the node id: ``P-<8 characters>`` for a
    person (the store's display form of a pseudonym), ``<Label> <8 characters>`` for an item, the
    name of a municipality, region or source (public reference data)."""
    kind, _, key = node.partition(":")
    if kind == "Person":
        return f"P-{key[:8]}"
    name = attrs.get("name") if kind in {"Municipality", "Region", "Source"} else None
    return str(name) if name else f"{kind} {key.rsplit(':', 1)[-1][:8]}"


def _source_kinds(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Source name -> its kind (``victim_registration`` ...), from the graph's Source nodes."""
    return {
        str(a.get("name")): str(a["kind"])
        for _, a in graph.nodes(data=True)
        if a.get("label") == "Source" and a.get("name") and a.get("kind")
    }


def _card(attrs: dict[str, Any], summary: str, kinds: dict[str, str]) -> dict[str, Any]:
    """One i2 card for a fact (an edge or a record): date, source reference, type and grades."""
    source_grade, information_grade = anx_grades(attrs.get("reliability"))
    source = attrs.get("source")
    card: dict[str, Any] = {"summary": summary, "date": _date(attrs.get("observed_on"))}
    if source and attrs.get("row_id") is not None:
        card["source_ref"] = f"{source}:{attrs['row_id']}"
    if source in kinds:
        card["source_type"] = kinds[str(source)]
    card["grade_one"], card["grade_two"] = source_grade, information_grade
    return {k: v for k, v in card.items() if v is not None}


def _record_cards(
    whole: nx.MultiDiGraph, persons: list[str], kinds: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Per person, one card per record that describes it (``DESCRIBES`` edges of the whole graph)."""
    cards: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for person in persons:
        for record, _, attrs in whole.in_edges(person, data=True):
            if attrs.get("type") == "DESCRIBES":
                cards[person].append(_card(attrs, f"Record {record.partition(':')[2]}", kinds))
    for rows in cards.values():
        rows.sort(key=lambda c: (c.get("date") or "", c.get("source_ref") or ""))
    return cards


def write_anx(selected: nx.MultiDiGraph, path: Path, whole: nx.MultiDiGraph | None = None) -> Path:
    """Write ``selected`` as an i2 Analyst's Notebook chart (ANX XML, UTF-16 as i2 writes it).

    Parameters
    ----------
    selected : the nodes and links to chart (``select_network``).
    path : the ``.anx`` file to write (written as given, no suffix added).
    whole : the graph the selection came from; its records give the persons' cards (default
        ``selected``).

    Returns
    -------
    Path
        ``path``.
    """
    from anxwritter import ANXChart, Card, GradeCollection

    whole = selected if whole is None else whole
    kinds = _source_kinds(whole)
    chart = ANXChart()
    chart.grades_one = GradeCollection(items=list(SOURCE_GRADES.values()))
    chart.grades_two = GradeCollection(items=list(INFORMATION_GRADES.values()))
    chart.source_types = sorted(set(kinds.values()))
    node_attrs = {
        n: {k: _value(v) for k, v in a.items() if k not in _NOT_ATTRIBUTES}
        for n, a in selected.nodes(data=True)
    }
    edge_attrs = {
        (u, v, k): {name: _value(x) for name, x in a.items() if name not in _ON_THE_LINK}
        for u, v, k, a in selected.edges(keys=True, data=True)
    }
    # i2 keeps one type per attribute class across the chart: an attribute whose values mix types
    # (a number here, a text there) is written as text everywhere.
    types: dict[str, set[type]] = defaultdict(set)
    for table in (node_attrs, edge_attrs):
        for attrs in table.values():
            for name, value in attrs.items():
                if value is not None:
                    types[name].add(type(value))
    mixed = {name for name, seen in types.items() if len(seen) > 1}

    def clean(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: (str(v) if k in mixed else v) for k, v in sorted(attrs.items()) if v is not None}

    for label in sorted({str(a.get("label")) for _, a in selected.nodes(data=True)}):
        chart.add_entity_type(name=label)
    for rel in sorted({str(a.get("type")) for *_, a in selected.edges(keys=True, data=True)}):
        chart.add_link_type(name=rel)
    persons = sorted(n for n, a in selected.nodes(data=True) if a.get("label") == "Person")
    cards = _record_cards(whole, persons, kinds)
    for node, attrs in sorted(selected.nodes(data=True)):
        chart.add_icon(
            id=node,
            type=str(attrs.get("label")),
            label=_label(node, attrs),
            date=_date(attrs.get("observed_on")),
            attributes=clean(node_attrs[node]),
            cards=[Card(**c) for c in cards.get(node, [])],
        )
    for u, v, k, attrs in sorted(selected.edges(keys=True, data=True), key=lambda e: (e[0], e[1], str(e[2]))):
        card = _card(attrs, str(attrs.get("type")), kinds)
        chart.add_link(
            from_id=u,
            to_id=v,
            type=str(attrs.get("type")),
            arrow="->",
            date=card.get("date"),
            grade_one=card.get("grade_one"),
            grade_two=card.get("grade_two"),
            source_ref=card.get("source_ref"),
            source_type=card.get("source_type"),
            attributes={"link_id": f"{u}|{v}|{k}", **clean(edge_attrs[(u, v, k)])},
            cards=[Card(**card)],
        )
    with path.open("wb") as handle:
        for chunk in chart.iter_anx_bytes():
            handle.write(chunk)
    return path
