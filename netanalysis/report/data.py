"""What the report reads of the graph, as plain data: from a graph, or from a store directly.

The report's tables count the detection's frames; of the graph they need only a few facts: the
days on which the persons of the groups were observed, the coarse facts of those persons, the
exploitation forms of their cases and signals, the signals with their places, the names of the
regions, the number of municipalities, the load batches and the kinds of the sources.
``report_data`` takes them from a graph (``read_report_graph`` or ``read_analysis_graph``);
``read_report_data`` asks a store for them alone (``GraphStore.observation_days``,
``GraphStore.fact_rows``, ``GraphStore.node_properties``), for the persons of a detection the
analysts already have, so that the report on it never holds the graph (issue 21). Both give the
same ``ReportData``, and so the same report (tests/test_report_detection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from graphstore.base import GraphStore
from netanalysis.audit import GRAPH_STORE_ATTR, audited
from netanalysis.graphs import REPORT_ATTR, ReportFacts, store_labels
from netanalysis.report.breakdowns import _person_forms

__all__ = ["ReportData", "read_report_data", "report_data", "report_persons"]

#: Labels a report graph leaves out; their facts are never a person's observation.
_LEFT_OUT = frozenset({"Group", "Merge", "Record", "Source"})


@dataclass
class ReportData:
    """The facts of the graph the report's tables count.

    observations
        Bare person id -> ISO days of its relationships (``_person_observations``).
    persons
        ``"Person:<id>"`` -> the person's coarse facts (``gender``, ``nationality``,
        ``birth_year``), as the Person node's attributes.
    forms
        Bare person id -> day (or "") -> exploitation forms of its cases and signals.
    signals
        One dict per signal: ``signal_id``, and ``observed_on``, ``source``, ``case_linked``
        where the signal has them.
    signal_place
        Bare signal id -> ``"Municipality:<code>"`` of the place it is AT.
    regions
        Region code -> name, of the report's level.
    municipalities
        How many municipalities the graph holds.
    batches, sources
        The load batches of the records (sorted) and source name -> kind: the stamp.
    uri
        The store the facts were read from (None for a graph built in memory): the audit log's.
    """

    observations: dict[str, list[str]]
    persons: dict[str, dict[str, Any]]
    forms: dict[str, dict[str, list[str]]]
    signals: list[dict[str, Any]]
    signal_place: dict[str, str]
    regions: dict[str, str]
    municipalities: int
    batches: list[str]
    sources: dict[str, str]
    uri: str | None = None


def report_persons(groups: pd.DataFrame) -> list[str]:
    """The bare ids of the suspects and victims of the detection's ``groups`` frame, sorted: the
    persons the report counts."""
    roles = groups[groups["role"].isin(["suspect", "victim"])]
    return sorted({str(p) for p in roles["person_id"].tolist()})


def _person_observations(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Bare person id -> observation dates (ISO) from every relationship of the person."""
    dates: dict[str, list[str]] = {}
    for u, _v, data in graph.edges(data=True):
        if graph.nodes[u].get("label") != "Person":
            continue
        day = data.get("observed_on")
        if isinstance(day, str):
            dates.setdefault(u.split(":", 1)[1], []).append(day[:10])
    return dates


def _region_names(graph: nx.MultiDiGraph, level: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for _n, data in graph.nodes(data=True):
        if data.get("label") == "Region" and data.get("level") == level:
            names[str(data.get("code"))] = str(data.get("name") or data.get("code"))
    return names


def _signals(graph: nx.MultiDiGraph) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The signals with their attributes, and the municipality each is AT (directly, or through
    the premises it is AT)."""
    signals = []
    signal_place: dict[str, str] = {}
    for node, data in graph.nodes(data=True):
        if data.get("label") == "Signal":
            signals.append({"signal_id": node.split(":", 1)[1], **data})
    for u, v, data in graph.edges(data=True):
        if data.get("type") == "AT" and graph.nodes[u].get("label") == "Signal":
            if graph.nodes[v].get("label") == "Municipality":
                signal_place[u.split(":", 1)[1]] = v
            elif graph.nodes[v].get("label") == "Premises":
                code = graph.nodes[v].get("municipality")
                if code:
                    signal_place.setdefault(u.split(":", 1)[1], f"Municipality:{code}")
    return signals, signal_place


def _stamp_facts(graph: nx.MultiDiGraph) -> tuple[list[str], dict[str, str]]:
    """The load batches and the sources' kinds: counted by the store for a report graph, else
    from the graph's Record and Source nodes."""
    facts = graph.graph.get(REPORT_ATTR)
    if isinstance(facts, ReportFacts):  # a report graph: the store listed the records' batches
        return [b for b in facts.batches if b], dict(facts.sources)
    batches = sorted(
        {str(d["batch"]) for _n, d in graph.nodes(data=True) if d.get("label") == "Record" and d.get("batch")}
    )
    sources = {
        str(d.get("name")): str(d.get("kind", ""))
        for _n, d in graph.nodes(data=True)
        if d.get("label") == "Source"
    }
    return batches, sources


def report_data(graph: nx.MultiDiGraph, level: str) -> ReportData:
    """The facts the report counts, taken from a graph read from a store (or built in memory).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        ``read_report_graph`` or ``read_analysis_graph`` (both give the same facts).
    level : str
        The region level of the report (``police_unit``, ``safety_region`` or ``province``).

    Returns
    -------
    ReportData

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("Person:p1", label="Person", gender="f")
    >>> g.add_node("Case:c1", label="Case", exploitation_type="labour")
    >>> _ = g.add_edge("Person:p1", "Case:c1", type="VICTIM_IN", observed_on="2024-03-01")
    >>> data = report_data(g, "police_unit")
    >>> data.observations, data.forms, data.persons["Person:p1"]["gender"]
    ({'p1': ['2024-03-01']}, {'p1': {'2024-03-01': ['labour']}}, 'f')
    """
    signals, signal_place = _signals(graph)
    batches, sources = _stamp_facts(graph)
    uri = graph.graph.get(GRAPH_STORE_ATTR)
    return ReportData(
        observations=_person_observations(graph),
        persons={n: d for n, d in graph.nodes(data=True) if d.get("label") == "Person"},
        forms=_person_forms(graph),
        signals=signals,
        signal_place=signal_place,
        regions=_region_names(graph, level),
        municipalities=sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Municipality"),
        batches=batches,
        sources=sources,
        uri=str(uri) if uri else None,
    )


def _count_read(proc: Any, data: ReportData, arguments: Mapping[str, Any]) -> None:
    """The audit log's counts of a report read: the persons whose facts were read."""
    proc.count("persons_read", len(data.persons))


@audited("read", store="store", after=_count_read)
def read_report_data(store: GraphStore, level: str, persons: Collection[str]) -> ReportData:
    """The facts the report counts for the given persons, asked of the store without a graph.

    The same ``ReportData`` as ``report_data(read_report_graph(store), level)`` for the facts of
    these persons (and every signal, region, municipality, batch and source): each read is a
    keyed look-up or a count in the store (SQL on the embedded store, Cypher on Neo4j), so the
    report on a detection holds no graph (issue 21; benchmarks/RESULTS.md).

    Parameters
    ----------
    store : GraphStore
        An open store.
    level : str
        The region level of the report.
    persons : collection of str
        Bare person ids: the suspects and victims of the detection (``report_persons``).

    Returns
    -------
    ReportData
    """
    keys = sorted(set(persons))
    labels = frozenset(store_labels(store))
    read = labels - _LEFT_OUT
    observations: dict[str, list[str]] = {}
    if "Person" in read:
        for person, day in store.observation_days("Person", keys, read):
            observations.setdefault(person, []).append(day)
    facts: dict[str, dict[str, Any]] = {}
    wanted = set(keys)
    if "Person" in labels:
        names = ("gender", "nationality", "birth_year")
        for key, *values in store.node_properties("Person", names):
            if key in wanted:
                facts[f"Person:{key}"] = {
                    "label": "Person",
                    **{n: v for n, v in zip(names, values, strict=True) if v is not None},
                }
    forms = _forms(store, keys, read)
    signals, signal_place = _store_signals(store, read)
    regions: dict[str, str] = {}
    if "Region" in read:
        for _key, region_level, code, name in store.node_properties("Region", ["level", "code", "name"]):
            if region_level == level:
                regions[str(code)] = str(name or code)
    municipalities = len(store.node_properties("Municipality", [])) if "Municipality" in read else 0
    batches = [b for b in store.distinct_values("Record", "batch") if b] if "Record" in labels else []
    kinds = store.node_properties("Source", ["kind"]) if "Source" in labels else []
    return ReportData(
        observations=observations,
        persons=facts,
        forms=forms,
        signals=signals,
        signal_place=signal_place,
        regions=regions,
        municipalities=municipalities,
        batches=batches,
        sources={str(key): "" if kind is None else str(kind) for key, kind in kinds},
        uri=store.uri,
    )


def _forms(store: GraphStore, keys: list[str], read: frozenset[str]) -> dict[str, dict[str, list[str]]]:
    """``_person_forms`` of these persons, asked of the store: the forms of their cases (by their
    keys) and of the signals that concern them."""
    forms: dict[str, dict[str, list[str]]] = {}
    if {"Person", "Case"} <= read:
        for rel_type in ("SUSPECT_IN", "VICTIM_IN"):
            rows = store.fact_rows(
                rel_type, "Person", "Case", start_keys=keys, rel_properties=["observed_on"],
                end_properties=["exploitation_type"],
            )  # fmt: skip
            for person, _case, day, kind in rows:
                _add_form(forms, person, day, kind)
    if {"Person", "Signal"} <= read:
        # Every CONCERNS, kept for these persons: the store finds them from the signals' side,
        # where the type is in its index. Looked up by the persons' keys (end_keys), the embedded
        # store would read every relationship that ends at them (their records' DESCRIBES
        # too, six times as many) to keep the CONCERNS: 0.27 against 0.08 CPU s at 100k rows.
        # The rows come sorted either way, so the forms are added in the same order.
        wanted = set(keys)
        rows = store.fact_rows(
            "CONCERNS",
            "Signal",
            "Person",
            rel_properties=["observed_on"],
            start_properties=["exploitation_type"],
        )
        for _signal, person, day, kind in rows:
            if person in wanted:
                _add_form(forms, person, day, kind)
    return forms


def _store_signals(store: GraphStore, read: frozenset[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``_signals`` asked of the store: every signal, and the municipality each is AT."""
    signals: list[dict[str, Any]] = []
    signal_place: dict[str, str] = {}
    if "Signal" not in read:
        return signals, signal_place
    names = ("observed_on", "source", "case_linked")
    for key, *values in store.node_properties("Signal", names):
        signal = {"signal_id": key}
        signal.update((n, v) for n, v in zip(names, values, strict=True) if v is not None)
        signals.append(signal)
    if "Premises" in read:
        for signal_id, _premises, code in store.fact_rows(
            "AT", "Signal", "Premises", end_properties=["municipality"]
        ):
            if code:
                signal_place.setdefault(signal_id, f"Municipality:{code}")
    if "Municipality" in read:
        # A municipality the signal is AT comes before the municipality of its premises.
        for signal_id, code in store.fact_rows("AT", "Signal", "Municipality"):
            signal_place[signal_id] = f"Municipality:{code}"
    return signals, signal_place


def _add_form(forms: dict[str, dict[str, list[str]]], person: str, day: object, kind: object) -> None:
    """One dated form of a person, as ``_person_forms`` adds it."""
    if kind:
        forms.setdefault(person, {}).setdefault(str(day or "")[:10], []).append(str(kind))
