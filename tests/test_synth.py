"""Tests for the synthetic data generator (synth) and the committed data_samples."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import phonenumbers
import pytest
from schwifty import IBAN

from loaders.mapping import load_mapping
from loaders.normalise.organisations import normalise_kvk, normalise_organisation_role, organisation_key
from loaders.normalise.postcodes import normalise_addition, normalise_house_number, normalise_pc6
from loaders.normalise.text import fold_place
from loaders.reference import resolve_place
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from synth import NOISE_KINDS, SOURCES, generate
from synth.names import NAME_PARTS, PARTICLES
from synth.places import geography

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data_samples"
FILES = {
    "politie_zaken": ("politie_zaken.csv", "utf-8-sig", ";"),
    "gemeente_signalen": ("gemeente_signalen.csv", "cp1252", ","),
    "comensha_registraties": ("comensha_registraties.csv", "utf-8", ";"),
    "brp_inschrijvingen": ("brp_inschrijvingen.csv", "utf-8", ";"),
    "arbeidsrelaties": ("arbeidsrelaties.csv", "utf-8-sig", ";"),
}
SIGNAL_SOURCES = ("gemeente_signalen", "inspectie_arbeid")
PLACE_COL = {
    "politie_zaken": "Plaats",
    "gemeente_signalen": "Gemeente",
    "inspectie_arbeid": "Vestigingsplaats",
    "comensha_registraties": "Gemeente verblijf",
    "brp_inschrijvingen": "Gemeente van inschrijving",
    "arbeidsrelaties": "Vestigingsplaats",
}
DATE_COL = {
    "politie_zaken": ("Datum feit", "%d-%m-%Y"),
    "gemeente_signalen": ("Datum melding", "%d/%m/%y"),
    "inspectie_arbeid": ("Inspectiedatum", "%d-%m-%Y"),
    "comensha_registraties": ("Registratiedatum", "%d-%m-%Y"),
    # The registers have no observation date: the start of the registration or job.
    "brp_inschrijvingen": ("Datum aanvang adreshouding", "%Y%m%d"),
    "arbeidsrelaties": ("Datum in dienst", "%d-%m-%Y"),
}
PLATE_RE = re.compile(r"^([A-Z]{2}-\d{3}-[A-Z]|[A-Z]-\d{3}-[A-Z]{2})$")


class Row:
    """One source row as read back: its fields by header name and its column count."""

    def __init__(self, header: list[str], cells: list[Any]) -> None:
        self.ncols = len(cells)
        self.cells = cells
        self.f = {h: ("" if v is None else v) for h, v in zip(header, cells, strict=False)}

    def s(self, col: str) -> str:
        v = self.f.get(col, "")
        if isinstance(v, datetime):
            return v.strftime("%d-%m-%Y")
        return str(v)


def read_sources(folder: Path) -> dict[str, dict[str, Row]]:
    """Read the four sources with their own encodings and delimiters; rows by row id."""
    out: dict[str, dict[str, Row]] = {}
    for source, (name, encoding, delim) in FILES.items():
        raw = (folder / "sources" / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        with open(folder / "sources" / name, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delim)
            header = next(reader)
            rows = [Row(header, r) for r in reader]
        out[source] = {r.cells[0]: r for r in rows}
        assert len(out[source]) == len(rows), f"duplicate row ids in {source}"
    wb = openpyxl.load_workbook(folder / "sources" / "inspectie_arbeid.xlsx", read_only=True)
    ws = wb["Inspecties"]
    it = ws.iter_rows(values_only=True)
    header = [str(h) for h in next(it)]
    rows = [Row(header, list(r)) for r in it]
    wb.close()
    out["inspectie_arbeid"] = {str(r.cells[0]): r for r in rows}
    assert len(out["inspectie_arbeid"]) == len(rows)
    return out


def read_truth(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / "truth" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def has_person(source: str, row: Row) -> bool:
    if source in ("gemeente_signalen", "comensha_registraties"):
        return bool(row.s("Naam betrokkene" if source == "gemeente_signalen" else "Naam"))
    in_parts = source in ("politie_zaken", "arbeidsrelaties")
    first, last = ("Voornaam", "Achternaam") if in_parts else ("Voornamen", "Geslachtsnaam")
    return bool(row.s(first) or row.s(last))


HEADER_LEN = {
    "politie_zaken": 18,
    "gemeente_signalen": 16,
    "comensha_registraties": 11,
    "inspectie_arbeid": 18,
    "brp_inschrijvingen": 13,
    "arbeidsrelaties": 13,
}


def header_len(source: str) -> int:
    return HEADER_LEN[source]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    generate(out, seed=11, groups=12, noise=0.1)
    return out


@pytest.fixture(scope="module", params=["small", "samples"])
def dataset(request: pytest.FixtureRequest, small: Path) -> Path:
    return small if request.param == "small" else SAMPLES


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=5, groups=6, noise=0.2)
    generate(tmp_path / "b", seed=5, groups=6, noise=0.2)
    generate(tmp_path / "c", seed=6, groups=6, noise=0.2)
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert len(a) == 18  # 6 sources, sources.yaml, 11 truth files
    assert a == b
    assert a["sources/politie_zaken.csv"] != c["sources/politie_zaken.csv"]
    assert a["truth/mentions.csv"] != c["truth/mentions.csv"]


def test_committed_samples_are_what_the_documented_command_writes(tmp_path: Path) -> None:
    generate(tmp_path, seed=2024, groups=40, noise=0.1)
    committed = _digest(SAMPLES)
    committed.pop("README.md")
    committed.pop("purposes.yaml")  # the demo's processing register, written by hand (docs/audit.md)
    assert _digest(tmp_path) == committed


def test_mapping_file_is_valid_for_the_loader(dataset: Path) -> None:
    mapping = load_mapping(dataset / "sources.yaml")
    assert [s.name for s in mapping.sources] == list(SOURCES)


def test_truth_points_at_real_rows_and_back(dataset: Path) -> None:
    rows = read_sources(dataset)
    mentions = read_truth(dataset, "mentions")
    keys = [(m["source"], m["row_id"]) for m in mentions]
    assert len(keys) == len(set(keys))
    person_rows = {(s, rid) for s, rs in rows.items() for rid, r in rs.items() if has_person(s, r)}
    assert set(keys) == person_rows
    signals = read_truth(dataset, "signals")
    sig_keys = [(m["source"], m["row_id"]) for m in signals]
    assert len(sig_keys) == len(set(sig_keys))
    assert set(sig_keys) == {(s, rid) for s in SIGNAL_SOURCES for rid in rows[s]}
    all_rows = {(s, rid) for s, rs in rows.items() for rid in rs}
    assert {(n["source"], n["row_id"]) for n in read_truth(dataset, "noise")} <= all_rows
    groups = read_truth(dataset, "groups")
    facts = read_truth(dataset, "group_facts")
    group_ids = {g["group_id"] for g in groups}
    assert group_ids == {f["group_id"] for f in facts}
    assert {s["group_id"] for s in signals} - {""} <= group_ids
    persons = {m["true_person"] for m in mentions}
    assert {g["true_person"] for g in groups} <= persons
    victims = {(g["true_person"], g["group_id"]) for g in groups if g["role"] == "victim"}
    for mv in read_truth(dataset, "movements"):
        assert (mv["true_person"], mv["group_id"]) in victims
    for f in facts:
        members = [g for g in groups if g["group_id"] == f["group_id"]]
        assert int(f["size"]) == sum(g["role"] == "suspect" for g in members)
        if f["group_id"].startswith("L"):
            assert f["size"] == "1"


def test_every_written_place_resolves_to_its_code(dataset: Path) -> None:
    """Rows without place noise name a municipality that the loader's resolver maps back exactly."""
    rows = read_sources(dataset)
    noise = defaultdict(set)
    for n in read_truth(dataset, "noise"):
        noise[(n["source"], n["row_id"])].add(n["kind"])
    geo = geography()
    by_person = defaultdict(list)
    for m in read_truth(dataset, "mentions"):
        by_person[m["true_person"]].append((m["source"], m["row_id"]))
    checked = 0
    for source, rs in rows.items():
        for rid, r in rs.items():
            kinds = noise[(source, rid)]
            written = r.s(PLACE_COL[source])
            if "unknown_municipality" in kinds:
                assert fold_place(written) not in geo.known
                with pytest.raises(ValueError):
                    resolve_place(written)
            elif "typo_municipality" not in kinds and "broken_column_count" not in kinds:
                assert resolve_place(written) in geo.name
                checked += 1
    assert checked > 100
    # Each move's destination is observed on the move date, at that municipality.
    for mv in read_truth(dataset, "movements"):
        seen = set()
        for source, rid in by_person[mv["true_person"]]:
            r = rows[source][rid]
            col, fmt = DATE_COL[source]
            try:
                day = datetime.strptime(r.s(col), fmt).date().isoformat()
            except ValueError:
                continue
            if noise[(source, rid)] & {"typo_municipality", "unknown_municipality", "broken_column_count"}:
                continue
            seen.add((resolve_place(r.s(PLACE_COL[source])), day))
        assert (mv["to_code"], mv["date"]) in seen, mv
        earlier = [d for code, d in seen if code == mv["from_code"] and d < mv["date"]]
        assert earlier, mv


def test_cross_regional_rule_matches_movements(dataset: Path) -> None:
    geo = geography()
    moves = defaultdict(list)
    for mv in read_truth(dataset, "movements"):
        moves[mv["group_id"]].append(mv)
    facts = read_truth(dataset, "group_facts")
    for f in facts:
        crossing = any(geo.unit[m["from_code"]] != geo.unit[m["to_code"]] for m in moves[f["group_id"]])
        assert f["cross_regional"] == ("true" if crossing else "false")
        regions = f["regions"].split("|")
        assert regions == sorted(set(regions)) and all(re.fullmatch(r"RE\d\d", x) for x in regions)
        for m in moves[f["group_id"]]:
            assert geo.unit[m["from_code"]] in regions and geo.unit[m["to_code"]] in regions
        if f["cross_regional"] == "true":
            assert len(regions) >= 2
        assert f["exploitation_type"] in ("sexual", "labour", "criminal")


def test_planted_structure_in_samples() -> None:
    facts = read_truth(SAMPLES, "group_facts")
    groups = [f for f in facts if f["group_id"].startswith("G")]
    lone = [f for f in facts if f["group_id"].startswith("L")]
    assert len(groups) == 40 and len(lone) == 13
    assert sum(f["cross_regional"] == "true" for f in groups) == 20
    assert sum(f["cross_regional"] == "false" and "|" not in f["regions"] for f in groups) >= 10
    assert {f["exploitation_type"] for f in facts} == {"sexual", "labour", "criminal"}
    sizes = [int(f["size"]) for f in groups]
    assert min(sizes) >= 2 and max(sizes) <= 15 and max(sizes) >= 6
    signals = read_truth(SAMPLES, "signals")
    assert sum(s["group_id"] == "" for s in signals) >= 20  # orphan signals
    rows = read_sources(SAMPLES)
    loose = [
        s
        for s in signals
        if s["group_id"]
        and s["source"] == "gemeente_signalen"
        and not rows["gemeente_signalen"][s["row_id"]].s("Zaaknummer")
    ]
    tied = [
        s
        for s in signals
        if s["group_id"]
        and s["source"] == "gemeente_signalen"
        and rows["gemeente_signalen"][s["row_id"]].s("Zaaknummer")
    ]
    assert len(loose) >= 20 and len(tied) >= 3
    kinds = Counter(n["kind"] for n in read_truth(SAMPLES, "noise"))
    assert set(kinds) == set(NOISE_KINDS)
    # several cases link more than one suspect and a victim
    by_case: dict[str, set[str]] = defaultdict(set)
    for r in rows["politie_zaken"].values():
        by_case[r.s("Zaaknummer")].add(r.s("Rol"))
    assert sum(v == {"Verdachte", "Slachtoffer"} for v in by_case.values()) >= 20


def _norm(kind: str, text: str) -> str:
    if kind in ("phone",):
        return phonenumbers.format_number(phonenumbers.parse(text, "NL"), phonenumbers.PhoneNumberFormat.E164)
    if kind == "vehicle":
        t = text.upper().replace(" ", "").replace("-", "")
        return t
    return text.upper().replace(" ", "")


def test_shared_identifiers_of_each_kind_appear_on_rows_of_members(dataset: Path) -> None:
    rows = read_sources(dataset)
    pid = {(m["source"], m["row_id"]): m["true_person"] for m in read_truth(dataset, "mentions")}
    groups = defaultdict(set)
    for g in read_truth(dataset, "groups"):
        groups[g["group_id"]].add(g["true_person"])
    cols = {
        "phone": ("Telefoon", "Telefoonnummer", "Mobiel nummer"),
        "vehicle": ("Kenteken", "Kenteken voertuig"),
        "bank_account": ("IBAN", "Rekeningnummer"),
    }
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, rs in rows.items():
        for rid, r in rs.items():
            for kind, names in cols.items():
                for col in names:
                    if r.s(col) and (source, rid) in pid:
                        found[(kind, _norm(kind, r.s(col)))].add(pid[(source, rid)])
    shared = read_truth(dataset, "shared_identifiers")
    assert {s["kind"] for s in shared} == {"phone", "vehicle", "premises", "bank_account"}
    for s in shared:
        members = set(s["persons"].split("|"))
        assert len(members) >= 2 and members <= groups[s["group_id"]]
        if s["kind"] != "premises":
            value = s["value"].replace("-", "") if s["kind"] == "vehicle" else s["value"]
            assert members <= found[(s["kind"], value)], s
    # an identifier that is not planted as shared is never used by two groups
    owner = {p: g for g, ps in groups.items() for p in ps}
    for (kind, _value), people in found.items():
        assert len({owner.get(p, p) for p in people}) == 1, (kind, people)


def test_identifier_formats_are_valid(dataset: Path) -> None:
    rows = read_sources(dataset)
    n_iban = n_plate = n_phone = 0
    for rs in rows.values():
        for r in rs.values():
            for col in ("IBAN", "Rekeningnummer"):
                if r.s(col):
                    IBAN(r.s(col).replace(" ", "").upper(), validate_bban=True)
                    n_iban += 1
            for col in ("Kenteken", "Kenteken voertuig"):
                if r.s(col):
                    t = r.s(col).upper().replace(" ", "-")
                    if "-" not in t:
                        t = f"{t[:2]}-{t[2:5]}-{t[5:]}" if t[1].isalpha() else f"{t[:1]}-{t[1:4]}-{t[4:]}"
                    assert PLATE_RE.match(t), r.s(col)
                    n_plate += 1
            for col in ("Telefoon", "Telefoonnummer", "Mobiel nummer"):
                if r.s(col):
                    assert phonenumbers.is_valid_number(phonenumbers.parse(r.s(col), "NL")), r.s(col)
                    n_phone += 1
    assert n_iban > 10 and n_plate > 10 and n_phone > 50


def test_noise_is_really_in_the_rows(dataset: Path) -> None:
    rows = read_sources(dataset)
    noise = defaultdict(set)
    for n in read_truth(dataset, "noise"):
        noise[(n["source"], n["row_id"])].add(n["kind"])
    for source, rs in rows.items():
        col, fmt = DATE_COL[source]
        for rid, r in rs.items():
            kinds = noise[(source, rid)]
            assert (r.ncols != header_len(source)) == ("broken_column_count" in kinds)
            if "broken_column_count" in kinds:
                assert source != "inspectie_arbeid"
                continue
            value = r.f.get(col)
            if "impossible_date" in kinds:
                with pytest.raises(ValueError):
                    datetime.strptime(str(value), fmt)
            elif source == "inspectie_arbeid":
                assert isinstance(value, datetime)
            else:
                datetime.strptime(str(value), fmt)
            birth = r.s("Geboortedatum")
            if "missing_birth_date" in kinds:
                assert birth == ""


def test_encodings_and_dutch_writing(dataset: Path) -> None:
    text = (dataset / "sources" / "gemeente_signalen.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        text.decode("utf-8")  # really Windows-1252 with non-ASCII characters
    rows = read_sources(dataset)
    places = [r.s(PLACE_COL[s]) for s, rs in rows.items() for r in rs.values()]
    assert any(p in ("Den Haag", "'s-Gravenhage", "Den Bosch", "'s-Hertogenbosch") for p in places)
    particles = {r.s("Tussenvoegsel") for r in rows["politie_zaken"].values()} - {""}
    assert particles and particles <= set(PARTICLES)


def test_samples_have_both_hague_spellings_and_den_bosch() -> None:
    rows = read_sources(SAMPLES)
    places = {r.s(PLACE_COL[s]) for s, rs in rows.items() for r in rs.values()}
    assert {"Den Haag", "'s-Gravenhage"} <= places


def test_names_are_made_of_parts_not_a_list(dataset: Path) -> None:
    """Every first name is a part plus an ending; no module or data file holds whole names."""
    firsts = set()
    for parts in NAME_PARTS.values():
        male, female, end_m, end_f = parts[0], parts[1], parts[2], parts[3]
        firsts |= {a + b for a in male for b in end_m} | {a + b for a in female for b in end_f}
    rows = read_sources(dataset)
    noisy = {
        (n["source"], n["row_id"])
        for n in read_truth(dataset, "noise")
        if n["kind"] in ("spelling_variant", "swapped_name")
    }
    names = [
        r.s("Voornaam")
        for rid, r in rows["politie_zaken"].items()
        if ("politie_zaken", rid) not in noisy and r.s("Voornaam")
    ]
    assert names and all(n in firsts for n in names)
    assert len(set(names)) > 40
    synth_dir = REPO / "synth"
    assert {p.suffix for p in synth_dir.iterdir() if p.is_file()} <= {".py"}


def test_rows_parameter_and_errors(tmp_path: Path) -> None:
    s = generate(tmp_path / "r", seed=1, rows=1500, noise=0.0)
    assert s.total_rows >= 1500
    assert s.noise_counts == dict.fromkeys(NOISE_KINDS, 0)
    assert read_truth(tmp_path / "r", "noise") == []
    with pytest.raises(ConfigError):
        generate(tmp_path / "x", noise=2.0)
    with pytest.raises(ConfigError):
        generate(tmp_path / "x", groups=0)


def test_cli_writes_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--out", str(tmp_path / "o"), "--seed", "3", "--groups", "4"]) == 0
    out = capsys.readouterr().out
    assert "politie_zaken" in out and "cross-regional" in out and "orphan" in out
    assert (tmp_path / "o" / "truth" / "movements.csv").exists()
    assert main(["synth", "--out", str(tmp_path / "o"), "--noise", "5"]) == 2
    assert "noise must be between 0 and 1" in capsys.readouterr().err


def test_dates_in_range(dataset: Path) -> None:
    for mv in read_truth(dataset, "movements"):
        d = date.fromisoformat(mv["date"])
        assert date(2021, 1, 1) <= d <= date(2025, 12, 31)


def test_full_excel_sends_inspections_to_the_municipal_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At very large scale the Excel file is capped; the overflow stays in the data and the truth."""
    monkeypatch.setattr("synth.EXCEL_MAX_ROWS", 10)
    s = generate(tmp_path, seed=4, groups=12)
    assert 0 < s.rows["inspectie_arbeid"] <= 10
    rows = read_sources(tmp_path)
    assert len(rows["inspectie_arbeid"]) == s.rows["inspectie_arbeid"]
    person_rows = {(src, rid) for src, rs in rows.items() for rid, r in rs.items() if has_person(src, r)}
    assert {(m["source"], m["row_id"]) for m in read_truth(tmp_path, "mentions")} == person_rows
    assert {(m["source"], m["row_id"]) for m in read_truth(tmp_path, "signals")} == {
        (src, rid) for src in SIGNAL_SOURCES for rid in rows[src]
    }


# --- addresses, organisations and the two registers (issue 20) -----------------------------------

REGISTERS = ("brp_inschrijvingen", "arbeidsrelaties")


def _periods(rows: dict[str, Row], start: str, end: str, fmt: str) -> dict[str, tuple[date, date]]:
    out = {}
    for rid, r in rows.items():
        try:
            lo = datetime.strptime(r.s(start), fmt).date()
        except ValueError:
            continue  # an impossible start date (noise)
        hi = datetime.strptime(r.s(end), fmt).date() if r.s(end) else date(2099, 1, 1)
        out[rid] = (lo, hi)
    return out


def _most_at_once(periods: list[tuple[date, date]]) -> int:
    events = sorted(
        [(lo, 1) for lo, _ in periods] + [(hi, -1) for _, hi in periods], key=lambda e: (e[0], e[1])
    )
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_register_rows_name_the_planted_addresses_and_organisations(dataset: Path) -> None:
    """Every register row is in registrations.csv; written values normalise to the truth's."""
    rows = read_sources(dataset)
    noise = defaultdict(set)
    for n in read_truth(dataset, "noise"):
        noise[(n["source"], n["row_id"])].add(n["kind"])
    addresses = {a["address_id"]: a for a in read_truth(dataset, "addresses")}
    organisations = {o["organisation_id"]: o for o in read_truth(dataset, "organisations")}
    links = {(r["source"], r["row_id"]): r for r in read_truth(dataset, "registrations")}
    assert set(links) == {(s, rid) for s in REGISTERS for rid in rows[s]}
    checked = dropped = 0
    for (source, rid), link in links.items():
        r = rows[source][rid]
        kinds = noise[(source, rid)]
        if source == "brp_inschrijvingen":
            assert not link["organisation_id"]
            a = addresses[link["address_id"]]
            assert a["kind"] in ("group", "innocent_crowded", "ordinary")
            if kinds & {"invalid_postcode", "invalid_house_number"}:
                with pytest.raises(ValueError):
                    normalise_pc6(r.s("Postcode"))
                    normalise_house_number(r.s("Huisnummer"))
                dropped += 1
                continue
            assert normalise_pc6(r.s("Postcode")) == a["postcode"]
            assert normalise_house_number(r.s("Huisnummer")) == int(a["house_number"])
            addition = r.s("Huisletter/toevoeging")
            assert (normalise_addition(addition) if addition else "") == a["addition"]
        else:
            assert not link["address_id"]
            o = organisations[link["organisation_id"]]
            if "invalid_kvk" in kinds:
                with pytest.raises(ValueError):
                    normalise_kvk(r.s("KvK-nummer"))
                dropped += 1
                continue
            assert normalise_kvk(r.s("KvK-nummer")) == o["kvk_number"]
            assert organisation_key(r.s("Naam werkgever")) == organisation_key(o["name"])
            assert normalise_organisation_role(r.s("Functie")) in ("EMPLOYED_BY", "DIRECTOR_OF", "OWNS")
        checked += 1
    assert checked > 100
    if dataset == SAMPLES:
        assert dropped >= 3


def test_planted_addresses_and_agencies_hold_what_the_truth_says() -> None:
    """Group addresses hold a group's victims at once, innocent ones many innocents at once; the
    link-only groups share nothing but their address or agency."""
    rows = read_sources(SAMPLES)
    pid = {(m["source"], m["row_id"]): m["true_person"] for m in read_truth(SAMPLES, "mentions")}
    member = {(g["true_person"], g["group_id"]): g["role"] for g in read_truth(SAMPLES, "groups")}
    group_of: dict[str, set[str]] = defaultdict(set)
    for person, group in member:
        group_of[person].add(group)
    addresses = {a["address_id"]: a for a in read_truth(SAMPLES, "addresses")}
    links = {(r["source"], r["row_id"]): r for r in read_truth(SAMPLES, "registrations")}
    brp = _periods(
        rows["brp_inschrijvingen"], "Datum aanvang adreshouding", "Datum einde adreshouding", "%Y%m%d"
    )
    at: dict[str, list[tuple[str, tuple[date, date]]]] = defaultdict(list)
    for rid, period in brp.items():
        at[links[("brp_inschrijvingen", rid)]["address_id"]].append(
            (pid[("brp_inschrijvingen", rid)], period)
        )
    kinds = Counter(a["kind"] for a in addresses.values())
    assert kinds["group"] >= 10 and kinds["innocent_crowded"] >= 5 and kinds["ordinary"] >= 20
    for aid, a in addresses.items():
        people = at[aid]
        if a["kind"] == "group":
            victims = [p for p, _ in people if member.get((p, a["group_id"])) == "victim"]
            assert victims, aid
        elif a["kind"] == "innocent_crowded":
            assert _most_at_once([period for _, period in people]) >= 4, aid
            # at most a former victim among them; nobody else of a group
            assert sum(bool(group_of[p]) for p, _ in people) <= 1
        else:
            assert len(people) <= 2
    organisations = {o["organisation_id"]: o for o in read_truth(SAMPLES, "organisations")}
    assert {o["kind"] for o in organisations.values()} == {"group", "ordinary"}
    staff: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rid, r in rows["arbeidsrelaties"].items():
        staff[links[("arbeidsrelaties", rid)]["organisation_id"]].append(
            (pid[("arbeidsrelaties", rid)], r.s("Functie"))
        )
    for oid, o in organisations.items():
        if o["kind"] == "ordinary":
            assert len(staff[oid]) >= 9  # a director and 8 or more employees
    # Link-only groups: 4 by address and 4 by agency, not cross-regional; no case, shared
    # identifier or premises between two of their suspects; the target ties every suspect's cell.
    link_only = read_truth(SAMPLES, "link_only_groups")
    assert Counter(g["through"] for g in link_only) == {"address": 4, "agency": 4}
    facts = {f["group_id"]: f for f in read_truth(SAMPLES, "group_facts")}
    shared = {s["group_id"] for s in read_truth(SAMPLES, "shared_identifiers")}
    cases: dict[str, set[str]] = defaultdict(set)
    for rid, r in rows["politie_zaken"].items():
        if ("politie_zaken", rid) in pid:
            cases[r.s("Zaaknummer")].add(pid[("politie_zaken", rid)])
    for g in link_only:
        gid = g["group_id"]
        assert facts[gid]["cross_regional"] == "false" and gid not in shared
        suspects = {p for (p, grp), role in member.items() if grp == gid and role == "suspect"}
        assert len(suspects) >= 2
        for people in cases.values():
            assert len(people & suspects) <= 1
            # a case of one cell holds none of another cell's victims
        if g["through"] == "address":
            victims = {p for p, _ in at[g["target_id"]] if member.get((p, gid)) == "victim"}
            assert len(victims) >= len(suspects)
            periods = [period for p, period in at[g["target_id"]] if p in victims]
            assert _most_at_once(periods) >= 2
        else:
            officers = {
                p for p, tie in staff[g["target_id"]] if tie in ("directeur", "eigenaar", "bestuurder")
            }
            assert officers == suspects


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_progress_counts_the_rows_and_changes_nothing(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    with_bar = generate(tmp_path / "a", seed=4, rows=5000, progress=lambda *c: calls.append(c))
    generate(tmp_path / "b", seed=4, rows=5000)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    planted = [done for stage, done, _total in calls if stage == "plant"]
    assert len(planted) >= 3 and planted == sorted(planted)
    assert all(total == 5000 for _s, _d, total in calls[:-1])
    assert calls[-1] == ("plant", with_bar.total_rows, with_bar.total_rows)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_cli_bar_in_a_terminal_only_and_not_with_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["synth", "--seed", "3", "--rows", "5000"]
    assert main([*args, "--out", str(tmp_path / "pipe")]) == 0
    captured = capsys.readouterr()
    assert "rows/s" not in captured.err and "plant groups" not in captured.err
    assert "wrote" in captured.out
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: standard error counts as a terminal
    assert main([*args, "--out", str(tmp_path / "tty")]) == 0
    shown = capsys.readouterr().err
    assert "plant groups + write rows" in shown and "rows/s" in shown
    assert main([*args, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert "rows/s" not in capsys.readouterr().err
