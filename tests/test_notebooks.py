"""The analyst notebooks in notebooks/ run top to bottom, and are committed without outputs.

Each notebook is executed with nbclient in a kernel that runs this very Python (the project's
venv): a kernel spec pointing at ``sys.executable`` is written to a private ``JUPYTER_PATH``
folder, so a ``python3`` kernel installed for the user or the system can never be picked up
instead. Every notebook runs on the embedded store; notebook 02 also on the real Neo4j server
(``NETANALYSIS_STORE`` is the switch the notebooks read). A failing cell fails the test with
that cell's error. notebooks/07_linking_across_regions.ipynb has its own test.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from conftest import DATA_SAMPLES as SAMPLES
from conftest import Neo4jConnection
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from loaders.mapping import load_mapping

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OWN_TEST = {"07_linking_across_regions.ipynb"}
KERNEL = "netanalysis-tests"
# A hang guard, not a speed requirement (speed is measured in benchmarks/).
CELL_TIMEOUT = 600

# What a notebook must show beyond running without error: the MIME type and a piece of text
# that one of its outputs holds (the maps inline, the figures as images).
EXPECTED_OUTPUTS: dict[str, list[tuple[str, str]]] = {
    "01_quick_start.ipynb": [("text/html", "rejected")],
    "02_cross_regional_groups.ipynb": [("text/html", "netanalysis map")],
    "03_key_players_and_disruption.ipynb": [("text/html", "netanalysis map"), ("image/png", "")],
    "04_signals_to_leads.ipynb": [("text/html", "netanalysis map")],
    "05_rapporteur_report.ipynb": [("image/png", ""), ("image/svg+xml", "<svg")],
    "06_bring_your_own_export.ipynb": [("text/html", "meldpunt")],
    "08_monthly_routine.ipynb": [("text/html", "new_regions"), ("text/plain", "kept")],
    # find, connect, the timeline (figure and the group map's slider), the i2 chart and GEXF
    "09_investigation.ipynb": [
        ("text/html", "netanalysis map"),
        ("image/png", ""),
        ("text/html", "links by source grade"),
        ("text/html", "f-time"),
    ],
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WORD = re.compile(r"[^\W\d_]+")


def committed_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def story_notebooks() -> list[Path]:
    return [p for p in committed_notebooks() if p.name not in OWN_TEST]


@pytest.fixture(scope="session")
def kernel_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JUPYTER_PATH folder with a kernel spec for this interpreter."""
    home = tmp_path_factory.mktemp("jupyter")
    spec_dir = home / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "netanalysis tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return home


@pytest.fixture()
def kernel_env(kernel_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JUPYTER_PATH first in Jupyter's search; the kernel inherits this environment."""
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_home))
    # A store, key or sample folder the user has set for their own work must not leak in.
    for name in ("NETANALYSIS_STORE", "NETANALYSIS_KEY_FILE", "NETANALYSIS_SAMPLES"):
        monkeypatch.delenv(name, raising=False)


def execute(path: Path) -> nbformat.NotebookNode:
    """Run the notebook in its own folder; fail with the failing cell's source and error."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell failed\n{_ANSI.sub('', str(exc))}", pytrace=False)
    return nb


def outputs_of(nb: nbformat.NotebookNode) -> list[Any]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


@functools.cache
def sample_name_words() -> frozenset[str]:
    """Words of five letters or more from the clear names in the sample exports.

    The name columns come from the samples' mapping file. Words that are also part of a place
    name in the reference tables are left out: a municipality on a region map is not a leak.
    """
    mapping = load_mapping(SAMPLES / "sources.yaml")
    names: list[str] = []
    for source in mapping.sources:
        columns = [c for c, f in source.columns.items() if f in {"first_name", "last_name", "full_name"}]
        for pattern in source.files:
            for path in (SAMPLES / "sources").glob(pattern):
                if source.format == "excel":
                    frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=str)
                else:
                    frame = pd.read_csv(
                        path,
                        sep=source.delimiter,
                        encoding=source.encoding,
                        dtype=str,
                        keep_default_na=False,
                        on_bad_lines="skip",
                    )
                for column in columns:
                    names += [str(v) for v in frame[column].dropna()]
    places: set[str] = set()
    for table in ("municipalities.csv", "places.csv", "aliases.csv", "regions.csv"):
        text = (REPO / "loaders" / "reference" / table).read_text(encoding="utf-8")
        places |= set(_WORD.findall(text.lower()))
    words = {w for name in names for w in _WORD.findall(name) if len(w) >= 5}
    return frozenset(w for w in words if w.lower() not in places)


def test_story_notebooks_are_found() -> None:
    names = [p.name for p in story_notebooks()]
    assert names == sorted(EXPECTED_OUTPUTS), names


def test_kernel_runs_the_project_python(kernel_env: None) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT).execute()
    printed = _text(nb.cells[0].outputs[0]["text"]).strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()


@pytest.mark.slow
@pytest.mark.parametrize("path", story_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_on_the_embedded_store(path: Path, kernel_env: None) -> None:
    watched = {folder: _tree(folder) for folder in (REPO / "notebooks", REPO / "data_samples")}
    nb = execute(path)
    for folder, before in watched.items():
        assert _tree(folder) == before, f"{path.name} wrote into {folder.relative_to(REPO)}"
    outputs = outputs_of(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    for mime, needle in EXPECTED_OUTPUTS[path.name]:
        shown = [_text(o["data"][mime]) for o in outputs if mime in o.get("data", {})]
        assert any(needle in s for s in shown), f"{path.name} shows no {mime} output with {needle!r}"
    # Nothing the notebook shows (tables, maps, figures) holds a clear name from the samples.
    rendered = set(_WORD.findall(json.dumps(outputs, ensure_ascii=False)))
    leaked = sorted(rendered & sample_name_words())
    assert not leaked, f"{path.name} shows clear names from the samples: {leaked[:10]}"


@pytest.mark.neo4j
@pytest.mark.slow
def test_cross_regional_groups_notebook_runs_on_neo4j(
    neo4j_clean: Neo4jConnection, kernel_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graphstore import open_store

    monkeypatch.setenv("NETANALYSIS_STORE", neo4j_clean.uri)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_clean.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_clean.password)
    nb = execute(NOTEBOOKS / "02_cross_regional_groups.ipynb")
    printed = "".join(_text(o.get("text", "")) for o in outputs_of(nb))
    assert f"graph store: {neo4j_clean.uri}" in printed
    # The groups came from the server: the samples were loaded into it.
    store = open_store(neo4j_clean.uri, user=neo4j_clean.user, password=neo4j_clean.password)
    try:
        counts = store.counts()
    finally:
        store.close()
    assert counts["Person"] > 0 and counts["SEEN_AT"] > 0
    html = [_text(o["data"]["text/html"]) for o in outputs_of(nb) if "text/html" in o.get("data", {})]
    assert sum("netanalysis map" in h for h in html) >= 2


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: cell {index} has outputs"
        assert cell.get("execution_count") is None, f"{path.name}: cell {index} has an execution count"


def test_notebooks_use_no_private_names() -> None:
    """Only the public API: no ``_private`` import or attribute from the toolkit's packages."""
    private = re.compile(
        r"(?:from\s+(?:netanalysis|loaders|graphstore)[\w.]*\s+import\s+[^\n]*\b_\w+)"
        r"|(?:\b(?:netanalysis|loaders|graphstore)(?:\.\w+)*\._\w+)"
    )
    for path in story_notebooks():
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not private.search(cell.source), f"{path.name} uses a private name:\n{cell.source}"
