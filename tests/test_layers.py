"""The layers: every module of the toolkit imports only its own layer or a lower one.

Data flows one way (files -> ``loaders`` -> graph store -> analysis -> outputs), and the imports
follow it. The ranks, lowest first, and why each sits where it does:

0. foundation (``netanalysis.errors``, ``netanalysis.extras``, ``netanalysis.audit``,
   ``netanalysis.purposes``, ``netanalysis.memory``): the root exception and its subclasses, the
   optional parts and the extras that install them, the audit log, the register of purposes and
   the memory limit of a run. Every layer raises the errors and may need an optional part, and
   whatever reads or writes person-level data, at any layer, logs it with its purpose, so they
   import nothing of the toolkit but each other.
1. ``graphstore`` (with ``graphstore.neo4j_server``): the store protocol, its backends, all
   Cypher and the server the Neo4j backend runs on. It knows the schema, not the loaders that
   fill it nor the analysis that reads it.
2. ``loaders``: read, normalise, pseudonymise, resolve and write through the store protocol;
   ``loaders.reference`` owns the reference tables and region levels that the layers above use.
3. ``synth``: writes the loaders' input. It may use the loaders' own definitions (reference
   tables, the folding the place lookup uses) so that what it writes is what they read, but no
   analysis: its ground truth must not depend on the detection it is used to measure.
4. analysis (``netanalysis.projection``, ``groups``, ``movement``, ``keyplayers``, ``leads``, ``addresses``,
   ``graphs``, ``evaluate``, ``detect``, ``indatabase``, ``find``, ``connect``, ``analyse``, ``persons``,
   ``retention``): pure functions over graphs read from the store (retention plans over one, the
   store applies the plan).
5. outputs (``netanalysis.maps``, ``netanalysis.report``, ``netanalysis.export``, ``.anx``,
   ``netanalysis.timeline_figure``): draw and write
   analysis results.
6. application (``netanalysis/__init__``'s lazy table, ``netanalysis.demo``, ``netanalysis.cli``,
   ``netanalysis.commands``, ``netanalysis.__main__``): put the layers together for a user.

Every ``import`` counts: at the top of a module, inside a function, or under ``TYPE_CHECKING``
(a type-only import is still a dependency of the design). One import from the root package is not
an upward import: ``from netanalysis import __version__``. Python runs ``netanalysis/__init__.py``
before any ``netanalysis.*`` module, so its body already belongs to every layer; it imports none
of the toolkit when it runs (the table is lazy), and ``__version__`` is a constant in it. Any other
name taken from the root package goes through the lazy table and counts as rank 6.

A module of ``netanalysis`` that is in none of the lists above fails the test until it is given a
layer here, so a new module cannot slip in unranked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("netanalysis", "loaders", "graphstore", "synth")

ANALYSIS = (
    "projection",
    "groups",
    "movement",
    "keyplayers",
    "leads",
    "addresses",
    "graphs",
    "evaluate",
    "detect",
    "indatabase",
    "lineage",
    "changes",
    "merges",
    "find",
    "connect",
    "analyse",
    "timeline",
    "persons",
    "retention",
)
OUTPUTS = ("maps", "report", "export", "anx", "timeline_figure")
APPLICATION = ("demo", "cli", "commands", "__main__")
LAYER_NAMES = ("foundation", "graphstore", "loaders", "synth", "analysis", "outputs", "application")
# Names of the root package that are part of its own body, not of its lazy table: rank 0.
ROOT_CONSTANTS = frozenset({"__version__"})
FOUNDATION = ("errors", "extras", "audit", "purposes", "memory")


def rank(module: str) -> int | None:
    """The layer of a toolkit module; None for a module outside the toolkit (stdlib, libraries)."""
    parts = module.split(".")
    top, sub = parts[0], parts[1] if len(parts) > 1 else None
    if top == "netanalysis" and sub in FOUNDATION and len(parts) == 2:
        return 0
    if module in {f"netanalysis.{name}" for name in ROOT_CONSTANTS}:
        return 0
    if top == "graphstore":
        return 1
    if top == "loaders":
        return 2
    if top == "synth":
        return 3
    if top != "netanalysis":
        return None
    if sub is None or sub in APPLICATION:
        return 6
    if sub in ANALYSIS:
        return 4
    if sub in OUTPUTS:
        return 5
    raise LookupError(f"{module} has no layer; add it to the lists in tests/test_layers.py")


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def toolkit_sources(root: Path = REPO) -> dict[str, str]:
    """Module name -> source text of every module under the four packages."""
    return {
        module_name(path, root): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }


def packages(root: Path = REPO) -> frozenset[str]:
    """The names of the packages (folders with ``__init__.py``) among the modules."""
    return frozenset(
        module_name(path, root) for name in PACKAGES for path in (root / name).rglob("__init__.py")
    )


def imports(
    module: str, source: str, known: Mapping[str, str], is_package: bool = False
) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import in ``source``, relative ones resolved.

    ``known`` holds the toolkit's module names, so that ``from a import b`` counts as importing
    the module ``a.b`` when there is one and ``a`` otherwise.
    """
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:
                    yield node.lineno, submodule
                elif target == "netanalysis" and alias.name in ROOT_CONSTANTS:
                    yield node.lineno, submodule
                else:
                    yield node.lineno, target


def violations(sources: Mapping[str, str], package_names: frozenset[str] | None = None) -> list[str]:
    """Every import of a higher layer, and every module without a layer, one line each."""
    package_names = packages() if package_names is None else package_names
    found: list[str] = []
    for module, source in sorted(sources.items()):
        try:
            own = rank(module)
        except LookupError as exc:
            found.append(str(exc))
            continue
        assert own is not None
        for line, target in imports(module, source, sources, module in package_names):
            try:
                theirs = rank(target)
            except LookupError as exc:
                found.append(f"{module} line {line}: {exc}")
                continue
            if theirs is not None and theirs > own:
                found.append(
                    f"{module} ({LAYER_NAMES[own]}, {own}) line {line} imports {target} "
                    f"({LAYER_NAMES[theirs]}, {theirs})"
                )
    return found


def test_every_module_imports_only_its_own_layer_or_lower() -> None:
    sources = toolkit_sources()
    assert len(sources) > 80  # the walk found the packages
    found = violations(sources)
    assert not found, f"{len(found)} upward import(s):\n" + "\n".join(found)


def test_every_layer_is_present() -> None:
    ranks = {rank(module) for module in toolkit_sources()}
    assert ranks == set(range(len(LAYER_NAMES)))


def test_a_planted_upward_import_is_reported_with_every_other() -> None:
    sources = toolkit_sources()
    sources["graphstore.base"] += "\n\ndef _planted():\n    from loaders.pipeline import load\n"
    sources["loaders.read"] += "\nif True:\n    import netanalysis.maps\n"
    sources["netanalysis.movement"] += "\nfrom netanalysis import detect, demo, run_pipeline\n"
    sources["synth.noise"] += "\nfrom netanalysis.errors import ConfigError\nfrom . import world\n"
    sources["netanalysis.newthing"] = "X = 1\n"
    found = violations(sources)
    text = "\n".join(found)
    assert "graphstore.base (graphstore, 1) line" in text and "imports loaders.pipeline (loaders, 2)" in text
    assert "loaders.read (loaders, 2)" in text and "imports netanalysis.maps (outputs, 5)" in text
    # the same layer (detect) passes; the application module and the lazy name do not
    assert "imports netanalysis.demo (application, 6)" in text
    assert "netanalysis.movement (analysis, 4)" in text and "imports netanalysis (application, 6)" in text
    assert "netanalysis.newthing has no layer" in text
    assert "synth.noise" not in text  # errors is rank 0, synth.world its own layer
    assert len(found) == 5, text


def test_relative_imports_are_resolved() -> None:
    known = {"loaders": "", "loaders.read": "", "loaders.normalise": "", "loaders.normalise.text": ""}
    package_source = "from . import text\nfrom .. import read\n"
    assert list(imports("loaders.normalise", package_source, known, is_package=True)) == [
        (1, "loaders.normalise.text"),
        (2, "loaders.read"),
    ]
    assert list(imports("loaders.read", "from .normalise.text import fold\n", known)) == [
        (1, "loaders.normalise.text")
    ]
