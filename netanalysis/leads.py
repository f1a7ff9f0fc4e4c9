"""Leads: loose signals (not yet tied to a case) that match a known perpetrator group.

A signal touches a group through *evidence items*:

- ``person``: the signal CONCERNS a person who is a member (suspect or victim) of the group;
- ``phone``, ``vehicle``, ``bank_account``: a person the signal CONCERNS USES an identifier that
  another member of the group also USES;
- ``premises``: the signal is AT premises where a member of the group was SEEN_AT.

A municipality is never evidence: it is far too coarse (hundreds of signals share one).

Each item has a weight in [0, 1] (:class:`LeadWeights`), read as the chance that the item alone
makes the signal belong to the group. An item that several groups share (a hotel used by three
groups) is split between them: its weight is divided by the number of groups it touches. Items
combine as independent pieces of evidence (noisy-OR), and the signal's reliability grade scales
the result::

    score = reliability_factor(grade) * (1 - prod_i (1 - w_i / groups_sharing_i))

See ``docs/key-players-and-leads.md`` for the defaults and why.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import networkx as nx
import pandas as pd

from netanalysis.errors import ConfigError

__all__ = ["DEFAULT_LEAD_WEIGHTS", "EVIDENCE_KINDS", "LEAD_COLUMNS", "LeadWeights", "find_leads"]

#: Columns of ``leads.csv``.
LEAD_COLUMNS: tuple[str, ...] = ("signal_id", "group_id", "score", "rank", "evidence", "via")

#: Evidence kinds, in the order they are written in the ``evidence`` column.
EVIDENCE_KINDS: tuple[str, ...] = ("person", "phone", "vehicle", "bank_account", "premises")

_IDENTIFIER_KIND = {"Phone": "phone", "Vehicle": "vehicle", "BankAccount": "bank_account"}


def _default_source_grades() -> dict[str, float]:
    return {"A": 1.0, "B": 0.9, "C": 0.75, "D": 0.5, "E": 0.25, "F": 0.6}


def _default_information_grades() -> dict[str, float]:
    return {"1": 1.0, "2": 0.9, "3": 0.75, "4": 0.5, "5": 0.25, "6": 0.6}


@dataclass(frozen=True)
class LeadWeights:
    """How much each kind of shared item says, and how much a signal's reliability grade counts.

    Attributes
    ----------
    person : float
        Weight of a person the signal concerns who is a group member (suspect or victim). The
        strongest evidence: entity resolution already says it is the same person.
    phone, vehicle, bank_account : float
        Weight of an identifier the signalled person shares with a group member. A bank account
        is rarely shared by chance, a phone somewhat more often (handed on, reused numbers), a car
        more often (rented, lent, sold).
    premises : float
        Weight of premises where group members were seen. Kept below ``min_score`` on purpose: a
        massage parlour or car wash alone is visited by many people, so premises only make a lead
        together with another item.
    reliability_weight : float
        How strongly the grade lowers the score, in [0, 1]: the factor is
        ``1 - reliability_weight * (1 - grade)``; 0 ignores grades, 1 multiplies by the grade.
    source_grades, information_grades : Mapping[str, float]
        Value in [0, 1] of the Admiralty source letter (A–F) and information digit (1–6); the grade
        of a signal graded ``"B2"`` is ``source_grades["B"] * information_grades["2"]``.
    unknown_grade : float
        Grade used for a signal without a readable reliability grade.

    Examples
    --------
    >>> LeadWeights().factor("A1")
    1.0
    >>> round(LeadWeights().factor("C3"), 4)
    0.7812
    >>> LeadWeights(reliability_weight=0.0).factor("E5")
    1.0
    """

    person: float = 0.9
    phone: float = 0.75
    vehicle: float = 0.6
    bank_account: float = 0.8
    premises: float = 0.35
    reliability_weight: float = 0.5
    source_grades: Mapping[str, float] = field(default_factory=_default_source_grades)
    information_grades: Mapping[str, float] = field(default_factory=_default_information_grades)
    unknown_grade: float = 0.6

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            values = value.values() if isinstance(value, Mapping) else [value]
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
                    raise ConfigError(f"Lead weight {f.name!r} must be a number between 0 and 1 (got {v!r}).")

    def weight(self, kind: str) -> float:
        """Weight of one evidence item of ``kind`` (one of :data:`EVIDENCE_KINDS`)."""
        return float(getattr(self, kind))

    def factor(self, grade: Any) -> float:
        """Reliability factor of a signal with Admiralty ``grade`` (e.g. ``"B2"``), in [0, 1]."""
        value = self.unknown_grade
        if isinstance(grade, str):
            g = grade.strip().upper()
            if len(g) == 2 and g[0] in self.source_grades and g[1] in self.information_grades:
                value = self.source_grades[g[0]] * self.information_grades[g[1]]
            elif len(g) == 1 and g in self.source_grades:
                value = self.source_grades[g]
        return 1.0 - self.reliability_weight * (1.0 - value)


#: The default weights (documented in docs/key-players-and-leads.md).
DEFAULT_LEAD_WEIGHTS = LeadWeights()

# Scores are rounded so float noise from the order items are met in cannot reorder leads.
_DECIMALS = 6


def find_leads(
    graph: nx.MultiDiGraph,
    groups: Mapping[str, str],
    weights: LeadWeights = DEFAULT_LEAD_WEIGHTS,
    min_score: float = 0.5,
) -> pd.DataFrame:
    """Rank the signals not yet tied to a case by how strongly they match each known group.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store (``graphstore`` node ids ``"Label:key"``, node attribute
        ``label``, edge attribute ``type``): Signal, Person, Phone, Vehicle, BankAccount and
        Premises nodes with CONCERNS, USES, SEEN_AT and AT relationships.
    groups : Mapping[str, str]
        Bare person id -> group id, for suspects and victims of the groups.
    weights : LeadWeights
        Evidence weights and reliability factor.
    min_score : float
        Leads scoring below this are left out (0 keeps every signal that touches a group).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LEAD_COLUMNS`, one row per (signal, group) at or above ``min_score``,
        sorted by rank: ``signal_id`` (bare key, ``"<source>:<row_id>"``), ``group_id``, ``score``
        in [0, 1], ``rank`` (1 = strongest lead overall; equal scores share a rank), ``evidence``
        (the kinds of items, ``"|"``-joined, e.g. ``"phone|premises"``) and ``via`` (the number of
        distinct shared items: persons, identifiers and premises).

        Signals with ``case_linked`` true are skipped: they are already in an investigation.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("Signal:sig:1", label="Signal", signal_id="sig:1", case_linked=False, reliability="A1")
    >>> G.add_node("Person:s", label="Person", person_id="s")
    >>> G.add_node("Person:m", label="Person", person_id="m")
    >>> G.add_node("Phone:x", label="Phone", phone_id="x")
    >>> _ = G.add_edge("Signal:sig:1", "Person:s", key="r1", type="CONCERNS")
    >>> _ = G.add_edge("Person:s", "Phone:x", key="r2", type="USES")
    >>> _ = G.add_edge("Person:m", "Phone:x", key="r3", type="USES")
    >>> find_leads(G, {"m": "G001"}).to_dict("records")
    [{'signal_id': 'sig:1', 'group_id': 'G001', 'score': 0.75, 'rank': 1, 'evidence': 'phone', 'via': 1}]
    """
    if graph.is_directed() is False:
        raise ConfigError("find_leads needs the directed graph read from the store (read_graph).")
    if not 0.0 <= min_score <= 1.0:
        raise ConfigError(f"min_score must be between 0 and 1 (got {min_score}).")
    # The node and adjacency dicts themselves, read without a networkx view per call: the
    # leads walk the facts of every member and every signal (a third of the time at 100k rows).
    attrs: dict[Hashable, dict[str, Any]] = dict(graph.nodes(data=True))
    out: dict[Hashable, dict[Hashable, Any]] = dict(graph.adjacency())
    multi = graph.is_multigraph()

    def out_types(node: Hashable) -> Iterator[tuple[Hashable, Any]]:
        """(end, type) of every relationship from ``node``, as ``graph.out_edges(node, data="type")``."""
        for end, keyed in out[node].items():
            for data in keyed.values() if multi else (keyed,):
                yield end, data.get("type")

    label: dict[Hashable, Any] = {n: d.get("label") for n, d in attrs.items()}
    member_group: dict[Hashable, str] = {}
    for node, lab in label.items():
        if lab == "Person":
            group_id = groups.get(_key(attrs[node], node, "person_id"))
            if group_id is not None:
                member_group[node] = str(group_id)
    # item node -> group -> group members seen there / using it
    used_by: dict[Hashable, dict[str, set[Hashable]]] = {}
    seen_by: dict[Hashable, dict[str, set[Hashable]]] = {}
    for member, group_id in member_group.items():
        for item, rel in out_types(member):
            if rel == "USES" and label.get(item) in _IDENTIFIER_KIND:
                used_by.setdefault(item, {}).setdefault(group_id, set()).add(member)
            elif rel == "SEEN_AT" and label.get(item) == "Premises":
                seen_by.setdefault(item, {}).setdefault(group_id, set()).add(member)

    rows: list[dict[str, Any]] = []
    for signal, lab in label.items():
        if lab != "Signal" or _truthy(attrs[signal].get("case_linked")):
            continue
        # group -> {(kind, item node): weight}
        found: dict[str, dict[tuple[str, Hashable], float]] = {}
        for target, rel in out_types(signal):
            if rel == "CONCERNS" and label.get(target) == "Person":
                if target in member_group:
                    found.setdefault(member_group[target], {})[("person", target)] = weights.person
                for item, rel2 in out_types(target):
                    if rel2 != "USES" or item not in used_by:
                        continue
                    sharing = {g: m - {target} for g, m in used_by[item].items()}
                    sharing = {g: m for g, m in sharing.items() if m}
                    kind = _IDENTIFIER_KIND[label[item]]
                    for group_id in sharing:
                        found.setdefault(group_id, {})[(kind, item)] = weights.weight(kind) / len(sharing)
            elif rel == "AT" and label.get(target) == "Premises" and target in seen_by:
                sharing_groups = seen_by[target]
                for group_id in sharing_groups:
                    found.setdefault(group_id, {})[("premises", target)] = weights.premises / len(
                        sharing_groups
                    )
        if not found:
            continue
        factor = weights.factor(attrs[signal].get("reliability"))
        signal_id = _key(attrs[signal], signal, "signal_id")
        for group_id, items in found.items():
            score = round(factor * (1.0 - math.prod(1.0 - w for w in items.values())), _DECIMALS)
            if score < min_score or score <= 0.0:
                continue
            kinds = {kind for kind, _ in items}
            rows.append(
                {
                    "signal_id": signal_id,
                    "group_id": group_id,
                    "score": score,
                    "evidence": "|".join(k for k in EVIDENCE_KINDS if k in kinds),
                    "via": len(items),
                }
            )
    if not rows:
        return pd.DataFrame(
            {
                "signal_id": pd.Series(dtype="str"),
                "group_id": pd.Series(dtype="str"),
                "score": pd.Series(dtype="float64"),
                "rank": pd.Series(dtype="int64"),
                "evidence": pd.Series(dtype="str"),
                "via": pd.Series(dtype="int64"),
            }
        )
    frame = pd.DataFrame(rows)
    frame["rank"] = frame["score"].rank(method="min", ascending=False).astype("int64")
    frame = frame.sort_values(["rank", "signal_id", "group_id"], kind="stable").reset_index(drop=True)
    return frame[list(LEAD_COLUMNS)]


def _key(attrs: Mapping[str, Any], node: Hashable, prop: str) -> str:
    value = attrs.get(prop)
    if value is not None:
        return str(value)
    text = str(node)
    return text.split(":", 1)[1] if ":" in text else text


def _truthy(value: Any) -> bool:
    # Stores give JSON booleans, but a CSV-fed graph may carry "true"/"false" strings.
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "ja"}
    return bool(value)
