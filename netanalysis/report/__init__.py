"""The batch report for the National Rapporteur: aggregate figures with disclosure control.

``build_report`` turns detection frames and the analysis graph into a ``Report``: published
tables (small counts suppressed), figures drawn from those published tables, and an HTML page
that WeasyPrint turns into a PDF. ``Report.write(out_dir)`` writes report.html, report.pdf,
tables/*.csv (UTF-8 with BOM, ``;``), tables/*.parquet and figures/*.png|svg.

No person, pseudonym, identifier, case number or municipality-level figure appears in it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import yaml
from markupsafe import Markup

from graphstore.schema import schema_path
from loaders.csv_safety import guard_frame
from netanalysis.audit import audited, record_written
from netanalysis.errors import ConfigError
from netanalysis.extras import require
from netanalysis.report.breakdowns import DEFAULT_AGE_BANDS
from netanalysis.report.data import ReportData, report_data
from netanalysis.report.disclosure import suppress_matrix, suppress_series
from netanalysis.report.figures import Figure, bar_figure, flow_figure, mostly_hidden, trend_figure
from netanalysis.report.summary import summary_sentences
from netanalysis.report.tables import Period, ReportTables, build_tables

__all__ = [
    "MIN_THRESHOLD",
    "Period",
    "Report",
    "ReportSettings",
    "build_report",
    "publish",
    "require_report_extras",
]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ReportSettings:
    """How the report is made: language, suppression threshold, region level, bands.

    ``threshold`` must be at least 3 (:data:`MIN_THRESHOLD`): a published 1 or 2 is never safe.
    ``age_bands`` are the lower bounds of the age bands (age at the first observation in the
    period); ``nationalities`` is how many of the largest nationalities are shown by name.
    """

    lang: str = "nl"
    threshold: int = 5
    level: str = "police_unit"
    generated_on: str = field(default_factory=lambda: date.today().isoformat())
    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS
    nationalities: int = 6


#: The smallest suppression threshold the report accepts.
MIN_THRESHOLD = 3

#: ``progress(stage, done, total)`` of the report's steps: ``tables`` (0 of 1, then 1 of 1),
#: ``figures`` (figures drawn of the figures to draw) and ``write`` (files written of all files).
Progress = Callable[[str, int, "int | None"], None]


def _no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback of a call that did not ask for one."""


@lru_cache(maxsize=1)
def _strings() -> dict[str, Any]:
    with open(HERE / "strings.yaml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh))


def _weasyprint() -> Any:
    """WeasyPrint, or one sentence saying which extra or system package it needs."""
    try:
        return require("weasyprint", "report", "the report's PDF")
    except OSError as exc:  # installed, but its system library Pango is missing
        raise ConfigError(
            "cannot make the PDF: WeasyPrint cannot load Pango; run scripts/install-system-deps.sh"
        ) from exc


def require_report_extras(pdf: bool = True) -> None:
    """Check that the optional parts a written report needs are installed, before any work.

    Raises ConfigError with one sentence naming the extra (``netanalysis[report]``).
    """
    require("pyarrow", "report", "the report's Parquet tables")
    if pdf:
        _weasyprint()


@dataclass
class Report:
    """A finished report: published tables, figures, HTML."""

    tables: dict[str, pd.DataFrame]
    figures: list[Figure]
    html: str
    settings: ReportSettings
    stamp: dict[str, str]

    def pdf(self) -> bytes:
        """Render the HTML to PDF with WeasyPrint."""
        return bytes(_weasyprint().HTML(string=self.html).write_pdf())

    @audited("report", after=record_written)
    def write(
        self, out_dir: str | Path, pdf: bool = True, progress: Progress | None = None
    ) -> dict[str, Path]:
        """Write every output file; returns name -> path.

        ``progress(stage, done, total)`` is called with stage ``write`` after each file.
        """
        require_report_extras(pdf)
        tell = progress or _no_progress
        files = 2 * len(self.tables) + 2 * len(self.figures) + 1 + int(pdf)
        tell("write", 0, files)
        out = Path(out_dir)
        (out / "tables").mkdir(parents=True, exist_ok=True)
        (out / "figures").mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name, table in self.tables.items():
            safe = guard_frame(table)
            csv_path = out / "tables" / f"{name}.csv"
            safe.to_csv(csv_path, sep=";", encoding="utf-8-sig")
            parquet_path = out / "tables" / f"{name}.parquet"
            flat = safe.reset_index().astype(str)
            flat.columns = [str(c) for c in flat.columns]
            flat.to_parquet(parquet_path, index=False)
            written[f"tables/{name}.csv"] = csv_path
            written[f"tables/{name}.parquet"] = parquet_path
            tell("write", len(written), files)
        for figure in self.figures:
            for ext, data in (("png", figure.png), ("svg", figure.svg.encode("utf-8"))):
                path = out / "figures" / f"{figure.name}.{ext}"
                path.write_bytes(data)
                written[f"figures/{figure.name}.{ext}"] = path
            tell("write", len(written), files)
        (out / "report.html").write_text(self.html, encoding="utf-8")
        written["report.html"] = out / "report.html"
        if pdf:
            (out / "report.pdf").write_bytes(self.pdf())
            written["report.pdf"] = out / "report.pdf"
        tell("write", len(written), files)
        return written


def _html_table(table: pd.DataFrame, columns: Mapping[str, str], index_name: str = "") -> str:
    shown = table.rename(columns=lambda c: columns.get(str(c), str(c)))
    shown.index.name = index_name or shown.index.name
    if len(shown.columns) > 12 and list(shown.columns[:-1]) == list(shown.index[:-1]):
        # A region-by-region matrix of 25 safety regions: the column heads are the rows' numbers,
        # so the names need not wrap letter by letter (the CSV keeps the names).
        numbers = {name: str(i) for i, name in enumerate(shown.index[:-1], start=1)}
        shown = shown.rename(columns=lambda c: numbers.get(c, c))
        shown.index = [f"{numbers[r]}. {r}" if r in numbers else r for r in shown.index]
        shown.index.name = table.index.name
    # Wide tables (the region-by-region matrix) get a smaller font so they fit an A4 page.
    return str(shown.to_html(escape=True, border=0, classes="wide" if len(shown.columns) > 6 else None))


def _stamp(data: ReportData, settings: ReportSettings, params: Mapping[str, Any]) -> dict[str, str]:
    from netanalysis import __version__

    schema = hashlib.sha256(schema_path().read_bytes()).hexdigest()[:16]
    return {
        "toolkit": f"netanalysis {__version__}",
        "schema": f"graph_schema.cypher sha256:{schema}",
        "input batches": ", ".join(data.batches) or "-",
        "parameters": json.dumps(dict(params), sort_keys=True, default=str),
        "threshold": str(settings.threshold),
        "level": settings.level,
    }


def _with_total_row(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out.loc["Total"] = table.sum(axis=0)
    return out


def _with_total_column(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["Total"] = table.sum(axis=1)
    return out


def publish(raw: ReportTables, threshold: int, t: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Apply disclosure control to every raw table; the result is all the report may show.

    Tables whose rows and columns both add up (a person or group in one cell) get a ``Total`` row
    and column and secondary suppression both ways; tables whose columns are different measures
    (suspects next to victims) get a ``Total`` row and secondary suppression within columns; series
    per year get a ``Total`` column (the year's total) and secondary suppression within rows.
    """
    k = threshold
    headline_rows = {
        t["metrics"][m]: {
            t["this_period"]: suppress_series(raw.headline["period"][[m]], k, total=False).iloc[0],
            t["previous_period"]: suppress_series(raw.headline["previous"][[m]], k, total=False).iloc[0],
        }
        for m in raw.headline.index
    }
    published: dict[str, pd.DataFrame] = {
        "summary": pd.DataFrame(headline_rows).T,
        "trend_per_quarter": suppress_matrix(raw.quarterly, k, totals=False, secondary="columns"),
        "flows_between_regions": suppress_matrix(raw.flows, k),
        "groups_by_size_and_regions": suppress_matrix(raw.group_sizes, k),
        "exploitation_by_group_type": suppress_matrix(raw.exploitation, k),
    }
    for name, table in raw.breakdowns.items():
        if name.startswith("persons_by_"):
            published[name] = suppress_matrix(_with_total_row(table), k, totals=False, secondary="columns")
        elif name in ("cross_regional_groups_by_regions", "groups_by_evidence"):
            # A group with several forms counts once per form: no totals are published, so none
            # can be recomputed, and secondary suppression has nothing to protect.
            published[name] = suppress_matrix(table, k, totals=False, secondary="none")
        else:
            published[name] = suppress_matrix(table, k)
    for name, table in raw.yearly.items():
        if name == "trend_per_year":
            published[name] = suppress_matrix(table, k, totals=False, secondary="columns")
        else:
            published[name] = suppress_matrix(_with_total_column(table), k, totals=False, secondary="rows")
    published["signals_per_source"] = suppress_matrix(
        raw.signals_by_source, k, totals=False, secondary="columns"
    )
    published["municipalities_by_signals"] = suppress_matrix(
        raw.signal_spread, k, totals=False, secondary="columns"
    )
    published["data_quality"] = suppress_matrix(raw.data_quality, k, totals=False)
    if not raw.reject_reasons.empty:
        published["rejects_by_reason"] = suppress_matrix(raw.reject_reasons, k)
    corridors = raw.corridors[raw.corridors["moves"] >= k]
    published["main_corridors"] = corridors.astype(str).set_index(corridors.columns[0])
    return published


def _display(table: pd.DataFrame, t: Mapping[str, Any]) -> pd.DataFrame:
    """The table with its category words and column names in the report's language."""
    words = {**t["labels"], **t["columns"]}
    shown = table.rename(
        index=lambda r: words.get(str(r), str(r)), columns=lambda c: words.get(str(c), str(c))
    )
    shown.index.name = words.get(str(table.index.name), table.index.name)
    shown.columns.name = words.get(str(table.columns.name), table.columns.name)
    return shown


@dataclass(frozen=True)
class _Spec:
    """One section: its table, how it is drawn, and what its axes say."""

    table: str
    title: str
    kind: str  # bar | stacked | trend | flow | none
    xlabel: str = ""
    unit: str = ""


def _specs(t: Mapping[str, Any], published: Mapping[str, pd.DataFrame]) -> list[tuple[str, list[_Spec]]]:
    """The chapters of the report and their sections, in order."""
    s, d, u, ti = t["sections"], t["dims"], t["units"], t["titles"]
    dims = ("gender", "age_band", "nationality", "exploitation")
    chapters: list[tuple[str, list[_Spec]]] = [
        (
            t["chapters"]["persons"],
            [
                _Spec(f"persons_by_{x}", ti["persons_by"].format(dim=d[x]), "bar", d[x], u["persons"])
                for x in dims
            ],
        ),
        (
            t["chapters"]["cross"],
            [
                _Spec(
                    f"victims_by_{x}_and_group_type",
                    ti["victims_by_group_type"].format(dim=d[x]),
                    "bar",
                    d[x],
                    u["victims"],
                )
                for x in dims
            ]
            + [
                _Spec("groups_by_size_and_regions", s["sizes"], "bar", t["dims"]["size"], u["groups"]),
                _Spec("exploitation_by_group_type", s["exploitation"], "bar", d["exploitation"], u["groups"]),
                _Spec("cross_regional_groups_by_regions", s["by_regions"], "bar", d["regions"], u["groups"]),
                _Spec("groups_by_evidence", s["evidence"], "bar", d["evidence"], u["groups"]),
            ],
        ),
        (
            t["chapters"]["minors"],
            [_Spec("minor_victims", s["minors"], "bar", d["exploitation"], u["victims"])],
        ),
        (
            t["chapters"]["flows"],
            [
                _Spec("flows_between_regions", s["flows"], "flow", d["to"], u["moves"]),
                _Spec("main_corridors", s["corridors"], "none"),
            ],
        ),
        (t["chapters"]["time"], [_Spec("trend_per_quarter", s["trend"], "trend", d["quarter"], u["count"])]),
        (
            t["chapters"]["signals"],
            [
                _Spec("signals_per_source", s["signals"], "bar", d["source"], u["signals"]),
                _Spec(
                    "municipalities_by_signals", s["spread"], "bar", d["signals_band"], u["municipalities"]
                ),
            ],
        ),
        (
            t["chapters"]["quality"],
            [
                _Spec("data_quality", s["data_quality"], "none"),
                _Spec("rejects_by_reason", s["quality"], "stacked", d["reason"], u["rows"]),
            ],
        ),
    ]
    if "trend_per_year" in published:
        years = [_Spec("trend_per_year", s["trend_years"], "trend", d["year"], u["count"])]
        for role in ("victims", "suspects"):
            for x in dims:
                years.append(
                    _Spec(
                        f"{role}_by_{x}_per_year",
                        ti["role_per_year"].format(role=t["roles"][role], dim=d[x]),
                        "trend",
                        d["year"],
                        u[role],
                    )
                )
        chapters.insert(4, (t["chapters"]["years"], years))
    return chapters


def _all_zero(table: pd.DataFrame) -> bool:
    """True when every published cell is 0: nothing to draw, and nothing hidden either."""
    return bool(len(table)) and all(str(v) == "0" for v in table.to_numpy().ravel())


def _figure(spec: _Spec, table: pd.DataFrame, t: Mapping[str, Any]) -> Figure:
    # Totals are in the table; a bar or a line for them would dwarf the categories.
    shown = _display(table.drop(index="Total", columns="Total", errors="ignore"), t)
    if spec.kind == "flow":
        return flow_figure(spec.table, spec.title, shown, spec.xlabel, t["dims"]["from"], spec.unit)
    if spec.kind == "trend":
        return trend_figure(spec.table, spec.title, shown, spec.xlabel, spec.unit)
    return bar_figure(spec.table, spec.title, shown, spec.kind == "stacked", spec.xlabel, spec.unit)


@audited("report", store="graph", only_from_store=True)
def build_report(
    frames: Mapping[str, pd.DataFrame],
    graph: nx.MultiDiGraph | ReportData,
    period: Period,
    settings: ReportSettings | None = None,
    load_summary: dict[str, dict[str, object]] | None = None,
    rejects: pd.DataFrame | None = None,
    parameters: Mapping[str, Any] | None = None,
    years: list[int] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Build the Rapporteur's report for ``period``.

    Parameters
    ----------
    frames : detection frames (``groups``, ``group_summary``, ``movements``, ``leads``) as in
        netanalysis.detect's output contract.
    graph : the graph as read from the store: ``read_report_graph`` (what the report needs) or
        ``read_analysis_graph`` (everything); or only the facts the report counts of it
        (``netanalysis.report.data.read_report_data``, for the persons of the detection given
        in ``frames``). All three give the same report.
    period : reporting window.
    settings : language, threshold (at least 3), region level, age bands, nationalities shown.
    load_summary : per-source read/loaded/rejected counts of the load, for the quality section.
    rejects : the rejects table (``source``, ``reason``) for reasons per source.
    parameters : detection parameters to record in the reproducibility stamp.
    years : calendar years for the series per year (``trend_per_year``, ``*_per_year``).
    progress : called as ``progress(stage, done, total)`` for the stages ``tables`` and
        ``figures`` (the command's progress bar).

    Returns
    -------
    Report with published tables, figures and HTML; nothing in it identifies a person. A period
    without any data gives a one-page report that says so.
    """
    settings = settings or ReportSettings()
    strings = _strings()
    if settings.lang not in strings:
        raise ConfigError(
            f"report language {settings.lang!r} is not available (choose: {', '.join(strings)})"
        )
    if settings.threshold < MIN_THRESHOLD:
        raise ConfigError(
            f"the suppression threshold must be at least {MIN_THRESHOLD}: "
            "publishing counts of 1 or 2 is never safe"
        )
    if len(set(settings.age_bands)) < 2 or min(settings.age_bands) != 0:
        raise ConfigError(
            "the age bands must start at 0 and have at least two lower bounds, e.g. 0,12,18,23,30,40"
        )
    t = strings[settings.lang]
    k = settings.threshold
    tell = progress or _no_progress
    tell("tables", 0, 1)
    data = graph if isinstance(graph, ReportData) else report_data(graph, settings.level)
    raw: ReportTables = build_tables(
        dict(frames),
        data,
        period,
        settings.level,
        load_summary,
        rejects,
        years=years,
        age_bands=tuple(sorted(set(settings.age_bands))),
        nationalities=settings.nationalities,
    )
    published = publish(raw, k, t)
    tell("tables", 1, 1)
    empty = int(raw.headline["period"].sum()) == 0 and not any(
        int(table.to_numpy().sum()) for table in raw.yearly.values()
    )
    period_text = f"{period.start} – {period.end}"
    story = summary_sentences(published, t, k, period_text)

    figures: list[Figure] = []
    chapters = []
    number = 0
    drawn = 0
    plan = [] if empty else _specs(t, published)
    to_draw = sum(1 for _c, specs in plan for sp in specs if sp.table in published and sp.kind != "none")
    tell("figures", 0, to_draw)
    for chapter, specs in plan:
        sections = []
        for spec in specs:
            if spec.table not in published:
                continue
            table = published[spec.table]
            entry: dict[str, Any] = {"title": spec.title, "figure": "", "note": "", "caption": ""}
            if spec.kind != "none":
                if _all_zero(table):
                    entry["note"] = t["figure_zero"]
                elif mostly_hidden(table, 0.75 if spec.kind == "flow" else 0.5):
                    entry["note"] = t["figure_note"].format(threshold=k)
                else:
                    figure = _figure(spec, table, t)
                    figures.append(figure)
                    number += 1
                    entry["figure"] = base64.b64encode(figure.png).decode("ascii")
                    entry["caption"] = t["caption"].format(
                        n=number, title=spec.title, unit=spec.unit, period=period_text
                    )
                drawn += 1
                tell("figures", drawn, to_draw)
            entry["table"] = Markup(_html_table(_display(table, t), {}))
            sections.append(entry)
        chapters.append({"title": chapter, "sections": sections})

    params = dict(parameters or {})
    params.update({"period": f"{period.start}..{period.end}", "level": settings.level})
    if years:
        params["years"] = ",".join(str(y) for y in years)
    params["age_bands"] = ",".join(str(b) for b in sorted(set(settings.age_bands)))
    stamp = _stamp(data, settings, params)
    source_table = pd.DataFrame({"kind": dict(data.sources)})
    param_table = pd.DataFrame({"value": {k_: str(v) for k_, v in sorted(params.items())}})
    import jinja2  # here, not at the top: commands that never render a page start faster

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    page = env.get_template("report.html.j2").render(
        lang=settings.lang,
        t=t,
        period=period,
        empty=empty,
        no_data=t["no_data"].format(period=period_text),
        story=story,
        generated_on=settings.generated_on,
        suppression_note=t["suppression_note"].format(threshold=k),
        marks_note=t["marks_note"].format(threshold=k, below=k - 1),
        tables={
            "headline": Markup(_html_table(published["summary"], {})),
            "sources": Markup(source_table.to_html(escape=True, border=0)),
            "parameters": Markup(param_table.to_html(escape=True, border=0)),
        },
        chapters=chapters,
        stamp={html.escape(a): b for a, b in stamp.items()},
    )
    if empty:
        published = {"summary": published["summary"]}
    return Report(published, figures, page, settings, stamp)
