"""``netanalysis detect``: find perpetrator groups in a store and write the detection CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``detect`` subcommand to ``app``."""

    @app.command("detect")
    def detect_command(
        store: Annotated[str, typer.Option("--store", help="Embedded store path or neo4j:// / bolt:// URI.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files (created if absent).")],
        date_from: Annotated[
            str | None, typer.Option("--from", help="Only facts observed on or after this ISO date.")
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help="Only facts observed on or before this ISO date.")
        ] = None,
        level: Annotated[
            str, typer.Option("--level", help="Region level: police_unit, safety_region or province.")
        ] = "police_unit",
        method: Annotated[
            str, typer.Option("--method", help="Group detection: leiden or louvain.")
        ] = "leiden",
        seed: Annotated[int, typer.Option("--seed", help="Seed of group detection and stability runs.")] = 0,
        resolution: Annotated[float, typer.Option("--resolution", help="Higher gives smaller groups.")] = 1.0,
        stability_runs: Annotated[
            int, typer.Option("--stability-runs", help="Re-runs behind the stability figure (0: skip).")
        ] = 10,
    ) -> None:
        """Detect perpetrator groups, victim moves across regions, key players and leads."""
        from graphstore import open_store
        from netanalysis.detect import DetectionSettings, detect
        from netanalysis.graphs import read_analysis_graph

        settings = DetectionSettings(
            method=method,
            seed=seed,
            resolution=resolution,
            level=level,
            date_from=date_from,
            date_to=date_to,
            stability_runs=stability_runs,
        ).validate()
        if "://" not in store and not Path(store).exists():
            from graphstore.errors import ConfigError

            raise ConfigError(f"store {store} does not exist; load data first with `netanalysis load`.")
        graph_store = open_store(store)
        try:
            graph = read_analysis_graph(graph_store, date_from, date_to)
        finally:
            graph_store.close()
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
