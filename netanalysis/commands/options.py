"""Options and steps that several subcommands share, so that they read and behave the same.

``detect`` and ``map`` take the same detection settings (so group ids on a map match the files of
``detect``) and read the analysis graph from a store in the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DateFrom",
    "DateTo",
    "Level",
    "Method",
    "Resolution",
    "StabilityRuns",
    "Store",
    "read_store_graph",
]

Store = Annotated[str, typer.Option("--store", help="Embedded store path or neo4j:// / bolt:// URI.")]
DateFrom = Annotated[
    str | None, typer.Option("--from", help="Only facts observed on or after this ISO date.")
]
DateTo = Annotated[str | None, typer.Option("--to", help="Only facts observed on or before this ISO date.")]
Level = Annotated[str, typer.Option("--level", help="Region level: police_unit, safety_region or province.")]
Method = Annotated[str, typer.Option("--method", help="Group detection: leiden or louvain.")]
Resolution = Annotated[
    float, typer.Option("--resolution", help="Group detection: higher gives smaller groups.")
]
StabilityRuns = Annotated[
    int,
    typer.Option("--stability-runs", help="Group detection: re-runs behind the stability figure (0: skip)."),
]


def read_store_graph(store: str, date_from: str | None, date_to: str | None) -> nx.MultiDiGraph:
    """The analysis graph of ``store`` within the observation window; a missing embedded store
    file is a ConfigError (opening it would create an empty one)."""
    from graphstore import open_store
    from netanalysis.errors import ConfigError
    from netanalysis.graphs import read_analysis_graph

    if "://" not in store and not Path(store).exists():
        raise ConfigError(f"store {store} does not exist; load data first with `netanalysis load`.")
    graph_store = open_store(store)
    try:
        return read_analysis_graph(graph_store, date_from, date_to)
    finally:
        graph_store.close()
