"""``netanalysis evaluate``: compare detection outputs with a synthetic ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from netanalysis.commands.options import check_out_file, defaults
from netanalysis.evaluate import evaluate

__all__ = ["register"]

_EVALUATE = defaults(evaluate)

_LABELS = {
    "er_precision": "entity resolution, pairwise precision",
    "er_recall": "entity resolution, pairwise recall",
    "group_ari": "groups, adjusted Rand index (suspect rows)",
    "cross_regional_precision": "cross-regional flag, precision",
    "cross_regional_recall": "cross-regional flag, recall",
    "moves_recall": "victim moves, recall",
    "moves_precision": "victim moves, precision",
    "leads_precision": "signal leads, precision",
    "leads_recall": "signal leads, recall (all group signals)",
}


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` subcommand to ``app``."""

    @app.command("evaluate")
    def evaluate_command(
        truth: Annotated[
            Path, typer.Option("--truth", help="The truth/ folder written by `netanalysis synth`.")
        ],
        detected: Annotated[
            Path, typer.Option("--detected", help="The folder written by `netanalysis detect`.")
        ],
        json_file: Annotated[
            Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
        ] = None,
        tolerance_days: Annotated[
            int, typer.Option("--tolerance-days", help="Largest date difference for a move to match.")
        ] = _EVALUATE.tolerance_days,
    ) -> None:
        """Print entity-resolution, group, cross-regional, move and lead figures against the truth."""
        if json_file is not None and json_file.is_dir():
            check_out_file(json_file, "--json")
        result = evaluate(truth, detected, tolerance_days=tolerance_days)
        for key, value in result.figures.items():
            typer.echo(f"{_LABELS.get(key, key):<45} {value:.4f}")
        typer.echo("counts: " + ", ".join(f"{k}={v}" for k, v in result.counts.items()))
        if json_file is not None:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(
                json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
