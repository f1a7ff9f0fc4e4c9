"""``netanalysis analyse``: groups, key players, brokerage and disruption of any network from CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netanalysis.analyse import _analyse_files, analyse_network
from netanalysis.commands.options import check_out_folder, defaults, printable

__all__ = ["register"]

_A = defaults(analyse_network)


def register(app: typer.Typer) -> None:
    """Add the ``analyse`` subcommand to ``app``."""

    @app.command("analyse")
    def analyse_command(
        edges: Annotated[Path, typer.Argument(help="Edge list CSV with columns source and target.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the CSV tables.")],
        nodes: Annotated[
            Path | None, typer.Option("--nodes", help="Node CSV with column id and node attributes.")
        ] = None,
        directed: Annotated[bool, typer.Option("--directed", help="Read edges as source -> target.")] = False,
        weight: Annotated[
            str | None, typer.Option("--weight", help="Edge column with positive weights (default: 1 each).")
        ] = None,
        group_attr: Annotated[
            str | None,
            typer.Option("--group-attr", help="Node column for Gould-Fernandez brokerage (needs --nodes)."),
        ] = None,
        resolution: Annotated[
            list[float] | None,
            typer.Option("--resolution", help="Group resolution; repeat it to keep the most stable."),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of group finding.")] = _A.seed,
        steps: Annotated[int, typer.Option("--steps", help="Nodes removed in the disruption.")] = _A.steps,
        betweenness_k: Annotated[
            int | None,
            typer.Option(
                "--betweenness-k", help="Estimate betweenness from this many sampled nodes (large networks)."
            ),
        ] = None,
        strategy: Annotated[
            str, typer.Option("--strategy", help="betweenness, degree or weighted_degree.")
        ] = _A.strategy,
        closeness_k: Annotated[
            int | None,
            typer.Option("--closeness-k", help="Estimate closeness from this many pivots per component."),
        ] = None,
        sample_above: Annotated[
            int,
            typer.Option(
                "--sample-above",
                help="Above this many nodes betweenness and closeness are sampled (docs/analyse.md).",
            ),
        ] = _A.sample_above,
    ) -> None:
        """Analyse a network that did not come from the store: groups, key players, brokerage, disruption.

        Self-loops are dropped and duplicate edges summed into one edge (counts in summary.csv).
        """
        check_out_folder(out)
        # analyse_network(read_network(...)) on arrays: the same tables without building a multigraph
        result = _analyse_files(
            edges,
            nodes,
            directed=directed,
            weight=weight,
            group_attr=group_attr,
            resolution=resolution or _A.resolution,
            seed=seed,
            steps=steps,
            strategy=strategy,
            betweenness_k=betweenness_k,
            closeness_k=closeness_k,
            sample_above=sample_above,
        )
        result.write(out)
        s = result.summary
        typer.echo(
            printable(
                f"{s['nodes']} nodes, {s['edges']} edges ({s['self_loops_dropped']} self-loops dropped, "
                f"{s['duplicate_edges_summed']} duplicate edges summed), {s['groups']} groups at "
                f"resolution {s['resolution']}: tables written to {out}",
                markup=False,
            )
        )
