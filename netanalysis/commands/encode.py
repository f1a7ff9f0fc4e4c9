"""``netanalysis encode SOURCES... --mapping FILE --key-file FILE --out DIR``: an encoded export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loaders.encode import encode
from loaders.pseudonymise import key_from_env
from netanalysis.commands.options import printable


def register(app: typer.Typer) -> None:
    """Add the ``encode`` subcommand."""

    @app.command("encode")
    def encode_command(
        sources: Annotated[list[Path], typer.Argument(help="Your source files or folders of files.")],
        mapping: Annotated[Path, typer.Option("--mapping", help="The mapping file (sources.yaml).")],
        out: Annotated[Path, typer.Option("--out", help="New or empty folder for the encoded export.")],
        key_file: Annotated[
            Path | None,
            typer.Option(
                "--key-file", help="Key shared by the linking holders (else $NETANALYSIS_KEY_FILE)."
            ),
        ] = None,
        rejects: Annotated[
            Path | None,
            typer.Option(
                "--rejects",
                help="Rejects CSV, kept by you (default: OUT.rejects.csv beside the export, when needed).",
            ),
        ] = None,
    ) -> None:
        """Encode your own records for privacy-preserving linkage at a hub.

        Names become keyed Bloom filters, birth dates and identifiers keyed hashes; dates, places,
        exploitation type and reliability stay as they are. The export holds the key's fingerprint,
        never the key, and can be loaded at the hub with `netanalysis load EXPORT --store STORE`.
        """
        key = key_from_env(key_file)  # before reading: no key, no work
        summary = encode(sources, mapping, key, out, rejects_path=rejects)
        for name, counts in summary.sources.items():
            typer.echo(
                f"{printable(name, markup=False)}: read {counts['read']:,}, "
                f"encoded {counts['encoded']:,}, rejected {counts['rejected']:,}"
            )
        if summary.rejects_path:
            shown = printable(summary.rejects_path, markup=False)
            typer.echo(f"rejects (clear values, keep them here): {shown}", err=True)
        typer.echo(
            f"wrote {printable(summary.out_dir, markup=False)} "
            f"(key fingerprint {summary.key_fingerprint}, schema {summary.schema_id})"
        )
