"""The report's breakdowns (gender, age band, nationality, exploitation), series per year, figures
that are replaced by a note, the first-page summary, and the report's bad input."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from detect_graphs import three_groups, write_to_store

from graphstore import open_store
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.report import Period, ReportSettings, build_report
from netanalysis.report.breakdowns import age_band, breakdown, person_facts, top_nationalities
from netanalysis.report.data import _person_observations
from netanalysis.report.disclosure import SECONDARY_MARK
from netanalysis.report.figures import flow_figure, mostly_hidden

NATIONS = ["NLD"] * 14 + ["ROU"] * 9 + ["BGR"] * 6 + ["POL"] * 2 + ["NGA"] + [None] * 3


def _graph_and_frames() -> tuple[nx.MultiDiGraph, dict[str, pd.DataFrame]]:
    """35 victims and 21 suspects in 7 groups (3 cross-regional), observed in 2023 and 2024."""
    g = nx.MultiDiGraph()
    for code, name in [("RE01", "Noord-Nederland"), ("RE02", "Oost-Nederland")]:
        g.add_node(f"Region:police_unit:{code}", label="Region", level="police_unit", code=code, name=name)
    g.add_node("Municipality:GM0014", label="Municipality", code="GM0014")
    rows = []
    for i in range(56):
        role = "victim" if i < 35 else "suspect"
        group = f"G{i % 7:03d}"
        pid = f"p{i:02d}"
        props: dict[str, object] = {"label": "Person", "person_id": pid}
        if i % 11 != 5:  # some persons have no gender: counted as unknown
            props["gender"] = "f" if (role == "victim") == (i % 4 != 0) else "m"
        if i % 13 != 3:
            props["birth_year"] = (2010 if i % 5 == 0 else 1995) if role == "victim" else 1980
        nation = NATIONS[i % len(NATIONS)]
        if nation:
            props["nationality"] = nation
        g.add_node(f"Person:{pid}", **props)
        year = 2024 if i % 3 else 2023
        g.add_edge(
            f"Person:{pid}", "Municipality:GM0014", key=f"s{i}", type="SEEN_AT", observed_on=f"{year}-03-01"
        )
        g.add_edge(
            f"Person:{pid}", "Municipality:GM0014", key=f"t{i}", type="SEEN_AT", observed_on="2024-09-01"
        )
        case = f"Case:c{i % 7}"
        g.add_node(case, label="Case", exploitation_type=["sexual", "labour", "criminal"][i % 7 % 3])
        rel = "VICTIM_IN" if role == "victim" else "SUSPECT_IN"
        g.add_edge(f"Person:{pid}", case, key=f"c{i}", type=rel, observed_on=f"{year}-03-01")
        rows.append({"group_id": group, "person_id": pid, "role": role})
    summary = pd.DataFrame(
        [
            {
                "group_id": f"G{n:03d}",
                "members": 3,
                "victims": 5,
                "regions": "RE01|RE02",
                "n_regions": 2 + n % 3,
                "moves": 2,
                "cross_region_moves": 1,
                "cross_regional": n < 3,
                "exploitation_types": ["sexual", "labour", "criminal"][n % 3],
                "first_seen": "2023-01-01",
                "last_seen": "2024-11-01",
            }
            for n in range(7)
        ]
    )
    movements = pd.DataFrame(
        columns=[
            "group_id",
            "person_id",
            "from_code",
            "to_code",
            "from_region",
            "to_region",
            "date",
            "cross_region",
        ]
    )
    leads = pd.DataFrame(columns=["signal_id", "group_id", "score", "rank"])
    return g, {"groups": pd.DataFrame(rows), "group_summary": summary, "movements": movements, "leads": leads}


def test_age_band_edges_and_unknowns() -> None:
    assert [age_band(a) for a in (0, 11, 12, 17, 18, 22, 23, 29, 30, 39, 40, 95)] == [
        "<12", "<12", "12-17", "12-17", "18-22", "18-22", "23-29", "23-29", "30-39", "30-39", "40+", "40+",
    ]  # fmt: skip
    assert age_band(None) == age_band(-1) == age_band(130) == "unknown"
    assert age_band(15, (0, 16, 65)) == "<16" and age_band(70, (0, 16, 65)) == "65+"


def test_breakdowns_count_every_person_once_and_missing_values_as_unknown() -> None:
    graph, frames = _graph_and_frames()
    obs = _person_observations(graph)
    facts = person_facts(frames["groups"], frames["group_summary"], graph, obs, "2024-01-01", "2024-12-31")
    assert len(facts) == 56  # everybody is seen on 2024-09-01; nobody dropped
    shown = top_nationalities(facts, n=3)
    assert shown == ["NLD", "ROU", "BGR", "other", "unknown"]
    by_gender = breakdown(facts, "gender")
    assert by_gender.sum().to_dict() == {"suspects": 21, "victims": 35}
    missing = sum(1 for i in range(56) if i % 11 == 5)
    assert by_gender.loc["unknown"].sum() == missing
    by_nation = breakdown(facts, "nationality", nationalities=shown)
    assert by_nation.loc["other"].sum() == sum(
        1 for i in range(56) if NATIONS[i % len(NATIONS)] in ("POL", "NGA")
    )
    assert by_nation.loc["unknown"].sum() == sum(1 for i in range(56) if NATIONS[i % len(NATIONS)] is None)
    ages = breakdown(facts, "age_band")
    # A victim born in 2010 is 13 or 14 at the first observation in 2024: 12-17.
    assert ages.loc["12-17", "victims"] == sum(1 for i in range(35) if i % 5 == 0 and i % 13 != 3)
    assert ages.loc["unknown"].sum() == sum(1 for i in range(56) if i % 13 == 3)
    forms = breakdown(facts, "exploitation")
    assert forms.loc["sexual"].sum() == sum(1 for i in range(56) if i % 7 % 3 == 0)
    cross = breakdown(facts, "gender", columns="group_type")
    assert cross["cross_regional"].sum() == sum(1 for i in range(35) if i % 7 < 3)


def _all_published_cells_safe(table: pd.DataFrame, k: int) -> None:
    for value in table.to_numpy().ravel():
        assert value in (f"<{k}", SECONDARY_MARK) or int(value) == 0 or int(value) >= k, value


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_every_new_table_passes_disclosure_control() -> None:
    graph, frames = _graph_and_frames()
    report = build_report(frames, graph, Period.year(2024), ReportSettings(lang="en"), years=[2023, 2024])
    names = set(report.tables)
    for dim in ("gender", "age_band", "nationality", "exploitation"):
        assert {f"persons_by_{dim}", f"victims_by_{dim}_and_group_type"} <= names
        assert {f"victims_by_{dim}_per_year", f"suspects_by_{dim}_per_year"} <= names
    assert {"minor_victims", "cross_regional_groups_by_regions", "trend_per_year"} <= names
    for name, table in report.tables.items():
        if name != "main_corridors":
            _all_published_cells_safe(table, 5)
    # Secondary suppression: no column of a persons_by table (with its Total) has one hidden cell,
    # no line of a two-way table, no row of a series per year.
    for name, table in report.tables.items():
        hidden = table.isin(["<5", SECONDARY_MARK])
        if name.startswith("persons_by_"):
            assert (hidden.sum(axis=0) != 1).all(), name
        elif name.startswith("victims_by_") and name.endswith("_group_type") or name == "minor_victims":
            assert (hidden.sum(axis=0) != 1).all() and (hidden.sum(axis=1) != 1).all(), name
        elif name.endswith("_per_year") and name != "trend_per_year":
            assert (hidden.sum(axis=1) != 1).all(), name
    assert list(report.tables["trend_per_year"].index) == ["2023", "2024"]
    assert report.tables["persons_by_gender"].loc["Total", "victims"] == "35"


def test_minors_are_their_own_section() -> None:
    graph, frames = _graph_and_frames()
    report = build_report(frames, graph, Period.year(2024), ReportSettings(lang="en"))
    minors = report.tables["minor_victims"]
    assert list(minors.columns) == ["<12", "12-17", "Total"]
    assert "Minor victims" in report.html


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_summary_sentences_use_only_published_numbers() -> None:
    graph, frames = _graph_and_frames()
    report = build_report(frames, graph, Period.year(2024), ReportSettings(lang="en"), years=[2023, 2024])
    story = re.search(r'<ul class="story">(.*?)</ul>', report.html, re.S)
    assert story
    text = re.sub(r"<[^>]+>", " ", story.group(1))
    published = {v for t in report.tables.values() for v in t.to_numpy().ravel()}
    for number in re.findall(r"(?<![\d-])(\d+)(?![\d-])(?!%)", text):
        if re.search(rf"{number}-\d\d-\d\d|\d{{4}}-\d\d-{number}", text) or number in ("2023", "2024"):
            continue  # a date or year of the period
        assert number in published, number
    assert "fewer than 5" in text or "cannot be published" in text or "cannot be compared" in text


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_threshold_below_three_is_refused_in_one_sentence() -> None:
    graph, frames = _graph_and_frames()
    with pytest.raises(ConfigError, match=r"at least 3: publishing counts of 1 or 2 is never safe$"):
        build_report(frames, graph, Period.year(2024), ReportSettings(threshold=2))
    report = build_report(frames, graph, Period.year(2024), ReportSettings(threshold=3))
    assert "&lt;3" in report.html


def test_a_mostly_hidden_table_becomes_a_note_not_an_empty_chart() -> None:
    assert mostly_hidden(pd.DataFrame({"a": ["<5", "<5", "0"], "b": ["x", "7", "0"]}))
    assert not mostly_hidden(pd.DataFrame({"a": ["<5", "12", "30"], "b": ["x", "7", "9"]}))
    graph, frames = _graph_and_frames()
    report = build_report(frames, graph, Period.year(2024), ReportSettings(lang="en"))
    figures = {f.name for f in report.figures}
    assert "flows_between_regions" not in figures  # no moves at all
    assert "persons_by_exploitation" in figures and "persons_by_gender" not in figures  # 2 shown, 4 hidden
    assert report.html.count("Too many cells below 5") >= 1
    for figure in report.figures:  # every figure has its caption with the period
        assert f"{figure.title}. Unit: " in report.html
    assert report.html.count("Period 2024-01-01 – 2024-12-31.") == len(report.figures)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_flow_matrix_of_25_safety_regions_has_every_label_marks_and_a_legend() -> None:
    names = [f"Veiligheidsregio {i:02d}" for i in range(25)]
    rng = np.random.default_rng(1)
    cells = rng.integers(0, 40, size=(25, 25)).astype(object).astype(str)
    cells[rng.random((25, 25)) < 0.1] = "<5"
    table = pd.DataFrame(cells, index=names, columns=names)
    figure = flow_figure("flows", "Flows", table, "to region", "from region", "number of victim moves")
    for name in names:
        assert figure.svg.count(name) >= 2  # a row and a column label
    assert "number of victim moves" in figure.svg  # the colour scale's legend
    assert figure.svg.count("&lt;5") == int((cells == "<5").sum())
    # The image fits an A4 text column at print resolution (130 dpi): at most about 17 x 24 cm.
    width, height = int.from_bytes(figure.png[16:20], "big"), int.from_bytes(figure.png[20:24], "big")
    assert width / 130 * 2.54 < 24 and height / 130 * 2.54 < 26


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report-cli") / "store.db"
    store = open_store(str(path))
    store.apply_schema()
    write_to_store(three_groups(), store)
    store.close()
    return path


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_cli_period_without_data_writes_one_page_and_exits_0(small_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert (
        main(["report", "--store", str(small_store), "--out", str(out), "--period", "1999", "--lang", "en"])
        == 0
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "The sources hold no data for the period 1999-01-01 – 1999-12-31" in html
    info = subprocess.run(["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True, check=True)
    assert re.search(r"Pages:\s+1\n", info.stdout)


def test_cli_years_and_refusals(
    small_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["report", "--store", str(small_store), "--no-pdf"]
    out = tmp_path / "years"
    assert main([*base, "--out", str(out), "--from-year", "2022", "--to-year", "2024"]) == 0
    trend = pd.read_csv(out / "tables/trend_per_year.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert list(trend["year"]) == ["2022", "2023", "2024"]
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "t"), "--period", "2023", "--threshold", "2"]) == 2
    err = capsys.readouterr().err
    assert "never safe" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main([*base, "--out", str(tmp_path / "y"), "--from-year", "2024", "--to-year", "2022"]) == 2
    assert main([*base, "--out", str(tmp_path / "z"), "--period", "2023", "--age-bands", "0,twelve"]) == 2
    assert main([*base, "--out", str(tmp_path / "z"), "--period", "2023", "--age-bands", "12,18"]) == 2


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_table_of_zeros_says_so_instead_of_a_figure() -> None:
    from test_report_build import _frames, _graph

    # No birth years in this graph: no minors, the minors table is all zeros.
    report = build_report(_frames(), _graph(), Period.year(2024), ReportSettings(lang="en"))
    assert set(report.tables["minor_victims"].to_numpy().ravel()) == {"0"}
    assert "minor_victims" not in {f.name for f in report.figures}
    assert "All counts are 0: no figure." in report.html
