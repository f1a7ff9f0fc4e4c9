"""Options and steps that several subcommands share, so that they read and behave the same.

Defaults are never written here: every option that sets a library setting takes its default (and,
where the docstring says it well, its help) from the settings dataclass or the function it fills
(``defaults``, ``describe``), so the command line cannot drift from the library.
``tests/test_settings.py`` checks every command's defaults against their sources.

``detect`` and ``map`` take the same detection settings (so group ids on a map match the files of
``detect``) and read the analysis graph from a store in the same way.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from netanalysis.addresses import CrowdedAddressRule
from netanalysis.detect import DetectionSettings
from netanalysis.errors import ConfigError

if TYPE_CHECKING:
    import networkx as nx

    from graphstore import GraphStore

__all__ = [
    "DETECTION_OPTIONS",
    "NESTED_DETECTION_OPTIONS",
    "AllowIncomplete",
    "CrowdedMinPersons",
    "DateFrom",
    "DateTo",
    "Engine",
    "Level",
    "MaxMemory",
    "Method",
    "Resolution",
    "Seed",
    "SettingsFile",
    "StabilityRuns",
    "Store",
    "check_out_file",
    "check_out_folder",
    "defaults",
    "describe",
    "detection_settings",
    "open_cli_store",
    "open_read_store",
    "printable",
    "read_store_graph",
]


def defaults(source: type[Any] | Callable[..., Any]) -> SimpleNamespace:
    """The defaults of a settings dataclass's fields, or of a function's parameters, by name.

    Commands read their option defaults from these (``_D = defaults(DetectionSettings)``, then
    ``level: Level = _D.level``), so a default is written once, in the library.

    Examples
    --------
    >>> defaults(DetectionSettings).level
    'police_unit'
    """
    values: dict[str, Any] = {}
    if dataclasses.is_dataclass(source):
        for f in dataclasses.fields(source):
            if f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
            elif f.default is not dataclasses.MISSING:
                values[f.name] = f.default
    else:
        for name, param in inspect.signature(source).parameters.items():
            if param.default is not inspect.Parameter.empty:
                values[name] = param.default
    return SimpleNamespace(**values)


def describe(cls: type[Any], name: str) -> str:
    """The description of attribute ``name`` in the numpydoc ``Attributes`` section of ``cls``.

    Examples
    --------
    >>> describe(DetectionSettings, "resolution")
    'Resolution of the community detection (higher: smaller groups).'
    """
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Attributes\n----------\n", 1)[-1]
    lines = section.splitlines()
    for i, line in enumerate(lines):
        names = [n.strip() for n in line.split(":", 1)[0].split(",")]
        if not line.startswith(" ") and ":" in line and name in names:
            text = []
            for more in lines[i + 1 :]:
                if more and not more.startswith(" "):
                    break
                text.append(more.strip())
            return re.sub(r"\s+", " ", " ".join(text)).strip().replace("``", "")
    raise KeyError(f"{cls.__name__} does not describe {name}")


Store = Annotated[str, typer.Option("--store", help="Embedded store path or neo4j:// / bolt:// URI.")]
DateFrom = Annotated[
    str | None, typer.Option("--from", help="Only facts observed on or after this ISO date.")
]
DateTo = Annotated[str | None, typer.Option("--to", help="Only facts observed on or before this ISO date.")]
MaxMemory = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        help="Most memory the command may reserve (its address space), e.g. 8G or 512M (else "
        "$NETANALYSIS_MAX_MEMORY): a step that needs more stops with one sentence naming it.",
    ),
]
Level = Annotated[str, typer.Option("--level", help="Region level: police_unit, safety_region or province.")]
Method = Annotated[str, typer.Option("--method", help="Group detection: leiden or louvain.")]
Seed = Annotated[int, typer.Option("--seed", help=describe(DetectionSettings, "seed"))]
Resolution = Annotated[float, typer.Option("--resolution", help=describe(DetectionSettings, "resolution"))]
Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the network, groups and betweenness are computed: local (Python) or gds (inside "
        "the Neo4j server of --store, with the Graph Data Science library).",
    ),
]
StabilityRuns = Annotated[
    int, typer.Option("--stability-runs", help=describe(DetectionSettings, "stability_runs"))
]
SettingsFile = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="Start from the settings.json of an earlier `netanalysis detect` (re-runs it exactly); "
        "options given on the command line override the file.",
        dir_okay=False,
    ),
]

# The command-line parameters that are DetectionSettings fields of the same name.
DETECTION_OPTIONS = (
    "date_from",
    "date_to",
    "level",
    "method",
    "seed",
    "resolution",
    "stability_runs",
    "engine",
)
# The command-line parameters that are fields of a settings object inside DetectionSettings:
# parameter -> (field of DetectionSettings, field of that object).
NESTED_DETECTION_OPTIONS: dict[str, tuple[str, str]] = {"crowded_min_persons": ("crowded", "min_persons")}

CrowdedMinPersons = Annotated[
    int,
    typer.Option("--crowded-min-persons", help=describe(CrowdedAddressRule, "min_persons")),
]


def detection_settings(ctx: typer.Context, settings_file: Path | None) -> DetectionSettings:
    """The detection settings of a command: its ``--settings`` file (or the defaults), with every
    detection option given on the command line put over it; validated."""
    base = DetectionSettings.from_json(settings_file) if settings_file else DetectionSettings()
    # By the enum's name: typer vendors click in recent releases, so the class is not importable
    # from one stable place.

    def on_command_line(name: str) -> bool:
        return name in ctx.params and getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"

    given: dict[str, Any] = {name: ctx.params[name] for name in DETECTION_OPTIONS if on_command_line(name)}
    for name, (outer, inner) in NESTED_DETECTION_OPTIONS.items():
        if on_command_line(name):
            part = given.get(outer, getattr(base, outer))
            given[outer] = dataclasses.replace(part, **{inner: ctx.params[name]})
    return dataclasses.replace(base, **given).validate()


def check_out_folder(path: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an output folder that is a file or lies under one."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                where = "is a file" if part == path else f"lies in {part}, which is a file"
                raise ConfigError(f"{flag} {path} {where}; choose a folder")
            return


def check_out_file(path: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an output file that is a folder or whose folder does not exist."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a folder; give the file to write, e.g. {path / 'out'}")
    if not path.parent.is_dir():
        raise ConfigError(f"the folder {path.parent} does not exist; create it or choose another {flag}")


# Unicode category Cc: C0 (ESC, BEL, CR ...), DEL and C1 (CSI ...).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(value: object, markup: bool = True) -> str:
    """``value`` as text that is safe to print: control characters (terminal escape codes among
    them) removed and, for rich output (``markup=True``), ``[...]`` shown as written, not read as
    markup. Use it for everything that comes from the data (source names, paths, messages).

    Examples
    --------
    >>> printable("gemeente\\x1b]0;OWNED\\x07\\x1b[2J")
    'gemeente]0;OWNED[2J'
    >>> printable("[red]politie_zaken")
    '\\\\[red]politie_zaken'
    >>> printable("[red]politie_zaken", markup=False)
    '[red]politie_zaken'
    """
    text = _CONTROL.sub("", str(value))
    return escape(text) if markup else text


def open_cli_store(store: str) -> GraphStore:
    """Open ``--store`` the way every command does: credentials of a Neo4j URI from the
    environment (``NEO4J_USERNAME``, ``NEO4J_PASSWORD``)."""
    from graphstore import store_from_env

    return store_from_env(store)


AllowIncomplete = Annotated[
    bool,
    typer.Option(
        "--allow-incomplete",
        help="Read the store even while a load writes to it or after a load was cut off (with a "
        "warning): the results then miss part of that load.",
    ),
]


def open_read_store(store: str, allow_incomplete: bool = False) -> GraphStore:
    """Open ``--store`` for a command that only reads: read-only (a load that writes never
    blocks it), refused while the last load is running or did not complete (``graphstore.loads``),
    unless ``allow_incomplete``, which warns instead. A missing embedded store file is a
    ConfigError (opening it would create an empty one)."""
    from graphstore import store_from_env
    from graphstore.loads import incomplete_load_message
    from netanalysis.errors import StoreError

    if "://" not in store and not Path(store).exists():
        raise ConfigError(f"store {store} does not exist; load data first with `netanalysis load`.")
    graph_store = store_from_env(store, read_only=True)
    try:
        problem = incomplete_load_message(graph_store.last_load(), graph_store.uri)
        if problem is not None and not allow_incomplete:
            raise StoreError(f"{problem}, or pass --allow-incomplete to read it as it is")
    except BaseException:
        graph_store.close()
        raise
    if problem is not None:
        typer.echo(
            printable(f"WARNING: {problem}; what follows is made from part of that load", markup=False),
            err=True,
        )
    return graph_store


def read_store_graph(
    store: str, date_from: str | None, date_to: str | None, allow_incomplete: bool = False
) -> nx.MultiDiGraph:
    """The analysis graph of ``store`` within the observation window (see ``open_read_store``)."""
    from netanalysis.graphs import read_analysis_graph

    graph_store = open_read_store(store, allow_incomplete)
    try:
        return read_analysis_graph(graph_store, date_from, date_to)
    finally:
        graph_store.close()
