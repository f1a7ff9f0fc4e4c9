"""Reading, mapping, validating and rejects: the broken-file corpus and the sample sources."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from loaders.mapping import load_mapping, parse_mapping
from loaders.read import assign_files, detect_delimiter, detect_encoding, find_source_files, read_source
from loaders.records import Record, Reject
from loaders.rejects import write_rejects
from loaders.validate import validate
from netanalysis.errors import ConfigError, InputFileError

BROKEN = Path(__file__).resolve().parent / "broken_files"
TODAY = dt.date(2025, 6, 1)
CASES = yaml.safe_load((BROKEN / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus_mapping():
    return load_mapping(BROKEN / "sources.yaml")


def _outcomes(mapping, source_name: str, file: str) -> list[Record | Reject]:
    source = mapping.source(source_name)
    return list(validate(read_source(source, BROKEN / file), source, today=TODAY))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}-{c['source']}" for c in CASES])
def test_broken_file(case, corpus_mapping) -> None:
    source = corpus_mapping.source(case["source"])
    if "refused" in case:
        with pytest.raises(InputFileError) as info:
            list(read_source(source, BROKEN / case["file"]))
        message = str(info.value)
        assert case["refused"] in message
        assert message.startswith(case["file"]) and message.count(". ") == 0, message
        return
    outcomes = _outcomes(corpus_mapping, case["source"], case["file"])
    records = [o for o in outcomes if isinstance(o, Record)]
    rejects = [o for o in outcomes if isinstance(o, Reject)]
    assert [r.row_id for r in records] == case.get("accepted", [])
    assert {r.row_id: r.field for r in rejects} == case.get("rejected", {})
    assert len(rejects) == len(case.get("rejected", {}))
    for row_id, text in case.get("reasons", {}).items():
        reason = next(r.reason for r in rejects if r.row_id == row_id)
        assert text in reason
    dropped = {r.row_id: [f for f, _ in r.issues] for r in records if r.issues}
    assert dropped == case.get("dropped", {})
    by_id = {r.row_id: r for r in records}
    for row_id, expected in case.get("values", {}).items():
        for field, value in expected.items():
            assert by_id[row_id].values.get(field) == value, (row_id, field)
    for row_id, line in case.get("lines", {}).items():
        assert by_id[row_id].line == line
    for reject in rejects:
        assert reject.original, "a reject keeps the row's original values"


def test_corpus_is_fully_covered() -> None:
    described = {c["file"] for c in CASES}
    on_disk = {p.name for p in BROKEN.iterdir() if p.suffix in (".csv", ".xlsx")}
    assert on_disk == described


def test_every_row_is_accounted_for(corpus_mapping) -> None:
    for case in CASES:
        if "refused" in case:
            continue
        source = corpus_mapping.source(case["source"])
        raw = list(read_source(source, BROKEN / case["file"]))
        outcomes = list(validate(iter(raw), source, today=TODAY))
        assert len(outcomes) == len(raw)
        assert [o.row_id for o in outcomes] == [r.row_id for r in raw]


def test_rejects_file_guards_formulas_and_keeps_originals(tmp_path, corpus_mapping) -> None:
    outcomes = _outcomes(corpus_mapping, "zaken", "formula.csv") + _outcomes(
        corpus_mapping, "zaken", "bad_optional.csv"
    )
    target = tmp_path / "rejects.csv"
    assert write_rejects(target, outcomes) == (1, 5)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["outcome"] for r in rows] == ["rejected"] + ["field_dropped"] * 5
    assert rows[0]["row_id"] == "'=1+1"
    original = json.loads(rows[0]["original"])
    assert original["Geboortedatum"] == '=HYPERLINK("x")'
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))


def test_cp1252_and_bom_headers(corpus_mapping) -> None:
    rows = list(read_source(corpus_mapping.source("zaken"), BROKEN / "bom.csv"))
    assert list(rows[0].original)[0] == "Regelnummer"
    rows = list(read_source(corpus_mapping.source("zaken"), BROKEN / "cp1252.csv"))
    assert rows[0].values["first_name"] == "Zoë"


def test_late_cp1252_byte_in_utf8_file_is_read(tmp_path, corpus_mapping) -> None:
    good = (BROKEN / "good.csv").read_bytes()
    filler = b"".join(b"%d;Z;Verdachte;A;;B;;;;;;Utrecht;;;01-01-2024\n" % i for i in range(100, 60_000))
    path = tmp_path / "late.csv"
    path.write_bytes(good + filler + "99;Z;Verdachte;Zoë;;B;;;;;;Utrecht;;;01-01-2024\n".encode("cp1252"))
    assert len(good + filler) > 1 << 20  # the stray byte lies past the sample
    rows = list(read_source(corpus_mapping.source("zaken"), path))
    assert rows[-1].values["first_name"] == "Zoë"


def test_detect_encoding_and_delimiter() -> None:
    assert detect_encoding("naïef".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfa;b") == "utf-8-sig"
    assert detect_encoding("naïef".encode("cp1252")) == "cp1252"
    assert detect_encoding("é".encode()[:1]) == "utf-8"  # cut multi-byte character at the end
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"
    assert detect_delimiter("a,b;c\n1,2;3\n", ["b;c"]) == ","
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"


def test_assign_and_find_files(tmp_path, corpus_mapping) -> None:
    folder = tmp_path / "export"
    (folder / "sources").mkdir(parents=True)
    (folder / "sources" / "a.csv").write_text("x")
    (folder / "b.xlsx").write_text("x")
    assert [p.name for p in find_source_files(corpus_mapping.source("zaken"), folder)] == ["a.csv"]
    columns = {"Id": "row_id"}
    mapping = parse_mapping(
        {
            "version": 1,
            "sources": [
                {"name": "one", "kind": "case", "files": ["a*.csv"], "format": "csv", "columns": columns},
                {"name": "two", "kind": "signal", "files": ["*.xlsx"], "format": "excel", "columns": columns},
            ],
        }
    )
    files = assign_files(mapping, [folder])
    assert {k: [p.name for p in v] for k, v in files.items()} == {"one": ["a.csv"], "two": ["b.xlsx"]}
    stray = tmp_path / "other.txt"
    stray.write_text("x")
    with pytest.raises(InputFileError, match="matches no source"):
        assign_files(mapping, [stray])
    with pytest.raises(InputFileError, match="no such file"):
        assign_files(mapping, [tmp_path / "missing.csv"])


MINIMAL = {"name": "s", "kind": "case", "files": ["*.csv"], "format": "csv", "columns": {"Id": "row_id"}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"Id": "row_id", "Naam": "naam"}}, "maps column 'Naam' to unknown field 'naam'"),
        ({"kind": "zaak"}, "has kind 'zaak'"),
        ({"format": "json"}, "has format 'json'"),
        ({"columns": {"Naam": "last_name"}}, "maps no column to 'row_id'"),
        ({"required": ["role"]}, "requires field 'role' but maps no column to it"),
        ({"colums": {}}, "unknown key(s) colums"),
        ({"delimiter": ";;"}, "has delimiter"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"values": {"rol": {"a": "b"}}}, "'values' for unknown field 'rol'"),
        ({"date_formats": ["dd-mm-yyyy"]}, "strptime formats"),
        ({"columns": {"Id": "row_id", "A": "phone", "B": "phone"}}, "maps two columns to field 'phone'"),
    ],
)
def test_mapping_errors(change, message) -> None:
    with pytest.raises(ConfigError) as info:
        parse_mapping({"version": 1, "sources": [{**MINIMAL, **change}]}, origin="m.yaml")
    assert str(info.value).startswith("m.yaml: ")
    assert message in str(info.value)


def test_mapping_file_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsources: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: the mapping is not valid YAML at line"):
        load_mapping(bad)
    missing = tmp_path / "missing.yaml"
    missing.write_text("version: 1\nsources:\n  - name: x\n    kind: case\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="source 'x' has no 'files'"):
        load_mapping(missing)
    twice = tmp_path / "twice.yaml"
    twice.write_text(yaml.safe_dump({"version": 1, "sources": [MINIMAL, MINIMAL]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="used twice"):
        load_mapping(twice)
    with pytest.raises(ConfigError, match="'version' must be 1"):
        parse_mapping({"version": 2, "sources": [MINIMAL]})


def test_mapping_values_are_case_insensitive(corpus_mapping) -> None:
    source = corpus_mapping.source("zaken")
    assert source.map_value("role", "VERDACHTE") == "suspect"
    assert source.map_value("role", "onbekend") == "onbekend"
    assert source.fields["municipality"] == "Plaats"


# --- the sample sources (data_samples/, written by `netanalysis synth`) ---------------------

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
BROKEN_KINDS = {"broken_column_count", "impossible_date", "unknown_municipality"}
REGISTERS = ("brp_inschrijvingen", "arbeidsrelaties")


def _truth(name: str) -> list[dict[str, str]]:
    with (SAMPLES / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sample_outcomes() -> dict[str, list[Record | Reject]]:
    mapping = load_mapping(SAMPLES / "sources.yaml")
    files = assign_files(mapping, [SAMPLES])
    result: dict[str, list[Record | Reject]] = {}
    for source in mapping.sources:
        assert files[source.name], f"no sample file for {source.name}"
        seen: set[str] = set()
        result[source.name] = [
            outcome
            for path in files[source.name]
            for outcome in validate(read_source(source, path), source, seen_ids=seen)
        ]
    return result


def test_samples_every_row_is_loaded_or_rejected(sample_outcomes) -> None:
    truth_rows: dict[str, set[str]] = {}
    for row in _truth("mentions.csv") + _truth("signals.csv"):
        truth_rows.setdefault(row["source"], set()).add(row["row_id"])
    assert set(sample_outcomes) == set(truth_rows)
    for source, outcomes in sample_outcomes.items():
        accepted = [o for o in outcomes if isinstance(o, Record)]
        rejected = [o for o in outcomes if isinstance(o, Reject)]
        assert len(outcomes) == len(accepted) + len(rejected)
        # Read counted independently: every row the generator wrote comes back exactly once.
        ids = [o.row_id for o in outcomes]
        assert len(ids) == len(set(ids)), source
        assert set(ids) == truth_rows[source], source


def test_samples_broken_rows_rejected_typical_rows_accepted(sample_outcomes) -> None:
    noise: dict[tuple[str, str], set[str]] = {}
    for row in _truth("noise.csv"):
        noise.setdefault((row["source"], row["row_id"]), set()).add(row["kind"])
    # In the two registers an impossible date is the start of a registration or job: that date is
    # dropped, the row stays (checked below with the other dropped fields).
    late = {
        key
        for key, kinds in noise.items()
        if key[0] in REGISTERS and kinds & BROKEN_KINDS == {"impossible_date"}
    }
    broken = {key for key, kinds in noise.items() if kinds & BROKEN_KINDS} - late
    assert broken, "the sample has broken rows"
    rejected = {
        (o.source, o.row_id) for outs in sample_outcomes.values() for o in outs if isinstance(o, Reject)
    }
    # A made-up place name can land one typing error away from a real village ("Grootbroek" vs the
    # woonplaats Grootebroek); the loader then reads it as that typo, by its documented rule.
    # Those rows must be accepted with exactly that village's municipality (checked in the helper).
    near = _unknown_places_near_a_real_one(sample_outcomes, noise)
    assert rejected == broken - set(near)
    reasons = {
        (o.source, o.row_id): (o.field, o.reason)
        for outs in sample_outcomes.values()
        for o in outs
        if isinstance(o, Reject)
    }
    for key, kinds in noise.items():
        if "broken_column_count" in kinds:
            assert reasons[key][0] == "_row"
        elif "impossible_date" in kinds:
            assert reasons[key][1].startswith("impossible date")
        elif "unknown_municipality" in kinds and key not in near:
            place = "organisation_municipality" if key[0] == "arbeidsrelaties" else "municipality"
            assert reasons[key][0] == place and "closest:" in reasons[key][1]
    typical = [o for outs in sample_outcomes.values() for o in outs if (o.source, o.row_id) not in noise]
    assert typical and all(isinstance(o, Record) for o in typical)
    # An invalid postcode, house number or KvK number (and a register's impossible start date) is
    # a dropped field with its reason: the row is loaded without it.
    dropped_field = {
        "invalid_postcode": "house_number",
        "invalid_house_number": "house_number",
        "invalid_kvk": "kvk_number",
        "impossible_date": "from_date",
    }
    records = {
        (o.source, o.row_id): o for outs in sample_outcomes.values() for o in outs if isinstance(o, Record)
    }
    checked = 0
    for key, kinds in noise.items():
        for kind in kinds & set(dropped_field):
            if kind == "impossible_date" and key not in late:
                continue
            assert dropped_field[kind] in {f for f, _ in records[key].issues}, (key, kind)
            checked += 1
    assert checked >= 6


def test_samples_values_have_contract_forms(sample_outcomes) -> None:
    import re

    forms = {
        "role": re.compile(r"^(suspect|victim|signalled)$"),
        "birth_date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
        "observed_on": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
        "nationality": re.compile(r"^[A-Z]{3}$"),
        "gender": re.compile(r"^[mfx]$"),
        "phone": re.compile(r"^\+\d{8,15}$"),
        "plate": re.compile(r"^[A-Z0-9]{1,3}-[A-Z0-9]{2,3}-[A-Z0-9]{1,3}$"),
        "iban": re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]+$"),
        "municipality": re.compile(r"^GM\d{4}$"),
        "postcode": re.compile(r"^\d{4}$"),
        "exploitation_type": re.compile(r"^(sexual|labour|criminal|organ|unknown)$"),
        "reliability": re.compile(r"^[A-F][1-6]$"),
    }
    counts: dict[str, int] = {}
    for outcomes in sample_outcomes.values():
        for record in outcomes:
            if not isinstance(record, Record):
                continue
            assert re.match(r"^[A-F][1-6]$", record.reliability)
            for field, pattern in forms.items():
                if field in record.values:
                    counts[field] = counts.get(field, 0) + 1
                    assert pattern.match(record.values[field]), (record.record_id, field)
            if "last_name" in record.values:
                assert record.match["last_name"] and record.match["name_key"]
    assert set(counts) == set(forms), "every value type occurs in the samples"


def _unknown_places_near_a_real_one(sample_outcomes, noise) -> dict[tuple[str, str], str]:
    """unknown_municipality rows whose written name is one edit from exactly one official name."""
    from rapidfuzz.distance import OSA

    from loaders.normalise.places import place_index
    from loaders.normalise.text import fold_place

    index = place_index()
    official = {**index.names, **{k: next(iter(v)) for k, v in index.woonplaats.items() if len(v) == 1}}
    near: dict[tuple[str, str], str] = {}
    for outcomes in sample_outcomes.values():
        for outcome in outcomes:
            key = (outcome.source, outcome.row_id)
            if "unknown_municipality" not in noise.get(key, set()) or not isinstance(outcome, Record):
                continue
            column = next(
                c for c, f in _sample_mapping().source(outcome.source).columns.items() if f == "municipality"
            )
            written = fold_place(outcome.original.get(column, "")) if outcome.original else ""
            if not written:
                written = _original_place(outcome, column)
            close = {code for name, code in official.items() if OSA.distance(written, name) <= 1}
            assert close == {outcome.values["municipality"]}, (key, written, close)
            near[key] = outcome.values["municipality"]
    return near


def _sample_mapping():
    return load_mapping(SAMPLES / "sources.yaml")


def _original_place(record: Record, column: str) -> str:
    """Re-read the record's row to get the place as written (Records keep originals only with issues)."""
    from loaders.normalise.text import fold_place

    source = _sample_mapping().source(record.source)
    for raw in read_source(source, record.file):
        if raw.row_id == record.row_id:
            return fold_place(raw.original[column])
    raise AssertionError(f"row {record.record_id} not found again")


def test_doc_examples_match_samples() -> None:
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "mapping-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    assert len(blocks) == 7  # the annotated example and one per sample source
    sample = {s.name: s for s in load_mapping(SAMPLES / "sources.yaml").sources}
    documented = set()
    for block in blocks:
        mapping = parse_mapping(yaml.safe_load(block), origin="docs/mapping-format.md")
        for source in mapping.sources:
            if source.name in sample and len(mapping.sources) == 1 and block != blocks[0]:
                documented.add(source.name)
                expected = sample[source.name]
                for key in (
                    "kind",
                    "files",
                    "format",
                    "encoding",
                    "delimiter",
                    "sheet",
                    "legal_basis",
                    "reliability",
                    "date_formats",
                    "columns",
                    "values",
                    "required",
                ):
                    assert getattr(source, key) == getattr(expected, key), (source.name, key)
    assert documented == set(sample)
