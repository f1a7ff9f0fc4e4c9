"""The main job: the whole pipeline on a folder of sources with a mapping and (optionally) truth.

load (with rejects) -> detect -> evaluate against the truth -> maps -> report. Used by
``netanalysis demo`` (the README's first command) and by the notebooks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from graphstore import store_from_env
from loaders.pipeline import LoadSummary, load
from loaders.pseudonymise import keygen, load_key
from netanalysis.audit import Processing, audited, record_load, record_written
from netanalysis.detect import DetectionResult, DetectionSettings, detect
from netanalysis.errors import ConfigError
from netanalysis.evaluate import Evaluation, evaluate
from netanalysis.graphs import read_analysis_graph
from netanalysis.maps import ego_map, group_map, region_map
from netanalysis.report import Period, ReportSettings, build_report, require_report_extras

__all__ = ["DemoOutputs", "default_period", "run_pipeline", "samples_dir"]


def samples_dir() -> Path:
    """The synthetic sample set the demo runs on.

    Inside an installed wheel the build ships it as ``netanalysis/_samples`` (setup.py); in a
    checkout it is the repository's own ``data_samples/``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_samples", here.parent / "data_samples"):
        if (candidate / "sources.yaml").is_file():
            return candidate
    raise ConfigError(
        "the sample data is not installed with this toolkit; reinstall it from a wheel or a checkout, "
        "or pass the folder of your own sources"
    )


@dataclass
class DemoOutputs:
    """Where everything the main job made is, and the figures it measured."""

    store: str
    load: LoadSummary
    detection: DetectionResult
    evaluation: Evaluation | None
    period: Period
    files: dict[str, Path] = field(default_factory=dict)


def default_period(graph_dates: list[str]) -> Period:
    """The last full calendar year before the latest observation (or that year if it is the only one)."""
    if not graph_dates:
        raise ConfigError("the store holds no dated observations to report on; load some sources first")
    first, last = int(min(graph_dates)[:4]), int(max(graph_dates)[:4])
    return Period.year(max(first, last - 1))


def _demo_store(arguments: Any) -> str:
    """The demo's store: the one given, else the embedded file it makes in its output folder."""
    return str(arguments.get("store_uri") or Path(arguments.get("out_dir", "demo-out")) / "graph.sqlite")


def _record_demo(proc: Processing, outputs: DemoOutputs, arguments: Any) -> None:
    record_load(proc, outputs.load, arguments)
    record_written(proc, outputs.files, arguments)


@audited("demo", store=_demo_store, after=_record_demo)
def run_pipeline(
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] = "demo-out",
    store_uri: str | None = None,
    key_file: str | os.PathLike[str] | None = None,
    settings: DetectionSettings | None = None,
    lang: str = "nl",
    period: Period | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoOutputs:
    """Run load -> detect -> evaluate -> maps -> report on ``data_dir``.

    Parameters
    ----------
    data_dir : folder with ``sources/``, ``sources.yaml`` and optionally ``truth/``; default the
        synthetic samples (:func:`samples_dir`).
    out_dir : where outputs go (created).
    store_uri : graph store; default an embedded store file in ``out_dir``. A Neo4j URI logs in
        with ``$NEO4J_USERNAME`` and ``$NEO4J_PASSWORD``, as on the command line
        (``graphstore.store_from_env``).
    key_file : pseudonymisation key; default a new throw-away key in ``out_dir`` (fine for
        synthetic samples, never for real data). ``netanalysis demo`` passes
        ``$NETANALYSIS_KEY_FILE`` when it is set.
    settings : detection settings.
    lang : report language (nl or en).
    period : report period; default the last full year in the data.
    progress : called with a line of text at each step.
    """
    say = progress or (lambda _line: None)
    data, out = Path(data_dir) if data_dir is not None else samples_dir(), Path(out_dir)
    if not (data / "sources.yaml").is_file():
        raise ConfigError(f"{data} has no sources.yaml; point --data at a folder made by `netanalysis synth`")
    require_report_extras()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if key_file is None:
        key_file = out / "demo.key"
        if not Path(key_file).exists():
            keygen(key_file)
    key = load_key(key_file)
    store_uri = store_uri or str(out / "graph.sqlite")
    settings = (settings or DetectionSettings()).validate()

    store = store_from_env(store_uri)
    try:
        say(f"loading {data / 'sources'} into {store_uri}")
        summary = load(
            [data / "sources"], store, data / "sources.yaml", key, rejects_path=out / "rejects.csv"
        )
        summary.write_json(out / "load_summary.json")
        files["rejects"] = out / "rejects.csv"
        files["load summary"] = out / "load_summary.json"
        say("reading the graph and detecting groups")
        graph = read_analysis_graph(store)
    finally:
        store.close()

    result = detect(graph, settings)
    result.write(out / "detection")
    files["detection"] = out / "detection"

    evaluation = None
    if (data / "truth").is_dir():
        say("evaluating against the synthetic truth")
        evaluation = evaluate(data / "truth", out / "detection")
        (out / "evaluation.json").write_text(
            json.dumps(evaluation.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        files["evaluation"] = out / "evaluation.json"

    say("drawing maps")
    maps = out / "maps"
    maps.mkdir(exist_ok=True)
    label = f"{data.name} (synthetic)" if (data / "truth").is_dir() else data.name
    summary_frame = result.group_summary
    top = _top_groups(summary_frame, 3)
    if top:
        group_map(graph, result, top, data_label=label).save(maps / "groups.html")
        files["group map"] = maps / "groups.html"
    region_map(graph, result, data_label=label).save(maps / "regions.html")
    files["region map"] = maps / "regions.html"
    key_players = result.key_players
    if not key_players.empty:
        best = key_players.sort_values(["rank", "betweenness"], ascending=[True, False]).iloc[0]
        centre = f"Person:{best['person_id']}"
        ego_map(graph, centre, depth=2, result=result, data_label=label).save(maps / "ego.html")
        files["ego map"] = maps / "ego.html"

    dates = [
        str(d["observed_on"])[:10]
        for _u, _v, d in graph.edges(data=True)
        if isinstance(d.get("observed_on"), str)
    ]
    window = period or default_period(dates)
    say(f"writing the Rapporteur's report for {window.start} .. {window.end}")
    rejects = (
        pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
        if (out / "rejects.csv").exists()
        else None
    )
    report = build_report(
        result.frames(),
        graph,
        window,
        ReportSettings(lang=lang, level=settings.level),
        load_summary={k: vars(v) for k, v in summary.sources.items()},
        rejects=rejects,
        parameters=settings.to_dict(),
        # The monitors' series: every year from the first observation up to the report's year.
        years=list(range(int(min(dates)[:4]), int(window.end[:4]) + 1)) if dates else None,
    )
    written = report.write(out / "report")
    files["report"] = written["report.html"]
    if "report.pdf" in written:
        files["report pdf"] = written["report.pdf"]
    return DemoOutputs(store_uri, summary, result, evaluation, window, files)


def _top_groups(summary: pd.DataFrame, n: int) -> list[str]:
    """The ``n`` highest-priority groups of two or more suspects, cross-regional first."""
    if summary.empty:
        return []
    ranked = summary[summary["members"] >= 2].sort_values(
        ["cross_regional", "priority", "group_id"], ascending=[False, False, True]
    )
    return [str(g) for g in ranked["group_id"].head(n)]


def describe(outputs: DemoOutputs) -> dict[str, Any]:
    """Plain summary of a run, for printing."""
    return {
        "store": outputs.store,
        "read": outputs.load.read,
        "loaded": outputs.load.loaded,
        "rejected": outputs.load.rejected,
        "groups": int((outputs.detection.group_summary["members"] >= 2).sum()),
        "cross_regional_groups": int(outputs.detection.group_summary["cross_regional"].astype(bool).sum()),
        "figures": outputs.evaluation.figures if outputs.evaluation else {},
    }
