"""Aggregate tables behind the Rapporteur's report (raw counts, before disclosure control).

Every function takes the detection frames and/or the graph and returns a DataFrame of counts.
Nothing here returns a person, pseudonym, identifier or municipality-level figure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from netanalysis.projection import EVIDENCE_KINDS
from netanalysis.report.breakdowns import (
    DEFAULT_AGE_BANDS,
    EXPLOITATION_FORMS,
    GroupPersons,
    breakdown,
    minor_bands,
    top_nationalities,
)
from netanalysis.report.data import ReportData, report_data

__all__ = ["EVIDENCE_ROWS", "Period", "ReportTables", "build_tables", "groups_by_evidence"]

SIZE_BANDS = [(2, 3, "2-3"), (4, 6, "4-6"), (7, 10, "7-10"), (11, 10**9, "11+")]


@dataclass(frozen=True)
class Period:
    """An inclusive date window, ISO strings."""

    start: str
    end: str

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(f"{year}-01-01", f"{year}-12-31")

    def previous(self) -> Period:
        """The window of the same length just before this one."""
        start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        length = end - start
        prev_end = start - pd.Timedelta(days=1)
        return Period((prev_end - length).date().isoformat(), prev_end.date().isoformat())

    def contains(self, date: object) -> bool:
        return isinstance(date, str) and self.start <= date[:10] <= self.end

    def quarters(self) -> list[str]:
        return [str(p) for p in pd.period_range(self.start, self.end, freq="Q")]


@dataclass
class ReportTables:
    """The raw count tables; ``publish`` in netanalysis.report applies disclosure control."""

    headline: pd.DataFrame  # index metric; columns period, previous
    quarterly: pd.DataFrame  # index quarter; columns suspects, victims, groups, cross_regional, moves
    flows: pd.DataFrame  # index from region, columns to region; victim moves between regions
    group_sizes: pd.DataFrame  # index size band; columns number of regions
    exploitation: pd.DataFrame  # index exploitation type; columns group type
    signals_by_source: pd.DataFrame  # index source; columns signals, tied_to_case, linked_to_group
    signal_spread: pd.DataFrame  # index band of signals per municipality; column municipalities
    data_quality: pd.DataFrame  # index source; columns read, loaded, rejected
    reject_reasons: pd.DataFrame  # index reason; columns sources
    corridors: pd.DataFrame  # top corridors: from, to, moves
    # persons_by_<dimension>, victims_by_<dimension>_and_group_type, cross_regional_groups_by_regions,
    # groups_by_evidence,
    # minor_victims: see netanalysis.report.breakdowns and docs/report.md
    breakdowns: dict[str, pd.DataFrame]
    # trend_per_year and <role>_by_<dimension>_per_year (index year); empty without years
    yearly: dict[str, pd.DataFrame]


def _active_groups(summary: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Groups of two or more suspects whose activity overlaps the period."""
    if summary.empty:
        return summary
    first = summary["first_seen"].astype(str).str[:10]
    last = summary["last_seen"].astype(str).str[:10]
    active = (first <= period.end) & (last >= period.start) & (summary["members"] >= 2)
    return summary[active]


def _size_band(members: int) -> str:
    for low, high, label in SIZE_BANDS:
        if low <= members <= high:
            return label
    return "1"


class _Headline:
    """The headline counts of any window, from frames and graph facts prepared once.

    The report counts the period, the previous period, every quarter and every year of the
    series: eleven windows or more. Each window used to filter every frame and walk every
    person's observations again; here the observation dates are sorted once and a window costs
    a binary search per person and a vectorised comparison per frame.
    """

    def __init__(
        self,
        groups: pd.DataFrame,
        summary: pd.DataFrame,
        movements: pd.DataFrame,
        observations: dict[str, list[str]],
        signals: list[dict[str, object]],
        leads: pd.DataFrame,
    ) -> None:
        roles = groups.drop_duplicates(["person_id", "role"])
        role = roles["role"].tolist()

        def dated(wanted: str) -> list[list[str]]:
            # One entry per distinct person of the role: its observation dates, sorted.
            persons = {p for p, r in zip(roles["person_id"].tolist(), role, strict=True) if r == wanted}
            return [sorted(observations.get(p, [])) for p in persons]

        self.suspects = dated("suspect")
        self.victims = dated("victim")
        self.summary = summary
        if not summary.empty:
            self.first = summary["first_seen"].astype(str).str[:10]
            self.last = summary["last_seen"].astype(str).str[:10]
            self.two_or_more = summary["members"] >= 2
            self.group_cross = summary["cross_regional"].astype(bool)
        self.move_days = movements["date"].astype(str).str[:10]
        self.move_cross = movements["cross_region"].astype(bool) if len(movements) else None
        led = set(leads["signal_id"]) if not leads.empty else set()
        # A signal's date as Period.contains reads it (None when it has none), and whether a lead
        # links it to a group.
        self.signals = [
            (str(day)[:10] if isinstance(day, str) else None, s["signal_id"] in led)
            for s in signals
            for day in [s.get("observed_on")]
        ]

    @staticmethod
    def _seen(dated: list[list[str]], start: str, end: str) -> int:
        count = 0
        for days in dated:
            i = bisect_left(days, start)
            if i < len(days) and days[i] <= end:
                count += 1
        return count

    def counts(self, period: Period) -> dict[str, int]:
        start, end = period.start, period.end
        if self.summary.empty:
            groups = cross_groups = 0
        else:
            active = (self.first <= end) & (self.last >= start) & self.two_or_more
            groups = int(active.sum())
            cross_groups = int(self.group_cross[active].sum()) if groups else 0
        in_window = self.move_days.between(start, end)
        moves = int(in_window.sum())
        cross_moves = int(self.move_cross[in_window].sum()) if moves and self.move_cross is not None else 0
        in_period = [led for day, led in self.signals if day is not None and start <= day <= end]
        return {
            "suspects": self._seen(self.suspects, start, end),
            "victims": self._seen(self.victims, start, end),
            "groups": groups,
            "cross_regional_groups": cross_groups,
            "victim_moves": moves,
            "cross_region_moves": cross_moves,
            "signals": len(in_period),
            "signals_linked_to_group": sum(in_period),
        }


#: Rows of ``groups_by_evidence``: the evidence kinds of the perpetrator network, then the groups
#: that only addresses and organisations hold together (issue 20).
EVIDENCE_ROWS: tuple[str, ...] = (*EVIDENCE_KINDS, "only_addresses_and_organisations")
_ADDRESS_KINDS = frozenset({"address", "employer", "director"})


def groups_by_evidence(active: pd.DataFrame, links: pd.DataFrame | None) -> pd.DataFrame:
    """Groups of two or more suspects by the kinds of evidence that bind them (raw counts).

    A group counts once in the row of every kind found on a link between two of its suspects
    (``links`` of the detection, ``group_id`` set), so the rows do not add up; the last row counts
    the groups whose links are all ``address``, ``employer`` or ``director`` evidence.

    Parameters
    ----------
    active : the groups of the period (``group_summary`` rows: ``group_id``, ``members``,
        ``cross_regional``).
    links : the detection's ``links`` frame (``group_id``, ``kinds``); None counts nothing.

    Returns
    -------
    pandas.DataFrame
        Index :data:`EVIDENCE_ROWS` (name ``evidence``), columns ``cross_regional`` and
        ``one_region``.

    Examples
    --------
    >>> active = pd.DataFrame({"group_id": ["G1", "G2"], "members": [3, 2], "cross_regional": [True, False]})
    >>> links = pd.DataFrame({"group_id": ["G1", "G1", "G2", ""],
    ...                       "kinds": ["case", "address", "address", "phone"]})
    >>> table = groups_by_evidence(active, links)
    >>> table.loc[["case", "address", "phone", "only_addresses_and_organisations"]].values.tolist()
    [[1, 0], [1, 1], [0, 0], [0, 1]]
    """
    table = pd.DataFrame(0, index=list(EVIDENCE_ROWS), columns=["cross_regional", "one_region"], dtype=int)
    table.index.name = "evidence"
    kinds_of: dict[str, set[str]] = {}
    if links is not None and len(links):
        for group, kinds in zip(links["group_id"], links["kinds"], strict=True):
            if isinstance(group, str) and group:
                kinds_of.setdefault(group, set()).update(k for k in str(kinds).split("|") if k)
    cells: Counter[tuple[str, str]] = Counter()
    for group, members, crossing in _columns(active, "group_id", "members", "cross_regional"):
        if int(members) < 2:
            continue
        col = "cross_regional" if bool(crossing) else "one_region"
        kinds = kinds_of.get(str(group), set())
        for kind in kinds & set(EVIDENCE_KINDS):
            cells[kind, col] += 1
        if kinds and kinds <= _ADDRESS_KINDS:
            cells["only_addresses_and_organisations", col] += 1
    return _add_cells(table, cells)


def _columns(frame: pd.DataFrame, *names: str) -> Iterator[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples of the named columns (None for a missing column).

    What ``iterrows`` and ``row.get(name)`` gave, without a Series per row (seconds at 100k groups).
    """
    missing = [None] * len(frame)
    return zip(*(frame[n].tolist() if n in frame.columns else missing for n in names), strict=True)


def _add_cells(table: pd.DataFrame, cells: Counter[tuple[str, str]]) -> pd.DataFrame:
    """Add counted (row, column) cells to a table of zeros: one ``.loc`` per cell, not per count."""
    for (row, col), n in cells.items():
        table.loc[row, col] += n
    return table


def build_tables(
    frames: dict[str, pd.DataFrame],
    graph: nx.MultiDiGraph | ReportData,
    period: Period,
    level: str = "police_unit",
    load_summary: dict[str, dict[str, object]] | None = None,
    rejects: pd.DataFrame | None = None,
    years: list[int] | None = None,
    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS,
    nationalities: int = 6,
) -> ReportTables:
    """Compute every count table of the report.

    Parameters
    ----------
    frames : detection frames by name (``groups``, ``group_summary``, ``movements``, ``leads``),
        with the columns of netanalysis.detect's output contract.
    graph : the analysis graph as read from the store (for signals, regions and observations), or
        the facts the tables count of it (``ReportData``: ``report_data``, ``read_report_data``).
    period : the reporting window.
    level : region level of the movement columns (``police_unit`` by default).
    load_summary : per source ``{"read": n, "loaded": n, "rejected": n}`` from the load.
    rejects : the rejects table (columns ``source``, ``reason``) for the data-quality figure.
    years : calendar years of the series tables (``trend_per_year``, ``*_per_year``); none without.
    age_bands : lower bounds of the age bands.
    nationalities : how many nationalities are shown by name (the largest); the rest is ``other``.
    """
    groups = frames["groups"]
    summary = frames["group_summary"]
    movements = frames["movements"]
    leads = frames.get("leads", pd.DataFrame(columns=["signal_id", "group_id"]))
    data = graph if isinstance(graph, ReportData) else report_data(graph, level)
    observations = data.observations
    names = data.regions
    signals = data.signals
    signal_place = data.signal_place

    headlines = _Headline(groups, summary, movements, observations, signals, leads)
    current = headlines.counts(period)
    previous = headlines.counts(period.previous())
    headline = pd.DataFrame({"period": current, "previous": previous})

    rows = []
    for quarter in period.quarters():
        q = pd.Period(quarter)
        qp = Period(q.start_time.date().isoformat(), q.end_time.date().isoformat())
        counts = headlines.counts(qp)
        rows.append(
            {
                "quarter": quarter,
                "suspects": counts["suspects"],
                "victims": counts["victims"],
                "groups": counts["groups"],
                "cross_regional_groups": counts["cross_regional_groups"],
                "victim_moves": counts["victim_moves"],
            }
        )
    quarterly = pd.DataFrame(rows).set_index("quarter")

    moves = movements[movements["date"].astype(str).str[:10].between(period.start, period.end)]
    cross = moves[moves["from_region"] != moves["to_region"]]
    regions = sorted(names) or sorted(set(moves["from_region"]) | set(moves["to_region"]))
    labels = [names.get(r, r) for r in regions]
    flows = pd.DataFrame(0, index=labels, columns=labels, dtype=int)
    for (src, dst), n in Counter(zip(cross["from_region"], cross["to_region"], strict=True)).items():
        flows.loc[names.get(src, src), names.get(dst, dst)] += n
    flows.index.name, flows.columns.name = "from", "to"
    pairs = flows.stack()
    corridors = pairs[pairs > 0].sort_values(ascending=False).head(10).rename("moves").reset_index()

    active = _active_groups(summary, period)
    band_labels = [label for _, _, label in SIZE_BANDS]
    group_sizes = pd.DataFrame(0, index=band_labels, columns=["1", "2", "3+"], dtype=int)
    cells: Counter[tuple[str, str]] = Counter()
    for n_regions_value, members in _columns(active, "n_regions", "members"):
        n_regions = int(n_regions_value)
        col = "1" if n_regions <= 1 else ("2" if n_regions == 2 else "3+")
        cells[_size_band(int(members)), col] += 1
    _add_cells(group_sizes, cells)
    group_sizes.index.name = "suspects"

    kinds = ["sexual", "labour", "criminal", "organ", "unknown"]
    exploitation = pd.DataFrame(0, index=kinds, columns=["cross_regional", "one_region"], dtype=int)
    cells = Counter()
    for crossing, types_value in _columns(active, "cross_regional", "exploitation_types"):
        col = "cross_regional" if bool(crossing) else "one_region"
        types = [t for t in str(types_value or "").split("|") if t] or ["unknown"]
        for t in types:
            cells[t if t in kinds else "unknown", col] += 1
    _add_cells(exploitation, cells)
    exploitation = exploitation.loc[(exploitation.sum(axis=1) > 0) | exploitation.index.isin(kinds[:3])]

    in_period = [s for s in signals if period.contains(s.get("observed_on"))]
    led = set(leads["signal_id"]) if not leads.empty else set()
    by_source: dict[str, Counter[str]] = {}
    for s in in_period:
        c = by_source.setdefault(str(s.get("source", "?")), Counter())
        c["signals"] += 1
        c["tied_to_case"] += bool(s.get("case_linked"))
        c["linked_to_group"] += s["signal_id"] in led
    signals_by_source = (
        pd.DataFrame(
            {
                src: {k: c[k] for k in ("signals", "tied_to_case", "linked_to_group")}
                for src, c in by_source.items()
            }
        )
        .T.reindex(columns=["signals", "tied_to_case", "linked_to_group"])
        .fillna(0)
        .astype(int)
    )
    signals_by_source.index.name = "source"

    per_municipality = Counter(
        signal_place[s["signal_id"]] for s in in_period if s["signal_id"] in signal_place
    )
    n_municipalities = data.municipalities
    bands = {"0": 0, "1-4": 0, "5-9": 0, "10+": 0}
    for n in per_municipality.values():
        bands["1-4" if n < 5 else ("5-9" if n < 10 else "10+")] += 1
    bands["0"] = max(n_municipalities - len(per_municipality), 0)
    signal_spread = pd.DataFrame({"municipalities": bands})
    signal_spread.index.name = "signals_per_municipality"

    quality_rows = {
        src: {k: int(v.get(k, 0)) for k in ("read", "loaded", "rejected")}  # type: ignore[call-overload]
        for src, v in (load_summary or {}).items()
    }
    data_quality = pd.DataFrame(quality_rows).T.reindex(columns=["read", "loaded", "rejected"])
    data_quality = data_quality.fillna(0).astype(int)
    data_quality.index.name = "source"
    if rejects is not None and "outcome" in rejects.columns:
        # The rejects file also lists loaded rows whose optional field was dropped or corrected.
        rejects = rejects[rejects["outcome"] == "rejected"]
    if rejects is not None and not rejects.empty:
        reasons = rejects.assign(reason=rejects["reason"].map(reason_category))
        reject_reasons = pd.crosstab(reasons["reason"], reasons["source"])
    else:
        reject_reasons = pd.DataFrame()
    persons = GroupPersons(groups, summary, data.persons, observations, data.forms)
    facts = persons.facts(period.start, period.end, age_bands)
    yearly_facts = {y: persons.facts(f"{y}-01-01", f"{y}-12-31", age_bands) for y in years or []}
    shown = top_nationalities(facts + [f for fs in yearly_facts.values() for f in fs], nationalities)
    dims = ("gender", "age_band", "nationality", "exploitation")
    tables: dict[str, pd.DataFrame] = {}
    for dim in dims:
        tables[f"persons_by_{dim}"] = breakdown(facts, dim, "role", age_bands, shown)
    for dim in dims:
        tables[f"victims_by_{dim}_and_group_type"] = breakdown(facts, dim, "group_type", age_bands, shown)
    region_bands = ["2", "3", "4", "5+"]
    by_regions = pd.DataFrame(0, index=region_bands, columns=list(EXPLOITATION_FORMS), dtype=int)
    cells = Counter()
    for crossing, n_regions_value, types_value in _columns(
        active, "cross_regional", "n_regions", "exploitation_types"
    ):
        if not bool(crossing):
            continue
        band = region_bands[min(max(int(n_regions_value), 2), 5) - 2]
        types = [t for t in str(types_value or "").split("|") if t in EXPLOITATION_FORMS]
        for kind in types or ["unknown"]:
            cells[band, kind] += 1
    _add_cells(by_regions, cells)
    by_regions.index.name = "regions"
    tables["cross_regional_groups_by_regions"] = by_regions
    tables["groups_by_evidence"] = groups_by_evidence(active, frames.get("links"))
    minors = minor_bands(age_bands)
    minor = pd.DataFrame(0, index=list(EXPLOITATION_FORMS), columns=minors, dtype=int)
    _add_cells(
        minor,
        Counter((f.exploitation, f.age_band) for f in facts if f.role == "victim" and f.age_band in minors),
    )
    minor.index.name = "exploitation"
    tables["minor_victims"] = minor

    yearly: dict[str, pd.DataFrame] = {}
    if years:
        metrics = [
            "suspects",
            "victims",
            "groups",
            "cross_regional_groups",
            "victim_moves",
            "cross_region_moves",
            "signals",
        ]
        per_year = {}
        for y in years:
            counts = headlines.counts(Period.year(y))
            per_year[str(y)] = {m: counts[m] for m in metrics}
        trend = pd.DataFrame(per_year).T
        trend.index.name = "year"
        yearly["trend_per_year"] = trend
        for dim in dims:
            per = {str(y): breakdown(fs, dim, "role", age_bands, shown) for y, fs in yearly_facts.items()}
            for role in ("victims", "suspects"):
                table = pd.DataFrame({y: t[role] for y, t in per.items()}).T
                table.index.name = "year"
                yearly[f"{role}_by_{dim}_per_year"] = table
    return ReportTables(
        breakdowns=tables,
        yearly=yearly,
        headline=headline,
        quarterly=quarterly,
        flows=flows,
        group_sizes=group_sizes,
        exploitation=exploitation,
        signals_by_source=signals_by_source,
        signal_spread=signal_spread,
        data_quality=data_quality,
        reject_reasons=reject_reasons,
        corridors=corridors,
    )


def reason_category(reason: object) -> str:
    """A short category for a reject reason, without the row's values (they may identify)."""
    text = str(reason).lower()
    for key, label in (
        ("field", "column count"),
        ("column", "column count"),
        ("date", "date"),
        ("municipal", "place"),
        ("place", "place"),
        ("required", "missing required field"),
        ("missing", "missing required field"),
        ("phone", "identifier"),
        ("iban", "identifier"),
        ("plate", "identifier"),
    ):
        if key in text:
            return label
    return "other"
