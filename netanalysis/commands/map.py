"""``netanalysis map``: render a group, region or ego map as one offline HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import (
    AllowIncomplete,
    DateFrom,
    DateTo,
    Level,
    Method,
    Resolution,
    SettingsFile,
    StabilityRuns,
    Store,
    check_out_file,
    defaults,
    detection_settings,
    printable,
    read_store_graph,
)
from netanalysis.detect import DetectionSettings
from netanalysis.maps import ego_map, group_map

_D = defaults(DetectionSettings)
_EGO = defaults(ego_map)
_GROUP = defaults(group_map)

__all__ = ["register"]

VIEWS = ("group", "region", "ego")


def register(app: typer.Typer) -> None:
    """Add the ``map`` subcommand to ``app``."""

    @app.command("map")
    def map_command(
        ctx: typer.Context,
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
        view: Annotated[str, typer.Option("--view", help="group, region or ego.")] = VIEWS[0],
        group: Annotated[
            list[str] | None, typer.Option("--group", help="Group id to draw (repeat for several).")
        ] = None,
        node: Annotated[
            str | None,
            typer.Option("--node", help="Ego view: Person:<pseudonym>, Premises:<id> or a pseudonym."),
        ] = None,
        depth: Annotated[int, typer.Option("--depth", help="Ego view: links to follow (1-4).")] = _EGO.depth,
        level: Level = _D.level,
        size_by: Annotated[
            str,
            typer.Option("--size-by", help="Group view: betweenness, degree, weighted_degree, brokerage."),
        ] = _GROUP.size_by,
        date_from: DateFrom = _D.date_from,
        date_to: DateTo = _D.date_to,
        seed: Annotated[int, typer.Option("--seed", help="Seed of group detection and layout.")] = _D.seed,
        method: Method = _D.method,
        resolution: Resolution = _D.resolution,
        stability_runs: StabilityRuns = _D.stability_runs,
        settings_file: SettingsFile = None,
        allow_incomplete: AllowIncomplete = False,
    ) -> None:
        """Draw perpetrator groups, victim moves between regions, or the network around one node.

        With --settings (the settings.json of `netanalysis detect`), the map runs the same
        detection, so its group ids match that run's files.
        """
        from netanalysis.detect import detect
        from netanalysis.errors import ConfigError
        from netanalysis.maps import region_map

        if view not in VIEWS:
            raise ConfigError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
        if view == "ego" and not node:
            raise ConfigError("the ego view needs --node, e.g. --node Person:<pseudonym>")
        # The same settings as `netanalysis detect`, so group ids on the map match its files.
        settings = detection_settings(ctx, settings_file)
        level, seed = settings.level, settings.seed
        check_out_file(out)
        graph = read_store_graph(store, settings.date_from, settings.date_to, allow_incomplete)
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
        typer.echo(
            printable(
                f"{m.view} map with {len(m.nodes)} nodes and {len(m.edges)} links written to {out}{extra}",
                markup=False,
            )
        )
