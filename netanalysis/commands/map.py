"""``netanalysis map``: render a group, region or ego map as one offline HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import (
    DateFrom,
    DateTo,
    Level,
    Method,
    Resolution,
    StabilityRuns,
    Store,
    read_store_graph,
)

__all__ = ["register"]

VIEWS = ("group", "region", "ego")


def register(app: typer.Typer) -> None:
    """Add the ``map`` subcommand to ``app``."""

    @app.command("map")
    def map_command(
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
        view: Annotated[str, typer.Option("--view", help="group, region or ego.")] = "group",
        group: Annotated[
            list[str] | None, typer.Option("--group", help="Group id to draw (repeat for several).")
        ] = None,
        node: Annotated[
            str | None,
            typer.Option("--node", help="Ego view: Person:<pseudonym>, Premises:<id> or a pseudonym."),
        ] = None,
        depth: Annotated[int, typer.Option("--depth", help="Ego view: links to follow (1-4).")] = 2,
        level: Level = "police_unit",
        size_by: Annotated[
            str,
            typer.Option("--size-by", help="Group view: betweenness, degree, weighted_degree, brokerage."),
        ] = "betweenness",
        date_from: DateFrom = None,
        date_to: DateTo = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of group detection and layout.")] = 0,
        method: Method = "leiden",
        resolution: Resolution = 1.0,
        stability_runs: StabilityRuns = 10,
    ) -> None:
        """Draw perpetrator groups, victim moves between regions, or the network around one node."""
        from netanalysis.detect import DetectionSettings, detect
        from netanalysis.errors import ConfigError
        from netanalysis.maps import ego_map, group_map, region_map

        if view not in VIEWS:
            raise ConfigError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
        if view == "ego" and not node:
            raise ConfigError("the ego view needs --node, e.g. --node Person:<pseudonym>")
        # The same settings as `netanalysis detect`, so group ids on the map match its files.
        settings = DetectionSettings(
            method=method,
            seed=seed,
            resolution=resolution,
            level=level,
            date_from=date_from,
            date_to=date_to,
            stability_runs=stability_runs,
        ).validate()
        if not out.parent.exists():
            raise ConfigError(f"the folder {out.parent} does not exist; create it or choose another --out")
        graph = read_store_graph(store, date_from, date_to)
        label = Path(store).name if "://" not in store else store.split("://", 1)[0] + " server"
        # Every view runs the detection: the ego view needs it for group ids in its tooltips
        # and its group filter.
        result = detect(graph, settings)
        if view == "ego":
            assert node is not None
            m = ego_map(graph, node, depth, result=result, level=level, seed=seed, data_label=label)
        elif view == "group":
            m = group_map(graph, result, group or None, size_by, level=level, seed=seed, data_label=label)
        else:
            m = region_map(graph, result, level, group or None, data_label=label)
        m.save(out)
        extra = f" ({'aggregated: ' if m.aggregated else ''}{m.notice})" if m.notice else ""
        typer.echo(f"{m.view} map with {len(m.nodes)} nodes and {len(m.edges)} links written to {out}{extra}")
