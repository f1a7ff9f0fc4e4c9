"""Every module's docstring examples run as tests (networkx habit: examples that cannot rot)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("netanalysis", "loaders", "graphstore", "synth")


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            if not info.name.endswith("__main__"):  # importing it runs the command line
                names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_every_package_is_walked_and_examples_exist() -> None:
    assert {"netanalysis.detect", "loaders.pipeline", "graphstore.embedded", "synth"} <= set(MODULES)
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for n in MODULES for t in finder.find(importlib.import_module(n)))
    assert examples > 50, examples


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
