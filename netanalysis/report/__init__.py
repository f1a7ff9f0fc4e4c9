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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import networkx as nx
import pandas as pd
import yaml

from graphstore.schema import schema_path
from loaders.csv_safety import guard_frame
from netanalysis.errors import ConfigError
from netanalysis.extras import require
from netanalysis.report.disclosure import suppress_matrix, suppress_series
from netanalysis.report.figures import Figure, bar_figure, flow_figure, trend_figure
from netanalysis.report.tables import Period, ReportTables, build_tables

__all__ = ["Period", "Report", "ReportSettings", "build_report", "require_report_extras"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ReportSettings:
    """How the report is made: language, suppression threshold, region level."""

    lang: str = "nl"
    threshold: int = 5
    level: str = "police_unit"
    generated_on: str = field(default_factory=lambda: date.today().isoformat())


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

    def write(self, out_dir: str | Path, pdf: bool = True) -> dict[str, Path]:
        """Write every output file; returns name -> path."""
        require_report_extras(pdf)
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
        for figure in self.figures:
            for ext, data in (("png", figure.png), ("svg", figure.svg.encode("utf-8"))):
                path = out / "figures" / f"{figure.name}.{ext}"
                path.write_bytes(data)
                written[f"figures/{figure.name}.{ext}"] = path
        (out / "report.html").write_text(self.html, encoding="utf-8")
        written["report.html"] = out / "report.html"
        if pdf:
            (out / "report.pdf").write_bytes(self.pdf())
            written["report.pdf"] = out / "report.pdf"
        return written


def _html_table(table: pd.DataFrame, columns: Mapping[str, str], index_name: str = "") -> str:
    shown = table.rename(columns=lambda c: columns.get(str(c), str(c)))
    shown.index.name = index_name or shown.index.name
    # Wide tables (the region-by-region matrix) get a smaller font so they fit an A4 page.
    return shown.to_html(escape=True, border=0, classes="wide" if len(shown.columns) > 6 else None)


def _stamp(graph: nx.MultiDiGraph, settings: ReportSettings, params: Mapping[str, Any]) -> dict[str, str]:
    from netanalysis import __version__

    batches = sorted(
        {str(d["batch"]) for _n, d in graph.nodes(data=True) if d.get("label") == "Record" and d.get("batch")}
    )
    schema = hashlib.sha256(schema_path().read_bytes()).hexdigest()[:16]
    return {
        "toolkit": f"netanalysis {__version__}",
        "schema": f"graph_schema.cypher sha256:{schema}",
        "input batches": ", ".join(batches) or "-",
        "parameters": json.dumps(dict(params), sort_keys=True, default=str),
        "threshold": str(settings.threshold),
        "level": settings.level,
    }


def build_report(
    frames: Mapping[str, pd.DataFrame],
    graph: nx.MultiDiGraph,
    period: Period,
    settings: ReportSettings | None = None,
    load_summary: dict[str, dict[str, object]] | None = None,
    rejects: pd.DataFrame | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Report:
    """Build the Rapporteur's report for ``period``.

    Parameters
    ----------
    frames : detection frames (``groups``, ``group_summary``, ``movements``, ``leads``) as in
        netanalysis.detect's output contract.
    graph : the analysis graph as read from the store.
    period : reporting window.
    settings : language, threshold and region level.
    load_summary : per-source read/loaded/rejected counts of the load, for the quality section.
    rejects : the rejects table (``source``, ``reason``) for reasons per source.
    parameters : detection parameters to record in the reproducibility stamp.

    Returns
    -------
    Report with published tables, figures and HTML; nothing in it identifies a person.
    """
    settings = settings or ReportSettings()
    strings = _strings()
    if settings.lang not in strings:
        raise ConfigError(
            f"report language {settings.lang!r} is not available (choose: {', '.join(strings)})"
        )
    if settings.threshold < 1:
        raise ConfigError("the suppression threshold must be at least 1")
    t = strings[settings.lang]
    raw: ReportTables = build_tables(dict(frames), graph, period, settings.level, load_summary, rejects)
    k = settings.threshold

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
        "signals_per_source": suppress_matrix(raw.signals_by_source, k, totals=False, secondary="columns"),
        "municipalities_by_signals": suppress_matrix(raw.signal_spread, k, totals=False, secondary="columns"),
        "data_quality": suppress_matrix(raw.data_quality, k, totals=False),
    }
    if not raw.reject_reasons.empty:
        published["rejects_by_reason"] = suppress_matrix(raw.reject_reasons, k)
    corridors = raw.corridors[raw.corridors["moves"] >= k]
    published["main_corridors"] = corridors.astype(str).set_index(corridors.columns[0])

    groups_n = int(raw.headline.loc["groups", "period"])
    cross_n = int(raw.headline.loc["cross_regional_groups", "period"])
    if groups_n >= k and cross_n >= k and groups_n - cross_n >= k:
        cross_share = f"{100 * cross_n / groups_n:.0f}%"
    else:
        cross_share = t["not_available"]

    cols = t["columns"]
    figures = [
        trend_figure(
            "trend_per_quarter",
            t["sections"]["trend"],
            published["trend_per_quarter"].rename(columns=cols),
        ),
        flow_figure("flows_between_regions", t["sections"]["flows"], published["flows_between_regions"]),
        bar_figure(
            "groups_by_size_and_regions",
            t["sections"]["sizes"],
            published["groups_by_size_and_regions"],
        ),
        bar_figure(
            "exploitation_by_group_type",
            t["sections"]["exploitation"],
            published["exploitation_by_group_type"].rename(columns=cols),
        ),
        bar_figure(
            "signals_per_source",
            t["sections"]["signals"],
            published["signals_per_source"].rename(columns=cols),
        ),
        bar_figure(
            "municipalities_by_signals",
            t["sections"]["spread"],
            published["municipalities_by_signals"].rename(columns=cols),
        ),
    ]
    if "rejects_by_reason" in published:
        figures.append(
            bar_figure(
                "rejects_by_reason",
                t["sections"]["quality"],
                published["rejects_by_reason"],
                stacked=True,
            )
        )
    fig_by_name = {f.name: base64.b64encode(f.png).decode("ascii") for f in figures}

    def section(title_key: str, table_name: str) -> dict[str, str]:
        return {
            "title": t["sections"][title_key],
            "figure": fig_by_name.get(table_name, ""),
            "table": _html_table(published[table_name], cols) if table_name in published else "",
        }

    sections = [
        section("trend", "trend_per_quarter"),
        section("flows", "flows_between_regions"),
        section("corridors", "main_corridors"),
        section("sizes", "groups_by_size_and_regions"),
        section("exploitation", "exploitation_by_group_type"),
        section("signals", "signals_per_source"),
        section("spread", "municipalities_by_signals"),
        section("quality", "rejects_by_reason" if "rejects_by_reason" in published else "data_quality"),
    ]
    if "rejects_by_reason" in published:
        sections[-1]["table"] = _html_table(published["data_quality"], cols) + sections[-1]["table"]

    params = dict(parameters or {})
    params.update({"period": f"{period.start}..{period.end}", "level": settings.level})
    stamp = _stamp(graph, settings, params)
    source_table = pd.DataFrame(
        {
            "kind": {
                str(d.get("name")): str(d.get("kind", ""))
                for _n, d in graph.nodes(data=True)
                if d.get("label") == "Source"
            }
        }
    )
    param_table = pd.DataFrame({"value": {k_: str(v) for k_, v in sorted(params.items())}})
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    page = env.get_template("report.html.j2").render(
        lang=settings.lang,
        t=t,
        period=period,
        generated_on=settings.generated_on,
        suppression_note=t["suppression_note"].format(threshold=k),
        marks_note=t["marks_note"].format(threshold=k, below=k - 1),
        cross_share=cross_share,
        tables={
            "headline": jinja2.utils.markupsafe.Markup(_html_table(published["summary"], {})),
            "sources": jinja2.utils.markupsafe.Markup(source_table.to_html(escape=True, border=0)),
            "parameters": jinja2.utils.markupsafe.Markup(param_table.to_html(escape=True, border=0)),
        },
        sections=[{**s, "table": jinja2.utils.markupsafe.Markup(s["table"])} for s in sections],
        stamp={html.escape(a): b for a, b in stamp.items()},
    )
    return Report(published, figures, page, settings, stamp)
