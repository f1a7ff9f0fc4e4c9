"""``netanalysis report``: the batch report for the National Rapporteur."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from netanalysis.commands.options import check_out_folder, defaults, open_cli_store, printable
from netanalysis.detect import DetectionSettings, detect
from netanalysis.errors import ConfigError
from netanalysis.graphs import read_analysis_graph
from netanalysis.report import Period, ReportSettings, build_report, require_report_extras


def parse_period(period: str | None, date_from: str | None, date_to: str | None) -> Period:
    """``--period 2024`` or ``--period 2024Q3``, or ``--from``/``--to`` ISO dates."""
    if period:
        text = period.strip().upper().replace("-", "")
        try:
            if text.isdigit() and len(text) == 4:
                return Period.year(int(text))
            q = pd.Period(text, freq="Q")
            return Period(q.start_time.date().isoformat(), q.end_time.date().isoformat())
        except ValueError:
            raise ConfigError(f"--period {period!r} is not a year (2024) or a quarter (2024Q3)") from None
    if date_from and date_to:
        if date_from > date_to:
            raise ConfigError(f"--from {date_from} is after --to {date_to}; swap them")
        return Period(date_from, date_to)
    raise ConfigError("say which period to report on: --period 2024, or --from and --to")


def read_load_summary(path: Path | None) -> dict[str, dict[str, object]] | None:
    """Per-source read/loaded/rejected counts from ``netanalysis load --summary-json``."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the load summary {path}: {exc}") from None
    sources = data.get("sources", data) if isinstance(data, dict) else None
    if isinstance(sources, list):
        sources = {str(s.get("source") or s.get("name")): s for s in sources}
    if not isinstance(sources, dict):
        raise ConfigError(f"{path} is not a load summary written by `netanalysis load --summary-json`")
    return {str(k): dict(v) for k, v in sources.items() if isinstance(v, dict)}


_R = defaults(ReportSettings)


def register(app: typer.Typer) -> None:
    """Add the ``report`` subcommand."""

    @app.command("report")
    def report_command(
        store: Annotated[str, typer.Option(help="Embedded store file or neo4j:// / bolt:// URI.")],
        out: Annotated[Path, typer.Option(help="Folder for report.html, report.pdf, tables/, figures/.")],
        period: Annotated[str | None, typer.Option(help="A year (2024) or a quarter (2024Q3).")] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="Start date, YYYY-MM-DD.")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="End date, YYYY-MM-DD.")] = None,
        lang: Annotated[str, typer.Option(help="Report language: nl or en.")] = _R.lang,
        threshold: Annotated[
            int, typer.Option(help="Counts below this are shown as <threshold.")
        ] = _R.threshold,
        level: Annotated[str, typer.Option(help="police_unit, safety_region or province.")] = _R.level,
        load_summary: Annotated[
            Path | None, typer.Option(help="JSON from `netanalysis load --summary-json`.")
        ] = None,
        rejects: Annotated[Path | None, typer.Option(help="Rejects CSV from `netanalysis load`.")] = None,
        pdf: Annotated[bool, typer.Option(help="Also write report.pdf.")] = True,
    ) -> None:
        """Write the aggregate report for the National Rapporteur, with small counts suppressed."""
        window = parse_period(period, date_from, date_to)
        check_out_folder(out)
        require_report_extras(pdf)
        summary = read_load_summary(load_summary)
        rejects_frame = None
        if rejects is not None:
            try:
                rejects_frame = pd.read_csv(rejects, dtype=str, keep_default_na=False)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read the rejects file {rejects}: {exc}") from None
        settings = DetectionSettings(level=level).validate()
        graph_store = open_cli_store(store)
        try:
            graph = read_analysis_graph(graph_store)
        finally:
            graph_store.close()
        result = detect(graph, settings)
        report = build_report(
            result.frames(),
            graph,
            window,
            ReportSettings(lang=lang, threshold=threshold, level=level),
            load_summary=summary,
            rejects=rejects_frame,
            parameters=settings.to_dict(),
        )
        written = report.write(out, pdf=pdf)
        shown = printable(out, markup=False)
        typer.echo(f"report for {window.start} .. {window.end} written to {shown}:")
        for name in ("report.html", "report.pdf"):
            if name in written:
                typer.echo(f"  {printable(written[name], markup=False)}")
        for folder in ("tables", "figures"):
            n = sum(1 for name in written if name.startswith(f"{folder}/"))
            typer.echo(f"  {printable(out / folder, markup=False)} ({n} files)")
