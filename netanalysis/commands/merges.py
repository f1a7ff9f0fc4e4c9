"""``netanalysis merges``: the persons later loads merged, as a table or a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

from graphstore.base import GraphStore
from netanalysis.commands.options import AllowIncomplete, Store, check_out_file, open_read_store, printable

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``merges`` subcommand to ``app``."""

    @app.command("merges")
    def merges_command(
        store: Store,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Write the merges to this CSV file instead of printing them."),
        ] = None,
        allow_incomplete: AllowIncomplete = False,
        splits: Annotated[
            bool,
            typer.Option(
                "--splits", help="List the persons later loads split instead (splits.csv beside a detection)."
            ),
        ] = False,
    ) -> None:
        """List the persons that a later load merged: a record that joined persons an earlier load
        kept apart (when, which batch and record, match probability; pseudonyms only); with
        --splits, the persons a later load split (which records went to which new person)."""
        from netanalysis.merges import MERGE_COLUMNS, read_merges, write_merges

        if out is not None:
            check_out_file(out)
        graph_store = open_read_store(store, allow_incomplete)
        try:
            if splits:
                _list_splits(graph_store, out)
                return
            frame = read_merges(graph_store)
        finally:
            graph_store.close()
        if out is not None:
            write_merges(frame, out)
            typer.echo(printable(f"{len(frame)} merges written to {out}", markup=False))
            return
        if frame.empty:
            typer.echo("no persons were merged: no load joined persons an earlier load kept apart")
            return
        shown = [c for c in MERGE_COLUMNS if c not in ("merge_id", "now")]
        _print_table(frame[shown], f"{len(frame)} persons merged into others")


def _list_splits(graph_store: GraphStore, out: Path | None) -> None:
    """``merges --splits``: the splits as a table or a CSV file."""
    from netanalysis.merges import SPLIT_COLUMNS, read_splits, write_splits

    frame = read_splits(graph_store)
    if out is not None:
        write_splits(frame, out)
        typer.echo(printable(f"{len(frame)} splits written to {out}", markup=False))
        return
    if frame.empty:
        typer.echo("no persons were split: no load re-resolved a stored person apart")
        return
    shown = [c for c in SPLIT_COLUMNS if c != "split_id"]
    _print_table(frame[shown], f"{len(frame)} persons split off others")


def _print_table(frame: pd.DataFrame, title: str) -> None:
    """The rows of ``frame`` as a table on screen (empty cells blank, text made printable)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(printable("" if _blank(v) else v) for v in row))
    Console(width=200).print(table)


def _blank(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))
