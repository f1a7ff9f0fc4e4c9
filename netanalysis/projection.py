"""The perpetrator network: suspects linked by weighted evidence.

Two suspects are linked when the graph holds evidence that they work together:

========== ==============================================================================
kind       evidence item
========== ==============================================================================
case       both are suspects in the same case (``SUSPECT_IN`` the same Case)
victim     both are suspects in cases of the same victim (``VICTIM_IN`` one of those cases)
phone      both use the same phone (``USES`` the same Phone)
vehicle    both use the same vehicle
account    both use the same bank account
premises   both were seen at the same premises (``SEEN_AT`` the same Premises)
address    both reach the same Address at the same time: registered there (``REGISTERED_AT``)
           themselves, or through a victim of theirs registered there, with overlapping periods
employer   both reach the same Organisation as its workforce at the same time: ``EMPLOYED_BY`` it
           themselves, or through a victim of theirs employed by it, with overlapping periods
director   one directs or owns an Organisation (``DIRECTOR_OF``, ``OWNS``) and the other also
           directs or owns it, or works for it (himself or through a victim), at the same time
========== ==============================================================================

A suspect reaches a victim through a case they share (``SUSPECT_IN`` and ``VICTIM_IN`` the same
Case) or a role from a case file (``EXPLOITED``, ``RECRUITED``, ``TRANSPORTED``, ``CONTROLLED``).
For ``address``, ``employer`` and ``director`` the two suspects must reach the item through two
different persons: one victim registered at a house links the suspects of her own case already
(``case``, ``victim``), not again through her address. Periods are the ``from_date``/``to_date``
of the registration or tie; a missing date is an open end, so a tie without dates overlaps every
period. A victim's registration or job counts for a suspect only within ``victim_tie_days`` of
the dated facts that tie her to him, and it is one fact split over the ``k`` suspects she is tied
to (each reaches the item through her with ``1/k`` of its factor; ``split_victim_facts``).

Each item adds ``kind weight x reliability(a) x reliability(b) x recency`` to the edge weight,
where reliability comes from the Admiralty grade of the two facts (``B2``: source B, information
2) and recency halves every ``half_life_days`` before ``as_of``. The defaults and the reasons
behind them are in ``docs/detection.md``; an analyst changes them through ``EvidenceWeights``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx

from netanalysis.errors import ConfigError
from netanalysis.graphs import LATEST_OBSERVED_ATTR, GraphIndex, check_iso_date, index_graph
from netanalysis.movement import bare_key, main_region, municipality_regions, node_label, observations

__all__ = [
    "EVIDENCE_KINDS",
    "ROLE_TYPES",
    "EvidenceWeights",
    "perpetrator_network",
    "reliability_factor",
    "suspects",
]

EVIDENCE_KINDS: tuple[str, ...] = (
    "case",
    "victim",
    "phone",
    "vehicle",
    "account",
    "premises",
    "address",
    "employer",
    "director",
)

#: Person-to-person roles from case files: the start person is a suspect of the end person.
ROLE_TYPES: tuple[str, ...] = ("EXPLOITED", "RECRUITED", "TRANSPORTED", "CONTROLLED")

# An open end of a period: after every ISO date.
_OPEN_END = "9999-12-31"

_IDENTIFIER_KIND = {"Phone": "phone", "Vehicle": "vehicle", "BankAccount": "account"}


@dataclass
class EvidenceWeights:
    """How much each kind of evidence counts in the perpetrator network.

    Attributes
    ----------
    case, victim, phone, vehicle, account, premises, address, employer, director : float
        Weight of one evidence item of that kind (see the module docstring and
        ``docs/detection.md``); 0 switches the kind off (it is then not read at all).
    half_life_days : float
        An item observed this many days before ``as_of`` counts half; 0 switches recency off.
    max_item_persons : int
        An item (case, phone, premises, ...) shared by more suspects than this is left out: a hotel
        or a call-centre number used by hundreds says nothing about who works together, and the
        number of pairs it would add grows with the square of its users.
    split_victim_facts : bool
        For ``address``, ``employer`` and ``director``: a victim's registration or job is one fact,
        shared by the suspects she is tied to. With ``k`` such suspects each reaches the address
        or organisation through her with ``1/k`` of the fact's factor, so that one registration (or
        one row wrongly resolved to her) does not tie every suspect of her group at full weight to
        everyone at the house. False: each counts in full (the rule before 2026-12-07).
    victim_tie_days : int or None
        For ``address``, ``employer`` and ``director``: a victim reaches an address or organisation
        on behalf of a suspect only from this many days before the first to this many days after
        the last dated fact that ties her to him (the observations of their shared cases, the
        dates of a role). A victim's registration or job years away from any sign of the tie is her
        own life, before or after the group (a former victim at an ordinary employer). None: no
        window (the rule before 2026-12-07).
    source_grade, information_grade : dict
        Factor per Admiralty letter (reliability of the source) and digit (credibility of the
        information). A fact's reliability factor is the product of the two.
    missing_grade : float
        Factor for a fact without a readable grade.
    """

    case: float = 1.0
    victim: float = 0.8
    phone: float = 0.7
    vehicle: float = 0.5
    account: float = 0.8
    premises: float = 0.4
    address: float = 0.6
    employer: float = 0.3
    director: float = 0.7
    half_life_days: float = 730.0
    max_item_persons: int = 50
    split_victim_facts: bool = True
    victim_tie_days: int | None = 365
    source_grade: dict[str, float] = field(
        default_factory=lambda: {"A": 1.0, "B": 0.9, "C": 0.75, "D": 0.5, "E": 0.3, "F": 0.5}
    )
    information_grade: dict[str, float] = field(
        default_factory=lambda: {"1": 1.0, "2": 0.9, "3": 0.75, "4": 0.5, "5": 0.3, "6": 0.5}
    )
    missing_grade: float = 0.5

    def kind_weight(self, kind: str) -> float:
        """The weight of one item of ``kind``."""
        return float(getattr(self, kind))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, e.g. to embed in the outputs."""
        return asdict(self)


def reliability_factor(grade: object, weights: EvidenceWeights | None = None) -> float:
    """The factor (0-1) of an Admiralty grade such as ``"B2"``.

    Examples
    --------
    >>> reliability_factor("A1")
    1.0
    >>> round(reliability_factor("C3"), 4)
    0.5625
    >>> reliability_factor(None)
    0.5
    """
    weights = weights or EvidenceWeights()
    text = str(grade or "").strip().upper()
    if len(text) != 2 or text[0] not in weights.source_grade or text[1] not in weights.information_grade:
        return weights.missing_grade
    return weights.source_grade[text[0]] * weights.information_grade[text[1]]


def suspects(graph: nx.MultiDiGraph, index: GraphIndex | None = None) -> list[str]:
    """Person node ids that are suspects: ``SUSPECT_IN`` a case or ``"suspect"`` in their roles."""
    result = set()
    for node, data in graph.nodes(data=True):
        if "suspect" in (data.get("roles") or ()) and node_label(graph, node) == "Person":
            result.add(node)
    for u, _, _ in index_graph(graph, index).of("SUSPECT_IN"):
        result.add(u)
    return sorted(result)


def _latest_date(index: GraphIndex) -> str | None:
    latest = None
    for edges in index.all_edges():
        dates = [d for _, _, data in edges if (d := data.get("observed_on"))]
        if dates:
            top = max(dates)
            latest = top if latest is None else max(latest, top)
    return latest


def _better(old: tuple[float, str] | None, factor: float, date: str) -> tuple[float, str]:
    # One person may reach an item through several facts: keep the most reliable, and the latest date.
    if old is None:
        return factor, date
    return max(old[0], factor), max(old[1], date)


# One way a suspect reaches an address or organisation: (start, end, via person, side, factor, date).
# side is "director" for DIRECTOR_OF/OWNS, "" otherwise.
_Reach = tuple[str, str, str, str, float, str]

# Relationship type -> (evidence kinds it feeds, side).
_TIMED_TIES: dict[str, tuple[tuple[str, ...], str]] = {
    "REGISTERED_AT": (("address",), ""),
    "EMPLOYED_BY": (("employer", "director"), ""),
    "DIRECTOR_OF": (("director",), "director"),
    "OWNS": (("director",), "director"),
}


def _timed_items(
    index: GraphIndex,
    weights: EvidenceWeights,
    suspect_set: set[str],
    case_victims: Mapping[str, Mapping[str, tuple[float, str]]],
    items: Mapping[tuple[str, str], Mapping[str, tuple[float, str]]],
    factor_of: Callable[[Mapping[str, Any]], float],
) -> dict[tuple[str, str], dict[str, list[_Reach]]]:
    """Address and organisation items: item (kind, node) -> suspect -> the ways it reaches it."""
    wanted = {kind for kind in ("address", "employer", "director") if weights.kind_weight(kind) != 0}
    if not wanted:
        return {}
    # The dates a case was observed on (its suspects' and victims' facts): when the tie it records held.
    case_days: dict[str, list[str]] = defaultdict(list)
    for rel in ("SUSPECT_IN", "VICTIM_IN"):
        for _, case, data in index.of(rel):
            if day := str(data.get("observed_on") or ""):
                case_days[case].append(day)
    # victim -> suspect -> (factor of the best tie between them, first day, last day of the ties;
    # "" when no tie is dated)
    keepers: dict[str, dict[str, tuple[float, str, str]]] = defaultdict(dict)

    def keep(victim: str, suspect: str, factor: float, days: list[str]) -> None:
        old = keepers[victim].get(suspect)
        first, last = (min(days), max(days)) if days else ("", "")
        if old is not None:
            factor = max(old[0], factor)
            if old[1]:
                first, last = (min(old[1], first), max(old[2], last)) if first else old[1:]
        keepers[victim][suspect] = (factor, first, last)

    for case, victims in case_victims.items():
        case_suspects = items.get(("case", case), {})
        days = case_days.get(case, [])
        for victim, (v_factor, _) in victims.items():
            for suspect, (s_factor, _) in case_suspects.items():
                if suspect != victim:
                    keep(victim, suspect, v_factor * s_factor, days)
    for rel in ROLE_TYPES:
        for u, v, data in index.of(rel):
            if u in suspect_set and u != v:
                role_days = [str(d) for f in ("from_date", "to_date", "observed_on") if (d := data.get(f))]
                keep(v, u, factor_of(data), role_days)

    margin = weights.victim_tie_days
    shifted: dict[tuple[str, int], str] = {}

    def shift(day: str, days: int) -> str:
        key = (day, days)
        value = shifted.get(key)
        if value is None:
            value = shifted[key] = (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()
        return value

    timed: dict[tuple[str, str], dict[str, list[_Reach]]] = defaultdict(lambda: defaultdict(list))
    for rel, (kinds, side) in _TIMED_TIES.items():
        kinds = tuple(k for k in kinds if k in wanted)
        if not kinds:
            continue
        for person, item, data in index.of(rel):
            via_keepers = keepers.get(person) if not side else None
            if person not in suspect_set and not via_keepers:
                continue
            start = str(data.get("from_date") or "")
            end = str(data.get("to_date") or "") or _OPEN_END
            factor = factor_of(data)
            date = str(data.get("observed_on") or data.get("to_date") or data.get("from_date") or "")
            # Directing is a suspect's own act; working for and living somewhere may be the
            # victim's, on behalf of the suspects who keep her: only while she is tied to them
            # (``victim_tie_days``), and her fact is one fact, split over them
            # (``split_victim_facts``).
            share = 1.0 / len(via_keepers) if via_keepers and weights.split_victim_facts else 1.0
            via_ways: list[tuple[str, str, str, float]] = []
            for suspect, (k_factor, first, last) in (via_keepers or {}).items():
                v_start, v_end = start, end
                if margin is not None and first:
                    v_start = max(start, shift(first, -margin))
                    v_end = min(end, shift(last, margin))
                    if v_start > v_end:
                        continue
                via_ways.append((suspect, v_start, v_end, factor * k_factor * share))
            for kind in kinds:
                reach = timed[(kind, item)]
                if person in suspect_set:
                    reach[person].append((start, end, person, side, factor, date))
                for suspect, v_start, v_end, v_factor in via_ways:
                    reach[suspect].append((v_start, v_end, person, side, v_factor, date))
    # An organisation none of whose directors or owners is a suspect gives no director evidence.
    return {
        key: dict(reach)
        for key, reach in timed.items()
        if key[0] != "director" or any(r[3] for ways in reach.values() for r in ways)
    }


def _best_overlap(
    kind: str, ways_a: list[_Reach], ways_b: list[_Reach], decay: Callable[[str], float]
) -> float | None:
    """The best ``factor_a x factor_b x recency`` over the ways two suspects reach one item at the
    same time through two different persons (for ``director``: at least one way a directorship);
    None when there is none."""
    best: float | None = None
    for start_a, end_a, via_a, side_a, factor_a, date_a in ways_a:
        for start_b, end_b, via_b, side_b, factor_b, date_b in ways_b:
            if via_a == via_b or (kind == "director" and not side_a and not side_b):
                continue
            if start_a <= end_b and start_b <= end_a:
                value = factor_a * factor_b * decay(max(date_a, date_b))
                if best is None or value > best:
                    best = value
    return best


def perpetrator_network(
    graph: nx.MultiDiGraph,
    weights: EvidenceWeights | None = None,
    as_of: str | None = None,
    level: str = "police_unit",
    index: GraphIndex | None = None,
) -> nx.Graph:
    """Project the store graph onto suspects linked by weighted evidence.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph as read from the store (``netanalysis.graphs.read_analysis_graph``), or only
        the facts the network is made of (``netanalysis.graphs.read_evidence_graph``, selected by
        the store: the same network).
    weights : EvidenceWeights, optional
        Weights per evidence kind, reliability factors, recency half-life.
    as_of : str, optional
        ISO date the recency decay counts back from; default the latest ``observed_on`` in the
        graph (of an evidence graph: ``graph.graph[LATEST_OBSERVED_ATTR]``, that of the whole
        window), so the same graph always gives the same network (not "today").
    level : str
        Region level for the node attribute ``region``.
    index : GraphIndex, optional
        ``netanalysis.graphs.index_graph(graph)``, to save passes over the edges.

    Returns
    -------
    networkx.Graph
        Nodes: bare person ids of every suspect (also those without links, the lone offenders),
        with attributes ``region`` (region code where the person was observed most, or
        ``"unknown"``) and ``roles`` (sorted list). Edges: ``weight`` (float, > 0), ``evidence``
        (dict kind -> number of items) and ``kinds`` (``"|"``-joined kinds, sorted). Graph
        attributes: ``as_of``, ``skipped_items`` (items left out for having too many suspects).

    Raises
    ------
    ConfigError
        When ``as_of`` is not an ISO date, ``level`` is not a region level or
        ``weights.victim_tie_days`` is negative.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for p in ("a", "b"):
    ...     _ = g.add_edge(f"Person:{p}", "Case:c1", key=p, type="SUSPECT_IN", reliability="A1",
    ...                    observed_on="2023-01-01")
    >>> net = perpetrator_network(g)
    >>> sorted(net.edges(data="weight"))
    [('a', 'b', 1.0)]

    References
    ----------
    The projection of a two-mode (person-event) network onto persons follows Breiger (1974), "The
    duality of persons and groups", Social Forces 53(2); weighting criminal ties by evidence kind
    and reliability follows the practice described in Bright, Hughes & Chalmers (2012),
    "Illuminating dark networks", Crime, Law and Social Change 57.
    """
    weights = weights or EvidenceWeights()
    tie_days = weights.victim_tie_days
    if tie_days is not None and (isinstance(tie_days, bool) or not isinstance(tie_days, int) or tie_days < 0):
        raise ConfigError(
            f"weights.victim_tie_days must be a whole number of days, 0 or more (or None for no "
            f"window), got {tie_days!r}."
        )
    # The same bad date gives the same ConfigError here as in DetectionSettings.validate.
    as_of = check_iso_date(as_of, "as_of")
    index = index_graph(graph, index)
    if not as_of and LATEST_OBSERVED_ATTR in graph.graph:
        # Only the evidence was read (read_evidence_graph): the store gave the latest observation
        # of everything else as well.
        as_of = graph.graph[LATEST_OBSERVED_ATTR]
    as_of = as_of or _latest_date(index)
    as_of_day = dt.date.fromisoformat(as_of) if as_of else None
    suspect_nodes = suspects(graph, index)
    suspect_set = set(suspect_nodes)

    # A few grades occur on millions of facts: compute each factor once.
    factors: dict[str, float] = {}

    def factor_of(data: Mapping[str, Any]) -> float:
        grade = data.get("reliability")
        text = str(grade or "")
        value = factors.get(text)
        if value is None:
            value = factors[text] = reliability_factor(grade, weights)
        return value

    # item (kind, node) -> suspect -> (best reliability factor, latest date)
    items: dict[tuple[str, str], dict[str, tuple[float, str]]] = defaultdict(dict)
    case_victims: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)

    def add(key: tuple[str, str], person: str, factor: float, date: str) -> None:
        item = items[key]
        old = item.get(person)
        item[person] = (factor, date) if old is None else (max(old[0], factor), max(old[1], date))

    for u, v, data in index.of("SUSPECT_IN"):
        add(("case", v), u, factor_of(data), str(data.get("observed_on") or ""))
    for u, v, data in index.of("VICTIM_IN"):
        case_victims[v][u] = _better(
            case_victims[v].get(u), factor_of(data), str(data.get("observed_on") or "")
        )
    labels: dict[str, str] = {}

    def label_of(node: str) -> str:
        label = labels.get(node)
        if label is None:
            label = labels[node] = node_label(graph, node)
        return label

    for u, v, data in index.of("USES"):
        if u in suspect_set:
            kind = _IDENTIFIER_KIND.get(label_of(v))
            if kind:
                add((kind, v), u, factor_of(data), str(data.get("observed_on") or ""))
    for u, v, data in index.of("SEEN_AT"):
        if u in suspect_set and label_of(v) == "Premises":
            add(("premises", v), u, factor_of(data), str(data.get("observed_on") or ""))

    # A shared victim: the suspects of every case the victim is in, each reached through two facts.
    for case, victims in case_victims.items():
        case_suspects = items.get(("case", case), {})
        for victim, (v_factor, v_date) in victims.items():
            item = items[("victim", victim)]
            for suspect, (s_factor, s_date) in case_suspects.items():
                if suspect != victim:
                    item[suspect] = _better(item.get(suspect), v_factor * s_factor, max(v_date, s_date))

    timed = _timed_items(index, weights, suspect_set, case_victims, items, factor_of)

    decays: dict[str, float] = {}

    def decay(date: str) -> float:
        value = decays.get(date)
        if value is not None:
            return value
        if not date or not as_of_day or weights.half_life_days <= 0:
            value = 1.0
        else:
            age = (as_of_day - dt.date.fromisoformat(date)).days
            value = float(0.5 ** (max(age, 0) / weights.half_life_days))
        decays[date] = value
        return value

    pair_weight: dict[tuple[str, str], float] = {}
    pair_kinds: dict[tuple[str, str], dict[str, int]] = {}
    skipped: Counter[str] = Counter()

    def add_pair(kind: str, pair: tuple[str, str], add_weight: float) -> None:
        old = pair_weight.get(pair)
        if old is None:
            pair_weight[pair] = 0.0 + add_weight
            pair_kinds[pair] = {kind: 1}
        else:
            pair_weight[pair] = old + add_weight
            kinds = pair_kinds[pair]
            kinds[kind] = kinds.get(kind, 0) + 1

    # Items in sorted order, pairs in sorted order: the float sums always add up in the same order.
    for (kind, _), members in sorted(items.items()):
        if len(members) < 2:
            continue
        if len(members) > weights.max_item_persons:
            skipped[kind] += 1
            continue
        kind_weight = weights.kind_weight(kind)
        if kind_weight == 0:
            continue
        for a, b in combinations(sorted(members), 2):
            fa, da = members[a]
            fb, db = members[b]
            pair = (a, b)
            add_weight = kind_weight * fa * fb * decay(max(da, db))
            old = pair_weight.get(pair)
            if old is None:
                pair_weight[pair] = 0.0 + add_weight
                pair_kinds[pair] = {kind: 1}
            else:
                pair_weight[pair] = old + add_weight
                kinds = pair_kinds[pair]
                kinds[kind] = kinds.get(kind, 0) + 1
    # Addresses and organisations after, also sorted: a pair counts only when the two reach the
    # item at the same time through different persons (``_best_overlap``).
    for (kind, _), reach in sorted(timed.items()):
        if len(reach) < 2:
            continue
        if len(reach) > weights.max_item_persons:
            skipped[kind] += 1
            continue
        kind_weight = weights.kind_weight(kind)
        for a, b in combinations(sorted(reach), 2):
            best = _best_overlap(kind, reach[a], reach[b], decay)
            if best is not None:
                add_pair(kind, (a, b), kind_weight * best)

    regions = municipality_regions(graph, level, index)
    obs = observations(graph, suspect_nodes, index)
    network = nx.Graph(as_of=as_of, skipped_items=dict(skipped), level=level)
    nodes = graph.nodes
    short = {node: bare_key(node) for node in suspect_nodes}
    network.add_nodes_from(
        (
            short[node],
            {
                "region": main_region(obs.get(node, []), regions),
                "roles": sorted(nodes[node].get("roles") or ["suspect"]),
            },
        )
        for node in suspect_nodes
    )

    def link_attrs(pair: tuple[str, str], weight: float) -> dict[str, Any]:
        kinds = pair_kinds[pair]
        if len(kinds) == 1:  # most links: one kind of evidence
            (kind,) = kinds
            return {"weight": weight, "evidence": dict(kinds), "kinds": kind}
        evidence = dict(sorted(kinds.items()))
        return {"weight": weight, "evidence": evidence, "kinds": "|".join(evidence)}

    network.add_edges_from(
        (short[a], short[b], link_attrs((a, b), weight))
        for (a, b), weight in pair_weight.items()
        if weight > 0
    )
    return network


def evidence_summary(network: nx.Graph) -> Mapping[str, int]:
    """Number of edges of the network that carry each evidence kind."""
    counts: Counter[str] = Counter()
    for _, _, evidence in network.edges(data="evidence"):
        counts.update(evidence or {})
    return dict(sorted(counts.items()))
