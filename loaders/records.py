"""The records that flow between the loader steps.

read -> ``RawRow`` (strings as in the file) -> validate + normalise -> ``Record`` (clear, normalised
values, kept in memory only) or ``Reject`` -> resolve (which records are the same person) ->
pseudonymise + graph rows -> store. Clear values never leave this process: only keyed hashes are
written to the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FIELDS", "ROLE_FIELDS", "RawRow", "Record", "Reject"]

# Canonical fields (docs/mapping-format.md). Normalised value forms on a Record:
#   row_id, case_id, signal_id, reported_by, premises_name, premises_kind: str, stripped, NFC
#   role: "suspect" | "victim" | "signalled"
#   first_name, name_particle, last_name: display form (NFC, original capitals, particle lowercase)
#       the matching forms are in Record.match: "first_name", "last_name" (casefolded, accents
#       removed, particle glued to last name, e.g. "vanderberg"), "name_key" (sorted tokens)
#   birth_date, observed_on: ISO date string "YYYY-MM-DD"
#   nationality: ISO 3166-1 alpha-3 ("NLD", "ROU")
#   gender: "m" | "f" | "x"
#   phone: E.164 "+31612345678"; plate: "XX-999-X" style, upper case; iban: compact upper case
#   document_number: upper case, no spaces
#   municipality: CBS code "GM0363" (resolved from the written name through loaders.reference)
#   postcode: PC4 "1012"
#   exploitation_type: "sexual" | "labour" | "criminal" | "organ" | "unknown"
#   reliability: grade string, e.g. "B2"
#   kvk_number: 8 digits; organisation_name: matching key (folded words without legal form, sorted;
#       the written name is not kept); organisation_sector: SBI section letter "N";
#       organisation_municipality: CBS code; organisation_role: "EMPLOYED_BY" | "DIRECTOR_OF" | "OWNS"
#   address: "1012AB\x1f12\x1fA" (PC6, house number, addition), made from postcode + house_number
#       (+ house_number_addition), which are not kept on their own
#   from_date, to_date: ISO dates of the period of the row's registration, tie or role
#   exploited_by, recruited_by, transported_by, controlled_by: tuple of row ids of the same source
FIELDS: tuple[str, ...] = (
    "row_id",
    "case_id",
    "signal_id",
    "role",
    "first_name",
    "name_particle",
    "last_name",
    "full_name",
    "birth_date",
    "nationality",
    "gender",
    "phone",
    "plate",
    "iban",
    "document_number",
    "municipality",
    "postcode",
    "premises_name",
    "premises_kind",
    "exploitation_type",
    "observed_on",
    "reliability",
    "reported_by",
    "kvk_number",
    "organisation_name",
    "organisation_kind",
    "organisation_sector",
    "organisation_municipality",
    "organisation_role",
    "house_number",
    "house_number_addition",
    "from_date",
    "to_date",
    "exploited_by",
    "recruited_by",
    "transported_by",
    "controlled_by",
)
#: Person-to-person role fields -> relationship type; the field's row ids name the start person.
ROLE_FIELDS: dict[str, str] = {
    "exploited_by": "EXPLOITED",
    "recruited_by": "RECRUITED",
    "transported_by": "TRANSPORTED",
    "controlled_by": "CONTROLLED",
}


@dataclass
class RawRow:
    """One row as read from a source file: canonical field -> original string."""

    source: str
    row_id: str
    line: int
    values: dict[str, str]
    original: dict[str, str]
    file: str = ""
    # Set by the reader when the row cannot be split into the header's columns (e.g. "row has 14
    # fields, header has 17"); validate turns such a row into a Reject on field "_row".
    problem: str = ""


@dataclass(slots=True)
class Record:
    """One accepted row with normalised clear values (in memory only, never stored as is).

    Slotted: a load holds every record until its rows are written, and an instance dict per record
    cost about 100 bytes more of each.
    """

    source: str
    row_id: str
    kind: str  # case | signal | victim_registration
    values: dict[str, Any]
    match: dict[str, str] = field(default_factory=dict)
    legal_basis: str = ""
    reliability: str = ""
    # Optional identifiers that were invalid and dropped from ``values`` while the row was loaded:
    # (field, reason) pairs, written next to the rejects with outcome "field_dropped". ``original``
    # is filled only for a record with issues (to keep memory small for millions of records).
    issues: list[tuple[str, str]] = field(default_factory=list)
    original: dict[str, str] = field(default_factory=dict)
    # Values that were read as a correction (a place name with a typo read as the nearest known
    # name): (field, note) pairs, written to the rejects file with outcome "field_corrected" so the
    # analyst can check the reading; the row is loaded with the corrected value.
    corrections: list[tuple[str, str]] = field(default_factory=list)
    file: str = ""
    line: int = 0

    @property
    def record_id(self) -> str:
        """Provenance id of the row: ``"<source>:<row_id>"``."""
        return f"{self.source}:{self.row_id}"


@dataclass
class Reject:
    """One refused row: where it came from, which field failed, why, and its original values."""

    source: str
    row_id: str
    field: str
    reason: str
    original: dict[str, str]
    file: str = ""
    line: int = 0
