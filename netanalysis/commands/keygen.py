"""``netanalysis keygen --out FILE``: make a secret pseudonymisation key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loaders.pseudonymise import keygen


def register(app: typer.Typer) -> None:
    """Add the ``keygen`` subcommand."""

    @app.command("keygen")
    def keygen_command(
        out: Annotated[Path, typer.Option("--out", help="Where to write the key file (not overwritten).")],
    ) -> None:
        """Write a new random 32-byte key (hex, readable by you only) for pseudonymising loads.

        Keep it outside the repository. Regions that should link their data share the same key
        file through a secure channel; a lost key means new pseudonyms for everything loaded later.
        """
        path = keygen(out)
        typer.echo(f"wrote key {path} (mode 0600); pass it with --key-file or NETANALYSIS_KEY_FILE")
