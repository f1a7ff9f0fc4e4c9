"""Validate and normalise raw rows into accepted :class:`Record` s and refused :class:`Reject` s.

``validate(rows, source)`` is lazy and total: it yields exactly one outcome per input row, so
``read == loaded + rejected`` holds by construction, and one bad row never stops the batch
(pandera's "lazy" validation: every failure is data).

Policy for invalid values (documented in docs/mapping-format.md):

- the row is **rejected** (``Reject``) when its columns do not line up with the header, a value
  is longer than its field's ``max_lengths`` (see :data:`loaders.mapping.DEFAULT_MAX_LENGTHS`),
  its row id is empty or used before in the source, a ``required`` field is empty or invalid, or one of the
  fields that place a person in time, space or a role is invalid: ``birth_date``,
  ``observed_on`` (impossible, unreadable or future dates, or dates before the source's
  ``earliest_dates``), ``municipality`` (unknown or
  ambiguous place; the reason lists the closest names), ``role``, ``exploitation_type``, or the
  name (a row with name columns but no usable last name);
- an invalid **optional identifier** (``phone``, ``plate``, ``iban``, ``document_number``,
  ``postcode``, ``nationality``, ``gender``, ``reliability``) is dropped from the record, the row is
  loaded, and ``(field, reason)`` goes to ``Record.issues`` - the rejects file lists it with
  outcome ``field_dropped``. A wrong phone number should not hide a person; a wrong date or place
  would put them somewhere they were not;
- a ``municipality`` read as a typo of a known name (see :mod:`loaders.normalise.places`) is loaded
  with that name's code, and ``(field, note)`` goes to ``Record.corrections`` - the rejects file
  lists it with outcome ``field_corrected`` ("place 'Amsterdm' read as Amsterdam -> Amsterdam
  (GM0363)"), so no guess is silent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from loaders.mapping import SourceMapping
from loaders.normalise import enums
from loaders.normalise.dates import parse_date
from loaders.normalise.iban import normalise_iban
from loaders.normalise.names import Name, match_keys, parse_full_name, parse_name_parts
from loaders.normalise.nationality import normalise_nationality
from loaders.normalise.organisations import (
    normalise_kvk,
    normalise_organisation_role,
    normalise_sector,
    organisation_key,
)
from loaders.normalise.phones import normalise_phone
from loaders.normalise.places import resolve_match
from loaders.normalise.plates import normalise_plate
from loaders.normalise.postcodes import (
    normalise_addition,
    normalise_house_number,
    normalise_pc6,
    normalise_postcode,
)
from loaders.normalise.text import clean, fold
from loaders.records import ROLE_FIELDS, RawRow, Record, Reject
from loaders.resolve import describes_person

__all__ = [
    "DROPPABLE",
    "RoleTargets",
    "add_role_target",
    "check_role_targets",
    "check_roles",
    "role_targets",
    "validate",
]

#: Optional identifiers that are dropped (with an issue) instead of rejecting the row.
DROPPABLE: frozenset[str] = frozenset(
    {
        "phone",
        "plate",
        "iban",
        "document_number",
        "postcode",
        "nationality",
        "gender",
        "reliability",
        "kvk_number",
        "organisation_name",
        "organisation_sector",
        "house_number",
        "house_number_addition",
        "from_date",
        "to_date",
        *ROLE_FIELDS,
    }
)
#: The fields that describe an organisation besides its number and name.
_ORGANISATION_DETAILS = (
    "organisation_kind",
    "organisation_sector",
    "organisation_municipality",
    "organisation_role",
)
_EARLIEST_PERIOD = dt.date(1900, 1, 1)
_ROW_ID_SEPARATORS = re.compile(r"[;|,]")
_NAME_FIELDS = ("first_name", "name_particle", "last_name", "full_name")


def _row_ids(text: str) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(clean(part) for part in _ROW_ID_SEPARATORS.split(text) if part.strip()))
    if not ids:
        raise ValueError(f"{text.strip()!r} names no row id")
    return ids


def _document(text: str) -> str:
    value = "".join(text.split()).upper()
    if not value.isalnum():
        raise ValueError(f"{text.strip()!r} is not a document number (letters and digits only)")
    return value


# Values that repeat (places, dates, words, shared phones) are normalised once per validate call;
# failures are cached too, as (False, reason), so a bad value seen again costs a lookup.
_CACHE_SIZE = 100_000
_UNCACHED = frozenset({"row_id", "case_id", "signal_id"})
Outcome = tuple[bool, Any]


def _safe(func: Callable[[str], Any]) -> Callable[[str], Outcome]:
    def run(text: str) -> Outcome:
        try:
            return True, func(text)
        except ValueError as exc:
            return False, str(exc)

    return run


def _normalisers(source: SourceMapping, today: dt.date) -> dict[str, Callable[[str], Outcome]]:
    formats = source.date_formats
    earliest_birth = source.earliest_dates.get("birth_date")
    earliest_seen = source.earliest_dates.get("observed_on")
    plain: dict[str, Callable[[str], Any]] = {
        "row_id": clean,
        "case_id": clean,
        "signal_id": clean,
        "reported_by": clean,
        "premises_name": clean,
        "premises_kind": clean,
        "role": enums.normalise_role,
        "exploitation_type": enums.normalise_exploitation,
        "gender": enums.normalise_gender,
        "reliability": enums.normalise_reliability,
        "birth_date": lambda text: parse_date(
            text, formats, birth=True, today=today, earliest=earliest_birth
        ),
        "observed_on": lambda text: parse_date(text, formats, today=today, earliest=earliest_seen),
        "nationality": normalise_nationality,
        "phone": normalise_phone,
        "plate": normalise_plate,
        "iban": normalise_iban,
        "document_number": _document,
        "municipality": resolve_match,
        "postcode": normalise_postcode,
        "kvk_number": normalise_kvk,
        "organisation_name": organisation_key,
        "organisation_kind": clean,
        "organisation_sector": normalise_sector,
        "organisation_municipality": resolve_match,
        "organisation_role": normalise_organisation_role,
        "house_number": normalise_house_number,
        "house_number_addition": normalise_addition,
        "from_date": lambda text: parse_date(text, formats, today=today, earliest=_EARLIEST_PERIOD),
        "to_date": lambda text: parse_date(text, formats, today=today, earliest=_EARLIEST_PERIOD),
        **dict.fromkeys(ROLE_FIELDS, _row_ids),
    }
    return {
        field: _safe(func) if field in _UNCACHED else lru_cache(maxsize=_CACHE_SIZE)(_safe(func))
        for field, func in plain.items()
    }


def validate(
    rows: Iterable[RawRow],
    source: SourceMapping,
    *,
    today: dt.date | None = None,
    seen_ids: set[str] | None = None,
) -> Iterator[Record | Reject]:
    """Yield one :class:`Record` or :class:`Reject` per row, in input order.

    Parameters
    ----------
    rows : raw rows of one source, e.g. from :func:`loaders.read.read_source`.
    source : the source's mapping (value maps, date formats, required fields, defaults).
    today : the reference day for refusing future dates (default: the current date).
    seen_ids : row ids already accepted for this source (pass one set for all files of a source
        so a row id repeated across files is caught); a new set by default.

    Returns
    -------
    An iterator of outcomes; each Record has ``values`` with the normalised forms fixed in
    :mod:`loaders.records` (only fields with a value), ``match`` with the name matching keys, and
    ``issues`` for dropped optional identifiers.
    """
    today = today or dt.date.today()
    check = _Checker(source, _normalisers(source, today), seen_ids)
    for row in rows:
        yield check(row)


def _reject(row: RawRow, field: str, reason: str) -> Reject:
    return Reject(row.source, row.row_id, field, reason, row.original, row.file, row.line)


class _Checker:
    """Turns one RawRow into its outcome; holds what is fixed per source."""

    def __init__(
        self,
        source: SourceMapping,
        normalisers: dict[str, Callable[[str], Outcome]],
        seen_ids: set[str] | None,
    ) -> None:
        self.source = source
        self.normalisers = normalisers
        self.required = source.required
        self.seen: set[str] = set() if seen_ids is None else seen_ids
        self.value_maps = source.values
        self.has_names = any(f in source.fields for f in _NAME_FIELDS)
        self.name_cache: dict[tuple[str, str, str, str], tuple[Name, dict[str, str]]] = {}
        self.max_lengths = source.max_lengths

    def __call__(self, row: RawRow) -> Record | Reject:
        if row.problem:
            return _reject(row, "_row", row.problem)
        texts: dict[str, str] = {}
        value_maps = self.value_maps
        max_lengths = self.max_lengths
        for field, raw in row.values.items():
            limit = max_lengths.get(field)
            if limit is not None and len(raw) > limit:
                # Checked before any cleaning, so an oversized value is neither copied nor stored.
                return _reject(
                    row,
                    field,
                    f"the value has {len(raw):,} characters; field '{field}' takes at most "
                    f"{limit:,} (max_lengths in the mapping)",
                )
            text = raw.strip()
            if text:
                table = value_maps.get(field)
                texts[field] = table.get(fold(text), text) if table else text
        for field in self.required:
            if field in texts:
                continue
            if field in ("first_name", "last_name") and "full_name" in texts:
                continue
            return _reject(row, field, f"required field '{field}' is empty")
        row_id = clean(texts["row_id"])
        # A file with a source column holds several sources: a row id is unique within its own.
        seen_key = f"{row.source}\x1f{row_id}" if self.source.source_column else row_id
        if seen_key in self.seen:
            return _reject(
                row, "row_id", f"row id {row_id!r} appears more than once in source {row.source!r}"
            )
        values: dict[str, Any] = {}
        issues: list[tuple[str, str]] = []
        corrections: list[tuple[str, str]] = []
        normalisers = self.normalisers
        for field, text in texts.items():
            if field in _NAME_FIELDS:
                continue
            ok, value = normalisers[field](text)
            if ok:
                if field in ("municipality", "organisation_municipality"):
                    if value.correction:
                        corrections.append((field, value.correction))
                    value = value.code
                values[field] = value
            elif field in DROPPABLE and field not in self.required:
                issues.append((field, value))
            else:
                return _reject(row, field, value)
        _address(values, texts.get("postcode", ""), issues)
        _organisation(values, issues)
        _period(values, issues)
        match: dict[str, str] = {}
        if self.has_names and ("last_name" in texts or "full_name" in texts or "first_name" in texts):
            name, keys = self._name(texts)
            if not name.last_name:
                field = "full_name" if "full_name" in texts else "last_name"
                return _reject(row, field, "the name has no last name")
            if name.first_name:
                values["first_name"] = name.first_name
            if name.name_particle:
                values["name_particle"] = name.name_particle
            values["last_name"] = name.last_name
            match = dict(keys)
        self.seen.add(seen_key)
        source = self.source
        record = Record(
            source=row.source,
            row_id=row_id,
            kind=source.kind,
            values=values,
            match=match,
            legal_basis=source.legal_basis,
            reliability=values.get("reliability") or source.reliability,
            issues=issues,
            # A role may be dropped later (check_role_targets), with the row's values in the rejects.
            original=row.original if issues or corrections or ROLE_FIELDS.keys() & values else {},
            corrections=corrections,
            file=row.file,
            line=row.line,
        )
        if (
            "address" in values
            and not (describes_person(record) or "kvk_number" in values or "organisation_name" in values)
            and "premises_name" not in values
        ):
            del values["address"]
            issues.append(("house_number", "the address belongs to no person, organisation or premises"))
            record.original = row.original
        return record

    def _name(self, texts: dict[str, str]) -> tuple[Name, dict[str, str]]:
        key = (
            texts.get("full_name", ""),
            texts.get("first_name", ""),
            texts.get("name_particle", ""),
            texts.get("last_name", ""),
        )
        found = self.name_cache.get(key)
        if found is None:
            if key[0]:
                name = parse_full_name(key[0])
            else:
                name = parse_name_parts(key[1], key[2], key[3])
            found = (name, match_keys(name))
            if len(self.name_cache) >= _CACHE_SIZE:
                self.name_cache.clear()
            self.name_cache[key] = found
        return found


def _address(values: dict[str, Any], postcode: str, issues: list[tuple[str, str]]) -> None:
    """Join postcode, house number and addition into ``values["address"]``, or drop the parts.

    The parts are not kept on their own: an address is its PC6, number and addition together.
    """
    number = values.pop("house_number", None)
    addition = values.pop("house_number_addition", None)
    if number is None:
        if addition is not None:
            issues.append(("house_number_addition", "an addition without a house number is no address"))
        return
    try:
        pc6 = normalise_pc6(postcode) if postcode else ""
    except ValueError as exc:
        issues.append(("house_number", f"the address is dropped: {exc}"))
        return
    if not pc6:
        issues.append(("house_number", "the address is dropped: a house number needs a postcode"))
        return
    values["address"] = f"{pc6}\x1f{number}\x1f{addition or ''}"


def _organisation(values: dict[str, Any], issues: list[tuple[str, str]]) -> None:
    """Drop an organisation's details when it has neither a KvK number nor a name."""
    if values.get("kvk_number") or values.get("organisation_name"):
        return
    details = [field for field in _ORGANISATION_DETAILS if field in values]
    for field in details:
        del values[field]
    if details:
        issues.append(
            (details[0], f"an organisation needs a KvK number or a name; {', '.join(details)} dropped")
        )


def _period(values: dict[str, Any], issues: list[tuple[str, str]]) -> None:
    """Drop a ``to_date`` before the ``from_date``: the period cannot end before it starts."""
    start, end = values.get("from_date"), values.get("to_date")
    if start and end and end < start:
        del values["to_date"]
        issues.append(("to_date", f"the period ends ({end}) before it starts ({start}); to_date dropped"))


class RoleTargets(NamedTuple):
    """The rows a person-to-person role may name (``check_roles``): record ids of one load."""

    known: set[str]  # every accepted row, ``"<source>:<row_id>"``
    persons: set[str]  # those of them that describe a person


def role_targets(records: Iterable[Record]) -> RoleTargets:
    """The ``RoleTargets`` of a load's records: known only once every row is read."""
    targets = RoleTargets(set(), set())
    for record in records:
        add_role_target(targets, record.record_id, describes_person(record))
    return targets


def add_role_target(targets: RoleTargets, record_id: str, person: bool) -> None:
    """Count one accepted record among ``targets`` (a load that does not keep its records)."""
    targets.known.add(record_id)
    if person:
        targets.persons.add(record_id)


def check_roles(record: Record, targets: RoleTargets) -> bool:
    """Drop the person-to-person roles of ``record`` that point at no person, with a reason.

    A role field (``exploited_by`` and the others, :data:`loaders.records.ROLE_FIELDS`) names
    other rows of the same source by their row id. A row id that is not an accepted row of this
    load (``targets.known``), a row that describes no person, or the row itself is dropped from
    the field, and ``(field, reason)`` goes to the record's ``issues`` (the rejects file,
    ``field_dropped``). The same record and targets give the same outcome every time.

    Returns
    -------
    bool
        Whether the record had no issue or correction before and has one now (it is not in the
        rejects yet).

    Examples
    --------
    >>> from loaders.records import Record
    >>> a = Record("p", "1", "case", {"last_name": "Jansen", "exploited_by": ("2", "9")})
    >>> b = Record("p", "2", "case", {"last_name": "Bakker"})
    >>> check_roles(a, role_targets([a, b])), a.values["exploited_by"], len(a.issues)
    (True, ('2',), 1)
    """
    fields = [f for f in ROLE_FIELDS if record.values.get(f)]
    if not fields:
        return False
    before = bool(record.issues or record.corrections)
    person = describes_person(record)
    for field in fields:
        kept: list[str] = []
        for row_id in record.values[field]:
            target = f"{record.source}:{row_id}"
            if not person:
                reason = "this row describes no person, so no one can be the end of the role"
            elif row_id == record.row_id:
                reason = "the row names itself"
            elif target not in targets.known:
                reason = f"row {row_id!r} is not a loaded row of {record.source!r} (missing or rejected)"
            elif target not in targets.persons:
                reason = f"row {row_id!r} describes no person"
            else:
                kept.append(row_id)
                continue
            record.issues.append((field, f"role to row {row_id!r} dropped: {reason}"))
        if kept:
            record.values[field] = tuple(kept)
        else:
            del record.values[field]
    return bool(record.issues) and not before


def check_role_targets(records: list[Record]) -> list[Record]:
    """Drop person-to-person roles that point at no person, with a reason on the record
    (``check_roles`` of each record against the ``role_targets`` of all of them).

    Returns
    -------
    list of Record
        The records that had no issue or correction before and have one now, so the caller
        can pass them to the rejects file (the others are there already).
    """
    targets = role_targets(records)
    return [record for record in records if check_roles(record, targets)]
