"""``netanalysis connect``: the evidence paths between persons, as a CSV table and a map."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import networkx as nx
import typer

from graphstore.base import GraphSlice, GraphStore
from netanalysis.commands.options import Store, check_out_file, defaults, open_read_store, printable
from netanalysis.connect import CONNECT_EVIDENCE, ConnectingNetwork, connecting_network, read_around
from netanalysis.graphs import store_labels

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
        # Only the persons' neighbourhood is read (netanalysis.connect.read_around), not the store.
        graph_store = open_read_store(store)
        try:
            result = connecting_network(graph_store, persons, max_hops, kinds, max_paths=max_paths)
            graph = _map_graph(graph_store, result, kinds) if map_file is not None else None
        finally:
            graph_store.close()
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=PATH_COLUMNS)
            writer.writeheader()
            writer.writerows(result.path_rows())
        if map_file is not None and graph is not None:
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


def _map_graph(store: GraphStore, result: ConnectingNetwork, kinds: list[str]) -> nx.MultiDiGraph:
    """What the map draws from: the part read for the search, and the places, records and cases
    of the persons on the paths (for their tooltips)."""
    persons = [str(p).removeprefix("Person:") for p in result.persons]
    on_paths = {n.removeprefix("Person:") for n in result.network.nodes if str(n).startswith("Person:")}
    labels = frozenset(store_labels(store)) - {"Group", "Merge"}
    around = store.read_graph(GraphSlice(labels=labels, person_ids=frozenset(on_paths | set(persons))))
    return nx.compose(read_around(store, persons, result.max_hops, kinds), around)
