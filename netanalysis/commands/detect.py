"""``netanalysis detect``: find perpetrator groups in a store and write the detection CSV files."""

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


def register(app: typer.Typer) -> None:
    """Add the ``detect`` subcommand to ``app``."""

    @app.command("detect")
    def detect_command(
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files (created if absent).")],
        date_from: DateFrom = None,
        date_to: DateTo = None,
        level: Level = "police_unit",
        method: Method = "leiden",
        seed: Annotated[int, typer.Option("--seed", help="Seed of group detection and stability runs.")] = 0,
        resolution: Resolution = 1.0,
        stability_runs: StabilityRuns = 10,
    ) -> None:
        """Detect perpetrator groups, victim moves across regions, key players and leads."""
        from netanalysis.detect import DetectionSettings, detect

        settings = DetectionSettings(
            method=method,
            seed=seed,
            resolution=resolution,
            level=level,
            date_from=date_from,
            date_to=date_to,
            stability_runs=stability_runs,
        ).validate()
        graph = read_store_graph(store, date_from, date_to)
        result = detect(graph, settings)
        result.write(out)
        summary = result.group_summary
        n_groups = int((summary["members"] > 1).sum()) if len(summary) else 0
        n_lone = int((summary["members"] == 1).sum()) if len(summary) else 0
        n_cross = int(summary["cross_regional"].sum()) if len(summary) else 0
        typer.echo(
            f"{n_groups} groups and {n_lone} lone offenders, {n_cross} cross-regional; "
            f"{len(result.movements)} victim moves, {len(result.leads)} leads; written to {out}"
        )
