"""The report builds from detection frames and a graph, in both languages, with every output file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from netanalysis.report import Period, ReportSettings, build_report


def _graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for code, name in [("RE01", "Noord-Nederland"), ("RE02", "Oost-Nederland"), ("RE03", "Midden-Nederland")]:
        g.add_node(f"Region:police_unit:{code}", label="Region", level="police_unit", code=code, name=name)
    g.add_node("Municipality:GM0014", label="Municipality", code="GM0014")
    g.add_node("Source:gemeente", label="Source", name="gemeente", kind="signal")
    for i in range(30):
        person = f"Person:p{i:02d}"
        g.add_node(person, label="Person")
        g.add_edge(person, "Municipality:GM0014", key=f"r{i}", type="SEEN_AT", observed_on="2024-05-01")
    for i in range(12):
        g.add_node(
            f"Signal:gemeente:{i}",
            label="Signal",
            source="gemeente",
            observed_on="2024-03-03",
            case_linked=i % 3 == 0,
        )
        g.add_edge(f"Signal:gemeente:{i}", "Municipality:GM0014", key=f"s{i}", type="AT")
    return g


def _frames() -> dict[str, pd.DataFrame]:
    groups = pd.DataFrame(
        [
            {
                "group_id": f"G{i // 5:03d}",
                "person_id": f"p{i:02d}",
                "role": "suspect" if i % 5 < 3 else "victim",
            }
            for i in range(30)
        ]
    )
    summary = pd.DataFrame(
        [
            {
                "group_id": f"G{g:03d}",
                "members": 3,
                "victims": 2,
                "regions": "RE01|RE02",
                "n_regions": 2,
                "moves": 2,
                "cross_region_moves": 1,
                "cross_regional": g % 2 == 0,
                "exploitation_types": ["sexual", "labour", "criminal"][g % 3],
                "first_seen": "2024-01-01",
                "last_seen": "2024-11-01",
            }
            for g in range(6)
        ]
    )
    movements = pd.DataFrame(
        [
            {
                "group_id": "G000",
                "person_id": f"p{i:02d}",
                "from_code": "GM0014",
                "to_code": "GM0193",
                "from_region": "RE01",
                "to_region": "RE02",
                "date": "2024-06-01",
                "cross_region": True,
            }
            for i in range(7)
        ]
    )
    leads = pd.DataFrame([{"signal_id": "gemeente:1", "group_id": "G000", "score": 1.0, "rank": 1}])
    return {"groups": groups, "group_summary": summary, "movements": movements, "leads": leads}


@pytest.mark.parametrize("lang, word", [("nl", "Samenvatting"), ("en", "Summary")])
@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_report_writes_every_output(tmp_path: Path, lang: str, word: str) -> None:
    report = build_report(
        _frames(),
        _graph(),
        Period.year(2024),
        ReportSettings(lang=lang, generated_on="2025-01-31"),
        load_summary={"gemeente": {"read": 40, "loaded": 37, "rejected": 3}},
        rejects=pd.DataFrame({"source": ["gemeente"] * 3, "reason": ["impossible date 31-02-2024"] * 3}),
    )
    written = report.write(tmp_path)
    for name in [
        "report.html",
        "report.pdf",
        "tables/summary.csv",
        "tables/summary.parquet",
        "figures/persons_by_gender.png",
        "figures/persons_by_gender.svg",
    ]:
        assert name in written and written[name].stat().st_size > 0, name
    assert word in report.html
    # One corridor of 7 moves in a 3 x 3 matrix: no heat map, a one-line note instead.
    assert "figures/flows_between_regions.png" not in written
    note = {"nl": "Te veel cellen kleiner dan 5", "en": "Too many cells below 5"}[lang]
    assert note in report.html
    text = subprocess.run(
        ["pdftotext", str(written["report.pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert word in text
    summary = pd.read_csv(written["tables/summary.csv"], sep=";", encoding="utf-8-sig", index_col=0)
    # 6 groups, 3 cross-regional: 3 is below the threshold and so hidden.
    assert "<5" in summary.to_numpy().ravel().tolist()
    flows = report.tables["flows_between_regions"]
    assert flows.loc["Noord-Nederland", "Oost-Nederland"] == "7"
    assert written["tables/summary.csv"].read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_only_rejected_rows_count_as_rejects(tmp_path: Path) -> None:
    rejects = pd.DataFrame(
        {
            "source": ["gemeente"] * 9,
            "outcome": ["rejected"] * 6 + ["field_corrected"] * 3,
            "reason": ["impossible date 31-02-2024"] * 6 + ["place 'Amsterdm' read as Amsterdam"] * 3,
        }
    )
    report = build_report(_frames(), _graph(), Period.year(2024), rejects=rejects)
    table = report.tables["rejects_by_reason"]
    assert table.loc["date", "gemeente"] == "6"
    assert "place" not in table.index


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_every_table_explains_both_marks_and_secondary_cells_are_x() -> None:
    # The probe's data-quality table: 3 rejected next to 93 read and loaded. The 93s are hidden to
    # protect the 3, so they must not be shown as "<5".
    report = build_report(
        _frames(),
        _graph(),
        Period.year(2024),
        ReportSettings(lang="en", generated_on="2025-01-31"),
        load_summary={
            "comensha": {"read": 93, "loaded": 90, "rejected": 3},
            "gemeente": {"read": 126, "loaded": 126, "rejected": 0},
        },
    )
    quality = report.tables["data_quality"]
    assert (quality == "<5").sum().sum() >= 1
    assert (quality == "x").sum().sum() >= 1
    for value in quality.to_numpy().ravel():
        assert value in ("<5", "x") or int(value) == 0 or int(value) >= 5
    note = "<5: a count from 1 to 4. x: hidden so that a total cannot reveal a small count"
    tables = report.html.count("<table")
    assert report.html.count(note.replace("<", "&lt;")) == tables - 2  # all but sources and parameters
