"""``netanalysis load PATH... --store STORE --mapping FILE``: load source exports into the graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from loaders.crossload import METHODS as ACROSS_LOADS
from loaders.mapping import load_mapping
from loaders.pipeline import LoadSummary, check_match_threshold, load
from netanalysis.commands.options import MaxMemory, check_out_file, open_cli_store, printable
from netanalysis.commands.progress import stage_bar
from netanalysis.errors import ConfigError
from netanalysis.memory import MemoryLimit, MemorySettings

_STAGES = {"read": "read + normalise", "resolve": "resolve persons", "write": "write to store"}


def _table(summary: LoadSummary) -> Table:
    table = Table(title=f"load batch {summary.batch}")
    table.add_column("source")
    for name in ("read", "loaded", "rejected"):
        table.add_column(name, justify="right")
    for name, counts in summary.sources.items():
        table.add_row(printable(name), str(counts.read), str(counts.loaded), str(counts.rejected))
    table.add_row("total", str(summary.read), str(summary.loaded), str(summary.rejected), style="bold")
    return table


def register(app: typer.Typer) -> None:
    """Add the ``load`` subcommand."""

    @app.command("load")
    def load_command(
        paths: Annotated[list[Path], typer.Argument(help="Source files or folders of files.")],
        store: Annotated[str, typer.Option("--store", help="Embedded store file or neo4j:// / bolt:// URI.")],
        mapping: Annotated[
            Path | None,
            typer.Option("--mapping", help="The mapping file (sources.yaml); not for encoded exports."),
        ] = None,
        key_file: Annotated[
            Path | None, typer.Option("--key-file", help="Pseudonymisation key (else $NETANALYSIS_KEY_FILE).")
        ] = None,
        rejects: Annotated[
            Path | None,
            typer.Option(
                "--rejects",
                help="Rejects CSV (default: STORE.rejects.csv beside an embedded store; needed for Neo4j).",
            ),
        ] = None,
        summary_json: Annotated[
            Path | None,
            typer.Option("--summary-json", help="Write per-source counts (read, loaded, rejected) as JSON."),
        ] = None,
        initial_import: Annotated[
            bool,
            typer.Option(
                "--initial-import",
                help="First big load into the EMPTY database of the toolkit's own Neo4j server with "
                "neo4j-admin import (stops and restarts the server).",
            ),
        ] = False,
        neo4j_home: Annotated[
            Path | None,
            typer.Option(
                "--neo4j-home",
                help="Home of the toolkit's server for --initial-import "
                "(default ~/.cache/netanalysis/server).",
                file_okay=False,
            ),
        ] = None,
        wait: Annotated[
            float,
            typer.Option(
                "--wait",
                help="Seconds to wait when another load is writing to the store (default: refuse at "
                "once); one load writes to a store at a time.",
                min=0,
            ),
        ] = 0.0,
        max_memory: MaxMemory = None,
        match_threshold: Annotated[
            float | None,
            typer.Option(
                "--match-threshold",
                help="Entity resolution links two records when their log2 match odds reach this "
                "(default 2.0). Higher: fewer, surer links; lower: more links, more of them wrong "
                "(curve in docs/loading.md).",
            ),
        ] = None,
        estimate_m: Annotated[
            bool | None,
            typer.Option(
                "--estimate-m/--documented-m",
                help="Entity resolution's m probabilities: estimated by EM on the candidate pairs "
                "(default), or the documented ones (measured in docs/loading.md).",
            ),
        ] = None,
        across_loads: Annotated[
            str | None,
            typer.Option(
                "--across-loads",
                help="How records are linked to the persons already stored: whole (default; "
                "re-resolves the stored records it reads) or pairs (scores only pairs with a new "
                "record: cheaper in a big store, less precise; docs/living-graph.md).",
            ),
        ] = None,
    ) -> None:
        """Read, validate, pseudonymise and resolve the source exports and merge them into the store.

        Every row is loaded or written to the rejects file; loading the same files again changes
        nothing.
        """
        from loaders.hub import is_encoded_export
        from loaders.pseudonymise import key_from_env

        # Before any work: a load of an hour must not fail on where its summary goes.
        check_match_threshold(match_threshold)
        if across_loads is not None and across_loads not in ACROSS_LOADS:
            raise ConfigError(f"--across-loads is one of {', '.join(ACROSS_LOADS)}, not {across_loads!r}")
        if across_loads is not None and initial_import:
            raise ConfigError(
                "--across-loads is not for --initial-import (a first load links to no stored person)"
            )
        if mapping is not None:
            load_mapping(mapping)  # a mistake in it is one sentence before a store file is made
        if summary_json is not None:
            check_out_file(summary_json, "--summary-json")
        # Encoded exports (`netanalysis encode`) are loaded without key: the hub never holds it.
        key = None if paths and all(is_encoded_export(p) for p in paths) else key_from_env(key_file)
        console = Console(stderr=True)
        if neo4j_home is not None and not initial_import:
            raise ConfigError("--neo4j-home is only used with --initial-import; add it or leave both out")
        memory = MemorySettings.from_text(max_memory)
        if initial_import and memory.max_memory is not None:
            raise ConfigError(
                "--max-memory is not for --initial-import (the server's own import tool takes the "
                "memory it is given with the server's settings); leave it out"
            )
        try:
            if initial_import:
                summary = _initial_import(
                    paths, store, mapping, key, rejects, neo4j_home, console, match_threshold, estimate_m
                )
            else:
                summary = _online(
                    paths,
                    store,
                    mapping,
                    key,
                    rejects,
                    console,
                    wait,
                    match_threshold,
                    estimate_m,
                    memory,
                    across_loads,
                )
        except KeyboardInterrupt:
            # typer turns Ctrl-C into a silent exit 130; the user needs to know what state it left.
            from graphstore import is_server_uri

            if is_server_uri(store):
                said = (
                    "load interrupted: the store may hold part of this load; re-running the same "
                    "command is safe and finishes it"
                )
            else:  # the embedded store rolls the whole load back (graphstore.embedded)
                said = (
                    "load interrupted: nothing of it was kept, the store is as it was before it; "
                    "run the same command again to load it"
                )
            typer.echo(said, err=True)
            raise typer.Exit(130) from None
        Console().print(_table(summary))
        if summary.rejects_path:
            console.print(
                f"rejects of batch {summary.batch}: {printable(summary.rejects_path)} "
                "(rows of earlier loads stay in it)"
            )
        console.print(f"{summary.persons:,} persons resolved from {summary.records:,} person records")
        for line in resolution_notes(summary.resolution):
            console.print(line)
        if summary.merges:
            console.print(
                f"{summary.merges:,} persons of earlier loads merged (netanalysis merges lists them)"
            )
        if summary.splits:
            console.print(
                f"{summary.splits:,} persons of earlier loads split (netanalysis merges --splits lists them)"
            )
        if summary_json is not None:
            summary.write_json(summary_json)


def resolution_notes(stats: dict[str, int]) -> list[str]:
    """What the load summary says about records that entity resolution could not link well.

    >>> for line in resolution_notes({"initials_only": 2, "undated_records": 10, "undated_unlinked": 4}):
    ...     print(line)
    2 person records are named by initials only: loaded, linked on a document number only
    4 of 10 person records without a birth date stay unlinked (a person of their own)
    """
    notes = []
    if stats.get("initials_only"):
        notes.append(
            f"{stats['initials_only']:,} person records are named by initials only: loaded, "
            "linked on a document number only"
        )
    if stats.get("undated_records"):
        notes.append(
            f"{stats.get('undated_unlinked', 0):,} of {stats['undated_records']:,} person records "
            "without a birth date stay unlinked (a person of their own)"
        )
    return notes


def _initial_import(
    paths: list[Path],
    store: str,
    mapping: Path | None,
    key: Any,
    rejects: Path | None,
    home: Path | None,
    console: Console,
    match_threshold: float | None = None,
    estimate_m: bool | None = None,
) -> LoadSummary:
    from loaders.initial_import import initial_import

    if "://" not in store:
        raise ConfigError(
            f"--initial-import needs the bolt:// URI of the toolkit's own Neo4j server, not {store}; "
            "load into an embedded store without it"
        )
    bar, progress = stage_bar(console, _STAGES)
    with bar:
        return initial_import(
            list(paths),
            mapping,
            key,
            store=store,
            home=home,
            rejects_path=rejects,
            progress=progress,
            server_progress=lambda line: console.print(printable(line)),
            match_threshold=match_threshold,
            estimate_m=estimate_m,
        )


def _online(
    paths: list[Path],
    store: str,
    mapping: Path | None,
    key: Any,
    rejects: Path | None,
    console: Console,
    wait: float,
    match_threshold: float | None = None,
    estimate_m: bool | None = None,
    memory: MemorySettings | None = None,
    across_loads: str | None = None,
) -> LoadSummary:
    # Cut off by the limit, a load ends as any cut-off load does: the embedded store rolls it
    # back, a Neo4j store keeps what was written and the same command finishes it.
    limit = MemoryLimit(
        memory or MemorySettings(),
        "the load",
        ", or load the files in parts (loading files again is safe: it ends as one load would)",
    )
    graph_store = open_cli_store(store)
    try:
        bar, shown = stage_bar(console, _STAGES)
        progress = limit.tracking(shown, _STAGES)
        with bar, limit:
            return load(
                paths,
                graph_store,
                mapping,
                key,
                rejects_path=rejects,
                progress=progress,
                wait=wait,
                match_threshold=match_threshold,
                estimate_m=estimate_m,
                across_loads=across_loads,
            )
    finally:
        graph_store.close()
