"""Facts about persons and links read from the store graph, for tooltips, filters and edges.

Pure functions over the ``nx.MultiDiGraph`` that ``GraphStore.read_graph`` returns. Only fields
named here reach a map: pseudonyms (shortened), roles, region codes, dates, counts, kinds. A
property that could hold free text from a source (a name, a note) is never read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from netanalysis.maps._reference import municipalities

__all__ = [
    "EVIDENCE",
    "PersonFacts",
    "bare_key",
    "pair_links",
    "person_facts",
    "person_links",
    "shared_items",
    "short",
]

# Items that link two persons, by the label of the node they share: the "evidence kind".
EVIDENCE: dict[str, str] = {
    "Case": "case",
    "Phone": "phone",
    "Vehicle": "vehicle",
    "BankAccount": "account",
    "Premises": "premises",
    "Signal": "signal",
    "Address": "address",
    "Organisation": "organisation",
}

_PERSON = "Person:"


def bare_key(node: str) -> str:
    """``"Person:abc"`` -> ``"abc"``."""
    return node.split(":", 1)[1] if ":" in node else node


def short(key: str, n: int = 8) -> str:
    """Shortened pseudonym shown on the map (the stored key is a keyed hash, never a name)."""
    return key[:n]


def _date(value: Any) -> str | None:
    # Only ISO dates pass: anything else in a date field is ignored rather than shown.
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        head = value[:10]
        if head.replace("-", "").isdigit():
            return head
    return None


@dataclass
class PersonFacts:
    """What a map may say about one person."""

    key: str
    roles: set[str] = field(default_factory=set)
    municipalities: Counter[str] = field(default_factory=Counter)
    last_place: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    types: set[str] = field(default_factory=set)
    cases: int = 0
    signals: int = 0
    places: int = 0
    identifiers: int = 0
    records: int = 0

    def regions(self, level: str) -> list[str]:
        """Region codes at ``level`` of the municipalities the person was seen in."""
        ref = municipalities()
        return sorted({ref[c].regions[level] for c in self.municipalities if c in ref})

    def see(self, date: str | None) -> None:
        if date is None:
            return
        if self.first_seen is None or date < self.first_seen:
            self.first_seen = date
        if self.last_seen is None or date > self.last_seen:
            self.last_seen = date


def _place_code(graph: nx.MultiDiGraph, node: str) -> str | None:
    attrs = graph.nodes[node]
    if attrs.get("label") == "Municipality":
        code = attrs.get("code") or bare_key(node)
    elif attrs.get("label") == "Premises":
        code = attrs.get("municipality")
    else:
        return None
    return code if isinstance(code, str) and code in municipalities() else None


def person_facts(graph: nx.MultiDiGraph, persons: Iterable[str]) -> dict[str, PersonFacts]:
    """Facts per person node id (``"Person:<key>"``).

    Parameters
    ----------
    graph : the store graph.
    persons : person node ids; ids not in the graph get empty facts.

    Returns
    -------
    dict node id -> :class:`PersonFacts`.
    """
    out: dict[str, PersonFacts] = {}
    for p in persons:
        facts = PersonFacts(key=bare_key(p))
        out[p] = facts
        if p not in graph:
            continue
        roles = graph.nodes[p].get("roles")
        if isinstance(roles, list):
            facts.roles.update(r for r in roles if r in {"suspect", "victim", "signalled"})
        last_place_date = ""
        for _, other, data in graph.out_edges(p, data=True):
            rel = data.get("type")
            date = _date(data.get("observed_on"))
            label = graph.nodes[other].get("label")
            if rel == "SEEN_AT":
                facts.places += 1
                facts.see(date)
                code = _place_code(graph, other)
                if code:
                    facts.municipalities[code] += 1
                    if (date or "") >= last_place_date:
                        last_place_date = date or ""
                        facts.last_place = code
                if data.get("role") in {"suspect", "victim"}:
                    facts.roles.add(str(data["role"]))
            elif rel in {"SUSPECT_IN", "VICTIM_IN"}:
                facts.cases += 1
                facts.see(date)
                facts.roles.add("suspect" if rel == "SUSPECT_IN" else "victim")
                etype = graph.nodes[other].get("exploitation_type")
                if isinstance(etype, str) and etype != "unknown":
                    facts.types.add(etype)
            elif rel == "USES" and label in {"Phone", "Vehicle", "BankAccount"}:
                facts.identifiers += 1
                facts.see(date)
        for src, _, data in graph.in_edges(p, data=True):
            rel = data.get("type")
            if rel == "CONCERNS":
                facts.signals += 1
                facts.see(_date(data.get("observed_on")) or _date(graph.nodes[src].get("observed_on")))
                etype = graph.nodes[src].get("exploitation_type")
                if isinstance(etype, str) and etype != "unknown":
                    facts.types.add(etype)
            elif rel == "DESCRIBES":
                facts.records += 1
    return out


def shared_items(
    graph: nx.MultiDiGraph, persons: Iterable[str], max_share: int = 200
) -> dict[str, list[str]]:
    """Items (cases, phones, premises, ...) that two or more of ``persons`` share.

    Parameters
    ----------
    graph : the store graph.
    persons : person node ids; other persons are ignored.
    max_share : items shared by more persons than this are left out (a hotel or a mass signal
        says little about who works together and would draw a hairball of n^2 links).

    Returns
    -------
    dict item node id -> sorted person node ids (at least two), for items whose label is an
    evidence kind (:data:`EVIDENCE`).
    """
    chosen = set(persons)
    items: dict[str, set[str]] = defaultdict(set)
    for p in chosen:
        if p not in graph:
            continue
        for nb in set(graph.successors(p)) | set(graph.predecessors(p)):
            if graph.nodes[nb].get("label") in EVIDENCE:
                items[nb].add(p)
    return {item: sorted(ms) for item, ms in sorted(items.items()) if 2 <= len(ms) <= max_share}


def pair_links(graph: nx.MultiDiGraph, items: dict[str, list[str]]) -> dict[tuple[str, str, str], int]:
    """Links between the persons of each item, by evidence kind (see :func:`person_links`)."""
    links: Counter[tuple[str, str, str]] = Counter()
    for item, members in items.items():
        kind = EVIDENCE[graph.nodes[item]["label"]]
        for a, b in combinations(members, 2):
            links[(a, b, kind)] += 1
    return dict(links)


def person_links(
    graph: nx.MultiDiGraph, persons: Iterable[str], max_share: int = 200
) -> dict[tuple[str, str, str], int]:
    """Links between persons through items they share, by evidence kind.

    Two persons are linked by kind ``k`` once per shared item of that kind (a case both are in, a
    phone both use, premises both were seen at, a signal that concerns both).

    Parameters
    ----------
    graph : the store graph.
    persons : person node ids to link; other persons are ignored.
    max_share : items shared by more persons than this are skipped (see :func:`shared_items`).

    Returns
    -------
    dict ``(person_a, person_b, kind) -> number of shared items``, with ``person_a < person_b``.
    """
    return pair_links(graph, shared_items(graph, persons, max_share))
