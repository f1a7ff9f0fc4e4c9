"""The ``netanalysis`` command line: a thin layer over the Python API.

Each subcommand lives in ``netanalysis/commands/<name>.py`` with a ``register(app)`` function and
is listed in ``COMMANDS``. Errors the toolkit raises on purpose become one sentence on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import errno
import importlib
import sys

import typer

from netanalysis.errors import NetanalysisError

# Only subcommands that work are listed here.
COMMANDS: list[str] = [
    "analyse",
    "audit",
    "changes",
    "connect",
    "demo",
    "detect",
    "encode",
    "erase",
    "evaluate",
    "export",
    "find",
    "keygen",
    "load",
    "map",
    "merges",
    "neo4j",
    "persons",
    "report",
    "retention",
    "synth",
    "timeline",
]

app = typer.Typer(
    name="netanalysis",
    help="Find human-trafficking perpetrator networks that move victims across Dutch regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Find human-trafficking perpetrator networks that move victims across Dutch regions."""


for _name in COMMANDS:
    importlib.import_module(f"netanalysis.commands.{_name}").register(app)

# Every command that processes person-level data is logged, in one place (netanalysis.commands.audit).
importlib.import_module("netanalysis.commands.audit").wire(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Usage errors are reported by typer itself (exit code 2); the toolkit's own errors become one
    sentence on stderr and exit code 2.
    """
    try:
        app(args=argv, prog_name="netanalysis")
    except NetanalysisError as exc:
        # Messages may quote the data (a source or column name): no terminal escapes from it.
        from netanalysis.commands.options import printable

        typer.echo(f"error: {printable(exc, markup=False)}", err=True)
        return 2
    except ImportError as exc:
        from netanalysis.extras import missing_extra

        error = missing_extra(exc)
        if error is None:
            raise
        typer.echo(f"error: {error}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        # A full disk can hit any file a command writes (rejects, outputs, logs); the store's
        # own writes say more (graphstore), this is for the rest.
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        where = f" while writing {exc.filename}" if exc.filename else ""
        typer.echo(
            f"error: the disk is full ({exc.strerror}){where}. Free space and run the command "
            "again: it ends as an uninterrupted run would",
            err=True,
        )
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
