"""``netanalysis demo``: the main job on the committed sample data (the README's first command)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loaders.pseudonymise import ENV_KEY_FILE
from netanalysis.commands.options import check_out_folder, defaults, printable
from netanalysis.demo import run_pipeline
from netanalysis.report import ReportSettings

_DEMO = defaults(run_pipeline)
_REPORT = defaults(ReportSettings)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` subcommand."""

    @app.command("demo")
    def demo_command(
        out: Annotated[Path, typer.Option(help="Folder for every output.")] = Path(_DEMO.out_dir),
        data: Annotated[
            Path | None,
            typer.Option(
                help="Folder with sources/, sources.yaml, truth/ (default: the synthetic samples "
                "shipped with the toolkit)."
            ),
        ] = _DEMO.data_dir,
        store: Annotated[
            str | None, typer.Option(help="Graph store (default: an embedded file in --out).")
        ] = None,
        key_file: Annotated[
            Path | None,
            typer.Option(
                help="Pseudonymisation key file (else $NETANALYSIS_KEY_FILE, else a throw-away key)."
            ),
        ] = None,
        lang: Annotated[str, typer.Option(help="Report language: nl or en.")] = _REPORT.lang,
    ) -> None:
        """Load the sample sources, detect groups, evaluate against the truth, draw maps, write the report."""
        console = Console()
        started = time.perf_counter()
        check_out_folder(out)
        if key_file is None and os.environ.get(ENV_KEY_FILE):
            key_file = Path(os.environ[ENV_KEY_FILE])
        outputs = run_pipeline(
            data, out, store, key_file, lang=lang, progress=lambda s: console.print(f"• {printable(s)}")
        )
        load = Table(title="load: every row loaded or rejected")
        for col in ("source", "read", "loaded", "rejected"):
            load.add_column(col, justify="left" if col == "source" else "right")
        for name, c in outputs.load.sources.items():
            load.add_row(printable(name), str(c.read), str(c.loaded), str(c.rejected))
        console.print(load)
        summary = outputs.detection.group_summary
        groups = summary[summary["members"] >= 2]
        console.print(
            f"{outputs.load.persons} persons; {len(groups)} groups of two or more suspects, "
            f"{int(groups['cross_regional'].astype(bool).sum())} of them cross-regional; "
            f"{len(outputs.detection.leads)} leads from signals"
        )
        if outputs.evaluation is not None:
            figures = Table(title="detection measured against the synthetic truth")
            figures.add_column("measure")
            figures.add_column("value", justify="right")
            for name, value in outputs.evaluation.figures.items():
                figures.add_row(name, f"{value:.3f}")
            console.print(figures)
        # Plain lines, not a table: paths must print whole, to be copied.
        console.print("[bold]outputs[/bold]")
        console.print(f"  graph store: {printable(outputs.store)}", soft_wrap=True)
        for name, path in outputs.files.items():
            console.print(f"  {name}: {printable(path)}", soft_wrap=True)
        console.print(f"done in {time.perf_counter() - started:.1f} s")
