"""``netanalysis retention`` and ``netanalysis erase``: delete what is past its term, or one row.

Both hold the store's write lock while they delete, print counts only and are logged with their
purpose (``netanalysis.commands.audit``). See ``netanalysis.retention`` and docs/retention.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netanalysis.commands.options import Store, open_cli_store, printable
from netanalysis.errors import ConfigError

if TYPE_CHECKING:
    from graphstore.base import GraphStore

__all__ = ["register", "register_erase"]

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print what would be deleted, with the same counts; change nothing.")
]
Detected = Annotated[
    list[Path] | None,
    typer.Option(
        "--detected",
        help="A detection folder (or a folder of them) to check: those made before the deletion are "
        "listed as stale. Repeatable.",
        file_okay=False,
    ),
]


def _open(store: str) -> GraphStore:
    """The store to delete from; a missing embedded file is refused (opening would create it)."""
    if "://" not in store and not Path(store).exists():
        raise ConfigError(f"store {store} does not exist; there is nothing to delete")
    return open_cli_store(store)


def register(app: typer.Typer) -> None:
    """Add the ``retention`` subcommand to ``app``."""

    @app.command("retention")
    def retention_command(
        store: Store,
        policy: Annotated[
            Path,
            typer.Option(
                "--policy", help="The retention policy (retention.yaml, docs/retention.md).", dir_okay=False
            ),
        ],
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Apply the terms as on this ISO date (default: today, UTC)."),
        ] = None,
        dry_run: DryRun = False,
        detected: Detected = None,
    ) -> None:
        """Delete every source row past its retention term, the persons, identifiers and premises
        left without a row, and recompute roles and signal links from what remains."""
        from netanalysis.retention import apply_retention, read_retention_policy

        rules = read_retention_policy(policy)  # a bad policy stops here, before the store opens
        graph_store = _open(store)
        try:
            result = apply_retention(
                graph_store, rules, as_of=as_of, dry_run=dry_run, detected=detected or []
            )
        finally:
            graph_store.close()
        for line in result.summary().splitlines():
            typer.echo(printable(line, markup=False))


def register_erase(app: typer.Typer) -> None:
    """Add the ``erase`` subcommand to ``app``."""

    @app.command("erase")
    def erase_command(
        store: Store,
        record: Annotated[
            list[str],
            typer.Option(
                "--record",
                help="A source row to erase, SOURCE:ROW_ID (as in the source's mapping). Repeatable.",
            ),
        ],
        dry_run: DryRun = False,
        detected: Detected = None,
    ) -> None:
        """Erase source rows and everything that exists only because of them (a correction or an
        erasure decision); facts other rows state stay, roles and links are recomputed."""
        from netanalysis.retention import erase_records

        graph_store = _open(store)
        try:
            result = erase_records(graph_store, record, dry_run=dry_run, detected=detected or [])
        finally:
            graph_store.close()
        for line in result.summary().splitlines():
            typer.echo(printable(line, markup=False))
