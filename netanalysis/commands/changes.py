"""``netanalysis changes``: what changed between two detections of a store (``na.changes``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import check_out_folder, printable

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``changes`` subcommand to ``app``."""

    @app.command("changes")
    def changes_command(
        previous: Annotated[
            Path, typer.Option("--previous", help="The earlier detection folder.", file_okay=False)
        ],
        current: Annotated[
            Path,
            typer.Option(
                "--current",
                help="The new detection folder (detect --previous PREVIOUS, or --track).",
                file_okay=False,
            ),
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Folder for the CSV files and summary.txt (default: CURRENT/changes)."
            ),
        ] = None,
    ) -> None:
        """List new leads, groups that grew, reached a new region or became cross-regional, new
        victim moves, and born, merged, split and dissolved groups; print a short summary."""
        from netanalysis.changes import changes

        target = out if out is not None else current / "changes"
        check_out_folder(target)
        found = changes(previous, current)
        found.write(target)
        typer.echo(found.summary())
        typer.echo(f"written to {printable(target, markup=False)}")
