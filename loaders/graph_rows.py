"""Turn resolved records into the node and relationship rows of ``graph_schema.cypher``.

Input: normalised ``Record``s (clear values, in memory), the person each one describes (from
``loaders.resolve``) and a ``Pseudonymiser``. Output: ``NodeRow`` and ``RelItem`` values that the
pipeline writes through the graph-store protocol. Every identifying value is replaced here by its
keyed hash; no clear name, birth date, phone, plate, IBAN, case number, document number or premises
name leaves this module.

Identity (so that a reload MERGEs instead of duplicating)
    Record and Signal nodes: ``"<source>:<row_id>"`` (a signal spread over several rows shares the
    register's ``signal_id``). Case: keyed hash of the case number, so a signal or another source
    that names the same number meets the same Case. Premises: keyed hash of the folded name + PC4
    (the municipality code when there is no postcode). Phone / Vehicle / BankAccount: keyed hash of
    the normalised value. Relationships from a row have ``rel_key`` = the record id and carry the
    provenance ``source, row_id, batch, legal_basis, reliability, observed_on``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from graphstore.base import RelRow
from loaders import reference
from loaders.normalise.text import fold
from loaders.pseudonymise import Pseudonymiser
from loaders.records import ROLE_FIELDS, Record

__all__ = [
    "REFERENCE_SOURCE",
    "NodeRow",
    "RelItem",
    "RowBuilder",
    "SourceInfo",
    "address_id",
    "organisation_id",
    "premises_id",
    "reference_rows",
]

REFERENCE_SOURCE = "CBS 2025"
_IDENTIFIERS = (
    ("phone", "Phone", "phone_id"),
    ("plate", "Vehicle", "vehicle_id"),
    ("iban", "BankAccount", "account_id"),
)


class NodeRow(NamedTuple):
    """A node to upsert: its label and its properties (including the key property)."""

    label: str
    props: dict[str, Any]


class RelItem(NamedTuple):
    """A relationship to upsert, with the labels of its two ends."""

    rel_type: str
    start_label: str
    end_label: str
    row: RelRow


@dataclass(frozen=True)
class SourceInfo:
    """What the Source node says about who delivered the data."""

    name: str
    kind: str
    legal_basis: str = ""
    reliability: str = ""


def premises_id(p: Pseudonymiser, name: str, pc4: str | None, municipality: str | None) -> str:
    """Keyed hash of the folded premises name + PC4 (or the municipality code without postcode)."""
    return p.hash("premises", _premises_text(name, pc4, municipality))


def _premises_text(name: str, pc4: str | None, municipality: str | None) -> str:
    return f"{fold(name)}\x1f{pc4 or municipality or ''}"


def _organisation_text(kvk_number: str | None, name_key: str, municipality: str | None) -> str:
    if kvk_number:
        return f"kvk\x1f{kvk_number}"
    return f"name\x1f{name_key}\x1f{municipality or ''}"


def organisation_id(p: Pseudonymiser, kvk_number: str | None, name_key: str, municipality: str | None) -> str:
    """Keyed hash of the KvK number, or of the name's matching key + municipality code without one.

    The two never meet: a number and a name hash under different prefixes, so an organisation
    known by number in one source and by name in another stays two nodes (see docs/loading.md).
    """
    return p.hash("organisation", _organisation_text(kvk_number, name_key, municipality))


def address_id(p: Pseudonymiser, address: str) -> str:
    """Keyed hash of an address as validate joins it: PC6, house number and addition."""
    return p.hash("address", address)


def reference_rows() -> Iterator[NodeRow | RelItem]:
    """Municipality and Region nodes for the 2025 division and (Municipality)-[:IN]->(Region).

    Read from ``municipalities.csv`` and ``regions.csv`` through :mod:`loaders.reference`.

    Yields
    ------
    NodeRow or RelItem
        342 municipalities, 47 regions (10 police units, 25 safety regions, 12 provinces) and one
        IN relationship per municipality and level, with source ``"CBS 2025"``.
    """
    for row in reference.rows("regions"):
        yield NodeRow(
            "Region",
            {
                "region_id": f"{row['level']}:{row['code']}",
                "level": row["level"],
                "code": row["code"],
                "name": row["name"],
            },
        )
    for row in reference.rows("municipalities"):
        code = row["code"]
        yield NodeRow(
            "Municipality",
            {"code": code, "name": row["name"], "lat": float(row["lat"]), "lon": float(row["lon"])},
        )
        for level in reference.LEVELS:
            region_id = f"{level}:{row[level + '_code']}"
            yield RelItem(
                "IN",
                "Municipality",
                "Region",
                RelRow(
                    code,
                    region_id,
                    f"{REFERENCE_SOURCE}:{level}",
                    {"source": REFERENCE_SOURCE, "level": level},
                ),
            )


@dataclass
class _PersonAgg:
    roles: set[str] = field(default_factory=set)
    nationality: Counter[str] = field(default_factory=Counter)
    birth_year: Counter[int] = field(default_factory=Counter)
    gender: Counter[str] = field(default_factory=Counter)


def _most_common(counter: Counter[Any]) -> Any:
    if not counter:
        return None
    # Deterministic on ties: highest count, then smallest value.
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


class RowBuilder:
    """Builds graph rows record by record; aggregated nodes (Person, Case, Premises, Signal) at the end.

    Parameters
    ----------
    pseudonymiser : Pseudonymiser
        Makes every identifier's keyed hash.
    batch : str
        The load batch id, recorded on every Record node and every relationship from a row.
    """

    def __init__(self, pseudonymiser: Pseudonymiser, batch: str) -> None:
        self.p = pseudonymiser
        # Cases, premises, phones and addresses repeat across rows: each is hashed once.
        self._hash = lru_cache(maxsize=1 << 18)(pseudonymiser.hash)
        self.batch = batch
        self._persons: dict[str, _PersonAgg] = {}
        self._cases: dict[str, dict[str, Any]] = {}
        self._premises: dict[str, dict[str, Any]] = {}
        self._signals: dict[str, dict[str, Any]] = {}
        self._organisations: dict[str, dict[str, Any]] = {}
        self._addresses: dict[str, dict[str, Any]] = {}

    # -- ids ---------------------------------------------------------------------------------------
    def case_id(self, case_number: str) -> str:
        """Keyed hash of a normalised case number."""
        return self._hash("case", case_number)

    def premises_id(self, name: str, pc4: str | None, municipality: str | None) -> str:
        """Keyed hash of the folded premises name + PC4 (or the municipality without postcode)."""
        return self._hash("premises", _premises_text(name, pc4, municipality))

    # -- rows --------------------------------------------------------------------------------------
    def source_node(self, info: SourceInfo) -> NodeRow:
        """The Source node, with the key fingerprint (never the key)."""
        return NodeRow(
            "Source",
            {
                "name": info.name,
                "kind": info.kind,
                "legal_basis": info.legal_basis or None,
                "reliability": info.reliability or None,
                "key_fingerprint": self.p.fingerprint,
            },
        )

    def record_rows(
        self,
        record: Record,
        person_id: str | None,
        link: tuple[str, float] | None = None,
        *,
        person_of: Mapping[str, str] | None = None,
    ) -> Iterator[NodeRow | RelItem]:
        """Rows for one record; ``person_id`` None when the record describes no person.

        Parameters
        ----------
        record : Record
            The normalised record.
        person_id : str or None
            The resolved person (``Resolution.person_of``).
        link : (match, score) or None
            How the record was matched to the person (``Resolution.link``).
        person_of : mapping, optional
            record id -> person id of every record (``Resolution.person_of``), for the
            person-to-person roles that name another row (``exploited_by`` ...).
        """
        v = record.values
        rid = record.record_id
        observed_on = v.get("observed_on") or None
        reliability = v.get("reliability") or record.reliability or None
        prov: dict[str, Any] = {
            "source": record.source,
            "row_id": record.row_id,
            "batch": self.batch,
            "legal_basis": record.legal_basis or None,
            "reliability": reliability,
            "observed_on": observed_on,
        }
        role = v.get("role") or ("signalled" if record.kind == "signal" else None)
        exploitation = v.get("exploitation_type") or None
        municipality = v.get("municipality") or None
        pc4 = v.get("postcode") or None

        places: list[tuple[str, str]] = []
        if municipality:
            places.append(("Municipality", municipality))
        if v.get("premises_name"):
            pid_ = self.premises_id(v["premises_name"], pc4, municipality)
            places.append(("Premises", pid_))
            agg = self._premises.setdefault(pid_, {"premises_id": pid_})
            extra = (("kind", v.get("premises_kind")), ("pc4", pc4), ("municipality", municipality))
            for key, value in extra:
                if value:
                    agg[key] = value
            if municipality:
                # Where a premises lies is a standing fact, not an observation: without
                # observed_on it is kept in every time slice (graphstore.base.GraphSlice).
                standing = {k: val for k, val in prov.items() if k != "observed_on"}
                yield RelItem("IN", "Premises", "Municipality", RelRow(pid_, municipality, "in", standing))

        organisation = self._organisation(v)
        address = self._address(v, municipality)
        premises = next((key for label, key in places if label == "Premises"), None)
        # An address is the person's registration; on a row without a person, the organisation's
        # address, else the premises' address (docs/mapping-format.md).
        if address is not None and person_id is None:
            standing = {k: val for k, val in prov.items() if k != "observed_on"}
            if organisation is not None:
                yield RelItem("AT", "Organisation", "Address", RelRow(organisation, address, rid, standing))
            elif premises is not None:
                yield RelItem("AT", "Premises", "Address", RelRow(premises, address, rid, standing))

        case_id = self.case_id(v["case_id"]) if v.get("case_id") else None
        if case_id is not None and record.kind != "signal":
            case = self._cases.setdefault(case_id, {"case_id": case_id, "source": record.source})
            if exploitation and (exploitation != "unknown" or "exploitation_type" not in case):
                case["exploitation_type"] = exploitation
            yield RelItem("FROM", "Case", "Source", RelRow(case_id, record.source, "from", {**prov}))
            for label, key in places:
                yield RelItem("AT", "Case", label, RelRow(case_id, key, rid, {**prov}))

        signal_id = None
        if record.kind == "signal":
            signal_id = f"{record.source}:{v.get('signal_id') or record.row_id}"
            sig = self._signals.setdefault(
                signal_id, {"signal_id": signal_id, "source": record.source, "case_linked": False}
            )
            # A signal spread over several rows: tied to a case when any row names one, observed
            # on its earliest date.
            if case_id is not None:
                sig["case_linked"] = True
                sig.setdefault("case_id", case_id)
                # The store creates the Case with its key when no case source has delivered it yet.
                yield RelItem("TIED_TO", "Signal", "Case", RelRow(signal_id, case_id, rid, {**prov}))
            if observed_on and (not sig.get("observed_on") or observed_on < sig["observed_on"]):
                sig["observed_on"] = observed_on
            for key, value in (("exploitation_type", exploitation), ("reliability", reliability)):
                if value and key not in sig:
                    sig[key] = value
            yield RelItem("FROM", "Signal", "Source", RelRow(signal_id, record.source, "from", {**prov}))
            for label, key in places:
                yield RelItem("AT", "Signal", label, RelRow(signal_id, key, rid, {**prov}))

        if person_id is None:
            return
        match, score = link or ("exact", 1.0)
        yield NodeRow(
            "Record",
            {
                "record_id": rid,
                "source": record.source,
                "row_id": record.row_id,
                "batch": self.batch,
                "legal_basis": record.legal_basis or None,
                "reliability": reliability,
                "observed_on": observed_on,
            },
        )
        yield RelItem("FROM", "Record", "Source", RelRow(rid, record.source, rid, {**prov}))
        yield RelItem(
            "DESCRIBES",
            "Record",
            "Person",
            # The row's role, so that erasing other rows can recompute the person's roles
            # (graphstore.erasure); a role may come from a row with no place and no case.
            RelRow(rid, person_id, rid, {**prov, "match": match, "score": float(score), "role": role}),
        )
        agg_p = self._persons.setdefault(person_id, _PersonAgg())
        if role:
            agg_p.roles.add(role)
        if v.get("nationality"):
            agg_p.nationality[v["nationality"]] += 1
        if v.get("birth_date"):
            agg_p.birth_year[int(str(v["birth_date"])[:4])] += 1
        if v.get("gender"):
            agg_p.gender[v["gender"]] += 1
        if case_id is not None and record.kind != "signal" and role in ("suspect", "victim"):
            rel = "SUSPECT_IN" if role == "suspect" else "VICTIM_IN"
            yield RelItem(rel, "Person", "Case", RelRow(person_id, case_id, rid, {**prov}))
        for label, key in places:
            yield RelItem("SEEN_AT", "Person", label, RelRow(person_id, key, rid, {**prov, "role": role}))
        for fld, label, key_prop in _IDENTIFIERS:
            if v.get(fld):
                ident = self._hash(fld, str(v[fld]))
                yield NodeRow(label, {key_prop: ident})
                yield RelItem("USES", "Person", label, RelRow(person_id, ident, rid, {**prov}))
        if signal_id is not None:
            yield RelItem(
                "CONCERNS", "Signal", "Person", RelRow(signal_id, person_id, rid, {**prov, "role": role})
            )
        period = {"from_date": v.get("from_date"), "to_date": v.get("to_date")}
        if address is not None:
            yield RelItem(
                "REGISTERED_AT", "Person", "Address", RelRow(person_id, address, rid, {**prov, **period})
            )
        if organisation is not None:
            tie = v.get("organisation_role") or "EMPLOYED_BY"
            yield RelItem(
                tie,
                "Person",
                "Organisation",
                RelRow(person_id, organisation, f"{rid}:{tie}", {**prov, **period}),
            )
        for fld, rel_type in ROLE_FIELDS.items():
            for row_id in v.get(fld) or ():
                other = (person_of or {}).get(f"{record.source}:{row_id}")
                # validate.check_role_targets dropped, with a reason, every row id without a person.
                if other is not None and other != person_id:
                    yield RelItem(
                        rel_type,
                        "Person",
                        "Person",
                        RelRow(other, person_id, f"{rid}:{rel_type}", {**prov, **period}),
                    )

    def _organisation(self, v: Mapping[str, Any]) -> str | None:
        """The row's organisation id, its properties gathered; None without number or name."""
        if not v.get("kvk_number") and not v.get("organisation_name"):
            return None
        place = v.get("organisation_municipality")
        text = _organisation_text(v.get("kvk_number"), v.get("organisation_name") or "", place)
        oid = self._hash("organisation", text)
        agg = self._organisations.setdefault(oid, {"organisation_id": oid})
        for key, fld in (
            ("sector", "organisation_sector"),
            ("kind", "organisation_kind"),
            ("municipality", "organisation_municipality"),
        ):
            if v.get(fld):
                agg[key] = v[fld]
        return oid

    def _address(self, v: Mapping[str, Any], municipality: str | None) -> str | None:
        """The row's address id (pc4 and municipality in clear on the node); None without one."""
        if not v.get("address"):
            return None
        aid = self._hash("address", v["address"])
        agg = self._addresses.setdefault(aid, {"address_id": aid, "pc4": v["address"][:4]})
        place = municipality or v.get("organisation_municipality")
        if place:
            agg["municipality"] = place
        return aid

    def aggregated_rows(
        self, existing_persons: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Iterator[NodeRow]:
        """Person, Case, Premises, Signal, Organisation and Address nodes, properties over all records.

        Parameters
        ----------
        existing_persons : mapping, optional
            person_id -> properties already in the store; their roles are kept (a new batch adds
            roles, it does not replace them), and their nationality/birth year/gender fill gaps.
        """
        existing = existing_persons or {}
        for person_id in sorted(self._persons):
            agg = self._persons[person_id]
            old = existing.get(person_id, {})
            roles = set(agg.roles) | set(old.get("roles") or [])
            yield NodeRow(
                "Person",
                {
                    "person_id": person_id,
                    "roles": sorted(roles),
                    "nationality": _most_common(agg.nationality) or old.get("nationality"),
                    "birth_year": _most_common(agg.birth_year) or old.get("birth_year"),
                    "gender": _most_common(agg.gender) or old.get("gender"),
                    "display": f"P-{person_id[:8]}",
                },
            )
        for case_id in sorted(self._cases):
            yield NodeRow("Case", {**self._cases[case_id]})
        for premises_id in sorted(self._premises):
            yield NodeRow("Premises", {**self._premises[premises_id]})
        for signal_id in sorted(self._signals):
            yield NodeRow("Signal", {**self._signals[signal_id]})
        for oid in sorted(self._organisations):
            yield NodeRow("Organisation", {**self._organisations[oid]})
        for aid in sorted(self._addresses):
            yield NodeRow("Address", {**self._addresses[aid]})

    @property
    def person_ids(self) -> list[str]:
        """The persons seen so far."""
        return sorted(self._persons)
