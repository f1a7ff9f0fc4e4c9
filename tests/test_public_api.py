"""The public API: ``netanalysis.__all__`` is pinned, every name resolves and is documented, and
the notebooks and the code examples in the docs import nothing from the toolkit but ``netanalysis``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import netanalysis

REPO = Path(__file__).resolve().parents[1]

# The public names, by theme as in docs/api.md. Adding or removing one is an API change: update
# this list, docs/api.md and netanalysis/__init__.py together.
EXPECTED = {
    "__version__",
    # errors
    "AccessRefused",
    "AuditWriteError",
    "ConfigError",
    "InputFileError",
    "NetanalysisError",
    "SchemaError",
    "StoreError",
    "StoreUnavailable",
    # the audit log and the processing register
    "audit_session",
    "load_register",
    "verify_audit_log",
    # keys
    "Pseudonymiser",
    "keygen",
    "load_key",
    # loading
    "LoadSummary",
    "SourceCounts",
    "assign_files",
    "initial_import",
    "load",
    "load_mapping",
    "read_records",
    # encoding and the hub
    "EncodedExport",
    "EncodingSchema",
    "ExportSummary",
    "encode",
    "encode_records",
    "load_encoded",
    "read_export",
    # reference tables
    "municipalities",
    "municipality",
    "region_name",
    "region_of",
    "regions",
    "resolve_place",
    # stores and the toolkit's own Neo4j server
    "GraphSchema",
    "GraphSlice",
    "GraphStore",
    "load_schema",
    "neo4j_start",
    "neo4j_status",
    "neo4j_stop",
    "open_store",
    "store_from_env",
    "key_from_env",
    # detection and analysis
    "DetectionResult",
    "DetectionSettings",
    "EvidenceWeights",
    "GroupStability",
    "LeadWeights",
    "Move",
    "PriorityWeights",
    "attach_victims",
    "brokerage_roles",
    "detect",
    "detect_store",
    "read_detection",
    "CrowdedAddressRule",
    "crowded_address_leads",
    "crowded_addresses",
    "shared_hubs",
    "disruption",
    "find_groups",
    "find_leads",
    "fragmentation_if_removed",
    "group_stability",
    "key_players",
    "municipality_regions",
    "perpetrator_network",
    "person_moves",
    "read_analysis_graph",
    "read_detection_graph",
    "read_evidence_graph",
    "read_report_graph",
    "reliability_factor",
    "suspects",
    # groups over time
    "Changes",
    "changes",
    "follow_groups",
    "keep_groups",
    "match_groups",
    "read_merges",
    "read_splits",
    # investigation
    "ConnectingNetwork",
    "PersonMatch",
    "connecting_network",
    "find_person",
    "record_persons",
    # any network
    "NetworkAnalysis",
    "analyse_network",
    "read_network",
    # maps
    "NetworkMap",
    "connecting_map",
    "ego_map",
    "group_map",
    "region_map",
    # exports
    "export_network",
    "select_network",
    # timeline
    "group_timeline",
    "timeline_figure",
    # report
    "Period",
    "Report",
    "ReportSettings",
    "build_report",
    # how much memory a run may take
    "MemorySettings",
    # retention and erasure
    "ErasureResult",
    "apply_retention",
    "erase_records",
    "read_retention_policy",
    # evaluation, synthetic data, demo
    "Evaluation",
    "SynthSummary",
    "evaluate",
    "generate",
    "run_pipeline",
}

# Top-level packages of this repository: an example may import only ``netanalysis`` itself.
TOOLKIT_PACKAGES = {"netanalysis", "loaders", "graphstore", "synth"}

# Where analysts copy code from: the notebooks and the ```python blocks of these pages.
DOC_PAGES = sorted([REPO / "README.md", REPO / "data_samples" / "README.md", *(REPO / "docs").glob("*.md")])
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

_PYTHON_BLOCK = re.compile(r"^```(?:python|py)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# IPython lines (magics, shell escapes) are not Python; they import nothing.
_IPYTHON_LINE = re.compile(r"^\s*[%!].*$", re.MULTILINE)


def test_all_is_pinned() -> None:
    assert netanalysis.__all__ == sorted(netanalysis.__all__)
    assert set(netanalysis.__all__) == EXPECTED
    assert len(netanalysis.__all__) == len(EXPECTED)
    assert dir(netanalysis) == netanalysis.__all__


@pytest.mark.parametrize("name", sorted(EXPECTED - {"__version__"}))
def test_public_name_resolves_and_has_a_docstring(name: str) -> None:
    value = getattr(netanalysis, name)
    doc = value.__doc__
    # A dataclass without a docstring gets its signature as __doc__: that is not documentation.
    if isinstance(value, type) and dataclasses.is_dataclass(value) and doc:
        doc = None if doc.startswith(f"{value.__name__}(") else doc
    assert doc and doc.strip(), f"netanalysis.{name} has no docstring"


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_submodule_never_hides_a_public_name() -> None:
    """``na.detect`` is the function even after ``netanalysis.detect`` (the module) is imported.

    Python binds an imported submodule as an attribute of its package, so without the package's
    redirect ``na.DetectionSettings`` followed by ``na.detect(graph)`` calls a module.
    """
    code = (
        "import importlib, types, netanalysis as na\n"
        "na.DetectionSettings\n"
        "for target in set(na._LAZY.values()):\n"
        "    importlib.import_module(target.partition(':')[0])\n"
        "print(sorted(n for n in na.__all__ if isinstance(getattr(na, n), types.ModuleType)))\n"
        "print(*(getattr(f, '__module__', 'a module') for f in (na.detect, na.evaluate)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "netanalysis.detect netanalysis.evaluate"]


def test_version_is_a_string() -> None:
    assert isinstance(netanalysis.__version__, str) and netanalysis.__version__


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        netanalysis.no_such_thing  # noqa: B018


def test_import_stays_light() -> None:
    heavy = "('matplotlib', 'weasyprint', 'igraph')"
    code = f"import sys, netanalysis; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_command_line_starts_without_drawing_libraries() -> None:
    """Every ``netanalysis`` command imports all subcommands first: what they import at the top is
    paid by each start (it was 1.5 CPU s with igraph, matplotlib and jinja2, now about 0.8)."""
    heavy = "('matplotlib', 'weasyprint', 'igraph', 'jinja2', 'pyvis', 'nbclient', 'splink')"
    code = f"import sys, netanalysis.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_loaders_never_import_netanalysis() -> None:
    """Loaders see only the root package (the lazy public API shell) and the foundation they use:
    the errors and the audit log (a load is logged, tests/test_layers.py)."""
    code = (
        "import sys, loaders.pipeline, loaders.encode, loaders.hub, loaders.initial_import; "
        "print([m for m in sys.modules if m.startswith('netanalysis.') "
        "and m not in ('netanalysis.errors', 'netanalysis.audit')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------------------------
# Notebooks and docs use only the public API


def internal_imports(code: str) -> list[str]:
    """The imports in ``code`` that reach into the toolkit other than through the public API.

    ``import netanalysis`` and ``from netanalysis import <public name>`` are fine; a submodule
    (``netanalysis.maps``), a name not in ``__all__``, or another package of the toolkit is not.

    >>> internal_imports("import netanalysis as na\\nimport pandas as pd\\nfrom netanalysis import detect")
    []
    >>> internal_imports("from loaders.pipeline import load\\nfrom netanalysis import maps")
    ['from loaders.pipeline import load', 'from netanalysis import maps']
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(_IPYTHON_LINE.sub("", code))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in TOOLKIT_PACKAGES and alias.name != "netanalysis":
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module.split(".")[0] not in TOOLKIT_PACKAGES:
                continue
            public = module == "netanalysis" and all(a.name in netanalysis.__all__ for a in node.names)
            if not public:
                found.append(f"from {module} import {', '.join(a.name for a in node.names)}")
    return found


def notebook_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def python_blocks(path: Path) -> list[str]:
    return _PYTHON_BLOCK.findall(path.read_text(encoding="utf-8"))


def test_the_examples_are_found() -> None:
    assert len(NOTEBOOKS) >= 7
    assert sum(len(python_blocks(p)) for p in DOC_PAGES) >= 5
    # The checker sees an internal import where one is.
    assert internal_imports("import os\nfrom graphstore import open_store") == [
        "from graphstore import open_store"
    ]
    assert internal_imports("def f():\n    import synth.world as w\n") == ["import synth.world"]
    assert internal_imports("%matplotlib inline\nimport netanalysis.maps") == ["import netanalysis.maps"]
    assert internal_imports("from netanalysis import detect, DetectionSettings") == []
    assert internal_imports("from netanalysis.detect import detect") == [
        "from netanalysis.detect import detect"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_imports_only_netanalysis(path: Path) -> None:
    for index, code in enumerate(notebook_cells(path)):
        found = internal_imports(code)
        assert not found, f"{path.name}, code cell {index}: use `import netanalysis as na`, not {found}"


@pytest.mark.parametrize("path", DOC_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_docs_examples_import_only_netanalysis(path: Path) -> None:
    for index, code in enumerate(python_blocks(path)):
        found = internal_imports(code)
        assert not found, (
            f"{path.relative_to(REPO)}, python block {index}: use `import netanalysis as na`, not {found}"
        )


@pytest.mark.parametrize("path", [*NOTEBOOKS, *DOC_PAGES], ids=lambda p: str(p.relative_to(REPO)))
def test_examples_use_only_public_names(path: Path) -> None:
    """Every ``na.<name>`` an example uses is in ``__all__``, so none leans on an internal module."""
    blocks = notebook_cells(path) if path.suffix == ".ipynb" else python_blocks(path)
    for code in blocks:
        used = set(re.findall(r"\bna\.(\w+)", code))
        assert used <= set(netanalysis.__all__), f"{path.relative_to(REPO)} uses na.{sorted(used - EXPECTED)}"


def test_api_page_lists_every_public_name() -> None:
    """docs/api.md has one table row per public name (first column), and names nothing else there."""
    listed: list[str] = []
    for line in (REPO / "docs" / "api.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            listed += re.findall(r"`(\w+)[^`]*`", first_cell)
    assert sorted(listed) == sorted(EXPECTED - {"__version__"})
