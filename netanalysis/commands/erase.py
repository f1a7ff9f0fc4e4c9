"""``netanalysis erase``: erase source rows (defined beside ``retention`` in
``netanalysis.commands.retention``, which shares its options)."""

from __future__ import annotations

import typer

from netanalysis.commands.retention import register_erase

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``erase`` subcommand to ``app``."""
    register_erase(app)
