"""``netanalysis load PATH... --store STORE --mapping FILE``: load source exports into the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphstore import open_store
from loaders.pipeline import LoadSummary, load

_STAGES = {"read": "read + normalise", "resolve": "resolve persons", "write": "write to store"}


def _table(summary: LoadSummary) -> Table:
    table = Table(title=f"load batch {summary.batch}")
    table.add_column("source")
    for name in ("read", "loaded", "rejected"):
        table.add_column(name, justify="right")
    for name, counts in summary.sources.items():
        table.add_row(name, str(counts.read), str(counts.loaded), str(counts.rejected))
    table.add_row("total", str(summary.read), str(summary.loaded), str(summary.rejected), style="bold")
    return table


def register(app: typer.Typer) -> None:
    """Add the ``load`` subcommand."""

    @app.command("load")
    def load_command(
        paths: Annotated[list[Path], typer.Argument(help="Source files or folders of files.")],
        store: Annotated[str, typer.Option("--store", help="Embedded store file or neo4j:// / bolt:// URI.")],
        mapping: Annotated[
            Path | None,
            typer.Option("--mapping", help="The mapping file (sources.yaml); not for encoded exports."),
        ] = None,
        key_file: Annotated[
            Path | None, typer.Option("--key-file", help="Pseudonymisation key (else $NETANALYSIS_KEY_FILE).")
        ] = None,
        rejects: Annotated[
            Path | None,
            typer.Option(
                "--rejects",
                help="Rejects CSV (default: STORE.rejects.csv beside an embedded store; needed for Neo4j).",
            ),
        ] = None,
        summary_json: Annotated[
            Path | None,
            typer.Option("--summary-json", help="Write per-source counts (read, loaded, rejected) as JSON."),
        ] = None,
    ) -> None:
        """Read, validate, pseudonymise and resolve the source exports and merge them into the store.

        Every row is loaded or written to the rejects file; loading the same files again changes
        nothing.
        """
        from loaders.hub import is_encoded_export
        from loaders.pseudonymise import load_key

        # Encoded exports (`netanalysis encode`) are loaded without key: the hub never holds it.
        key = None if paths and all(is_encoded_export(p) for p in paths) else load_key(key_file)
        console = Console(stderr=True)
        graph_store = open_store(store)
        try:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"),
                TimeElapsedColumn(), console=console, transient=False,
            ) as bar:
                tasks: dict[str, TaskID] = {}

                def progress(stage: str, done: int, total: int | None) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                summary = load(paths, graph_store, mapping, key, rejects_path=rejects, progress=progress)
        finally:
            graph_store.close()
        Console().print(_table(summary))
        if summary.rejects_path:
            console.print(f"rejects: {summary.rejects_path}")
        console.print(f"{summary.persons:,} persons resolved from {summary.records:,} person records")
        if summary_json is not None:
            summary.write_json(summary_json)
