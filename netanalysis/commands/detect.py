"""``netanalysis detect``: find perpetrator groups in a store and write the detection CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import (
    AllowIncomplete,
    CrowdedMinPersons,
    DateFrom,
    DateTo,
    Engine,
    Level,
    MaxMemory,
    Method,
    Resolution,
    Seed,
    SettingsFile,
    StabilityRuns,
    Store,
    check_out_folder,
    defaults,
    detection_settings,
    open_cli_store,
    open_read_store,
    printable,
)
from netanalysis.detect import DetectionSettings

__all__ = ["register"]

_D = defaults(DetectionSettings)

_STAGES = {"read": "read the detection graph", "detect": "detect (stages)"}
# Under --max-memory the read stage is the evidence; the steps read around the groups as they go.
_STAGES_AROUND = {"read": "read the evidence", "detect": "detect (stages)"}
_UNITS = {"read": "rows"}


def register(app: typer.Typer) -> None:
    """Add the ``detect`` subcommand to ``app``."""

    @app.command("detect")
    def detect_command(
        ctx: typer.Context,
        store: Store,
        out: Annotated[Path, typer.Option("--out", help="Folder for the CSV files (created if absent).")],
        settings_file: SettingsFile = None,
        allow_incomplete: AllowIncomplete = False,
        date_from: DateFrom = _D.date_from,
        date_to: DateTo = _D.date_to,
        level: Level = _D.level,
        method: Method = _D.method,
        seed: Seed = _D.seed,
        resolution: Resolution = _D.resolution,
        stability_runs: StabilityRuns = _D.stability_runs,
        engine: Engine = _D.engine,
        max_memory: MaxMemory = None,
        crowded_min_persons: CrowdedMinPersons = _D.crowded.min_persons,
        previous: Annotated[
            Path | None,
            typer.Option(
                "--previous",
                help="An earlier detection folder of this store: groups keep its ids, lineage.csv "
                "says which were born, grew, merged, split or dissolved.",
                file_okay=False,
            ),
        ] = None,
        track: Annotated[
            bool,
            typer.Option(
                "--track",
                help="Keep the group ids in the store: continue the groups the last tracked run "
                "left there (unless --previous is given) and record this run's groups.",
            ),
        ] = False,
    ) -> None:
        """Detect perpetrator groups, victim moves across regions, key players and leads.

        With --settings, the settings come from the settings.json of an earlier run (which also
        fixes the reference date), so the same store gives the same files again; options given on
        the command line change only what they name.
        """
        from netanalysis.detect import detect, detect_store

        settings = detection_settings(ctx, settings_file)
        check_out_folder(out)
        from netanalysis.lineage import PreviousDetection, read_previous

        # Checked before the work starts.
        earlier: PreviousDetection | None = read_previous(previous) if previous is not None else None
        from rich.console import Console

        from netanalysis.commands.progress import RowsRead, stage_bar
        from netanalysis.graphs import read_detection_graph, store_state
        from netanalysis.memory import MemoryLimit, MemorySettings

        memory = MemorySettings.from_text(max_memory)
        limit = MemoryLimit(memory, "detect", ", or detect on a window with --from and --to")
        # Reading around the groups holds less (0.75x the peak at 100k rows) but costs about 1.8x
        # the CPU of one read of the detection graph (benchmarks/RESULTS.md): it is the way of a
        # run with a memory ceiling, the one read that of a run without.
        around = settings.engine != "gds" and memory.max_memory is not None
        stages = _STAGES_AROUND if around else _STAGES
        bar, shown = stage_bar(Console(stderr=True), stages, unit="stages", units=_UNITS)
        progress = limit.tracking(shown, stages)
        with bar, limit:
            progress("read", 0, None)
            # Only what the detection needs: no records, no provenance (the store hands those over
            # as rows); the same result as from the whole graph (tests/test_projection_store.py).
            graph_store = open_read_store(store, allow_incomplete)
            try:
                # So that `report --detection` can tell whether the store changed since.
                state = store_state(graph_store)
                if around:
                    # The evidence for the network, then each step's facts around the groups,
                    # read as the detection goes (docs/detection.md, "What each step reads").
                    result = detect_store(graph_store, settings, progress=progress)
                else:
                    read = RowsRead(progress, "read")
                    graph = read_detection_graph(graph_store, settings.date_from, settings.date_to, read)
                    progress("read", read.done, read.done)
                    if settings.engine == "gds":
                        # The server computes the network and groups: the store stays open for it.
                        result = detect(graph, settings, store=graph_store, progress=progress)
            finally:
                graph_store.close()
            if not around and settings.engine != "gds":
                result = detect(graph, settings, progress=progress)
        if earlier is not None or track:
            from netanalysis.lineage import follow_groups, keep_groups

            with_store = open_cli_store(store) if track else None
            try:
                source = earlier if earlier is not None else with_store
                assert source is not None
                result = follow_groups(result, source)
                if with_store is not None:
                    keep_groups(with_store, result)
            finally:
                if with_store is not None:
                    with_store.close()
        result.settings["store"] = state
        result.write(out)
        _write_merges(store, out, allow_incomplete)
        summary = result.group_summary
        n_groups = int((summary["members"] > 1).sum()) if len(summary) else 0
        n_lone = int((summary["members"] == 1).sum()) if len(summary) else 0
        n_cross = int(summary["cross_regional"].sum()) if len(summary) else 0
        typer.echo(
            f"{n_groups} groups and {n_lone} lone offenders, {n_cross} cross-regional; "
            f"{len(result.movements)} victim moves, {len(result.leads)} leads, "
            f"{result.crowded_addresses['address_id'].nunique()} crowded addresses, {len(result.hubs)} hubs; "
            f"written to {printable(out, markup=False)}"
        )


def _write_merges(store: str, out: Path, allow_incomplete: bool) -> None:
    """``merges.csv`` and ``splits.csv`` beside the detection: the persons loads merged and split
    so far (``changes`` lists the new merges)."""
    from netanalysis.merges import read_merges, read_splits, write_merges, write_splits

    graph_store = open_read_store(store, allow_incomplete)
    try:
        write_merges(read_merges(graph_store), out / "merges.csv")
        write_splits(read_splits(graph_store), out / "splits.csv")
    finally:
        graph_store.close()
