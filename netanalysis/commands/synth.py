"""``netanalysis synth``: write a synthetic data set with planted groups and its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import defaults
from netanalysis.commands.progress import progress_console, stage_bar
from synth import generate

__all__ = ["register"]

_STAGES = {"plant": "plant groups + write rows", "deliveries": "split into deliveries"}

_SYNTH = defaults(generate)


def register(app: typer.Typer) -> None:
    """Add the ``synth`` subcommand to the CLI."""

    @app.command("synth")
    def synth(
        out: Annotated[Path, typer.Option("--out", help="Folder for sources/, sources.yaml and truth/.")],
        seed: Annotated[
            int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")
        ] = _SYNTH.seed,
        groups: Annotated[
            int, typer.Option("--groups", help="Planted perpetrator groups (half cross-regional).")
        ] = _SYNTH.groups,
        noise: Annotated[
            float, typer.Option("--noise", help="Noise level: 0 none, 0.3 high.")
        ] = _SYNTH.noise,
        rows: Annotated[
            int | None,
            typer.Option("--rows", help="Instead of --groups: plant groups until this many rows exist."),
        ] = None,
        deliveries: Annotated[
            int | None,
            typer.Option(
                "--deliveries",
                help="Also write the sources as N chronological deliveries in deliveries/001/ ... "
                "(each row in the delivery of its observation month; some re-sent corrected later).",
            ),
        ] = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", help="No progress bar (there is none when not in a terminal).")
        ] = False,
    ) -> None:
        """Generate synthetic case and signal records with planted cross-regional groups."""
        bar, progress = stage_bar(progress_console(quiet), _STAGES)
        with bar:
            s = generate(
                out,
                seed=seed,
                groups=groups,
                noise=noise,
                rows=rows,
                deliveries=deliveries,
                progress=progress,
            )
        typer.echo(f"wrote {s.total_rows} rows ({s.person_rows} describe a person) to {out}")
        for source, n in s.rows.items():
            typer.echo(f"  {source:<24}{n:>10}")
        typer.echo(
            f"groups: {s.groups} ({s.cross_regional_groups} cross-regional), "
            f"lone offenders: {s.lone_offenders}, persons: {s.persons}, victim moves: {s.movements}"
        )
        typer.echo(f"signals: {s.signals} ({s.group_signals} belong to a group, {s.orphan_signals} orphan)")
        typer.echo(
            f"addresses: {s.addresses}, organisations: {s.organisations}, groups tied only by an "
            f"address or agency: {s.link_only_groups}"
        )
        typer.echo("noise: " + ", ".join(f"{k} {v}" for k, v in s.noise_counts.items()))
        if s.delivery_rows:
            typer.echo(
                f"deliveries: {len(s.delivery_rows)} in {out / 'deliveries'}, rows "
                + ", ".join(str(n) for n in s.delivery_rows.values())
            )
