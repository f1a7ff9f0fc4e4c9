"""The report from the report graph the store reads (``read_report_graph``: the detection graph, a
few more properties, the batches and sources counted by the store) is the report from the whole
graph (``read_analysis_graph``): every published table, the page and the written files, on both
stores.

Checked on the samples (two periods, levels and languages, a series of years, the rejects) and on a
synthetic set of 2,500 rows with addresses, organisations and noise (``synth.generate``); the
command itself is run on the report graph and its files compared with the old path's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.detect import DetectionSettings, detect
from netanalysis.graphs import REPORT_ATTR, ReportFacts, read_analysis_graph, read_report_graph
from netanalysis.report import Period, Report, ReportSettings, build_report

DATA = Path(__file__).resolve().parents[1] / "data_samples"

pytestmark = pytest.mark.slow


def assert_same_report(a: Report, b: Report) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert a.stamp == b.stamp
    assert [(f.name, f.png) for f in a.figures] == [(f.name, f.png) for f in b.figures]
    assert a.html == b.html


def both_reports(
    store: GraphStore, period: Period, settings: ReportSettings, level: str, **kwargs: Any
) -> tuple[Report, Report]:
    whole = read_analysis_graph(store)
    lean = read_report_graph(store)
    # Smaller: no Record or Source node, no provenance on the facts.
    assert lean.number_of_nodes() < whole.number_of_nodes()
    assert not any(label in ("Record", "Source") for _, label in lean.nodes(data="label"))
    assert all("batch" not in data and "source" not in data for _, _, data in lean.edges(data=True))
    facts = lean.graph[REPORT_ATTR]
    assert isinstance(facts, ReportFacts) and facts.batches and facts.sources
    detection = DetectionSettings(level=level, seed=3, stability_runs=2)
    reports = []
    for graph in (whole, lean):
        frames = detect(graph, detection).frames()
        reports.append(
            build_report(frames, graph, period, settings, parameters=detection.to_dict(), **kwargs)
        )
    return reports[0], reports[1]


def load_samples(store: GraphStore, tmp_path: Path) -> pd.DataFrame:
    key = keygen(tmp_path / "throwaway.key")
    rejects = tmp_path / "rejects.csv"  # the samples hold broken rows on purpose
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=rejects)
    return pd.read_csv(rejects, dtype=str, keep_default_na=False)


def test_samples_report_the_same_from_the_report_graph(store: GraphStore, tmp_path: Path) -> None:
    rejects = load_samples(store, tmp_path)
    old, new = both_reports(
        store,
        Period.year(2024),
        ReportSettings(lang="en", generated_on="2026-12-07"),
        "police_unit",
        rejects=rejects,
        years=list(range(2021, 2026)),
    )
    assert_same_report(old, new)
    # Not a comparison of empty reports: groups, signals per source, figures, the stamp's batch.
    assert int(old.tables["summary"].iloc[:, 0].map(lambda c: str(c).isdigit()).sum()) > 3
    assert len(old.tables["signals_per_source"]) > 1 and len(old.figures) > 5
    assert old.stamp["input batches"] != "-"
    quarter, other = both_reports(
        store,
        Period("2023-04-01", "2023-06-30"),
        ReportSettings(lang="nl", level="safety_region", age_bands=(0, 18, 30), generated_on="2026-12-07"),
        "safety_region",
    )
    assert_same_report(quarter, other)


def test_synthetic_set_reports_the_same_from_the_report_graph(store: GraphStore, tmp_path: Path) -> None:
    from synth import generate

    generate(tmp_path / "set", seed=11, rows=2500, noise=0.1)
    key = keygen(tmp_path / "throwaway.key")
    load(
        [tmp_path / "set" / "sources"],
        store,
        tmp_path / "set" / "sources.yaml",
        key,
        rejects_path=tmp_path / "rejects.csv",
    )
    old, new = both_reports(
        store,
        Period.year(2024),
        ReportSettings(lang="en", generated_on="2026-12-07"),
        "police_unit",
        years=[2022, 2023, 2024],
    )
    assert_same_report(old, new)
    assert len(old.figures) > 5


def test_the_command_writes_the_files_of_the_whole_graph_report(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_samples(store, tmp_path)
    uri = str(getattr(store, "uri", ""))
    args = ["report", "--store", uri, "--period", "2024", "--lang", "en", "--no-pdf"]
    assert main([*args, "--out", str(tmp_path / "lean")]) == 0
    # The command as it was: the same steps from the whole graph.
    import netanalysis.commands.report as command

    monkeypatch.setattr(command, "read_report_graph", read_analysis_graph)
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    lean = sorted(p.relative_to(tmp_path / "lean") for p in (tmp_path / "lean").rglob("*") if p.is_file())
    whole = sorted(p.relative_to(tmp_path / "whole") for p in (tmp_path / "whole").rglob("*") if p.is_file())
    assert lean == whole and len(lean) > 20
    for name in lean:
        if name.suffix in (".csv", ".html", ".png"):
            assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
