"""``netanalysis timeline``: a group's timeline as a table (CSV) or a figure (PNG, SVG)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from netanalysis.commands.options import Store, check_out_file, printable, read_store_graph

__all__ = ["register"]

SUFFIXES = (".png", ".svg", ".csv")


def register(app: typer.Typer) -> None:
    """Add the ``timeline`` subcommand to ``app``."""

    @app.command("timeline")
    def timeline_command(
        store: Store,
        detected: Annotated[
            Path,
            typer.Option(
                "--detected",
                help="Folder of an earlier `netanalysis detect` (its groups.csv and movements.csv).",
                file_okay=False,
            ),
        ],
        group: Annotated[str, typer.Option("--group", help="The group id, e.g. G001.")],
        out: Annotated[
            Path, typer.Option("--out", help="The file to write: .png or .svg (figure), .csv (table).")
        ],
    ) -> None:
        """Write what a group's members and victims did by date: observations, victim moves,
        cases and signals (pseudonyms only)."""
        from loaders.csv_safety import guard_frame
        from netanalysis.errors import ConfigError
        from netanalysis.timeline import group_timeline
        from netanalysis.timeline_figure import timeline_figure

        if out.suffix.lower() not in SUFFIXES:
            raise ConfigError(
                f"--out must end in one of {', '.join(SUFFIXES)}, not {out.suffix or 'nothing'}"
            )
        check_out_file(out)
        detection = _detection(detected)
        graph = read_store_graph(store, None, None)
        table = group_timeline(graph, detection, group)
        if out.suffix.lower() == ".csv":
            guard_frame(table).to_csv(out, index=False, encoding="utf-8")
        else:
            figure = timeline_figure(table, title=f"Timeline of group {group}")
            if out.suffix.lower() == ".png":
                out.write_bytes(figure.png)
            else:
                out.write_text(figure.svg, encoding="utf-8")
        typer.echo(printable(f"timeline of {len(table)} events written to {out}", markup=False))


def _detection(detected: Path) -> SimpleNamespace:
    """The groups and movements frames (and region level) of an earlier detection."""
    import pandas as pd

    from loaders.csv_safety import unguard_cell
    from netanalysis.errors import ConfigError

    frames = {}
    for name in ("groups", "movements"):
        path = detected / f"{name}.csv"
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError):
            raise ConfigError(
                f"{path} cannot be read as the {name}.csv of `netanalysis detect`; "
                f"run detect with --out {detected}"
            ) from None
        frames[name] = frame.map(unguard_cell)
    level = "police_unit"
    try:
        level = str(
            json.loads((detected / "settings.json").read_text(encoding="utf-8")).get("level") or level
        )
    except (OSError, ValueError, AttributeError):
        pass  # an older detection without settings: the default level
    return SimpleNamespace(groups=frames["groups"], movements=frames["movements"], level=level)
