"""Retention terms and erasure: delete what is past due, or one row on request, and log it.

A *retention policy* (``retention.yaml``, data, not code) gives each source or each legal basis a
term: a duration after the row's observation date (``5y``, ``18m``, ``6w``, ``90d``, or a sum
such as ``1y6m``) or a fixed end date (``2026-06-30``) for a finished investigation. The term's
end is the last day a row is kept; a row is *past due* when its end lies before the as-of date.

.. code-block:: yaml

    rules:
      - source: gemeente_signalen     # a source rule wins for its rows ...
        term: 18m
      - legal_basis: Wpg art. 8       # ... a legal-basis rule covers the rows of other sources
        term: 5y
      - legal_basis: Wpg art. 9
        term: 2026-06-30

:func:`read_retention_policy` checks the file on its own (terms, keys, repeated rules);
:func:`apply_retention` checks it against the store too (an unknown source, a source rule and a
legal-basis rule that both cover rows of the store), and refuses a bad policy with one sentence
naming the line, before anything is deleted. :func:`records_past_due` is the pure planning step.
Deleting goes through ``graphstore.erasure``: persons and identifiers left without a record go,
shared facts stay while another row states them, derived properties are recomputed, and the
embedded store's file is compacted (docs/retention.md).

Both :func:`apply_retention` and :func:`erase_records` are logged (``netanalysis.audit``) with
counts only, and take the store's write lock, so no load writes while they delete.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graphstore.base import GraphStore
from graphstore.erasure import ErasurePlan, RecordInfo, plan_erasure, record_inventory
from netanalysis.audit import Processing, audited
from netanalysis.errors import ConfigError

__all__ = [
    "ErasureResult",
    "RetentionPolicy",
    "RetentionRule",
    "apply_retention",
    "erase_records",
    "read_retention_policy",
    "records_past_due",
    "stale_detections",
]

_TERM = re.compile(r"^(?:\d+[ymwd])+$")
_PART = re.compile(r"(\d+)([ymwd])")
_RULE_KEYS = frozenset({"source", "legal_basis", "term", "note"})


@dataclass(frozen=True)
class RetentionRule:
    """One rule of a policy: whose rows (a source or a legal basis) and for how long.

    Attributes
    ----------
    line : int
        The line of the rule in the policy file (1-based), for messages.
    source, legal_basis : str or None
        Exactly one is given.
    term : str
        As written: a duration (``5y``, ``18m``, ``1y6m``, ``90d``) or an ISO date.
    """

    line: int
    source: str | None
    legal_basis: str | None
    term: str

    @property
    def scope(self) -> str:
        """``source X`` or ``legal basis Y``, for messages."""
        return f"source {self.source}" if self.source is not None else f"legal basis {self.legal_basis}"

    @property
    def fixed(self) -> dt.date | None:
        """The fixed end date, or None for a duration."""
        return None if _TERM.match(self.term) else dt.date.fromisoformat(self.term)

    def end(self, observed_on: str | None) -> dt.date | None:
        """The last day a row observed on ``observed_on`` is kept (None: no date, no end).

        Examples
        --------
        >>> RetentionRule(1, "a", None, "1y6m").end("2020-08-31")
        datetime.date(2022, 2, 28)
        >>> RetentionRule(1, "a", None, "2026-06-30").end(None)
        datetime.date(2026, 6, 30)
        """
        fixed = self.fixed
        if fixed is not None:
            return fixed
        if not observed_on:
            return None
        months, days = 0, 0
        for number, unit in _PART.findall(self.term):
            n = int(number)
            months += {"y": 12 * n, "m": n}.get(unit, 0)
            days += {"w": 7 * n, "d": n}.get(unit, 0)
        return _add_months(dt.date.fromisoformat(observed_on[:10]), months) + dt.timedelta(days=days)


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, on the month's last day when it is shorter (31 Aug + 6m = 28 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class RetentionPolicy:
    """A checked retention policy: its file and its rules in file order."""

    path: str
    rules: tuple[RetentionRule, ...]

    def rule_for(self, record: RecordInfo) -> RetentionRule | None:
        """The rule that covers a record: its source's rule, else its legal basis's rule."""
        for rule in self.rules:
            if rule.source is not None and rule.source == record.source:
                return rule
        for rule in self.rules:
            if rule.legal_basis is not None and rule.legal_basis == record.legal_basis:
                return rule
        return None


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that remembers the line of every mapping (as ``__line__``)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


def _timestamp_as_text(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Dates stay text, checked by _term_text: YAML's own date parsing fails with a traceback on
    # a day that does not exist (2025-02-30).
    return str(loader.construct_scalar(node))


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _term_text(value: Any, where: str) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text and _TERM.match(text):
        return text
    if text:
        try:
            if len(text) == 10 and dt.date.fromisoformat(text).isoformat() == text:
                return text
        except ValueError:
            pass
    raise ConfigError(
        f"{where}: the term {value!r} is neither a duration after the observation date "
        "(5y, 18m, 6w, 90d, 1y6m) nor an end date (YYYY-MM-DD)"
    )


def read_retention_policy(path: str | os.PathLike[str]) -> RetentionPolicy:
    """Read and check a retention policy file (format in the module docstring).

    Parameters
    ----------
    path : str or path
        The policy, YAML.

    Returns
    -------
    RetentionPolicy

    Raises
    ------
    ConfigError
        One sentence naming the line: a missing or malformed file, a rule without a term or with
        a term that is neither a duration nor a date, a rule with both or neither of ``source``
        and ``legal_basis``, an unknown key, two rules for the same source or legal basis.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "retention.yaml"
    >>> _ = p.write_text("rules:\\n  - source: a\\n    term: 5y\\n  - source: a\\n    term: 1y\\n")
    >>> try:
    ...     read_retention_policy(p)
    ... except ConfigError as exc:
    ...     print(str(exc).split("retention.yaml ", 1)[1])
    line 4: a second rule for source a (the first is on line 2); give each source or legal basis one rule
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the retention policy {file}: {type(exc).__name__}") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"the retention policy {file} is not valid YAML{at}") from None
    rules_data = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules_data, list) or not rules_data:
        raise ConfigError(f"the retention policy {file} needs a list of rules under `rules:`")
    rules: list[RetentionRule] = []
    seen: dict[tuple[str, str], int] = {}
    for item in rules_data:
        if not isinstance(item, dict):
            raise ConfigError(f"{file}: every rule must be a mapping with source or legal_basis and a term")
        line = int(item.pop("__line__"))
        where = f"{file} line {line}"
        unknown = sorted(str(k) for k in set(item) - _RULE_KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r} in a rule (a rule has source or legal_basis, "
                "term and an optional note)"
            )
        source, basis = item.get("source"), item.get("legal_basis")
        if (source is None) == (basis is None):
            raise ConfigError(f"{where}: a rule names either a source or a legal_basis, not both or neither")
        scope_value = source if source is not None else basis
        if not isinstance(scope_value, str) or not scope_value.strip():
            raise ConfigError(f"{where}: the source or legal basis of a rule must be a non-empty text")
        if "term" not in item:
            raise ConfigError(f"{where}: the rule has no term (a duration such as 5y, or an end date)")
        rule = RetentionRule(
            line,
            source.strip() if isinstance(source, str) else None,
            basis.strip() if isinstance(basis, str) else None,
            _term_text(item["term"], where),
        )
        scope_key = ("source", rule.source) if rule.source is not None else ("basis", str(rule.legal_basis))
        if scope_key in seen:
            raise ConfigError(
                f"{where}: a second rule for {rule.scope} (the first is on line {seen[scope_key]}); "
                "give each source or legal basis one rule"
            )
        seen[scope_key] = line
        rules.append(rule)
    return RetentionPolicy(str(file), tuple(rules))


def check_policy(policy: RetentionPolicy, records: Mapping[str, RecordInfo], sources: Iterable[str]) -> None:
    """Check a policy against what a store holds; raise ConfigError naming the line.

    A rule for a source the store does not know, and a source rule and a legal-basis rule that
    both cover rows of the store (which term would hold?), are refused.

    Examples
    --------
    >>> rec = {"a:1": RecordInfo("a:1", "a", "1", "Wpg art. 8", "2020-01-01")}
    >>> pol = RetentionPolicy("p.yaml", (RetentionRule(2, "a", None, "5y"),
    ...                                  RetentionRule(4, None, "Wpg art. 8", "1y")))
    >>> try:
    ...     check_policy(pol, rec, ["a"])
    ... except ConfigError as exc:
    ...     print(str(exc)[:70])
    p.yaml line 4: the rule for legal basis Wpg art. 8 overlaps the rule f
    """
    known = set(sources) | {r.source for r in records.values()}
    for rule in policy.rules:
        if rule.source is not None and rule.source not in known:
            names = ", ".join(sorted(known)) or "none"
            raise ConfigError(
                f"{policy.path} line {rule.line}: the store has no source {rule.source} "
                f"(its sources: {names})"
            )
    by_source = {r.source: r for r in policy.rules if r.source is not None}
    for rule in policy.rules:
        if rule.legal_basis is None:
            continue
        shared: dict[str, int] = {}
        for record in records.values():
            if record.legal_basis == rule.legal_basis and record.source in by_source:
                shared[record.source] = shared.get(record.source, 0) + 1
        if shared:
            source = min(shared, key=lambda s: by_source[s].line)
            raise ConfigError(
                f"{policy.path} line {rule.line}: the rule for legal basis {rule.legal_basis} "
                f"overlaps the rule for source {source} on line {by_source[source].line} "
                f"({shared[source]} rows of {source} have that legal basis); give those rows one rule"
            )


@dataclass(frozen=True)
class DueRecords:
    """Which records are past due, and why the others are not."""

    record_ids: tuple[str, ...]
    by_rule: dict[int, int]  # rule line -> records past due under it
    without_rule: int
    undated: int  # covered by a duration rule but without an observation date


def records_past_due(
    policy: RetentionPolicy, records: Mapping[str, RecordInfo], as_of: dt.date
) -> DueRecords:
    """The records whose term ended before ``as_of`` (pure: no store, no clock).

    Parameters
    ----------
    policy : RetentionPolicy
    records : mapping
        record id -> :class:`~graphstore.erasure.RecordInfo` (``record_inventory``).
    as_of : datetime.date
        The day retention is applied for.

    Returns
    -------
    DueRecords

    Examples
    --------
    >>> recs = {r.record_id: r for r in [RecordInfo("a:1", "a", "1", None, "2019-01-01"),
    ...                                  RecordInfo("a:2", "a", "2", None, "2024-01-01"),
    ...                                  RecordInfo("a:3", "a", "3", None, None),
    ...                                  RecordInfo("b:1", "b", "1", None, "2000-01-01")]}
    >>> pol = RetentionPolicy("p", (RetentionRule(2, "a", None, "5y"),))
    >>> records_past_due(pol, recs, dt.date(2025, 1, 2))
    DueRecords(record_ids=('a:1',), by_rule={2: 1}, without_rule=1, undated=1)
    """
    due: list[str] = []
    by_rule = {rule.line: 0 for rule in policy.rules}
    without_rule = undated = 0
    for rid, record in sorted(records.items()):
        rule = policy.rule_for(record)
        if rule is None:
            without_rule += 1
            continue
        end = rule.end(record.observed_on)
        if end is None:
            undated += 1
        elif end < as_of:
            due.append(rid)
            by_rule[rule.line] += 1
    return DueRecords(tuple(due), by_rule, without_rule, undated)


def stale_detections(folders: Sequence[str | os.PathLike[str]], before: float) -> list[tuple[str, str]]:
    """Detection folders (``settings.json`` in them or one level down) made before ``before``.

    Returns (folder, when it was made as ISO time) pairs; a folder without any detection is a
    ConfigError.
    """
    stale: list[tuple[str, str]] = []
    for folder in folders:
        base = Path(folder)
        found = [base] if (base / "settings.json").is_file() else []
        if not found and base.is_dir():
            found = sorted(p for p in base.iterdir() if (p / "settings.json").is_file())
        if not found:
            raise ConfigError(f"{base} holds no detection (no settings.json in it or its folders)")
        for det in found:
            made = (det / "settings.json").stat().st_mtime
            if made < before:
                when = dt.datetime.fromtimestamp(made, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                stale.append((str(det), when))
    return stale


@dataclass
class ErasureResult:
    """What a retention run or an erasure did (or, in a dry run, would do): counts only.

    Attributes
    ----------
    command : str
        ``retention`` or ``erase``.
    dry_run : bool
    plan : ErasurePlan
        What was (or would be) deleted and rewritten.
    as_of : str or None
        The retention date (retention only).
    by_rule : dict
        ``"line N (scope, term)"`` -> records past due under that rule (retention only).
    without_rule, undated : int
        Records no rule covers; records under a duration rule without an observation date.
    stale : list of (folder, made)
        Detection outputs made before the deletion: they still show what was deleted.
    compaction : str
        What the store did to make the deleted values unreadable in its files.
    """

    command: str
    dry_run: bool
    plan: ErasurePlan
    as_of: str | None = None
    by_rule: dict[str, int] = field(default_factory=dict)
    without_rule: int = 0
    undated: int = 0
    stale: list[tuple[str, str]] = field(default_factory=list)
    compaction: str = ""

    def counts(self) -> dict[str, int]:
        """The plan's counts (records, relationships and nodes deleted, nodes updated …)."""
        return self.plan.counts()

    def summary(self) -> str:
        """A few lines for the terminal: counts, never a record id or a pseudonym."""
        would = "would delete" if self.dry_run else "deleted"
        c = self.counts()
        lines = []
        if self.command == "retention":
            lines.append(f"retention as of {self.as_of}: {c['records']} records past due")
            for rule, n in self.by_rule.items():
                lines.append(f"  {rule}: {n} records")
            lines.append(
                f"  kept: {self.without_rule} records under no rule, {self.undated} under a duration "
                "rule without an observation date"
            )
        else:
            lines.append(f"erase: {c['records']} records")
        labels = ", ".join(f"{label} {n}" for label, n in self.plan.nodes_deleted_by_label().items())
        lines.append(
            f"{would} {c['relationships_deleted']} relationships and {c['nodes_deleted']} nodes"
            + (f" ({labels})" if labels else "")
            + f"; {'would recompute' if self.dry_run else 'recomputed'} {c['nodes_updated']} nodes "
            f"and {c['relationships_updated']} shared relationships"
        )
        if self.compaction:
            lines.append(self.compaction)
        if self.stale:
            tag = "would be stale" if self.dry_run else "stale"
            for folder, made in self.stale:
                lines.append(
                    f"{tag}: detection {folder} (made {made}) still shows what was deleted; re-run detect"
                )
        if self.dry_run:
            lines.append("dry run: nothing was changed")
        return "\n".join(lines)


def _record_result(proc: Processing, result: ErasureResult, arguments: Mapping[str, Any]) -> None:
    proc.touched(sources=list(result.plan.sources))
    for name, value in result.counts().items():
        proc.count(name, value)
    proc.count("stale_detections", len(result.stale))


def _erase(
    store: GraphStore,
    command: str,
    records: Iterable[str],
    graph: Any,
    dry_run: bool,
    detected: Sequence[str | os.PathLike[str]],
) -> ErasureResult:
    started = dt.datetime.now(dt.UTC).timestamp()
    plan = plan_erasure(graph, records)
    result = ErasureResult(command, dry_run, plan)
    if not dry_run:
        store.apply_erasure(plan)
        # Also after a run that was cut off before it: its deletes may still sit in free pages.
        result.compaction = store.compact()
    if detected and plan.records:
        result.stale = stale_detections(detected, started)
    return result


@audited("retention", store="store", after=_record_result)
def apply_retention(
    store: GraphStore,
    policy: RetentionPolicy | str | os.PathLike[str],
    *,
    as_of: str | dt.date | None = None,
    dry_run: bool = False,
    detected: Sequence[str | os.PathLike[str]] = (),
) -> ErasureResult:
    """Delete every record past its retention term, and what exists only because of it.

    Parameters
    ----------
    store : GraphStore
        The store (``na.open_store``); its write lock is held while it deletes.
    policy : RetentionPolicy or path
        The policy, or its file (:func:`read_retention_policy`).
    as_of : str or date, optional
        The day to apply the terms for (ISO date); default today (UTC).
    dry_run : bool
        Plan and count, change nothing.
    detected : sequence of paths
        Detection folders to check: those made before the deletion are listed as stale.

    Returns
    -------
    ErasureResult
        Counts per rule, what was deleted and recomputed, stale detections.

    Raises
    ------
    ConfigError
        A bad policy (one sentence naming the line); nothing is deleted.

    Examples
    --------
    >>> import netanalysis as na
    >>> store = na.open_store("graph.sqlite")                                  # doctest: +SKIP
    >>> print(na.apply_retention(store, "retention.yaml", dry_run=True).summary())  # doctest: +SKIP
    """
    rules = policy if isinstance(policy, RetentionPolicy) else read_retention_policy(policy)
    day = _as_of(as_of)

    def run() -> tuple[ErasureResult, DueRecords]:
        # One read of the graph, under the write lock when deleting: the policy is checked
        # against it before anything is deleted.
        graph = store.read_graph()
        records = record_inventory(graph)
        sources = [str(d.get("name")) for _n, d in graph.nodes(data=True) if d.get("label") == "Source"]
        check_policy(rules, records, sources)
        due = records_past_due(rules, records, day)
        return _erase(store, "retention", due.record_ids, graph, dry_run, detected), due

    if dry_run:
        result, due = run()
    else:
        with _deleting(store, f"retention {day.isoformat()}"):
            result, due = run()
    result.as_of = day.isoformat()
    result.by_rule = {f"line {r.line} ({r.scope}, {r.term})": due.by_rule.get(r.line, 0) for r in rules.rules}
    result.without_rule, result.undated = due.without_rule, due.undated
    return result


@contextlib.contextmanager
def _deleting(store: GraphStore, batch: str) -> Iterator[None]:
    """Hold the store's write lock (``graphstore.loads``) while deleting. The run is recorded as
    complete unless it fails after it may have changed something: a bad policy or record id is
    refused before any change, and must not make reading commands refuse the store."""
    store.begin_load(batch)
    completed = False
    try:
        yield
        completed = True
    except ConfigError:
        completed = True
        raise
    finally:
        store.end_load(batch, completed=completed)


def _as_of(value: str | dt.date | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(value, dt.date):
        return value
    try:
        if len(value) == 10 and dt.date.fromisoformat(value).isoformat() == value:
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise ConfigError(f"the as-of date {value!r} must be an ISO date written YYYY-MM-DD")


@audited("erase", store="store", after=_record_result)
def erase_records(
    store: GraphStore,
    records: Sequence[str],
    *,
    dry_run: bool = False,
    detected: Sequence[str | os.PathLike[str]] = (),
) -> ErasureResult:
    """Erase source rows (``"SOURCE:ROW_ID"``) and everything that exists only because of them.

    For a correction or an erasure decision. Persons, identifiers and premises left without a
    record go; facts other rows state stay; roles, a signal's case link and the like are
    recomputed from what remains (``graphstore.erasure``).

    Parameters
    ----------
    store : GraphStore
        The store; its write lock is held while it deletes.
    records : sequence of str
        Record ids, ``"<source>:<row_id>"`` as in the source file and mapping.
    dry_run : bool
        Plan and count, change nothing.
    detected : sequence of paths
        Detection folders to check for outputs made before the erasure (listed as stale).

    Returns
    -------
    ErasureResult

    Raises
    ------
    ConfigError
        A malformed record id, or one the store does not hold (nothing is deleted).

    Examples
    --------
    >>> import netanalysis as na
    >>> store = na.open_store("graph.sqlite")                                  # doctest: +SKIP
    >>> print(na.erase_records(store, ["politie_zaken:P000123"]).summary())   # doctest: +SKIP
    """
    wanted = list(dict.fromkeys(records))
    if not wanted:
        raise ConfigError("say which records to erase: SOURCE:ROW_ID, one or more")
    for rid in wanted:
        source, _, row = str(rid).partition(":")
        if not source or not row:
            raise ConfigError(f"{rid!r} is not a record id; write SOURCE:ROW_ID as in the source's mapping")

    def plan_run() -> ErasureResult:
        graph = store.read_graph()
        held = record_inventory(graph)
        missing = [rid for rid in wanted if rid not in held]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ConfigError(f"the store holds no record {missing[0]}{more}; nothing was erased")
        return _erase(store, "erase", wanted, graph, dry_run, detected)

    if dry_run:
        return plan_run()
    with _deleting(store, "erase"):
        return plan_run()
