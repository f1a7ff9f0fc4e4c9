"""Signals that come from addresses and organisations: crowded addresses and shared hubs.

A *crowded address* is the municipal signal of labour exploitation: many persons registered in the
population register (``REGISTERED_AT``) at one address at the same time. The rule
(:class:`CrowdedAddressRule`) counts, for every address, the most persons whose registration
periods cover one same day; the address is crowded when that count reaches ``min_persons``. A
crowded address is linked to a detected group when persons registered there are members (suspects)
or victims of the group: then it is a lead for that group, like a loose signal.

A *hub* is an address or an organisation shared by several detected groups: persons of two or more
groups registered at one address, or employed by, directing or owning one organisation.

Every output names an address only by its keyed ``address_id``, its postcode-4 and municipality,
and an organisation by its keyed ``organisation_id``, kind and municipality: never a street,
house number, full postcode, name or KvK number (the graph holds none).

``docs/detection.md`` explains the rule, its default and where it comes from.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx

from netanalysis.errors import ConfigError
from netanalysis.graphs import GraphIndex, index_graph
from netanalysis.movement import bare_key, node_label

__all__ = [
    "CROWDED_COLUMNS",
    "HUB_COLUMNS",
    "CrowdedAddressRule",
    "crowded_address_leads",
    "crowded_addresses",
    "shared_hubs",
]

#: Columns of ``crowded_addresses.csv`` (one row per crowded address and group it is linked to).
CROWDED_COLUMNS: tuple[str, ...] = (
    "address_id",
    "pc4",
    "municipality",
    "persons",
    "first_day",
    "last_day",
    "registered",
    "group_id",
    "group_persons",
)

#: Columns of ``hubs.csv`` (one row per address or organisation shared by several groups).
HUB_COLUMNS: tuple[str, ...] = (
    "hub",
    "hub_id",
    "kind",
    "pc4",
    "municipality",
    "n_groups",
    "groups",
    "persons",
)

# An open end of a registration: after every ISO date.
_OPEN_END = "9999-12-31"

# Ties of a person to an organisation that make it a hub.
_ORGANISATION_TIES = ("EMPLOYED_BY", "DIRECTOR_OF", "OWNS")


@dataclass
class CrowdedAddressRule:
    """When an address counts as crowded (``docs/detection.md``).

    Attributes
    ----------
    min_persons : int
        An address is crowded when at least this many persons are registered there on one same
        day. The default 6 is the toolkit's choice, not a published norm: see docs/detection.md.
    exclude_business : bool
        Leave out addresses that an organisation or premises is at (``AT``): a hotel, a campus or a
        company seat where many registrations are expected. Off by default: the agency that houses
        its workers at its own seat is the case the signal is for.
    exclude_municipalities : list of str
        CBS codes of municipalities whose addresses are left out (e.g. where a municipality runs its
        own signal already).
    """

    min_persons: int = 6
    exclude_business: bool = False
    exclude_municipalities: list[str] = field(default_factory=list)

    def validate(self) -> CrowdedAddressRule:
        """Check the rule; raise ConfigError with what to change."""
        if (
            isinstance(self.min_persons, bool)
            or not isinstance(self.min_persons, int)
            or self.min_persons < 2
        ):
            raise ConfigError(
                f"crowded.min_persons must be a whole number of at least 2, got {self.min_persons!r}."
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, e.g. to embed in the outputs."""
        return asdict(self)


def _day_after(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _peak(periods: Mapping[str, list[tuple[str, str]]]) -> tuple[int, str, str]:
    """The most persons registered on one day, and the first period (first day, last day) with
    that many; ``""`` for an open start, ``_OPEN_END`` for an open end."""
    events: list[tuple[str, int]] = []
    for spans in periods.values():
        # One person counts once a day, even with overlapping rows of the same registration.
        merged: list[list[str]] = []
        for start, end in sorted(spans):
            if merged and start <= (
                merged[-1][1] if merged[-1][1] == _OPEN_END else _day_after(merged[-1][1])
            ):
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            events.append((start, 1))
            if end != _OPEN_END:
                events.append((_day_after(end), -1))
    # On one day, departures (-1) before arrivals: a person who leaves the day before another
    # arrives never shares a day with her.
    events.sort(key=lambda e: (e[0], e[1]))
    best, best_from, best_to, now = 0, "", "", 0
    for i, (day, step) in enumerate(events):
        now += step
        if now > best and (i + 1 == len(events) or events[i + 1][0] != day):
            best, best_from = now, day
            later = next((d for d, s in events[i + 1 :] if s < 0), None)
            best_to = (
                _OPEN_END
                if later is None
                else (dt.date.fromisoformat(later) - dt.timedelta(days=1)).isoformat()
            )
    return best, best_from, best_to


def crowded_addresses(
    graph: nx.MultiDiGraph, rule: CrowdedAddressRule | None = None, index: GraphIndex | None = None
) -> list[dict[str, Any]]:
    """Addresses where at least ``rule.min_persons`` persons are registered at the same time.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store: ``(Person)-[:REGISTERED_AT {from_date, to_date}]->
        (Address)``; a missing ``from_date`` is an open start, a missing ``to_date`` a
        registration that lasts.
    rule : CrowdedAddressRule, optional
        The threshold and exclusions; the defaults when not given.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``, to save a pass over the edges.

    Returns
    -------
    list of dict
        One row per crowded address, most persons first: ``address_id`` (keyed), ``pc4``,
        ``municipality``, ``persons`` (most persons registered on one day), ``first_day`` and
        ``last_day`` (the first period with that many; ``""`` for an open start or end) and
        ``registered`` (persons ever registered there).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Address:h", label="Address", address_id="h", pc4="3011", municipality="GM0599")
    >>> for p, start, end in [("a", "2021-01-01", None), ("b", "2021-03-01", "2021-06-30"),
    ...                       ("c", "2021-06-01", None), ("d", "2022-01-01", None)]:
    ...     _ = g.add_edge(f"Person:{p}", "Address:h", type="REGISTERED_AT", from_date=start, to_date=end)
    >>> [row] = crowded_addresses(g, CrowdedAddressRule(min_persons=3))
    >>> row["address_id"], row["persons"], row["first_day"], row["last_day"], row["registered"]
    ('h', 3, '2021-06-01', '2021-06-30', 4)

    References
    ----------
    Counting the persons registered at one address is the address signal of the Dutch national
    approach to address quality (Landelijke Aanpak Adreskwaliteit, RvIG), which names "too many
    residents" among its risk signals; the counting itself is a sweep over interval end points
    (Bentley & Ottmann 1979, "Algorithms for reporting and counting geometric intersections").
    """
    rule = (rule or CrowdedAddressRule()).validate()
    index = index_graph(graph, index)
    excluded = set(rule.exclude_municipalities)
    business: set[str] = set()
    if rule.exclude_business:
        business = {v for _, v, _ in index.of("AT") if node_label(graph, v) == "Address"}
    periods: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for person, address, data in index.of("REGISTERED_AT"):
        start = str(data.get("from_date") or "")
        end = str(data.get("to_date") or "") or _OPEN_END
        if end < start:
            continue  # the loader drops such a to_date; a hand-made graph may still hold one
        periods[address][person].append((start, end))
    rows: list[dict[str, Any]] = []
    for address, by_person in periods.items():
        if len(by_person) < rule.min_persons or address in business:
            continue
        attrs = graph.nodes[address]
        if attrs.get("municipality") in excluded:
            continue
        persons, first_day, last_day = _peak(by_person)
        if persons < rule.min_persons:
            continue
        rows.append(
            {
                "address_id": str(attrs.get("address_id") or bare_key(address)),
                "pc4": str(attrs.get("pc4") or ""),
                "municipality": str(attrs.get("municipality") or ""),
                "persons": persons,
                "first_day": first_day,
                "last_day": "" if last_day == _OPEN_END else last_day,
                "registered": len(by_person),
            }
        )
    rows.sort(key=lambda r: (-int(r["persons"]), str(r["address_id"])))
    return rows


def _registered(index: GraphIndex) -> dict[str, set[str]]:
    people: dict[str, set[str]] = defaultdict(set)
    for person, address, _ in index.of("REGISTERED_AT"):
        people[bare_key(address)].add(bare_key(person))
    return people


def crowded_address_leads(
    graph: nx.MultiDiGraph,
    groups: Mapping[str, str],
    rule: CrowdedAddressRule | None = None,
    index: GraphIndex | None = None,
) -> list[dict[str, Any]]:
    """Crowded addresses (:func:`crowded_addresses`), each linked to the groups whose members or
    victims are registered there.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    groups : Mapping[str, str]
        Bare person id -> group id, for the suspects and victims of the detected groups.
    rule : CrowdedAddressRule, optional
        The crowded-address rule.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``.

    Returns
    -------
    list of dict
        Columns :data:`CROWDED_COLUMNS`: a crowded address once per group it is linked to, with
        ``group_persons`` the group's persons ever registered there; a crowded address no group
        touches once, with ``group_id`` ``""`` and ``group_persons`` 0 (a signal on its own).
        Sorted by address (most persons first) and group.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Address:h", label="Address", address_id="h", pc4="3011", municipality="GM0599")
    >>> for p in "abc":
    ...     _ = g.add_edge(f"Person:{p}", "Address:h", type="REGISTERED_AT", from_date="2021-01-01")
    >>> [(r["address_id"], r["group_id"], r["group_persons"])
    ...  for r in crowded_address_leads(g, {"a": "G001", "b": "G001"}, CrowdedAddressRule(min_persons=3))]
    [('h', 'G001', 2)]
    """
    index = index_graph(graph, index)
    crowded = crowded_addresses(graph, rule, index)
    people = _registered(index) if crowded else {}
    rows: list[dict[str, Any]] = []
    for row in crowded:
        counts: dict[str, int] = defaultdict(int)
        for person in people.get(row["address_id"], ()):
            group = groups.get(person)
            if group is not None:
                counts[str(group)] += 1
        if not counts:
            rows.append({**row, "group_id": "", "group_persons": 0})
        for group in sorted(counts):
            rows.append({**row, "group_id": group, "group_persons": counts[group]})
    return rows


def shared_hubs(
    graph: nx.MultiDiGraph,
    groups: Mapping[str, str],
    min_groups: int = 2,
    index: GraphIndex | None = None,
) -> list[dict[str, Any]]:
    """Addresses and organisations that persons of several detected groups share.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store.
    groups : Mapping[str, str]
        Bare person id -> group id, for the suspects and victims of the detected groups.
    min_groups : int
        A hub touches at least this many groups.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``.

    Returns
    -------
    list of dict
        Columns :data:`HUB_COLUMNS`: ``hub`` (``"address"`` or ``"organisation"``), ``hub_id``
        (keyed id), ``kind`` (the organisation's kind, ``""`` for an address), ``pc4`` (an
        address's postcode-4, ``""`` for an organisation), ``municipality``, ``n_groups``,
        ``groups`` (``"|"``-joined group ids) and ``persons`` (the groups' persons tied to it).
        Most groups first.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Organisation:o", label="Organisation", organisation_id="o", kind="employment agency",
    ...            municipality="GM0599")
    >>> for p in "abc":
    ...     _ = g.add_edge(f"Person:{p}", "Organisation:o", type="EMPLOYED_BY")
    >>> [(r["hub"], r["hub_id"], r["groups"], r["persons"]) for r in shared_hubs(g, {"a": "G1", "b": "G2"})]
    [('organisation', 'o', 'G1|G2', 2)]
    """
    if min_groups < 2:
        raise ConfigError(f"a hub is shared by at least 2 groups; min_groups {min_groups} is too low.")
    index = index_graph(graph, index)
    touched: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rel in ("REGISTERED_AT", *_ORGANISATION_TIES):
        for person, item, _ in index.of(rel):
            group = groups.get(bare_key(person))
            if group is not None:
                touched[item][str(group)].add(bare_key(person))
    rows: list[dict[str, Any]] = []
    for item, by_group in touched.items():
        if len(by_group) < min_groups:
            continue
        attrs = graph.nodes[item]
        is_address = node_label(graph, item) == "Address"
        rows.append(
            {
                "hub": "address" if is_address else "organisation",
                "hub_id": bare_key(item),
                "kind": "" if is_address else str(attrs.get("kind") or ""),
                "pc4": str(attrs.get("pc4") or "") if is_address else "",
                "municipality": str(attrs.get("municipality") or ""),
                "n_groups": len(by_group),
                "groups": "|".join(sorted(by_group)),
                "persons": len(set().union(*by_group.values())),
            }
        )
    rows.sort(key=lambda r: (-int(r["n_groups"]), str(r["hub"]), str(r["hub_id"])))
    return rows
