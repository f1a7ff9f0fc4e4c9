"""The audit options every command that processes person-level data takes, and ``netanalysis audit``.

Commands are logged in one place: :func:`wire` wraps every command named in :data:`LOGGED`
with :func:`netanalysis.audit.processing` and gives it ``--analyst``, ``--purpose``,
``--purposes`` and ``--audit-log``. A command adds nothing of its own to be logged; the
library functions it calls (``na.load``, ``na.detect`` …, decorated with
:func:`netanalysis.audit.audited`) add their counts, sources and files to its entry. To log a
new command, add its name to :data:`LOGGED` (with where its store and its output files are).

``netanalysis audit show`` prints the log as a table or CSV; ``netanalysis audit verify`` checks
its hash chain and names the first entry that was edited, removed or reordered.
"""

from __future__ import annotations

import csv
import functools
import inspect
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from netanalysis.audit import (
    ENV_REGISTER,
    SHOW_COLUMNS,
    AuditLog,
    audit_log_for,
    processing,
    safe_parameters,
    select_entries,
    session,
    verify,
)
from netanalysis.errors import ConfigError

__all__ = ["LOGGED", "Logged", "register", "wire"]


def _demo_store(arguments: Mapping[str, Any]) -> str | None:
    """The demo's store: ``--store``, else the embedded file it makes in ``--out``."""
    return arguments.get("store") or str(Path(arguments.get("out") or "demo-out") / "graph.sqlite")


def _demo_session(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """On the shipped samples, the demo runs under the register that ships with them."""
    if arguments.get("data") is not None:
        return {}
    from netanalysis.demo import samples_dir

    register = samples_dir() / "purposes.yaml"
    return {"register": register, "purpose": "synthetic-demo"} if register.is_file() else {}


@dataclass(frozen=True)
class Logged:
    """How a command is logged: where its store is and which of its options are files it writes.

    ``store`` is the name of the option holding the store (or a function of the options);
    ``outputs`` the options naming files or folders it writes (hashed into the entry);
    ``session`` a function of the options giving session defaults (the demo's register).
    """

    store: str | Callable[[Mapping[str, Any]], str | None] | None = "store"
    outputs: tuple[str, ...] = ("out",)
    session: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None

    def store_of(self, arguments: Mapping[str, Any]) -> str | None:
        if self.store is None:
            return None
        if callable(self.store):
            return self.store(arguments)
        value = arguments.get(self.store)
        return str(value) if value else None


# Every command that reads or writes person-level data. Commands that are not registered (yet)
# are left out when wiring; `timeline` and `export` (issue 18) are listed so they are logged as
# soon as they exist.
LOGGED: dict[str, Logged] = {
    "load": Logged(outputs=("rejects", "summary_json")),
    "detect": Logged(),
    "map": Logged(),
    "report": Logged(),
    "encode": Logged(store=None, outputs=("out", "rejects")),
    "evaluate": Logged(store=None, outputs=("json_file",)),
    "demo": Logged(store=_demo_store, session=_demo_session),
    "retention": Logged(outputs=()),
    "erase": Logged(outputs=()),
    "changes": Logged(store=None),  # reads two detection folders, not a store
    "find": Logged(),
    "connect": Logged(outputs=("out", "map_file")),
    "timeline": Logged(),
    "merges": Logged(),
    "export": Logged(),
    "persons": Logged(),
    "analyse": Logged(store=None),  # reads CSV files, not a store
}

_OPTIONS: dict[str, Any] = {
    "analyst": Annotated[
        str | None,
        typer.Option(
            "--analyst",
            help="Who runs this, for the audit log (else $NETANALYSIS_ANALYST, else the OS user).",
            rich_help_panel="Audit",
        ),
    ],
    "purpose": Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="Purpose id from the processing register (else $NETANALYSIS_PURPOSE).",
            rich_help_panel="Audit",
        ),
    ],
    "purposes": Annotated[
        Path | None,
        typer.Option(
            "--purposes",
            help="The processing register, purposes.yaml (else $NETANALYSIS_PURPOSES); "
            "with a register, a purpose is required.",
            dir_okay=False,
            rich_help_panel="Audit",
        ),
    ],
    "audit_log": Annotated[
        Path | None,
        typer.Option(
            "--audit-log",
            help="The audit log (else $NETANALYSIS_AUDIT_LOG, else beside an embedded store).",
            dir_okay=False,
            rich_help_panel="Audit",
        ),
    ],
}


def logged_command(fn: Callable[..., None], name: str, spec: Logged) -> Callable[..., None]:
    """``fn`` (a typer command) with the audit options, run inside one logged processing."""
    signature = inspect.signature(fn, eval_str=True)
    clash = set(signature.parameters) & set(_OPTIONS)
    if clash:
        raise TypeError(f"the command {name} already has the audit options {sorted(clash)}")

    @functools.wraps(fn)
    def inner(**kwargs: Any) -> None:
        given = {opt: kwargs.pop(opt, None) for opt in _OPTIONS}
        defaults = spec.session(kwargs) if spec.session else {}
        if given["purposes"] or os.environ.get(ENV_REGISTER):
            defaults = {}  # the organisation's own register wins over a shipped one
        parameters = safe_parameters({k: v for k, v in kwargs.items() if k != "ctx"})
        with (
            session(
                analyst=given["analyst"],
                purpose=given["purpose"] or defaults.get("purpose"),
                register=given["purposes"] or defaults.get("register"),
                log=given["audit_log"],
            ),
            processing(name, store=spec.store_of(kwargs), parameters=parameters) as proc,
        ):
            fn(**kwargs)
            for option in spec.outputs:
                if kwargs.get(option):
                    proc.output(Path(kwargs[option]))

    extra = [
        inspect.Parameter(opt, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for opt, annotation in _OPTIONS.items()
    ]
    params = list(signature.parameters.values())
    inner.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    inner.__annotations__ = {p.name: p.annotation for p in [*params, *extra]}
    return inner


def wire(app: typer.Typer) -> None:
    """Log every registered command named in :data:`LOGGED` (called once by ``netanalysis.cli``)."""
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__ if info.callback else None)
        if name in LOGGED and info.callback is not None:
            info.callback = logged_command(info.callback, name, LOGGED[name])


def _log_path(store: str | None, log: Path | None) -> Path:
    if log is not None:
        return log
    if store:
        return audit_log_for(store)
    raise ConfigError("say which audit log: --store STORE (its log) or --log FILE")


StoreOpt = Annotated[
    str | None, typer.Option("--store", help="The store whose log to read (embedded path or URI).")
]
LogOpt = Annotated[
    Path | None,
    typer.Option("--log", help="The audit log file (else the log of --store).", dir_okay=False),
]


def register(app: typer.Typer) -> None:
    """Add ``netanalysis audit show`` and ``netanalysis audit verify``."""
    audit = typer.Typer(
        name="audit",
        help="Read and check the audit log: who processed what, when, for which purpose.",
        no_args_is_help=True,
    )
    app.add_typer(audit)

    @audit.command("show")
    def show_command(
        store: StoreOpt = None,
        log: LogOpt = None,
        date_from: Annotated[
            str | None, typer.Option("--from", help="Entries started on or after this ISO date.")
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help="Entries started on or before this ISO date.")
        ] = None,
        analyst: Annotated[str | None, typer.Option("--analyst", help="Only this analyst.")] = None,
        purpose: Annotated[str | None, typer.Option("--purpose", help="Only this purpose.")] = None,
        command: Annotated[str | None, typer.Option("--command", help="Only this command.")] = None,
        as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    ) -> None:
        """Print the log's entries (filtered) as a table or CSV; says so when its chain is broken."""
        from netanalysis.commands.options import printable
        from netanalysis.graphs import check_iso_date

        path = _log_path(store, log)
        if not path.exists():
            raise ConfigError(f"there is no audit log at {path}")
        check_iso_date(date_from, "--from")
        check_iso_date(date_to, "--to")
        rows = select_entries(
            AuditLog(path).entries(),
            date_from=date_from,
            date_to=date_to,
            analyst=analyst,
            purpose=purpose,
            command=command,
        )
        if as_csv:
            writer = csv.DictWriter(sys.stdout, fieldnames=SHOW_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        else:
            from rich.console import Console
            from rich.table import Table

            # The table keeps what fits a terminal; --csv has every column.
            columns = [c for c in SHOW_COLUMNS if c not in ("end_time", "store")]
            table = Table(title=printable(f"audit log {path}"))
            for column in columns:
                table.add_column(column, justify="right" if column in ("seq", "outputs") else "left")
            for row in rows:
                row = {**row, "start_time": str(row["start_time"] or "")[:19].replace("T", " ")}
                table.add_row(*(printable("" if row[c] is None else row[c]) for c in columns))
            Console(width=max(160, Console().width)).print(table)
        checked = verify(path)
        if not checked.ok:
            typer.echo(f"warning: {checked.reason}; run `netanalysis audit verify`", err=True)

    @audit.command("verify")
    def verify_command(store: StoreOpt = None, log: LogOpt = None) -> None:
        """Check the hash chain; exit 1 naming the first entry edited, removed, reordered or cut off."""
        path = _log_path(store, log)
        checked = verify(path)
        if not checked.ok:
            typer.echo(f"the audit log {path} is not intact: {checked.reason}", err=True)
            raise typer.Exit(1)
        typer.echo(f"the audit log {path} is intact: {checked.entries} entries, chain and head match")
