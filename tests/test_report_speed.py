"""The faster report tables (issue 21) count exactly what the tables before it counted.

The samples are loaded into each store, detected, and every raw table of the report is computed
twice: by netanalysis.report.tables and by the code before issue 21 (tests/report_before.py, a
verbatim copy). The period, the previous period, the quarters and a five-year series are all
compared, also with the default settings of a second level and other age bands. The command's
progress bar is tested at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
import report_before as before

from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.detect import DetectionSettings, detect
from netanalysis.graphs import read_analysis_graph
from netanalysis.report import Period, ReportSettings, build_report
from netanalysis.report.tables import ReportTables, build_tables

DATA = Path(__file__).resolve().parents[1] / "data_samples"
FRAMES = ("headline", "quarterly", "flows", "group_sizes", "exploitation", "signals_by_source",
          "signal_spread", "data_quality", "reject_reasons", "corridors")  # fmt: skip


@pytest.fixture
def loaded(store: GraphStore, tmp_path: Path) -> Iterator[tuple[nx.MultiDiGraph, Path]]:
    key = keygen(tmp_path / "throwaway.key")
    rejects = tmp_path / "rejects.csv"  # the samples hold broken rows on purpose
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=rejects)
    yield read_analysis_graph(store), rejects


def assert_same_tables(a: ReportTables, b: ReportTables) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    for group in ("breakdowns", "yearly"):
        x, y = getattr(a, group), getattr(b, group)
        assert list(x) == list(y)
        for name in x:
            pd.testing.assert_frame_equal(x[name], y[name], obj=name)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
@pytest.mark.parametrize(
    "level, year, bands",
    [("police_unit", 2024, (0, 12, 18, 23, 30, 40)), ("safety_region", 2023, (0, 18, 30, 50))],
)
def test_report_tables_equal_the_tables_before_issue_21(
    loaded: tuple[nx.MultiDiGraph, Path], level: str, year: int, bands: tuple[int, ...]
) -> None:
    graph, rejects_path = loaded
    frames = detect(graph, DetectionSettings(level=level, seed=3, stability_runs=3)).frames()
    assert len(frames["groups"]) > 50 and len(frames["movements"]) > 10  # the tables count something
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False)
    args: dict[str, Any] = {"level": level, "rejects": rejects, "years": list(range(2021, 2026))}
    new = build_tables(dict(frames), graph, Period.year(year), age_bands=bands, **args)
    old = before.build_tables(dict(frames), graph, before.Period.year(year), age_bands=bands, **args)
    assert int(new.headline["period"].sum()) > 0
    assert_same_tables(new, old)
    # A quarter as the period (another previous period, one quarter row) and no series.
    q = Period("2024-04-01", "2024-06-30")
    assert_same_tables(
        build_tables(dict(frames), graph, q, level),
        before.build_tables(dict(frames), graph, before.Period(q.start, q.end), level),
    )


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_report_tells_its_steps_and_the_command_shows_them_in_a_terminal_only(
    loaded: tuple[nx.MultiDiGraph, Path],
    store: GraphStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph, _rejects = loaded
    frames = detect(graph, DetectionSettings(seed=3, stability_runs=3)).frames()
    calls: list[tuple[str, int, int | None]] = []
    report = build_report(
        frames, graph, Period.year(2024), ReportSettings(lang="en"), progress=lambda *c: calls.append(c)
    )
    assert calls[:2] == [("tables", 0, 1), ("tables", 1, 1)]
    drawn = [(done, total) for stage, done, total in calls if stage == "figures"]
    assert drawn[0][0] == 0 and drawn[-1][0] == drawn[-1][1] >= len(report.figures) > 0
    written: list[tuple[str, int, int | None]] = []
    files = report.write(tmp_path / "direct", pdf=False, progress=lambda *c: written.append(c))
    assert written[0] == ("write", 0, len(files)) and written[-1] == ("write", len(files), len(files))

    uri = str(getattr(store, "uri", "")) or str(tmp_path / "graph.db")
    args = ["report", "--store", uri, "--period", "2024", "--lang", "en", "--no-pdf"]
    assert main([*args, "--out", str(tmp_path / "pipe")]) == 0
    assert "rows/s" not in capsys.readouterr().err
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: standard error counts as a terminal
    assert main([*args, "--out", str(tmp_path / "tty")]) == 0
    shown = capsys.readouterr().err
    for step in (
        "read the graph",
        "detect groups",
        "count the tables",
        "draw the figures",
        "write the files",
    ):
        assert step in shown
    assert "rows/s" in shown and "files/s" in shown
    assert main([*args, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert "rows/s" not in capsys.readouterr().err
