"""Breakdowns of the report: victims and suspects by gender, age band, nationality and exploitation.

The National Rapporteur's victim and perpetrator monitors break every count down by the same few
person attributes. These functions count them from the detection's persons and the graph's coarse,
non-identifying person properties (``gender``, ``birth_year``, ``nationality``; graph_schema.cypher).
A person without a value is counted as ``unknown``, never dropped. Raw counts only: disclosure
control is applied by :mod:`netanalysis.report` before anything is published.

Reference: Nationaal Rapporteur, *Slachtoffermonitor mensenhandel 2018-2022* and *Dadermonitor
mensenhandel 2017-2021* (the breakdowns, age bands and five-year series they publish).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

import networkx as nx
import pandas as pd

__all__ = [
    "DEFAULT_AGE_BANDS",
    "EXPLOITATION_FORMS",
    "GENDERS",
    "GroupPersons",
    "PersonFacts",
    "age_band",
    "age_band_labels",
    "breakdown",
    "person_facts",
    "top_nationalities",
]

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
    return _most_frequent(inside or [k for ks in dated.values() for k in ks])


#: A form's place in table order: the tie-break of ``_most_frequent``.
_FORM_ORDER = {form: i for i, form in enumerate(EXPLOITATION_FORMS)}


def _most_frequent(kinds: Iterable[str]) -> str:
    """The most frequent form (anything not a form counts as unknown); ties in table order.

    Called for every person and window, mostly with one or two forms: a plain dict, not a
    Counter (whose set-up cost a quarter of the report's tables at 100k rows).

    Examples
    --------
    >>> _most_frequent(["labour", "sexual", "labour"]), _most_frequent(["labour", "sexual"])
    ('labour', 'sexual')
    >>> _most_frequent([]), _most_frequent(["theft"])
    ('unknown', 'unknown')
    """
    counts: dict[str, int] = {}
    for kind in kinds:
        key = kind if kind in _FORM_ORDER else UNKNOWN
        counts[key] = counts.get(key, 0) + 1
    if len(counts) < 2:
        return next(iter(counts), UNKNOWN)
    return min(counts, key=lambda k: (-counts[k], _FORM_ORDER[k]))


class _Person(NamedTuple):
    """One person in one role, with what does not depend on the window worked out once (a named
    tuple: made for every person of the report, and a frozen dataclass is slow to make)."""

    person: str
    role: str
    days: list[str]  # observation days, sorted
    birth: object
    gender: str
    nationality: str
    cross_regional: bool
    form_days: list[str]  # the days of its dated forms, sorted ...
    form_kinds: list[str]  # ... and the form of each
    all_form: str  # the main form over all its forms (the fallback of a window without any)
    group_form: str  # the form of its first group that has one (when its own are unknown)


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
    return GroupPersons(groups, summary, graph, observations, forms).facts(start, end, bands)


class GroupPersons:
    """The suspects and victims of the detected groups, prepared once for many windows.

    The report asks for the same persons' facts in the period and in every year of its series;
    the frames are read, the observation dates sorted and the Person nodes looked up once here,
    so that :meth:`facts` costs one binary search per person and window.
    """

    def __init__(
        self,
        groups: pd.DataFrame,
        summary: pd.DataFrame,
        graph: nx.MultiDiGraph | Mapping[str, Mapping[str, object]],
        observations: Mapping[str, list[str]],
        forms: Mapping[str, Mapping[str, list[str]]] | None = None,
    ) -> None:
        # The Person nodes' attributes: the graph's, or ``"Person:<id>"`` -> attributes as read
        # of the store (netanalysis.report.data).
        nodes: Mapping[str, Mapping[str, object]]
        if isinstance(graph, nx.Graph):
            nodes = graph.nodes
            self.forms = forms if forms is not None else _person_forms(graph)
        else:
            nodes = graph
            self.forms = forms if forms is not None else {}
        types_column = (
            summary["exploitation_types"].tolist()
            if "exploitation_types" in summary.columns
            else [None] * len(summary)
        )
        self.cross: dict[str, bool] = {}
        self.group_form: dict[str, str] = {}
        for group, crossing, types_value in zip(
            summary["group_id"].tolist(), summary["cross_regional"].tolist(), types_column, strict=True
        ):
            self.cross[str(group)] = bool(crossing)
            types = [t for t in str(types_value or "").split("|") if t and t != "nan"]
            self.group_form[str(group)] = types[0] if types else UNKNOWN
        roles = groups[groups["role"].isin(["suspect", "victim"])]
        seen: dict[tuple[str, str], list[str]] = {}
        for person, role, group in zip(
            roles["person_id"].tolist(), roles["role"].tolist(), roles["group_id"].tolist(), strict=True
        ):
            seen.setdefault((str(person), str(role)), []).append(str(group))
        self.persons = [
            self._person(
                person, role, its_groups, observations.get(person, []), nodes.get(f"Person:{person}", {})
            )
            for (person, role), its_groups in sorted(seen.items())
        ]

    def _person(
        self, person: str, role: str, its_groups: list[str], days: list[str], node: Mapping[str, object]
    ) -> _Person:
        nationality = str(node.get("nationality") or "").upper() or UNKNOWN
        # Its dated forms sorted by day, then form: the days are the dict's keys, so unique.
        form_days: list[str] = []
        form_kinds: list[str] = []
        for day, kinds in sorted(self.forms.get(person, {}).items()):
            for kind in sorted(kinds):
                form_days.append(day)
                form_kinds.append(kind)
        group_forms = self.group_form
        group_form = UNKNOWN
        cross_regional = False
        for g in its_groups:
            if group_form == UNKNOWN and group_forms.get(g, UNKNOWN) != UNKNOWN:
                group_form = group_forms[g]
            cross_regional = cross_regional or self.cross.get(g, False)
        # Positional, in the fields' order: a named tuple made by keywords costs twice as much.
        return _Person(
            person,
            role,
            sorted(days),
            node.get("birth_year"),
            _GENDER_WORDS.get(str(node.get("gender") or "").lower(), UNKNOWN),
            nationality if len(nationality) == 3 and nationality.isalpha() else UNKNOWN,
            cross_regional,
            form_days,
            form_kinds,
            _most_frequent(form_kinds),
            group_form if group_form in _FORM_ORDER else UNKNOWN,
        )

    def facts(self, start: str, end: str, bands: Sequence[int] = DEFAULT_AGE_BANDS) -> list[PersonFacts]:
        """:func:`person_facts` of the window ``start`` .. ``end`` (inclusive ISO dates)."""
        out: list[PersonFacts] = []
        bands_of: dict[int | None, str] = {}  # age -> band: the same few dozen ages over and over
        for p in self.persons:
            # The first observation in the window: the age is counted at that day.
            all_days = p.days
            i = bisect_left(all_days, start)
            if i == len(all_days) or all_days[i] > end:
                continue
            first_day = all_days[i]
            birth = p.birth
            try:
                age = int(first_day[:4]) - int(birth) if birth not in (None, "") else None  # type: ignore[call-overload]
            except (TypeError, ValueError):
                age = None
            # The forms dated in the window, else all of the person's (``_main_form``).
            inside = p.form_kinds[bisect_left(p.form_days, start) : bisect_right(p.form_days, end)]
            form = _most_frequent(inside) if inside else p.all_form
            if form == UNKNOWN:
                form = p.group_form
            out.append(
                PersonFacts(
                    role=p.role,
                    gender=p.gender,
                    age_band=bands_of[age]
                    if age in bands_of
                    else bands_of.setdefault(age, age_band(age, bands)),
                    nationality=p.nationality,
                    exploitation=form,
                    cross_regional=p.cross_regional,
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
    value = attrgetter(dimension)
    pairs: Iterable[tuple[object, str]]
    if columns == "role":
        cols = ["suspects", "victims"]
        pairs = ((value(f), "suspects" if f.role == "suspect" else "victims") for f in facts)
    elif columns == "group_type":
        cols = ["cross_regional", "one_region"]
        pairs = (
            (value(f), "cross_regional" if f.cross_regional else "one_region")
            for f in facts
            if f.role == "victim"
        )
    else:
        raise ValueError(f"columns must be role or group_type, not {columns!r}")
    # Counted by value in a Counter first (one .loc update per person is slow at 100k persons), then
    # each of the few values put in its category.
    counts: Counter[tuple[str, str]] = Counter()
    for (raw, col), n in Counter(pairs).items():
        category = str(raw)
        if dimension == "nationality" and category not in rows:
            category = OTHER
        counts[category, col] += n
    table = pd.DataFrame(
        [[counts.get((r, c), 0) for c in cols] for r in rows], index=rows, columns=cols, dtype=int
    )
    table.index.name = dimension
    return table
