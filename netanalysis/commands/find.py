"""``netanalysis find``: the persons in a store that may be a person known by name and birth date."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netanalysis.commands.options import (
    Store,
    check_out_file,
    open_read_store,
    printable,
    read_store_graph,
)

if TYPE_CHECKING:
    pass

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``find`` subcommand to ``app``."""

    @app.command("find")
    def find_command(
        store: Store,
        first_name: Annotated[str, typer.Option("--first-name", help="First name as in the case file.")],
        last_name: Annotated[
            str, typer.Option("--last-name", help="Last name as in the case file, with its particle.")
        ],
        birth_date: Annotated[
            str | None, typer.Option("--birth-date", help="Birth date, e.g. 31-12-1980 or 1980-12-31.")
        ] = None,
        nationality: Annotated[
            str | None, typer.Option("--nationality", help="Country code (NLD) or name.")
        ] = None,
        key_file: Annotated[
            Path | None, typer.Option("--key-file", help="Pseudonymisation key (else $NETANALYSIS_KEY_FILE).")
        ] = None,
        detected: Annotated[
            Path | None,
            typer.Option(
                "--detected",
                help="Folder of an earlier `netanalysis detect` whose groups.csv gives the groups "
                "(else the groups are detected with the default settings).",
                file_okay=False,
            ),
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Also write the candidates to this CSV.")
        ] = None,
    ) -> None:
        """List the persons that may be this person: pseudonym, score, roles, groups, source rows.

        The name and birth date are normalised as a loader would, hashed with the key and
        compared as entity resolution compares records; they are written nowhere.
        """
        from loaders.pseudonymise import key_from_env
        from netanalysis.find import find_person

        if out is not None:
            check_out_file(out)
        key = key_from_env(key_file)
        # With --detected only the candidates are read from the store (by pseudonym), so find
        # answers quickly on any store; without it the groups need a detection of the whole graph.
        groups = _groups(store, detected)
        graph_store = open_read_store(store)
        try:
            matches = find_person(
                graph_store, key, first_name, last_name, birth_date, nationality, groups=groups
            )
        finally:
            graph_store.close()
        rows = [m.to_dict() for m in matches]
        if out is not None:
            with out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=_COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
        if not rows:
            typer.echo("no person in the store matches; check the spelling or leave out the birth date.")
            return
        typer.echo(f"{len(rows)} candidate{'s' if len(rows) > 1 else ''}, best first:")
        for row in rows:
            typer.echo(
                printable(
                    f"Person:{row['person_id']}  score {row['score']:.3f} ({row['how']})  "
                    f"roles {row['roles'] or '-'}  groups {row['groups'] or '-'}  "
                    f"{row['records']} records: {row['source_rows']}",
                    markup=False,
                )
            )


_COLUMNS = ["person_id", "score", "weight", "how", "roles", "groups", "records", "source_rows"]


def _groups(store: str, detected: Path | None) -> dict[str, list[str]]:
    """person_id -> group ids, from ``detected/groups.csv`` or a detection with default settings."""
    import pandas as pd

    from netanalysis.errors import ConfigError

    if detected is not None:
        path = detected / "groups.csv"
        try:
            frame = pd.read_csv(path, dtype=str, usecols=["group_id", "person_id"])
        except (OSError, ValueError):
            raise ConfigError(
                f"{path} cannot be read as the groups.csv of `netanalysis detect`; "
                f"run detect with --out {detected}"
            ) from None
    else:
        from netanalysis.detect import DetectionSettings, detect

        frame = detect(read_store_graph(store, None, None), DetectionSettings()).groups
    groups: dict[str, list[str]] = {}
    for group_id, person_id in zip(frame["group_id"], frame["person_id"], strict=True):
        groups.setdefault(str(person_id), []).append(str(group_id))
    return groups
