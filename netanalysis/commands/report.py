"""``netanalysis report``: the batch report for the National Rapporteur."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import networkx as nx
import pandas as pd
import typer

from netanalysis.commands.options import (
    AllowIncomplete,
    MaxMemory,
    check_out_folder,
    defaults,
    open_read_store,
    printable,
)
from netanalysis.commands.progress import RowsRead, progress_console, stage_bar
from netanalysis.detect import DetectionResult, DetectionSettings, detect, read_detection
from netanalysis.errors import ConfigError
from netanalysis.graphs import check_store_state, read_report_graph
from netanalysis.memory import MemoryLimit, MemorySettings
from netanalysis.report import MIN_THRESHOLD, Period, ReportSettings, build_report, require_report_extras
from netanalysis.report.data import ReportData, read_report_data, report_persons


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


def parse_years(
    from_year: int | None, to_year: int | None, years: str | None
) -> tuple[list[int] | None, Period | None]:
    """``--from-year 2020 --to-year 2024`` or ``--years 2020,2022,2024``: the series years, and
    the last year as the default period."""
    chosen: list[int] | None = None
    if years:
        try:
            chosen = sorted({int(y) for y in years.replace(" ", "").split(",") if y})
        except ValueError:
            raise ConfigError(f"--years {years!r} is not a list of years such as 2020,2022,2024") from None
    elif from_year is not None or to_year is not None:
        if from_year is None or to_year is None:
            raise ConfigError("give both --from-year and --to-year, e.g. --from-year 2020 --to-year 2024")
        if from_year > to_year:
            raise ConfigError(f"--from-year {from_year} is after --to-year {to_year}; swap them")
        chosen = list(range(from_year, to_year + 1))
    if not chosen:
        return None, None
    if chosen[0] < 1900 or chosen[-1] > 2100 or len(chosen) > 30:
        raise ConfigError("the report years must lie between 1900 and 2100, at most 30 of them")
    return chosen, Period.year(chosen[-1])


def parse_age_bands(text: str) -> tuple[int, ...]:
    """``0,12,18,23,30,40``: the lower bounds of the age bands."""
    try:
        bands = tuple(sorted({int(b) for b in text.replace(" ", "").split(",") if b}))
    except ValueError:
        raise ConfigError(f"--age-bands {text!r} is not a list of ages such as 0,12,18,23,30,40") from None
    if len(bands) < 2 or bands[0] != 0:
        raise ConfigError(
            "--age-bands must start at 0 and have at least two lower bounds, e.g. 0,12,18,23,30,40"
        )
    return bands


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
_STAGES = {
    "read": "read the graph",
    "detect": "detect groups",
    "tables": "count the tables",
    "figures": "draw the figures",
    "write": "write the files",
}
_UNITS = {"tables": "tables", "figures": "figures", "write": "files"}


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
        from_year: Annotated[
            int | None, typer.Option(help="First year of the series per year (with --to-year).")
        ] = None,
        to_year: Annotated[
            int | None,
            typer.Option(help="Last year of the series; also the period unless --period is given."),
        ] = None,
        years: Annotated[
            str | None, typer.Option(help="Years of the series as a list: 2020,2022,2024.")
        ] = None,
        age_bands: Annotated[str, typer.Option(help="Lower bounds of the age bands.")] = ",".join(
            str(b) for b in _R.age_bands
        ),
        nationalities: Annotated[
            int, typer.Option(help="How many of the largest nationalities are shown by name.")
        ] = _R.nationalities,
        allow_incomplete: AllowIncomplete = False,
        max_memory: MaxMemory = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", help="No progress bar (there is none when not in a terminal).")
        ] = False,
        detection: Annotated[
            Path | None,
            typer.Option(
                "--detection",
                help="A detection folder of this store (netanalysis detect --out) to report on, "
                "instead of detecting again; refused when the store changed since.",
                file_okay=False,
            ),
        ] = None,
    ) -> None:
        """Write the aggregate report for the National Rapporteur, with small counts suppressed."""
        series, last_year = parse_years(from_year, to_year, years)
        if last_year is not None and not (period or date_from or date_to):
            window = last_year
        else:
            window = parse_period(period, date_from, date_to)
        report_settings = ReportSettings(
            lang=lang,
            threshold=threshold,
            level=level,
            age_bands=parse_age_bands(age_bands),
            nationalities=nationalities,
        )
        if threshold < MIN_THRESHOLD:
            raise ConfigError(
                f"--threshold must be at least {MIN_THRESHOLD}: publishing counts of 1 or 2 is never safe"
            )
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
        made: DetectionResult | None = None
        if detection is not None:
            made = read_detection(detection)
            if made.level != level:
                raise ConfigError(
                    f"the detection in {detection} was made at level {made.level}, the report is at "
                    f"{level}: give --level {made.level}, or detect again with --level {level}"
                )
        limit = MemoryLimit(
            MemorySettings.from_text(max_memory),
            "the report",
            ", or report on a shorter period of the store (a store of one region or fewer years)",
        )
        bar, tell = stage_bar(progress_console(quiet), _STAGES, units=_UNITS)
        progress = limit.tracking(tell, _STAGES)
        with bar, limit:
            graph_store = open_read_store(store, allow_incomplete)
            graph: nx.MultiDiGraph | ReportData
            try:
                progress("read", 0, None)
                read = RowsRead(progress, "read")
                if made is not None:
                    check_store_state(made.settings.get("store"), graph_store, str(detection))
                    # The groups are known: the store gives the few facts the tables count of
                    # their persons, signals and regions, and no graph is read (issue 21).
                    data = read_report_data(graph_store, level, report_persons(made.groups))
                    read.done = size = len(data.persons) + len(data.signals)
                    graph = data
                else:
                    whole = read_report_graph(graph_store, progress=read)
                    # Nodes and relationships: the rows the detection analyses.
                    size = whole.number_of_nodes() + whole.number_of_edges()
                    graph = whole
            finally:
                graph_store.close()
            progress("read", read.done, read.done)
            progress("detect", 0, None)
            # A detection of this store as it is gives the groups the analysts already have.
            result = made if made is not None else detect(whole, settings)
            progress("detect", size, size)
            report = build_report(
                result.frames(),
                graph,
                window,
                report_settings,
                load_summary=summary,
                rejects=rejects_frame,
                # The settings the detection used, its reference date included.
                parameters=DetectionSettings.from_dict(result.settings).to_dict(),
                years=series,
                progress=progress,
            )
            written = report.write(out, pdf=pdf, progress=progress)
        shown = printable(out, markup=False)
        typer.echo(f"report for {window.start} .. {window.end} written to {shown}:")
        for name in ("report.html", "report.pdf"):
            if name in written:
                typer.echo(f"  {printable(written[name], markup=False)}")
        for folder in ("tables", "figures"):
            n = sum(1 for name in written if name.startswith(f"{folder}/"))
            typer.echo(f"  {printable(out / folder, markup=False)} ({n} files)")
