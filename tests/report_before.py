"""The report's count tables as computed before issue 21 (commit 9bbcf43): the oracle that
tests/test_report_speed.py compares the faster netanalysis.report.tables with.

A verbatim copy of netanalysis/report/breakdowns.py and tables.py of that commit in one module;
only the imports differ. Slow by design: it walks the graph and the frames once per window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from netanalysis.projection import EVIDENCE_KINDS

#: Lower bounds of the age bands (age in years at the first observation in the period).
DEFAULT_AGE_BANDS: tuple[int, ...] = (0, 12, 18, 23, 30, 40)
#: Gender categories in table order (graph values m, f, x; anything else is unknown).
GENDERS: tuple[str, ...] = ("female", "male", "x", "unknown")
#: Forms of exploitation (art. 273f Sr) in table order.
EXPLOITATION_FORMS: tuple[str, ...] = ("sexual", "labour", "criminal", "organ", "unknown")
UNKNOWN = "unknown"
OTHER = "other"

_GENDER_WORDS = {"f": "female", "m": "male", "x": "x"}


def age_band_labels(bands: Sequence[int] = DEFAULT_AGE_BANDS) -> list[str]:
    """Labels of the age bands, youngest first, then ``unknown``.

    Examples
    --------
    >>> age_band_labels((0, 12, 18, 23, 30, 40))
    ['<12', '12-17', '18-22', '23-29', '30-39', '40+', 'unknown']
    """
    bounds = sorted(bands)
    labels = []
    for i, low in enumerate(bounds):
        if i + 1 < len(bounds):
            high = bounds[i + 1] - 1
            labels.append(f"<{bounds[i + 1]}" if low == 0 else f"{low}-{high}")
        else:
            labels.append(f"{low}+")
    return labels + [UNKNOWN]


def age_band(age: int | None, bands: Sequence[int] = DEFAULT_AGE_BANDS) -> str:
    """The label of the band an age falls in; ``unknown`` for no age or an impossible one.

    Examples
    --------
    >>> age_band(11), age_band(17), age_band(45), age_band(None), age_band(-2)
    ('<12', '12-17', '40+', 'unknown', 'unknown')
    """
    if age is None or age < 0 or age > 110:
        return UNKNOWN
    bounds = sorted(bands)
    labels = age_band_labels(bounds)
    band = UNKNOWN
    for low, label in zip(bounds, labels, strict=False):
        if age >= low:
            band = label
    return band


def minor_bands(bands: Sequence[int] = DEFAULT_AGE_BANDS) -> list[str]:
    """Labels of the bands that lie wholly under 18 (the minors).

    Examples
    --------
    >>> minor_bands()
    ['<12', '12-17']
    """
    bounds = sorted(bands)
    labels = age_band_labels(bounds)
    return [labels[i] for i in range(len(bounds)) if i + 1 < len(bounds) and bounds[i + 1] <= 18]


@dataclass(frozen=True)
class PersonFacts:
    """The coarse facts of one person in one period: what the breakdowns count."""

    role: str  # suspect | victim
    gender: str
    age_band: str
    nationality: str  # ISO 3166 alpha-3 or unknown
    exploitation: str
    cross_regional: bool  # in a cross-regional group


def _person_forms(graph: nx.MultiDiGraph) -> dict[str, dict[str, list[str]]]:
    """Bare person id -> observation date (or "") -> exploitation forms of its cases and signals."""
    forms: dict[str, dict[str, list[str]]] = {}
    for u, v, data in graph.edges(data=True):
        lu, lv = graph.nodes[u].get("label"), graph.nodes[v].get("label")
        if lu == "Person" and lv == "Case" and data.get("type") in ("SUSPECT_IN", "VICTIM_IN"):
            person, kind = u, graph.nodes[v].get("exploitation_type")
        elif lu == "Signal" and lv == "Person" and data.get("type") == "CONCERNS":
            person, kind = v, graph.nodes[u].get("exploitation_type")
        else:
            continue
        if kind:
            day = str(data.get("observed_on") or "")[:10]
            forms.setdefault(person.split(":", 1)[1], {}).setdefault(day, []).append(str(kind))
    return forms


def _main_form(dated: Mapping[str, list[str]], start: str, end: str) -> str:
    """The most frequent form among the dated facts in the window, else among all; ties in table order."""
    inside = [k for day, kinds in dated.items() if start <= day <= end for k in kinds]
    kinds = inside or [k for ks in dated.values() for k in ks]
    counts = Counter(k if k in EXPLOITATION_FORMS else UNKNOWN for k in kinds)
    if not counts:
        return UNKNOWN
    return min(counts, key=lambda k: (-counts[k], EXPLOITATION_FORMS.index(k)))


def person_facts(
    groups: pd.DataFrame,
    summary: pd.DataFrame,
    graph: nx.MultiDiGraph,
    observations: Mapping[str, list[str]],
    start: str,
    end: str,
    bands: Sequence[int] = DEFAULT_AGE_BANDS,
    forms: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> list[PersonFacts]:
    """The facts of every suspect and victim of a detected group who was observed in the window.

    Parameters
    ----------
    groups : the detection's ``groups`` frame (group_id, person_id, role).
    summary : the detection's ``group_summary`` frame (group_id, cross_regional, exploitation_types).
    graph : the analysis graph; its Person nodes give gender, birth_year and nationality.
    observations : bare person id -> ISO observation dates (every relationship of the person).
    start, end : inclusive ISO dates of the window.
    bands : lower bounds of the age bands.
    forms : precomputed exploitation forms per person (from ``_person_forms``); computed if None.

    Returns
    -------
    One PersonFacts per (person, role); a person who is suspect and victim counts in both roles.
    """
    forms = forms if forms is not None else _person_forms(graph)
    cross = {}
    group_form = {}
    for _, g in summary.iterrows():
        cross[str(g["group_id"])] = bool(g["cross_regional"])
        types = [t for t in str(g.get("exploitation_types") or "").split("|") if t and t != "nan"]
        group_form[str(g["group_id"])] = types[0] if types else UNKNOWN
    out: list[PersonFacts] = []
    roles = groups[groups["role"].isin(["suspect", "victim"])]
    seen: dict[tuple[str, str], list[str]] = {}
    for person, role, group in zip(roles["person_id"], roles["role"], roles["group_id"], strict=True):
        seen.setdefault((str(person), str(role)), []).append(str(group))
    for (person, role), its_groups in sorted(seen.items()):
        days = sorted(d for d in observations.get(person, []) if start <= d <= end)
        if not days:
            continue
        node = graph.nodes.get(f"Person:{person}", {})
        birth = node.get("birth_year")
        try:
            age = int(days[0][:4]) - int(birth) if birth not in (None, "") else None
        except (TypeError, ValueError):
            age = None
        nationality = str(node.get("nationality") or "").upper() or UNKNOWN
        form = _main_form(forms.get(person, {}), start, end)
        if form == UNKNOWN:
            form = next((group_form[g] for g in its_groups if group_form.get(g, UNKNOWN) != UNKNOWN), UNKNOWN)
            form = form if form in EXPLOITATION_FORMS else UNKNOWN
        out.append(
            PersonFacts(
                role=role,
                gender=_GENDER_WORDS.get(str(node.get("gender") or "").lower(), UNKNOWN),
                age_band=age_band(age, bands),
                nationality=nationality if len(nationality) == 3 and nationality.isalpha() else UNKNOWN,
                exploitation=form,
                cross_regional=any(cross.get(g, False) for g in its_groups),
            )
        )
    return out


def top_nationalities(facts: Iterable[PersonFacts], n: int = 6) -> list[str]:
    """The ``n`` most frequent known nationalities (ties alphabetical), then ``other`` and ``unknown``.

    Examples
    --------
    >>> f = [PersonFacts("victim", "female", "18-22", c, "sexual", False) for c in "NLD NLD ROU".split()]
    >>> top_nationalities(f, n=1)
    ['NLD', 'other', 'unknown']
    """
    counts = Counter(f.nationality for f in facts if f.nationality != UNKNOWN)
    top = sorted(counts, key=lambda c: (-counts[c], c))[:n]
    return top + [OTHER, UNKNOWN]


def _category(fact: PersonFacts, dimension: str, nationalities: Sequence[str]) -> str:
    value = str(getattr(fact, dimension))
    if dimension == "nationality" and value not in nationalities:
        return OTHER
    return value


def categories(
    dimension: str, bands: Sequence[int] = DEFAULT_AGE_BANDS, nationalities: Sequence[str] = ()
) -> list[str]:
    """The rows of a breakdown, in table order."""
    if dimension == "gender":
        return list(GENDERS)
    if dimension == "age_band":
        return age_band_labels(bands)
    if dimension == "nationality":
        return list(nationalities) or [OTHER, UNKNOWN]
    if dimension == "exploitation":
        return list(EXPLOITATION_FORMS)
    raise ValueError(f"no breakdown by {dimension!r}")


def breakdown(
    facts: Sequence[PersonFacts],
    dimension: str,
    columns: str = "role",
    bands: Sequence[int] = DEFAULT_AGE_BANDS,
    nationalities: Sequence[str] = (),
) -> pd.DataFrame:
    """Count persons per category of ``dimension`` (rows) and per role or group type (columns).

    Parameters
    ----------
    facts : the persons of a window (:func:`person_facts`).
    dimension : ``gender``, ``age_band``, ``nationality`` or ``exploitation``.
    columns : ``role`` (suspects, victims) or ``group_type`` (victims only: in a cross-regional
        group, in a group within one region).
    bands, nationalities : the age bands and the nationalities shown by name.

    Returns
    -------
    DataFrame of counts; every category is a row, also when its count is 0.

    Examples
    --------
    >>> f = [PersonFacts("victim", "female", "<12", "NLD", "sexual", True),
    ...      PersonFacts("suspect", "unknown", "40+", "unknown", "labour", False)]
    >>> breakdown(f, "gender").loc[["female", "unknown"]].to_dict("index")
    {'female': {'suspects': 0, 'victims': 1}, 'unknown': {'suspects': 1, 'victims': 0}}
    """
    rows = categories(dimension, bands, nationalities)
    if columns == "role":
        cols = ["suspects", "victims"]
        pick = [(f, "suspects" if f.role == "suspect" else "victims") for f in facts]
    elif columns == "group_type":
        cols = ["cross_regional", "one_region"]
        pick = [
            (f, "cross_regional" if f.cross_regional else "one_region") for f in facts if f.role == "victim"
        ]
    else:
        raise ValueError(f"columns must be role or group_type, not {columns!r}")
    # Counted in a Counter first: one .loc update per person is slow at 100k persons.
    counts = Counter((_category(fact, dimension, rows), col) for fact, col in pick)
    table = pd.DataFrame(
        [[counts.get((r, c), 0) for c in cols] for r in rows], index=rows, columns=cols, dtype=int
    )
    table.index.name = dimension
    return table


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


def _headline_counts(
    groups: pd.DataFrame,
    summary: pd.DataFrame,
    movements: pd.DataFrame,
    observations: dict[str, list[str]],
    signals: list[dict[str, object]],
    leads: pd.DataFrame,
    period: Period,
) -> dict[str, int]:
    def seen_in(person: str) -> bool:
        return any(period.contains(d) for d in observations.get(person, []))

    roles = groups.drop_duplicates(["person_id", "role"])
    suspects = {p for p in roles.loc[roles["role"] == "suspect", "person_id"] if seen_in(p)}
    victims = {p for p in roles.loc[roles["role"] == "victim", "person_id"] if seen_in(p)}
    active = _active_groups(summary, period)
    in_period = [s for s in signals if period.contains(s.get("observed_on"))]
    led = set(leads["signal_id"]) if not leads.empty else set()
    moves = movements[movements["date"].astype(str).str[:10].between(period.start, period.end)]
    return {
        "suspects": len(suspects),
        "victims": len(victims),
        "groups": len(active),
        "cross_regional_groups": int(active["cross_regional"].astype(bool).sum()) if len(active) else 0,
        "victim_moves": len(moves),
        "cross_region_moves": int(moves["cross_region"].astype(bool).sum()) if len(moves) else 0,
        "signals": len(in_period),
        "signals_linked_to_group": sum(1 for s in in_period if s["signal_id"] in led),
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
    for _, g in active.iterrows():
        if int(g["members"]) < 2:
            continue
        col = "cross_regional" if bool(g["cross_regional"]) else "one_region"
        kinds = kinds_of.get(str(g["group_id"]), set())
        for kind in kinds & set(EVIDENCE_KINDS):
            table.loc[kind, col] += 1
        if kinds and kinds <= _ADDRESS_KINDS:
            table.loc["only_addresses_and_organisations", col] += 1
    return table


def build_tables(
    frames: dict[str, pd.DataFrame],
    graph: nx.MultiDiGraph,
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
    graph : the analysis graph as read from the store (for signals, regions and observations).
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
    observations = _person_observations(graph)
    names = _region_names(graph, level)

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

    current = _headline_counts(groups, summary, movements, observations, signals, leads, period)
    previous = _headline_counts(groups, summary, movements, observations, signals, leads, period.previous())
    headline = pd.DataFrame({"period": current, "previous": previous})

    rows = []
    for quarter in period.quarters():
        q = pd.Period(quarter)
        qp = Period(q.start_time.date().isoformat(), q.end_time.date().isoformat())
        counts = _headline_counts(groups, summary, movements, observations, signals, leads, qp)
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
    for _, g in active.iterrows():
        n_regions = int(g["n_regions"])
        col = "1" if n_regions <= 1 else ("2" if n_regions == 2 else "3+")
        group_sizes.loc[_size_band(int(g["members"])), col] += 1
    group_sizes.index.name = "suspects"

    kinds = ["sexual", "labour", "criminal", "organ", "unknown"]
    exploitation = pd.DataFrame(0, index=kinds, columns=["cross_regional", "one_region"], dtype=int)
    for _, g in active.iterrows():
        col = "cross_regional" if bool(g["cross_regional"]) else "one_region"
        types = [t for t in str(g.get("exploitation_types") or "").split("|") if t] or ["unknown"]
        for t in types:
            exploitation.loc[t if t in kinds else "unknown", col] += 1
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
    n_municipalities = sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Municipality")
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
    forms = _person_forms(graph)
    facts = person_facts(groups, summary, graph, observations, period.start, period.end, age_bands, forms)
    yearly_facts = {
        y: person_facts(groups, summary, graph, observations, f"{y}-01-01", f"{y}-12-31", age_bands, forms)
        for y in years or []
    }
    shown = top_nationalities(facts + [f for fs in yearly_facts.values() for f in fs], nationalities)
    dims = ("gender", "age_band", "nationality", "exploitation")
    tables: dict[str, pd.DataFrame] = {}
    for dim in dims:
        tables[f"persons_by_{dim}"] = breakdown(facts, dim, "role", age_bands, shown)
    for dim in dims:
        tables[f"victims_by_{dim}_and_group_type"] = breakdown(facts, dim, "group_type", age_bands, shown)
    region_bands = ["2", "3", "4", "5+"]
    by_regions = pd.DataFrame(0, index=region_bands, columns=list(EXPLOITATION_FORMS), dtype=int)
    for _, g in active.iterrows():
        if not bool(g["cross_regional"]):
            continue
        band = region_bands[min(max(int(g["n_regions"]), 2), 5) - 2]
        types = [t for t in str(g.get("exploitation_types") or "").split("|") if t in EXPLOITATION_FORMS]
        for kind in types or ["unknown"]:
            by_regions.loc[band, kind] += 1
    by_regions.index.name = "regions"
    tables["cross_regional_groups_by_regions"] = by_regions
    tables["groups_by_evidence"] = groups_by_evidence(active, frames.get("links"))
    minors = minor_bands(age_bands)
    minor = pd.DataFrame(0, index=list(EXPLOITATION_FORMS), columns=minors, dtype=int)
    for f in facts:
        if f.role == "victim" and f.age_band in minors:
            minor.loc[f.exploitation, f.age_band] += 1
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
            counts = _headline_counts(
                groups, summary, movements, observations, signals, leads, Period.year(y)
            )
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
