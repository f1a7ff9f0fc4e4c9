"""``netanalysis persons --store S --out persons.csv``: record -> person, without running detection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import AllowIncomplete, Store, check_out_file, open_read_store, printable

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``persons`` subcommand to ``app``."""

    @app.command("persons")
    def persons_command(
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="The CSV to write: source, row_id, person_id, ...")],
        allow_incomplete: AllowIncomplete = False,
    ) -> None:
        """Write which person each loaded record describes: source, row id, person pseudonym.

        Reads only the records and their persons (no detection); no clear value is written.
        """
        from loaders.csv_safety import guard_frame
        from netanalysis.persons import record_persons

        check_out_file(out)
        graph_store = open_read_store(store, allow_incomplete)
        try:
            frame = record_persons(graph_store)
        finally:
            graph_store.close()
        guard_frame(frame).to_csv(out, index=False, lineterminator="\n")
        persons = frame["person_id"].nunique() if len(frame) else 0
        typer.echo(printable(f"{len(frame):,} records of {persons:,} persons written to {out}", markup=False))
