"""``netanalysis connect``: the evidence paths between persons, as a CSV table and a map."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import Store, check_out_file, defaults, printable, read_store_graph
from netanalysis.connect import CONNECT_EVIDENCE, connecting_network

__all__ = ["register"]

_C = defaults(connecting_network)
PATH_COLUMNS = [
    "path_id",
    "from_person",
    "to_person",
    "step",
    "node",
    "label",
    "relationship",
    "source",
    "row_id",
    "date",
    "weight",
]


def register(app: typer.Typer) -> None:
    """Add the ``connect`` subcommand to ``app``."""

    @app.command("connect")
    def connect_command(
        persons: Annotated[
            list[str], typer.Argument(help="Two or more persons: Person:<pseudonym> or the pseudonym.")
        ],
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="CSV file: one row per path step and fact.")],
        map_file: Annotated[
            Path | None, typer.Option("--map", help="Also draw the connecting network as an HTML map.")
        ] = None,
        max_hops: Annotated[
            int, typer.Option("--max-hops", help="The most links a path may have.")
        ] = _C.max_hops,
        evidence: Annotated[
            str,
            typer.Option("--evidence", help="Comma-separated kinds a path may run through."),
        ] = ",".join(CONNECT_EVIDENCE),
        max_paths: Annotated[
            int, typer.Option("--max-paths", help="The most paths listed per pair of persons.")
        ] = _C.max_paths,
    ) -> None:
        """List the lightest evidence paths between every pair of the persons and draw them.

        A link through strong evidence (a shared case in a reliable file) is shorter than one
        through weak evidence (a premises in an anonymous signal).
        """
        check_out_file(out)
        if map_file is not None:
            check_out_file(map_file, "--map")
        kinds = [k.strip() for k in evidence.split(",") if k.strip()]
        graph = read_store_graph(store, None, None)
        result = connecting_network(graph, persons, max_hops, kinds, max_paths=max_paths)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=PATH_COLUMNS)
            writer.writeheader()
            writer.writerows(result.path_rows())
        if map_file is not None:
            from netanalysis.maps import connecting_map

            label = Path(store).name if "://" not in store else store.split("://", 1)[0] + " server"
            connecting_map(graph, result, data_label=label).save(map_file)
        for a, b in result.unconnected:
            typer.echo(
                printable(
                    f"no path of at most {max_hops} links between {a} and {b} through {', '.join(kinds)}; "
                    "try a larger --max-hops or more --evidence kinds",
                    markup=False,
                )
            )
        drawn = f" and drawn in {map_file}" if map_file is not None else ""
        typer.echo(
            printable(
                f"{len(result.paths)} paths through {result.network.number_of_nodes()} nodes "
                f"written to {out}{drawn}",
                markup=False,
            )
        )
