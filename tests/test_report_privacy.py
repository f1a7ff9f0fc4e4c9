"""The Rapporteur's report holds aggregates only: no name, pseudonym, identifier or row id.

The report is made from the committed synthetic samples by the main job, and every output file
(HTML, PDF text, CSV, Parquet, SVG) is scanned for every identifying value in the input and every
key in the graph. PNG figures are drawn from the same published tables as the SVGs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import networkx as nx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from privacy_scan import leaked

from graphstore import open_store
from netanalysis.demo import run_pipeline
from netanalysis.graphs import read_analysis_graph

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
IDENTIFYING = {
    "politie_zaken": [
        "Zaaknummer",
        "Voornaam",
        "Achternaam",
        "Geboortedatum",
        "Telefoon",
        "Kenteken",
        "IBAN",
    ],
    "gemeente_signalen": ["Signaalnummer", "Naam betrokkene", "Telefoonnummer", "Kenteken", "Zaaknummer"],
    "comensha_registraties": ["Registratienummer", "Naam", "Telefoon"],
}


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nx.MultiDiGraph]:
    out = tmp_path_factory.mktemp("report-run")
    outputs = run_pipeline(SAMPLES, out, key_file=None)
    store = open_store(outputs.store)
    try:
        graph = read_analysis_graph(store)
    finally:
        store.close()
    return out / "report", graph


def _source_values() -> set[str]:
    """Every identifying value in the sample sources, as written and in compact forms."""
    frames = {
        "politie_zaken": pd.read_csv(
            SAMPLES / "sources/politie_zaken.csv",
            sep=";",
            dtype=str,
            encoding="utf-8-sig",
            on_bad_lines="skip",
        ),
        "gemeente_signalen": pd.read_csv(
            SAMPLES / "sources/gemeente_signalen.csv",
            sep=",",
            dtype=str,
            encoding="cp1252",
            on_bad_lines="skip",
        ),
        "comensha_registraties": pd.read_csv(
            SAMPLES / "sources/comensha_registraties.csv", sep=";", dtype=str, on_bad_lines="skip"
        ),
    }
    values: set[str] = set()
    for source, columns in IDENTIFYING.items():
        frame = frames[source].fillna("")
        for column in columns:
            for value in frame[column]:
                value = value.strip()
                if len(value) >= 5:
                    values.add(value)
                    compact = re.sub(r"[\s\-.]", "", value)
                    if len(compact) >= 8:
                        values.add(compact)
        if "Voornaam" in frame:
            for first, last in zip(frame["Voornaam"], frame["Achternaam"], strict=True):
                if first and last:
                    values.add(f"{first} {last}")
    excel = pd.read_excel(SAMPLES / "sources/inspectie_arbeid.xlsx", dtype=str).fillna("")
    for column in excel.columns:
        if any(word in column.lower() for word in ("naam", "telefoon", "kenteken", "iban")):
            values.update(v.strip() for v in excel[column] if len(v.strip()) >= 5)
    return values


def _graph_keys(graph: nx.MultiDiGraph) -> set[str]:
    """Pseudonyms and hashed identifiers: the keys of every node that stands for a person or an item."""
    hashed = {"Person", "Case", "Premises", "Phone", "Vehicle", "BankAccount", "Record", "Signal"}
    return {n.split(":", 1)[1] for n, d in graph.nodes(data=True) if d.get("label") in hashed}


def _output_texts(report_dir: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(report_dir.rglob("*")):
        if path.suffix in {".html", ".csv", ".svg"}:
            text = path.read_text(encoding="utf-8-sig")
            # Embedded PNGs are base64, not text: any 5 letters turn up in them by chance (the
            # figures are scanned as SVG files, whose text is the figures' text).
            texts[str(path)] = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png", text)
        elif path.suffix == ".parquet":
            table = pq.read_table(path)
            texts[str(path)] = " ".join(table.column_names) + "\n" + table.to_pandas().to_csv()
        elif path.suffix == ".pdf":
            texts[str(path)] = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout
    return texts


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_report_files_are_all_there(report_run: tuple[Path, nx.MultiDiGraph]) -> None:
    report_dir, _graph = report_run
    texts = _output_texts(report_dir)
    kinds = {Path(p).suffix for p in texts}
    assert kinds == {".html", ".pdf", ".csv", ".parquet", ".svg"}
    assert len(texts) > 20
    # The breakdowns and the series per year are among the scanned tables.
    stems = {Path(p).stem for p in texts if p.endswith(".csv")}
    for dim in ("gender", "age_band", "nationality", "exploitation"):
        names = {f"persons_by_{dim}", f"victims_by_{dim}_and_group_type", f"victims_by_{dim}_per_year"}
        assert names <= stems
    assert {"minor_victims", "cross_regional_groups_by_regions", "trend_per_year"} <= stems


def test_no_identifier_from_the_input_appears_in_the_report(report_run: tuple[Path, nx.MultiDiGraph]) -> None:
    report_dir, graph = report_run
    needles = _source_values() | _graph_keys(graph)
    assert len(needles) > 500  # the scan really has something to look for
    leaks = []
    for path, text in _output_texts(report_dir).items():
        leaks.extend(f"{Path(path).name}: {needle!r}" for needle in leaked(needles, text, ignore_case=True))
    assert not leaks, leaks[:20]


def test_the_scan_would_catch_a_leak(report_run: tuple[Path, nx.MultiDiGraph], tmp_path: Path) -> None:
    """Guard against a scan that cannot fail: plant one pseudonym and one name and find them."""
    _report_dir, graph = report_run
    person = next(n.split(":", 1)[1] for n, d in graph.nodes(data=True) if d.get("label") == "Person")
    name = next(v for v in _source_values() if " " in v)
    (tmp_path / "planted.csv").write_text(f"x;{person}\ny;{name}\n", encoding="utf-8")
    texts = _output_texts(tmp_path)
    assert any(person in t for t in texts.values()) and any(name in t for t in texts.values())


def test_no_csv_cell_starts_a_formula(report_run: tuple[Path, nx.MultiDiGraph]) -> None:
    report_dir, _graph = report_run
    for path in (report_dir / "tables").glob("*.csv"):
        frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        cells = list(frame.columns) + frame.to_numpy().ravel().tolist()
        assert not [c for c in cells if str(c)[:1] in {"=", "+", "-", "@"}], path.name


def test_small_counts_are_suppressed_everywhere(report_run: tuple[Path, nx.MultiDiGraph]) -> None:
    report_dir, _graph = report_run
    for path in (report_dir / "tables").glob("*.csv"):
        frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        labels = {"from", "to", "reason", "source", "quarter", "year", "gender", "age_band", "nationality"}
        numeric = [c for c in frame.columns if c not in labels | {"exploitation", "regions"}]
        for value in frame[numeric].to_numpy().ravel():
            text = str(value)
            if text.isdigit():
                assert int(text) == 0 or int(text) >= 5, f"{path.name}: {text}"


def test_table_labels_are_aggregate_categories_only(report_run: tuple[Path, nx.MultiDiGraph]) -> None:
    """Every row and column label is a category (region, quarter, source, band, reason, measure):
    no table is keyed by a person, a case, a row or a municipality."""
    import pycountry
    import yaml

    from loaders.reference import regions

    report_dir, _graph = report_run
    strings = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "netanalysis/report/strings.yaml").read_text()
    )
    allowed = {"Total", "from", "to", "moves", "reason", "source", "quarter", "n", "Unnamed: 0", ""}
    allowed |= set(regions()["name"]) | set(strings["nl"]["metrics"].values())
    allowed |= {strings["nl"]["this_period"], strings["nl"]["previous_period"]}
    allowed |= set(strings["nl"]["columns"]) | {"suspects", "signals_per_municipality"}
    allowed |= {"2-3", "4-6", "7-10", "11+", "1", "2", "3+", "0", "1-4", "5-9", "10+"}
    allowed |= {"sexual", "labour", "criminal", "organ", "unknown", "cross_regional", "one_region"}
    allowed |= {"column count", "date", "place", "missing required field", "identifier", "other"}
    allowed |= {s["name"] for s in yaml.safe_load((SAMPLES / "sources.yaml").read_text())["sources"]}
    # The breakdowns: categories of gender, age band, nationality (ISO 3166 alpha-3 codes: a
    # country, never a person), group type, number of regions, and the series' years.
    allowed |= {"female", "male", "x", "other", "gender", "age_band", "nationality", "exploitation"}
    allowed |= {"<12", "12-17", "18-22", "23-29", "30-39", "40+", "regions", "3", "4", "5+", "year"}
    allowed |= {c.alpha_3 for c in pycountry.countries} | {"XKX"}
    # The kinds of evidence that bind groups (groups_by_evidence): categories, never an item.
    allowed |= {"evidence", "case", "victim", "phone", "vehicle", "account", "premises"}
    allowed |= {"address", "employer", "director", "only_addresses_and_organisations"}
    for path in (report_dir / "tables").glob("*.csv"):
        frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        labels = set(frame.columns) | set(frame.iloc[:, 0])
        if path.stem == "main_corridors":
            labels = set(frame.columns) | set(frame["from"]) | set(frame["to"])
        odd = {
            label for label in labels if label not in allowed and not re.fullmatch(r"\d{4}(Q[1-4])?", label)
        }
        assert not odd, f"{path.name}: {sorted(odd)[:10]}"
