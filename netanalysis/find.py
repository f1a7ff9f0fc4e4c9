"""Find a known person: from the name and birth date in a case file to the pseudonymised persons
of the graph that may be that person.

The graph holds no clear names, only each person's keyed pseudonym, the hash of the identity
entity resolution chose for the person (``loaders.resolve.identity_string``: folded first and
last name in sorted order, and the birth date). So the search runs the other way round: the
query is normalised as a loader would normalise a source row (``loaders.validate``), the
identities that entity resolution would accept as the same person are listed **in clear, in
memory only**, each one is hashed with the key, and the hashes are looked up among the graph's
persons. Each hit is scored with the comparison of entity resolution
(``loaders.resolve.score_pair``), against the person's stored nationality and gender as well.

Which identities are tried follows the resolution's rule that two records may differ in at most
one soft way (``loaders.linkage.score``):

- the query itself; the two names in either order (the identity sorts them);
- the birth date with a typical error: one part (day, month or year) different, day and month
  swapped, or at most a week off;
- the first name or the last name with one typing error (a letter left out, added, changed, or
  two neighbouring letters swapped), with the birth date as given;
- then a name with one typing error together with a birth date with a typical error ("two
  differences"): the person's identity is the most complete and most frequent of its records
  (``loaders.resolve``), so a record of the person may be one difference away from the query
  while the identity is two away ("Marni" in one row, "Marin" in two: the identity is "Marin");
- a birth date that is not in the query: every date from 1900-01-01 to today, with the names as
  given (about 46,000 identities; the names are not varied then).

Limits: a person whose resolved records hold no birth date (or no first name) has a pseudonym
tied to a source row instead of a name, and cannot be found from a name; a name with two typing
errors is not found; without a birth date in the query, a name spelled differently from the
person's identity is not found. A person a later load merged into another (``netanalysis
merges``) is found under the survivor when the search is given a store; in a graph (which holds
no merges) only under the survivor's own identity.

In a store the spellings are not looked up one by one (some 130,000 with a birth date): the
persons of the records that share the query's first or last name are read through the store's
blocking-key index (``_name_blocks``), and only those whose pseudonym is one of the spellings are
read with their records; every spelling keeps one of the query's names, so this finds what the
look-up by pseudonym finds. A store not indexed throughout is searched by pseudonym.

No clear query value leaves this module: errors name the field, not its value, and the returned
candidates hold only pseudonyms and provenance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from string import ascii_lowercase
from typing import Any

import networkx as nx

from graphstore.base import GraphSlice, GraphStore
from loaders.crossload import BLOCK_INDEX_VERSION, index_keys_of_names
from loaders.linkage import DEFAULT_THRESHOLD, probability
from loaders.mapping import DEFAULT_EARLIEST_DATES, SourceMapping
from loaders.pseudonymise import Pseudonymiser
from loaders.records import RawRow, Record
from loaders.resolve import (
    DAYS_OFF,
    Features,
    features,
    identity_string,
    score_pair,
)
from loaders.validate import validate
from netanalysis.audit import audited
from netanalysis.errors import ConfigError
from netanalysis.graphs import read_around_persons

__all__ = ["PersonMatch", "find_person"]

_QUERY_SOURCE = "query"
_FIELDS = ("first_name", "last_name", "birth_date", "nationality")


@dataclass(frozen=True)
class PersonMatch:
    """One person of the graph that may be the person searched for.

    Attributes
    ----------
    person_id : str
        The person's pseudonym (``Person:<person_id>`` in the graph, the ``--node`` of an ego map).
    score : float
        Match probability (0-1) of the query and the person's identity, as entity resolution
        computes it (``loaders.linkage.probability`` of ``weight``).
    weight : float
        The Fellegi–Sunter match weight (log2 odds, prior included).
    how : str
        What differs between the query and the person's identity: ``"exact"``, ``"birth date not
        in the query"``, ``"birth date: one part differs"``, ``"first name: one typing error"`` ...
    roles : tuple of str
        The person's roles (suspect, victim, signalled).
    groups : tuple of str
        The groups the person belongs to, when a detection result was given.
    records : int
        Number of source rows that describe the person.
    source_rows : tuple of (str, str)
        ``(source, row_id)`` of every row behind the person, to open the originals in the source
        system.
    """

    person_id: str
    score: float
    weight: float
    how: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    records: int
    source_rows: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The match as one flat row (source rows joined as ``source:row_id;...``)."""
        return {
            "person_id": self.person_id,
            "score": round(self.score, 4),
            "weight": round(self.weight, 2),
            "how": self.how,
            "roles": ";".join(self.roles),
            "groups": ";".join(self.groups),
            "records": self.records,
            "source_rows": ";".join(f"{s}:{r}" for s, r in self.source_rows),
        }


def _normalise_query(values: Mapping[str, str | None], today: dt.date) -> Features:
    """The query's comparison values, normalised by the loaders' own validation."""
    texts = {name: str(value) for name, value in values.items() if value is not None and str(value).strip()}
    for name in ("first_name", "last_name"):
        if name not in texts:
            raise ConfigError(
                f"the search needs a {name.replace('_', ' ')}; give --{name.replace('_', '-')}."
            )
    mapping = SourceMapping(
        name=_QUERY_SOURCE,
        kind="case",
        files=(),
        columns={name: name for name in ("row_id", *texts)},
    )
    row = RawRow(_QUERY_SOURCE, "query", 0, {"row_id": "query", **texts}, {})
    outcome = next(validate([row], mapping, today=today))
    if not isinstance(outcome, Record):
        # The loader's reason may quote the value: name the field only.
        raise ConfigError(
            f"the query's {outcome.field.replace('_', ' ')} cannot be read as a loader reads it; "
            "write names in letters, the birth date as DD-MM-YYYY or YYYY-MM-DD, the nationality "
            "as a country code (NLD) or name."
        )
    for name, _ in outcome.issues:
        raise ConfigError(
            f"the query's {name.replace('_', ' ')} cannot be read as a loader reads it; "
            "give it as a country code (NLD) or leave it out."
        )
    return features(outcome)


def _one_edit(word: str) -> Iterator[str]:
    """Every string one typing error away from ``word`` (deletion, transposition, change, insertion)."""
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]
        if i + 1 < len(word):
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        for c in ascii_lowercase:
            if c != word[i]:
                yield word[:i] + c + word[i + 1 :]
    for i in range(len(word) + 1):
        for c in ascii_lowercase:
            yield word[:i] + c + word[i:]


def _birth_variants(birth: str, today: dt.date) -> Iterator[tuple[str, str]]:
    """Birth dates a typical error away from ``birth`` (entity resolution's birth level 2)."""
    day = dt.date.fromisoformat(birth)
    earliest = DEFAULT_EARLIEST_DATES["birth_date"]

    def ok(d: dt.date) -> bool:
        return earliest <= d <= today and d != day

    for year in range(earliest.year, today.year + 1):
        try:
            d = day.replace(year=year)
        except ValueError:
            continue
        if ok(d):
            yield d.isoformat(), "birth date: the year differs"
    for month in range(1, 13):
        try:
            d = day.replace(month=month)
        except ValueError:
            continue
        if ok(d):
            yield d.isoformat(), "birth date: the month differs"
    for dom in range(1, 32):
        try:
            d = day.replace(day=dom)
        except ValueError:
            continue
        if ok(d):
            yield d.isoformat(), "birth date: the day differs"
    try:
        d = dt.date(day.year, day.day, day.month)
        if ok(d):
            yield d.isoformat(), "birth date: day and month swapped"
    except ValueError:
        pass
    for off in range(1, DAYS_OFF + 1):
        for d in (day - dt.timedelta(days=off), day + dt.timedelta(days=off)):
            if ok(d):
                yield d.isoformat(), f"birth date: {off} day{'s' if off > 1 else ''} off"


def _variants(q: Features, today: dt.date) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The name and birth-date variants the search combines, each once and in a fixed order.

    Returns ``(names, births)``: ``(first, last, how)`` and ``(birth, how)``; the query's own
    names and birth date come first, with ``how`` "exact". Without a birth date in the query the
    names are the query's only and the births every date from 1900 (see ``find_person``).
    """
    if not q.birth:
        day = DEFAULT_EARLIEST_DATES["birth_date"]
        step = dt.timedelta(days=1)
        dates = []
        while day <= today:
            dates.append((day.isoformat(), "birth date not in the query"))
            day += step
        return [(q.first, q.last, "exact")], dates
    names = {(q.first, q.last): "exact"}
    for first in _one_edit(q.first):
        if first:
            names.setdefault((first, q.last), "first name: one typing error")
    for last in _one_edit(q.last):
        if last:
            names.setdefault((q.first, last), "last name: one typing error")
    births = {q.birth: "exact"}
    for birth, how in _birth_variants(q.birth, today):
        births.setdefault(birth, how)
    return [(f, last, how) for (f, last), how in names.items()], list(births.items())


def _rank(n: int, b: int) -> tuple[int, int, int]:
    """Where the (name ``n``, birth ``b``) spelling comes in the search's order: the query, one
    difference (the birth date, then a name), then two differences; index 0 is the query's own
    value (without a birth date in the query, every date is a birth variant of the one name)."""
    if n == 0:
        return (0 if b == 0 else 1, 0, b)
    return (2 if b == 0 else 3, n, b)


def _how(name_how: str, birth_how: str) -> str:
    if name_how == "exact":
        return birth_how
    if birth_how == "exact":
        return name_how
    return f"two differences: {name_how}; {birth_how}"


def _identities(q: Features, today: dt.date) -> Iterator[tuple[str, str, str, str]]:
    """(first, last, birth, how) of every identity that entity resolution would join to the query,
    then those that differ in two ways (see ``find_person``), each spelling once."""
    names, births = _variants(q, today)
    for n, b in sorted(
        ((n, b) for n in range(len(names)) for b in range(len(births))), key=lambda p: _rank(*p)
    ):
        first, last, name_how = names[n]
        birth, birth_how = births[b]
        yield first, last, birth, _how(name_how, birth_how)


def _hashed(
    key: Pseudonymiser, names: list[tuple[str, str, str]], births: list[tuple[str, str]]
) -> list[list[str]]:
    """The pseudonym of every (name, birth) combination: ``out[n][b]``.

    About 130,000 spellings with a birth date: the identity strings are built from a prefix per
    name and a suffix per date, and hashed with ``Pseudonymiser.hash_many``.
    """
    prefixes = [identity_string(first, last, "") for first, last, _ in names]
    dates = [birth for birth, _ in births]
    return [key.hash_many("person", [prefix + d for d in dates]) for prefix in prefixes]


def _name_blocks(key: Pseudonymiser, q: Features) -> list[str]:
    """The index keys of the blocks on one name alone (first name; surname without particles)
    under which a record of every identity the search tries is stored.

    Every spelling tried keeps the query's first name or its last name as written (at most one
    name differs, ``_variants``), and the identity's names come from one record of the person,
    in either order (``loaders.resolve``). So that record holds the query's first or last name as
    its first name (rule ``first_alone``), or as its surname: its surname without particles
    (rule ``surname_alone``) is then the query's ``last_core`` or, when the record wrote the
    particles otherwise ("Vanderberg", "Van Derberg"), an ending of the glued name. Both rules
    pair only undated records, so a dated record keeps their keys as ``<rule>ud:`` and both forms
    are looked up (``loaders.crossload.blocking_keys``).
    """
    cores = {q.last_core} | {name[i:] for name in (q.first, q.last) for i in range(len(name))}
    blank = Features("", "", "", "", "", "", "", "", frozenset())
    names = [blank._replace(first=first) for first in (q.first, q.last)]
    names += [blank._replace(last=core, last_core=core) for core in sorted(cores)]
    return index_keys_of_names(key, names, ("first_alone", "surname_alone"))


def _persons_by_name(store: GraphStore, key: Pseudonymiser, q: Features) -> set[str] | None:
    """The persons of the records in the query's name blocks (``_name_blocks``), read through the
    store's blocking-key index; None when the store's records are not all indexed (a store loaded
    before the index, or with an encoded source), which are then looked up by pseudonym."""
    sources = store.read_graph(GraphSlice(labels=frozenset({"Source"}), rel_types=frozenset()))
    marks = [attrs.get("block_index") for _node, attrs in sources.nodes(data=True)]
    if not marks or any(mark != BLOCK_INDEX_VERSION for mark in marks):
        return None
    return set(store.persons_in_blocks(_name_blocks(key, q)))


def _person_rows(graph: nx.MultiDiGraph, node: str) -> list[tuple[str, str]]:
    rows = set()
    for record, _, data in graph.in_edges(node, data=True):
        if data.get("type") != "DESCRIBES":
            continue
        attrs = graph.nodes[record]
        source = attrs.get("source") or data.get("source")
        row_id = attrs.get("row_id") or data.get("row_id")
        if source is not None and row_id is not None:
            rows.add((str(source), str(row_id)))
    return sorted(rows)


@audited("find", store="graph", only_from_store=True)
def find_person(
    graph: nx.MultiDiGraph | GraphStore,
    key: Pseudonymiser,
    first_name: str,
    last_name: str,
    birth_date: str | None = None,
    nationality: str | None = None,
    *,
    groups: Mapping[str, str | list[str] | tuple[str, ...]] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    today: dt.date | None = None,
) -> list[PersonMatch]:
    """List the persons of the graph that may be the person with these name and birth date.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or GraphStore
        The graph as read from the store (``read_analysis_graph``): ``Person:<pseudonym>`` nodes
        and the ``Record`` nodes that ``DESCRIBES`` them. Or an open store: then only the
        persons that may match and their records are read, found through the blocking-key
        index, so the search costs what the query's names have in the store, not its size.
    key : Pseudonymiser
        The key the graph was loaded with (``load_key``); with another key nothing is found.
    first_name, last_name : str
        As written in the case file; normalised as a loader would (particles, accents, order).
    birth_date : str, optional
        In any of the loaders' default date formats (31-12-1980, 1980-12-31 ...). Without it,
        every birth date is tried and the score is lower.
    nationality : str, optional
        A country code or name; a stored nationality that differs lowers the score.
    groups : mapping, optional
        person_id -> group id (or ids), e.g. from a detection's ``groups`` table.
    threshold : float
        The least match weight listed (entity resolution's own threshold by default).
    today : datetime.date, optional
        The day before which birth dates are tried (default: today).

    Returns
    -------
    list of PersonMatch
        Best match first (then by pseudonym). Empty when nobody matches.

    Raises
    ------
    ConfigError
        A name is missing or a value cannot be read as a loader reads it; the message names the
        field, never the value.

    Examples
    --------
    >>> from loaders.resolve import identity_string
    >>> key = Pseudonymiser(bytes(range(32)))
    >>> pid = key.hash("person", identity_string("piet", "jansen", "1980-02-03"))
    >>> g = nx.MultiDiGraph()
    >>> g.add_node(f"Person:{pid}", label="Person", person_id=pid, roles=["suspect"])
    >>> g.add_node("Record:politie:7", label="Record", source="politie", row_id="7")
    >>> _ = g.add_edge("Record:politie:7", f"Person:{pid}", type="DESCRIBES")
    >>> [m.how for m in find_person(g, key, "Jansen", "Piet", "03-02-1980")]
    ['exact']
    >>> found = find_person(g, key, "Piet", "Jansen", "02-03-1980")   # day and month swapped
    >>> found[0].person_id == pid, found[0].source_rows
    (True, (('politie', '7'),))

    References
    ----------
    Fellegi, I. P. & Sunter, A. B. (1969). A theory for record linkage. JASA 64(328), 1183-1210.
    """
    today = today or dt.date.today()
    query = _normalise_query(
        {
            "first_name": first_name,
            "last_name": last_name,
            "birth_date": birth_date,
            "nationality": nationality,
        },
        today,
    )
    if not query.first or not query.last:
        raise ConfigError("the search needs a first name and a last name made of letters.")
    names, births = _variants(query, today)
    hashed = _hashed(key, names, births)
    if isinstance(graph, nx.Graph):
        present = {pid for row in hashed for pid in row if f"Person:{pid}" in graph.nodes}
        now: Mapping[str, str] = {}
    else:
        # A person a later load merged into another is gone under its own id: look up the
        # person that holds its records now (netanalysis.merges).
        from netanalysis.merges import merged_persons

        now = merged_persons(graph)
        spelled: set[str] = set().union(*hashed)
        indexed = _persons_by_name(graph, key, query)
        if indexed is None:
            wanted = spelled | {now[pid] for pid in spelled & now.keys()}
        else:
            wanted = (spelled & indexed) | {now[pid] for pid in spelled & now.keys() if now[pid] in indexed}
        graph = read_around_persons(graph, wanted)
        there = {str(n).removeprefix("Person:") for n in graph if str(n).startswith("Person:")}
        present = (there & spelled) | {pid for pid in spelled & now.keys() if now[pid] in there}
    # Only the spellings of persons that are there are scored, in the order they were tried.
    hits = [
        (n, b)
        for n, row in enumerate(hashed)
        if not present.isdisjoint(row)
        for b, pid in enumerate(row)
        if pid in present
    ]
    tried = []
    for n, b in sorted(hits, key=lambda p: _rank(*p)):
        pid = hashed[n][b]
        first, last, name_how = names[n]
        birth, birth_how = births[b]
        tried.append((now.get(pid, pid), first, last, birth, _how(name_how, birth_how)))
    best: dict[str, tuple[float, str]] = {}
    nodes = graph.nodes
    for pid, first, last, birth, how in tried:
        node = f"Person:{pid}"
        if node not in nodes:
            continue
        attrs = nodes[node]
        stored = query._replace(
            first=first,
            last=last,
            birth=birth,
            nationality=str(attrs.get("nationality") or ""),
            gender=str(attrs.get("gender") or ""),
            document="",
        )
        pair = score_pair(query, stored)
        # Two differences are more than entity resolution joins between two records, but the
        # person's identity is only one of its records: another one may be closer to the query.
        two = how.startswith("two differences")
        if (not pair.allowed and not two) or pair.contradiction or pair.weight < threshold:
            continue
        if pid not in best or pair.weight > best[pid][0]:
            best[pid] = (pair.weight, how)
    matches = []
    for pid, (weight, how) in best.items():
        node = f"Person:{pid}"
        rows = _person_rows(graph, node)
        member_of = (groups or {}).get(pid, ())
        group_ids = (member_of,) if isinstance(member_of, str) else tuple(member_of)
        matches.append(
            PersonMatch(
                person_id=pid,
                score=probability(weight),
                weight=weight,
                how=how,
                roles=tuple(sorted(nodes[node].get("roles") or ())),
                groups=tuple(sorted(set(group_ids))),
                records=len(rows),
                source_rows=tuple(rows),
            )
        )
    matches.sort(key=lambda m: (-m.weight, m.person_id))
    return matches
