"""The four synthetic sources: their columns, file formats, mapping entries and row rendering.

=====================  =====================  ======================================================
source                 kind                   file
=====================  =====================  ======================================================
politie_zaken          case                   ``politie_zaken.csv``: ``;``, UTF-8 with BOM, CRLF,
                                              one row per person per case, dates ``31-12-2023``
gemeente_signalen      signal                 ``gemeente_signalen.csv``: ``,``, Windows-1252, CRLF,
                                              full name in one column, dates ``31/12/23``
inspectie_arbeid       signal                 ``inspectie_arbeid.xlsx``: Excel, one row per person
                                              found at an inspection, date cells
comensha_registraties  victim_registration    ``comensha_registraties.csv``: ``;``, UTF-8, LF
brp_inschrijvingen     register               ``brp_inschrijvingen.csv``: ``;``, UTF-8, CRLF, one
                                              registration of a person at an address (municipal
                                              population register), dates ``20231231``
arbeidsrelaties        register               ``arbeidsrelaties.csv``: ``;``, UTF-8 with BOM, LF,
                                              one job or company office of a person (payroll and
                                              KvK officers), dates ``31-12-2023``
=====================  =====================  ======================================================
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path
from typing import IO, Any

from synth.identifiers import iban_notation, kvk_notation, phone_notation, plate_notation, postcode_notation
from synth.names import spelling_variant
from synth.places import Geography
from synth.world import Event, Person
from synth.xlsx import XlsxWriter

__all__ = ["EXCEL_MAX_ROWS", "SOURCES", "SourceWriter", "mapping"]

SOURCES: tuple[str, ...] = (
    "politie_zaken",
    "gemeente_signalen",
    "inspectie_arbeid",
    "comensha_registraties",
    "brp_inschrijvingen",
    "arbeidsrelaties",
)
SIGNAL_SOURCES: tuple[str, ...] = ("gemeente_signalen", "inspectie_arbeid")
# Excel holds 1,048,576 rows including the header; larger runs route further inspections to the
# municipal register instead (see data_samples/README.md).
EXCEL_MAX_ROWS = 1_048_575

_NAT_ADJ = {
    "NLD": "Nederlandse",
    "ROU": "Roemeense",
    "BGR": "Bulgaarse",
    "POL": "Poolse",
    "NGA": "Nigeriaanse",
    "HUN": "Hongaarse",
    "MAR": "Marokkaanse",
    "VNM": "Vietnamese",
}
_NAT_COUNTRY = {
    "NLD": "Nederland",
    "ROU": "Roemenië",
    "BGR": "Bulgarije",
    "POL": "Polen",
    "NGA": "Nigeria",
    "HUN": "Hongarije",
    "MAR": "Marokko",
    "VNM": "Vietnam",
}
_NAT_ISO2 = {
    "NLD": "NL",
    "ROU": "RO",
    "BGR": "BG",
    "POL": "PL",
    "NGA": "NG",
    "HUN": "HU",
    "MAR": "MA",
    "VNM": "VN",
}

_POLITIE_ROLE = {"suspect": "Verdachte", "victim": "Slachtoffer"}
_POLITIE_EXPL = {"sexual": "seksueel", "labour": "arbeid", "criminal": "crimineel"}
_GEM_ROLE = {"victim": "mogelijk slachtoffer", "suspect": "mogelijke dader", "signalled": "betrokkene"}
_GEM_EXPL = {
    "sexual": "seksuele uitbuiting",
    "labour": "arbeidsuitbuiting",
    "criminal": "criminele uitbuiting",
}
_GEM_REPORTERS = (
    "Toezicht & Handhaving",
    "Wijkteam",
    "Zorgcoördinator mensenhandel",
    "Leerplicht",
    "Burger (anoniem)",
    "GGD",
    "Afdeling Burgerzaken",
    "Bibob-team",
)
_GRADES = ("B2", "B3", "C2", "C3", "D3", "C4")
_INS_ROLE = {"suspect": "Werkgever", "victim": "Werknemer", "signalled": "Aangetroffen persoon"}
_INS_EXPL = dict(_GEM_EXPL)
_CM_EXPL = {
    "sexual": "Seksuele uitbuiting",
    "labour": "Arbeidsuitbuiting",
    "criminal": "Criminele uitbuiting",
}
_CM_REPORTERS = (
    "Politie",
    "KMar",
    "Zorgcoördinator",
    "Nederlandse Arbeidsinspectie",
    "Hulpverlening",
    "Advocatuur",
    "Zelfmelder",
    "Gemeente",
)
_CM_GENDER = {"M": "man", "V": "vrouw"}
_SBI = {
    "N": "N - Verhuur en overige zakelijke diensten",
    "A": "A - Landbouw, bosbouw en visserij",
    "C": "C - Industrie",
    "G": "G - Handel",
    "H": "H - Vervoer en opslag",
}
# Legal forms as people write them (the loader removes them from the name).
_LEGAL_NOTATION = {
    "B.V.": ("B.V.", "BV", "B.V", "bv", "B.V."),
    "V.O.F.": ("V.O.F.", "VOF", "v.o.f.", "vof"),
    "": ("",),
}

_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "politie_zaken": (
        ("Regelnummer", "row_id"),
        ("Zaaknummer", "case_id"),
        ("Rol", "role"),
        ("Voornaam", "first_name"),
        ("Tussenvoegsel", "name_particle"),
        ("Achternaam", "last_name"),
        ("Geslacht", "gender"),
        ("Geboortedatum", "birth_date"),
        ("Nationaliteit", "nationality"),
        ("Telefoon", "phone"),
        ("Kenteken", "plate"),
        ("IBAN", "iban"),
        ("Plaats", "municipality"),
        ("Postcode", "postcode"),
        ("Locatie", "premises_name"),
        ("Soort locatie", "premises_kind"),
        ("Uitbuitingsvorm", "exploitation_type"),
        ("Datum feit", "observed_on"),
    ),
    "gemeente_signalen": (
        ("Signaalnummer", "row_id"),
        ("Datum melding", "observed_on"),
        ("Gemeente", "municipality"),
        ("Locatie / adres", "premises_name"),
        ("Type locatie", "premises_kind"),
        ("Postcode", "postcode"),
        ("Naam betrokkene", "full_name"),
        ("Rol betrokkene", "role"),
        ("Geboortedatum", "birth_date"),
        ("Nationaliteit", "nationality"),
        ("Telefoonnummer", "phone"),
        ("Kenteken", "plate"),
        ("Soort uitbuiting", "exploitation_type"),
        ("Melder", "reported_by"),
        ("Betrouwbaarheid", "reliability"),
        ("Zaaknummer", "case_id"),
    ),
    "inspectie_arbeid": (
        ("Volgnummer", "row_id"),
        ("Inspectienummer", "signal_id"),
        ("Inspectiedatum", "observed_on"),
        ("Bedrijfsnaam", "premises_name"),
        ("Sector", "premises_kind"),
        ("Vestigingsplaats", "municipality"),
        ("Postcode", "postcode"),
        ("Hoedanigheid", "role"),
        ("Voornamen", "first_name"),
        ("Voorvoegsel", "name_particle"),
        ("Geslachtsnaam", "last_name"),
        ("Geslacht", "gender"),
        ("Geboortedatum", "birth_date"),
        ("Nationaliteit", "nationality"),
        ("Mobiel nummer", "phone"),
        ("Kenteken voertuig", "plate"),
        ("Rekeningnummer", "iban"),
        ("Indicatie", "exploitation_type"),
    ),
    "comensha_registraties": (
        ("Registratienummer", "row_id"),
        ("Registratiedatum", "observed_on"),
        ("Status", "role"),
        ("Naam", "full_name"),
        ("Geboortedatum", "birth_date"),
        ("Geslacht", "gender"),
        ("Nationaliteit", "nationality"),
        ("Telefoon", "phone"),
        ("Gemeente verblijf", "municipality"),
        ("Gemeld door", "reported_by"),
        ("Vorm uitbuiting", "exploitation_type"),
    ),
    "brp_inschrijvingen": (
        ("Volgnummer", "row_id"),
        ("Geslachtsnaam", "last_name"),
        ("Voorvoegsel", "name_particle"),
        ("Voornamen", "first_name"),
        ("Geslacht", "gender"),
        ("Geboortedatum", "birth_date"),
        ("Nationaliteit", "nationality"),
        ("Gemeente van inschrijving", "municipality"),
        ("Postcode", "postcode"),
        ("Huisnummer", "house_number"),
        ("Huisletter/toevoeging", "house_number_addition"),
        ("Datum aanvang adreshouding", "from_date"),
        ("Datum einde adreshouding", "to_date"),
    ),
    "arbeidsrelaties": (
        ("Regel", "row_id"),
        ("Achternaam", "last_name"),
        ("Tussenvoegsel", "name_particle"),
        ("Voornaam", "first_name"),
        ("Geboortedatum", "birth_date"),
        ("KvK-nummer", "kvk_number"),
        ("Naam werkgever", "organisation_name"),
        ("Soort bedrijf", "organisation_kind"),
        ("SBI", "organisation_sector"),
        ("Vestigingsplaats", "organisation_municipality"),
        ("Functie", "organisation_role"),
        ("Datum in dienst", "from_date"),
        ("Datum uit dienst", "to_date"),
    ),
}


def _inverse(d: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in d.items()}


def mapping() -> dict[str, Any]:
    """The ``sources.yaml`` content (docs/mapping-format.md) describing the four sources."""

    def columns(name: str) -> dict[str, str]:
        return dict(_COLUMNS[name])

    return {
        "version": 1,
        "sources": [
            {
                "name": "politie_zaken",
                "kind": "case",
                "files": ["politie_zaken*.csv"],
                "format": "csv",
                "encoding": "utf-8-sig",
                "delimiter": ";",
                "legal_basis": "Wpg art. 9",
                "reliability": "A1",
                "date_formats": ["%d-%m-%Y"],
                "columns": columns("politie_zaken"),
                "values": {
                    "role": _inverse(_POLITIE_ROLE),
                    "exploitation_type": _inverse(_POLITIE_EXPL),
                    "nationality": _inverse(_NAT_ADJ),
                },
                "required": ["row_id", "role", "observed_on"],
            },
            {
                "name": "gemeente_signalen",
                "kind": "signal",
                "files": ["gemeente_signalen*.csv"],
                "format": "csv",
                "encoding": "cp1252",
                "delimiter": ",",
                "legal_basis": "Wpg art. 19",
                "reliability": "C3",
                "date_formats": ["%d/%m/%y"],
                "columns": columns("gemeente_signalen"),
                "values": {
                    "role": _inverse(_GEM_ROLE),
                    "exploitation_type": _inverse(_GEM_EXPL),
                    "nationality": _inverse(_NAT_COUNTRY),
                },
                "required": ["row_id", "observed_on"],
            },
            {
                "name": "inspectie_arbeid",
                "kind": "signal",
                "files": ["inspectie_arbeid*.xlsx"],
                "format": "excel",
                "encoding": "auto",
                "delimiter": "auto",
                "sheet": "Inspecties",
                "legal_basis": "Wpg art. 20",
                "reliability": "B2",
                "date_formats": ["%d-%m-%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"],
                "columns": columns("inspectie_arbeid"),
                "values": {
                    "role": _inverse(_INS_ROLE),
                    "exploitation_type": _inverse(_INS_EXPL),
                    "nationality": _inverse(_NAT_ISO2),
                },
                "required": ["row_id", "observed_on"],
            },
            {
                "name": "comensha_registraties",
                "kind": "victim_registration",
                "files": ["comensha_registraties*.csv"],
                "format": "csv",
                "encoding": "utf-8",
                "delimiter": ";",
                "legal_basis": "Wpg art. 20",
                "reliability": "B2",
                "date_formats": ["%d-%m-%Y"],
                "columns": columns("comensha_registraties"),
                "values": {
                    "role": {"Mogelijk slachtoffer": "victim", "Slachtoffer": "victim"},
                    "exploitation_type": _inverse(_CM_EXPL),
                    "gender": {"man": "m", "vrouw": "f"},
                },
                "required": ["row_id", "role", "observed_on"],
            },
            {
                "name": "brp_inschrijvingen",
                "kind": "register",
                "files": ["brp_inschrijvingen*.csv"],
                "format": "csv",
                "encoding": "utf-8",
                "delimiter": ";",
                "legal_basis": "Wet BRP art. 3.3",
                "reliability": "A1",
                "date_formats": ["%Y%m%d"],
                "columns": columns("brp_inschrijvingen"),
                "values": {"nationality": _inverse(_NAT_ADJ)},
                "required": ["row_id"],
            },
            {
                "name": "arbeidsrelaties",
                "kind": "register",
                "files": ["arbeidsrelaties*.csv"],
                "format": "csv",
                "encoding": "utf-8-sig",
                "delimiter": ";",
                "legal_basis": "Wet SUWI art. 54",
                "reliability": "A2",
                "date_formats": ["%d-%m-%Y"],
                "columns": columns("arbeidsrelaties"),
                "required": ["row_id"],
            },
        ],
    }


def _dmy(day: int, sep: str = "-") -> str:
    d = date.fromordinal(day)
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


def _ymd(day: int) -> str:
    d = date.fromordinal(day)
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _dmy2(day: int) -> str:
    d = date.fromordinal(day)
    return f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}"


def _impossible(rng: random.Random, day: int) -> tuple[int, int, int]:
    year = date.fromordinal(day).year
    d, m = rng.choice(((30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11), (32, 1), (29, 13)))
    if (d, m) == (29, 2):
        d = 30
    return d, m, year


def _bad_dmy(parts: tuple[int, int, int], sep: str = "-", short: bool = False) -> str:
    d, m, y = parts
    return f"{d:02d}{sep}{m:02d}{sep}{y % 100:02d}" if short else f"{d:02d}{sep}{m:02d}{sep}{y}"


def _wrong_birth(rng: random.Random, birth: int) -> int:
    d = date.fromordinal(birth)
    r = rng.randrange(3)
    if r == 0 and d.day <= 12 and d.day != d.month:
        return date(d.year, d.day, d.month).toordinal()
    if r == 1:
        try:
            return d.replace(year=d.year + rng.choice((-1, 1))).toordinal()
        except ValueError:  # 29 February
            return birth + 365
    return birth + rng.choice((-3, -2, -1, 1, 2, 3, 10))


class SourceWriter:
    """Writes the rows of one source, applying noise and recording truth for each row."""

    def __init__(self, name: str, folder: Path, geo: Geography, rng: random.Random) -> None:
        self.name = name
        self.geo = geo
        self.rng = rng
        self.count = 0
        self.header = [c for c, _ in _COLUMNS[name]]
        self.is_csv = name != "inspectie_arbeid"
        self._fh: IO[str] | None = None
        if name == "brp_inschrijvingen":
            self.path = folder / "brp_inschrijvingen.csv"
            self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh, delimiter=";", lineterminator="\r\n")
        elif name == "arbeidsrelaties":
            self.path = folder / "arbeidsrelaties.csv"
            self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._fh, delimiter=";", lineterminator="\n")
        elif name == "politie_zaken":
            self.path = folder / "politie_zaken.csv"
            self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._fh, delimiter=";", lineterminator="\r\n")
        elif name == "gemeente_signalen":
            self.path = folder / "gemeente_signalen.csv"
            self._fh = open(self.path, "w", encoding="cp1252", newline="")
            self._csv = csv.writer(self._fh, delimiter=",", lineterminator="\r\n")
        elif name == "comensha_registraties":
            self.path = folder / "comensha_registraties.csv"
            self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh, delimiter=";", lineterminator="\n")
        else:
            self.path = folder / "inspectie_arbeid.xlsx"
            self._xlsx = XlsxWriter(self.path, "Inspecties", len(self.header))
        self._write_row(self.header)

    # -- row id and output -------------------------------------------------------------------
    def next_row_id(self) -> str:
        self.count += 1
        n = self.count
        if self.name == "politie_zaken":
            return str(n)
        if self.name == "gemeente_signalen":
            return f"SIG{n:07d}"
        if self.name == "inspectie_arbeid":
            return f"IA{n:07d}"
        if self.name == "brp_inschrijvingen":
            return f"BRP{n:08d}"
        if self.name == "arbeidsrelaties":
            return f"AR{n:07d}"
        return f"CM-{n:07d}"

    def _write_row(self, fields: list[Any]) -> None:
        if self._fh is not None:
            self._csv.writerow(fields)
        else:
            self._xlsx.append(fields)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        else:
            self._xlsx.close()

    # -- rendering ---------------------------------------------------------------------------
    def write(self, ev: Event, row_id: str, kinds: list[str]) -> list[str]:
        """Render and write one event; returns the noise kinds that were really applied."""
        rng = self.rng
        applied: list[str] = []
        p = ev.person
        first = particle = last = ""
        birth: int | None = None
        if p is not None:
            first, particle, last = p.first, p.particle, p.last
            birth = p.birth
            if "spelling_variant" in kinds:
                if rng.random() < 0.6:
                    last = spelling_variant(rng, last)
                else:
                    first = spelling_variant(rng, first)
                applied.append("spelling_variant")
            if "swapped_name" in kinds and first != last:
                first, last = last, first
                applied.append("swapped_name")
            if "missing_birth_date" in kinds:
                birth = None
                applied.append("missing_birth_date")
            elif "wrong_birth_date" in kinds:
                birth = _wrong_birth(rng, p.birth)
                applied.append("wrong_birth_date")
        if "unknown_municipality" in kinds:
            place = self.geo.unknown(rng)
            applied.append("unknown_municipality")
        elif "typo_municipality" in kinds:
            place = self.geo.typo(rng, ev.code)
            applied.append("typo_municipality")
        else:
            place = self.geo.write(rng, ev.code)
        impossible = None
        if "impossible_date" in kinds:
            impossible = _impossible(rng, ev.day)
            applied.append("impossible_date")
        if ev.address is not None or ev.organisation is not None:
            fields = self._render_register(
                ev, row_id, p, first, particle, last, birth, place, impossible, kinds
            )
            applied.extend(
                k for k in kinds if k in ("invalid_postcode", "invalid_house_number", "invalid_kvk")
            )
        else:
            fields = self._render(ev, row_id, p, first, particle, last, birth, place, impossible)
        if "broken_column_count" in kinds and self.is_csv:
            fields = fields[:-1] if rng.random() < 0.5 else [*fields, ""]
            applied.append("broken_column_count")
        self._write_row(fields)
        return applied

    def _render_register(
        self,
        ev: Event,
        row_id: str,
        p: Person | None,
        first: str,
        particle: str,
        last: str,
        birth: int | None,
        place: str,
        impossible: tuple[int, int, int] | None,
        kinds: list[str],
    ) -> list[Any]:
        """A row of the population register or of the employment relations (``ev.address`` or
        ``ev.organisation``); an impossible date goes into the start of the period."""
        rng = self.rng
        if self.name == "brp_inschrijvingen":
            addr = ev.address
            assert addr is not None and p is not None
            postcode = postcode_notation(rng, addr.postcode)
            number = str(addr.number)
            addition = addr.addition
            if addition and rng.random() < 0.3:
                addition = addition.lower()
            if "invalid_postcode" in kinds:
                r = rng.randrange(3)
                postcode = (
                    addr.postcode[:4]
                    if r == 0
                    else f"0{addr.postcode[1:4]} {addr.postcode[4:]}"
                    if r == 1
                    else addr.postcode[:4] + "SS"
                )
            if "invalid_house_number" in kinds:
                # The addition typed into the number column, a range, or a zero.
                number = rng.choice(
                    (f"{addr.number}{addition or 'a'}", f"{addr.number}-{addr.number + 2}", "0")
                )
                addition = ""
            start = (
                f"{impossible[2]}{impossible[1]:02d}{impossible[0]:02d}" if impossible else _ymd(ev.from_day)
            )
            return [
                row_id,
                last,
                particle,
                first,
                p.gender,
                _ymd(birth) if birth else "",
                _NAT_ADJ.get(p.nationality, ""),
                place,
                postcode,
                number,
                addition,
                start,
                _ymd(ev.to_day) if ev.to_day else "",
            ]
        org = ev.organisation
        assert org is not None and p is not None
        kvk = kvk_notation(rng, org.kvk)
        if "invalid_kvk" in kinds:
            r = rng.randrange(3)
            kvk = (
                org.kvk[:7]
                if r == 0
                else org.kvk + str(rng.randrange(10))
                if r == 1
                else org.kvk.replace("0", "O", 1)
                if "0" in org.kvk
                else "K" + org.kvk[1:]
            )
        legal = rng.choice(_LEGAL_NOTATION[org.legal])
        name = f"{org.name} {legal}".strip()
        if rng.random() < 0.1:
            name = name.upper()
        start = _bad_dmy(impossible) if impossible else _dmy(ev.from_day)
        return [
            row_id,
            last,
            particle,
            first,
            _dmy(birth) if birth else "",
            kvk,
            name,
            org.org_kind,
            _SBI[org.sector] if rng.random() < 0.5 else org.sector,
            place,
            ev.tie,
            start,
            _dmy(ev.to_day) if ev.to_day else "",
        ]

    def _render(
        self,
        ev: Event,
        row_id: str,
        p: Person | None,
        first: str,
        particle: str,
        last: str,
        birth: int | None,
        place: str,
        impossible: tuple[int, int, int] | None,
    ) -> list[Any]:
        rng = self.rng
        prem = ev.premises
        phone = phone_notation(rng, ev.phone) if ev.phone else ""
        plate = plate_notation(rng, ev.plate) if ev.plate else ""
        nat = p.nationality if p is not None else ""
        name = self.name
        if name == "politie_zaken":
            obs = _bad_dmy(impossible) if impossible else _dmy(ev.day)
            return [
                row_id,
                ev.case_no,
                _POLITIE_ROLE[ev.role],
                first,
                particle,
                last,
                p.gender if p else "",
                _dmy(birth) if birth else "",
                _NAT_ADJ.get(nat, ""),
                phone,
                plate,
                iban_notation(rng, ev.iban) if ev.iban else "",
                place,
                prem.postcode if prem else "",
                prem.name if prem else "",
                prem.kind if prem else "",
                _POLITIE_EXPL[ev.exploitation],
                obs,
            ]
        if name == "gemeente_signalen":
            obs = _bad_dmy(impossible, "/", short=True) if impossible else _dmy2(ev.day)
            full = ""
            if p is not None:
                surname = f"{particle} {last}" if particle else last
                r = rng.random()
                if r < 0.4:
                    full = f"{last}, {first} {particle}".rstrip() if particle else f"{last}, {first}"
                elif r < 0.5:
                    full = f"{surname}, {first}"
                else:
                    full = f"{first} {surname}"
                if rng.random() < 0.05:
                    full = full.upper()
            return [
                row_id,
                obs,
                place,
                prem.name if prem else "",
                prem.kind if prem else "",
                prem.postcode if prem else "",
                full,
                _GEM_ROLE[ev.role] if p else "",
                _dmy2(birth) if birth else "",
                _NAT_COUNTRY.get(nat, ""),
                phone,
                plate,
                _GEM_EXPL[ev.exploitation],
                rng.choice(_GEM_REPORTERS),
                rng.choice(_GRADES),
                ev.case_no,
            ]
        if name == "inspectie_arbeid":
            obs_cell: Any = _bad_dmy(impossible) if impossible else date.fromordinal(ev.day)
            return [
                row_id,
                ev.signal_no,
                obs_cell,
                prem.name if prem else "",
                prem.kind if prem else "",
                place,
                prem.postcode if prem else "",
                _INS_ROLE[ev.role] if p else "",
                first,
                particle,
                last,
                p.gender if p else "",
                date.fromordinal(birth) if birth else None,
                _NAT_ISO2.get(nat, ""),
                phone,
                plate,
                iban_notation(rng, ev.iban) if ev.iban else "",
                _INS_EXPL[ev.exploitation],
            ]
        obs = _bad_dmy(impossible) if impossible else _dmy(ev.day)
        surname = f"{particle} {last}" if particle else last
        return [
            row_id,
            obs,
            rng.choice(("Mogelijk slachtoffer", "Mogelijk slachtoffer", "Slachtoffer")),
            f"{first} {surname}",
            _dmy(birth) if birth else "",
            _CM_GENDER[p.gender] if p else "",
            nat,
            phone,
            place,
            rng.choice(_CM_REPORTERS),
            _CM_EXPL[ev.exploitation],
        ]
