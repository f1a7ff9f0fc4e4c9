"""The store reads tell their progress (issue 21 item 4): the rows read so far, increasing,
ending at the rows returned, on both stores, and the same graph with and without it; the
``detect`` and ``report`` commands show the read with rows, rows per second and the time left.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest

import graphstore.base
import netanalysis as na
from graphstore.base import GraphSlice, GraphStore, RowCounter
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.graphs import REPORT_ATTR, store_labels

DATA = Path(__file__).resolve().parents[1] / "data_samples"


def as_data(g: nx.MultiDiGraph) -> tuple[object, object]:
    nodes = dict(g.nodes(data=True))
    return nodes, sorted((u, v, k, sorted(a.items())) for u, v, k, a in g.edges(keys=True, data=True))


def recorder(calls: list[tuple[int, int]]) -> Callable[[int, int], None]:
    def tell(done: int, total: int) -> None:
        calls.append((done, total))

    return tell


def increasing(calls: list[int]) -> bool:
    return all(a < b for a, b in zip(calls, calls[1:], strict=False))


def test_the_counter_tells_every_few_rows_and_once_at_the_end() -> None:
    calls: list[int] = []
    counter = RowCounter(calls.append, every=4)
    assert list(counter.rows(range(10))) == list(range(10))
    assert list(counter.rows(iter("abc"))) == ["a", "b", "c"]
    assert calls == [4, 8, 13]  # the 2 rows left of the first cursor counted with the next
    list(counter.rows(range(2)))
    counter.finish()
    assert calls == [4, 8, 13, 15]
    # A read retried from the start does not step back; an empty read still ends with a call.
    counter.restart()
    list(counter.rows(range(6)))
    counter.finish()
    assert calls == [4, 8, 13, 15]
    empty: list[int] = []
    none = RowCounter(empty.append)
    none.finish()
    assert empty == [0]
    silent = RowCounter(None)
    rows = [1, 2]
    assert silent.rows(rows) is rows  # no progress: the rows as they are, nothing counted


@pytest.fixture
def loaded(store: GraphStore, tmp_path: Path) -> GraphStore:
    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    return store


@pytest.mark.parametrize("every", [7, 5000])
def test_store_reads_tell_increasing_counts_ending_at_the_rows_returned(
    loaded: GraphStore, every: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphstore.base, "PROGRESS_EVERY", every)
    calls: list[int] = []
    whole = loaded.read_graph(None, calls.append)
    assert as_data(whole) == as_data(loaded.read_graph())
    assert increasing(calls) and calls[-1] == whole.number_of_nodes() + whole.number_of_edges()
    assert len(calls) > 100 if every == 7 else len(calls) <= 1 + calls[-1] // every

    labels = frozenset(store_labels(loaded)) - {"Group", "Merge"}
    window = GraphSlice(
        labels=labels - {"Record"}, observed_from="2023-01-01", properties=frozenset({"roles"})
    )
    calls = []
    part = loaded.read_graph(window, calls.append)
    assert as_data(part) == as_data(loaded.read_graph(window))
    # Rows of other label pairs may be read and left out: the count is what was read.
    assert increasing(calls) and calls[-1] >= part.number_of_nodes() + part.number_of_edges() > 0

    calls = []
    rows = loaded.provenance_rows(labels, None, "2024-06-30", calls.append)
    assert rows == loaded.provenance_rows(labels, None, "2024-06-30")
    assert increasing(calls) and calls[-1] == len(rows.person_rows) + len(rows.signal_rows) > 0

    calls = []
    props = loaded.node_properties("Person", ["gender", "roles"], calls.append)
    assert props == loaded.node_properties("Person", ["gender", "roles"])
    assert increasing(calls) and calls[-1] == len(props) > 0

    persons = frozenset(key for key, *_ in props[:3])
    calls = []
    around = loaded.read_graph(GraphSlice(person_ids=persons), calls.append)
    assert calls == [around.number_of_nodes() + around.number_of_edges()]


def test_analysis_detection_and_report_reads_count_up_to_the_stores_counts(
    loaded: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphstore.base, "PROGRESS_EVERY", 50)
    reads = ((na.read_detection_graph, ()), (na.read_report_graph, ()), (na.read_analysis_graph, ()))
    for read, args in reads:
        calls: list[tuple[int, int]] = []
        graph = read(loaded, *args, progress=recorder(calls))
        plain = read(loaded, *args)
        assert as_data(graph) == as_data(plain)
        for name in ("provenance", REPORT_ATTR):
            assert graph.graph.get(name) == plain.graph.get(name)
        done = [d for d, _ in calls]
        (total,) = {t for _, t in calls}  # one total, known before the first row
        assert increasing(done) and len(done) > 10
        # The total is an upper bound; with no window left out, the read comes near it.
        assert graph.number_of_nodes() + graph.number_of_edges() <= done[-1] <= total
        assert done[-1] > 0.5 * total
    calls = []
    na.read_detection_graph(loaded, "2024-01-01", None, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] < total


@pytest.mark.slow  # a detection and a report of the samples: over 1.5 CPU s
def test_detect_and_report_show_the_read_with_its_rate_in_a_terminal(
    loaded: GraphStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    na.read_detection_graph(loaded, progress=lambda done, total: calls.append(done))
    uri = str(getattr(loaded, "uri", ""))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: standard error counts as a terminal
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "d"), "--seed", "1"]) == 0
    shown = capsys.readouterr().err
    # The read ends at the rows it read, with its rate in rows (the detection counts stages).
    line = next(x for x in shown.splitlines()[::-1] if "read the detection graph" in x)
    assert f" {calls[-1]:,} " in line and re.search(r"[\d,]+ rows/s", line), line
    assert "stages/s" in shown or "detect (stages)" in shown

    # Under a memory ceiling the read is the evidence; the steps read around the groups as they go.
    evidence = na.read_evidence_graph(loaded)
    rows = evidence.number_of_nodes() + evidence.number_of_edges()
    around = ["detect", "--store", uri, "--out", str(tmp_path / "m"), "--seed", "1", "--max-memory", "8G"]
    assert main(around) == 0
    shown = capsys.readouterr().err
    line = next(x for x in shown.splitlines()[::-1] if "read the evidence" in x)
    assert f" {rows:,} " in line and re.search(r"[\d,]+ rows/s", line), line
    assert "read the detection graph" not in shown
    assert (tmp_path / "m" / "groups.csv").read_bytes() == (tmp_path / "d" / "groups.csv").read_bytes()

    args = ["report", "--store", uri, "--period", "2024", "--lang", "en", "--no-pdf"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    shown = capsys.readouterr().err
    line = next(x for x in shown.splitlines()[::-1] if "read the graph" in x)
    assert re.search(r"[\d,]+ rows/s", line), line
    monkeypatch.delenv("TTY_COMPATIBLE")
    assert main([*args, "--out", str(tmp_path / "pipe")]) == 0
    assert "rows/s" not in capsys.readouterr().err
