"""``netanalysis export``: part of the analysis graph as GraphML, GEXF, ANX or CSV for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netanalysis.commands.options import Store, check_out_file, defaults, printable, read_store_graph
from netanalysis.export import EXPORT_FORMATS, export_network

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register"]

_E = defaults(export_network)


def register(app: typer.Typer) -> None:
    """Add the ``export`` subcommand to ``app``."""

    @app.command("export")
    def export_command(
        store: Store,
        format: Annotated[
            str, typer.Option("--format", help="graphml, gexf (Gephi), anx (i2 chart) or csv (i2 import).")
        ],
        out: Annotated[
            Path,
            typer.Option(
                "--out",
                help="The file to write; for csv the entities file, the links going to "
                "<stem>-links.csv beside it.",
            ),
        ],
        group: Annotated[
            list[str] | None,
            typer.Option("--group", help="Group id to export (repeat for several); needs --detected."),
        ] = None,
        detected: Annotated[
            Path | None,
            typer.Option(
                "--detected",
                help="Folder of an earlier `netanalysis detect` whose groups.csv gives the groups.",
                file_okay=False,
            ),
        ] = None,
        around: Annotated[
            str | None,
            typer.Option("--around", help="Person:<pseudonym>, Premises:<id> or a pseudonym."),
        ] = None,
        depth: Annotated[
            int, typer.Option("--depth", help="With --around: links to follow (1-4).")
        ] = _E.depth,
        everything: Annotated[bool, typer.Option("--all", help="Export the whole graph.")] = False,
    ) -> None:
        """Write groups, the network around a node, or the whole graph for Gephi, yEd or i2.

        Only pseudonyms and the attributes the store holds are written (docs/exports.md).
        """
        from netanalysis.errors import ConfigError

        if format not in EXPORT_FORMATS:
            raise ConfigError(f"unknown export format {format!r}; use one of: {', '.join(EXPORT_FORMATS)}")
        chosen = [
            flag for flag, given in (("--group", group), ("--around", around), ("--all", everything)) if given
        ]
        if len(chosen) != 1:
            raise ConfigError(
                "say what to export: one of --group G (with --detected), --around NODE or --all"
            )
        if group and detected is None:
            raise ConfigError("--group needs --detected DIR, the folder of an earlier `netanalysis detect`")
        check_out_file(out)
        detection = _groups(detected) if group and detected is not None else None
        graph = read_store_graph(store, None, None)
        written = export_network(
            graph, out, format, group_ids=group, around=around, depth=depth, detection=detection
        )
        typer.echo(printable(f"export written to {', '.join(map(str, written))}", markup=False))


def _groups(detected: Path) -> pd.DataFrame:
    """The group_id and person_id columns of ``detected/groups.csv``."""
    import pandas as pd

    from loaders.csv_safety import unguard_cell
    from netanalysis.errors import ConfigError

    path = detected / "groups.csv"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["group_id", "person_id"])
    except (OSError, ValueError):
        raise ConfigError(
            f"{path} cannot be read as the groups.csv of `netanalysis detect`; "
            f"run detect with --out {detected}"
        ) from None
    for column in ("group_id", "person_id"):
        frame[column] = [unguard_cell(v) for v in frame[column]]
    return frame
