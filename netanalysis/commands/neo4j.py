"""``netanalysis neo4j start|stop|status``: run the toolkit's own Neo4j Community server."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from graphstore import neo4j_server
from graphstore.neo4j_server import ServerInfo

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Server home (config, data, logs, state file). Default: ~/.cache/netanalysis/server.",
        file_okay=False,
    ),
]


ShowPasswordOption = Annotated[
    bool,
    typer.Option(
        "--show-password",
        help="Also print the password (as an export line); without it the password is not shown.",
    ),
]


def _describe(info: ServerInfo, verb: str, show_password: bool) -> None:
    """Say how to reach the server; the password only when asked, as stdout ends up in terminal
    scrollback and CI logs."""
    gds = f", Graph Data Science {neo4j_server.GDS_VERSION}" if info.gds else ""
    typer.echo(f"Neo4j {verb} at {info.uri} (user {info.user}, pid {info.pid}, home {info.home}{gds})")
    typer.echo(f"Browser/HTTP: http://127.0.0.1:{info.http_port}/")
    state = info.home / "state.json"
    if show_password:
        typer.echo(f"Password and ports are in {state} (readable by you only).")
    else:
        home = "" if info.home == neo4j_server.default_home() else f" --home {shlex.quote(str(info.home))}"
        typer.echo(
            f"The password is not shown: it is in {state} (readable by you only), and "
            f"`netanalysis neo4j status{home} --show-password` prints it as an export line."
        )
    typer.echo("Point the toolkit at it with:")
    for name, value in info.env().items():
        if name != "NEO4J_PASSWORD" or show_password:
            typer.echo(f"  export {name}={shlex.quote(value)}")


def register(app: typer.Typer) -> None:
    """Add the ``neo4j`` subcommand group."""
    group = typer.Typer(
        help="Run the toolkit's own Neo4j Community server (fetched from Maven Central on first use).",
        no_args_is_help=True,
    )
    app.add_typer(group, name="neo4j")

    @group.command("start")
    def start_command(
        home: HomeOption = None,
        version: Annotated[
            str, typer.Option("--version", help="Neo4j 5.x version from Maven Central.")
        ] = neo4j_server.DEFAULT_VERSION,
        heap: Annotated[str, typer.Option("--heap", help="JVM heap, e.g. 2g.")] = neo4j_server.DEFAULT_HEAP,
        pagecache: Annotated[
            str, typer.Option("--pagecache", help="Page cache, e.g. 1g.")
        ] = neo4j_server.DEFAULT_PAGECACHE,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds to wait for Bolt to answer.")
        ] = neo4j_server.DEFAULT_TIMEOUT,
        show_password: ShowPasswordOption = False,
        with_gds: Annotated[
            bool,
            typer.Option(
                "--with-gds",
                help="Also install the Graph Data Science library (Community) for detect --engine gds; "
                "fetched from Maven Central on first use (~35 MB).",
            ),
        ] = False,
    ) -> None:
        """Start the server (or show the one already running) on 127.0.0.1 with a generated password.

        The first run downloads the server's jars (~125 MB) into ~/.cache/netanalysis; later
        starts take about half a minute.
        """
        from rich.console import Console

        console = Console(stderr=True)
        with console.status("preparing Neo4j...") as spinner:

            def progress(line: str) -> None:
                spinner.update(line)
                if not line.startswith("downloaded "):
                    console.print(line, markup=False, highlight=False)

            info = neo4j_server.start(
                home,
                version=version,
                heap=heap,
                pagecache=pagecache,
                timeout=timeout,
                progress=progress,
                gds=with_gds,
            )
        _describe(info, "running", show_password)

    @group.command("stop")
    def stop_command(home: HomeOption = None) -> None:
        """Stop the server cleanly (SIGTERM; SIGKILL if it has not stopped after 90 s)."""
        from rich.console import Console

        # The first stop of a version also writes a class archive that speeds up later starts.
        with Console(stderr=True).status("stopping Neo4j..."):
            stopped = neo4j_server.stop(home)
        if stopped:
            typer.echo("Neo4j stopped.")
        else:
            typer.echo("Neo4j was not running.")

    @group.command("status")
    def status_command(home: HomeOption = None, show_password: ShowPasswordOption = False) -> None:
        """Say whether the server runs and how to reach it; exit code 1 if it does not run."""
        info = neo4j_server.status(home)
        if info is None:
            typer.echo("Neo4j is not running (start it with: netanalysis neo4j start).")
            # SystemExit, not typer.Exit: cli.main runs click outside standalone mode, which would
            # swallow the code of a typer.Exit.
            raise SystemExit(1)
        _describe(info, "running", show_password)
