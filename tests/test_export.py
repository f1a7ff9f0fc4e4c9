"""Exports for other tools (issue 18 item 5): GraphML, GEXF and CSV of a selection of the analysis
graph, on the samples loaded into an embedded store, from the API and the command line.

The samples hold clear names in their source files (they are synthetic); an export must hold
only the pseudonyms and attributes of the graph.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from privacy_scan import sample_clear_words

from graphstore.embedded import EmbeddedStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.export import export_network, links_path, select_network
from netanalysis.graphs import read_analysis_graph

DATA = Path(__file__).resolve().parents[1] / "data_samples"

Sample = tuple[Path, nx.MultiDiGraph, Path]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The samples loaded into an embedded store with a throw-away key, and one detection of it:
    (store, graph, detection folder)."""
    folder = tmp_path_factory.mktemp("export")
    key_path = keygen(folder / "throwaway.key")
    store = EmbeddedStore(folder / "graph.sqlite")
    try:
        load([DATA / "sources"], store, DATA / "sources.yaml", key_path, rejects_path=folder / "rejects.csv")
        graph = read_analysis_graph(store)
    finally:
        store.close()
    detected = folder / "detected"
    args = [
        "detect",
        "--store",
        str(folder / "graph.sqlite"),
        "--out",
        str(detected),
        "--stability-runs",
        "2",
    ]
    assert main(args) == 0
    return folder / "graph.sqlite", graph, detected


def _suspect(graph: nx.MultiDiGraph) -> str:
    """The suspect with the most links: the centre of the neighbourhood exports.

    Chosen by links, not by pseudonym alone: the key is new every run, and the first pseudonym
    was now and then a suspect whose neighbourhood ends after one link (the depth test failed).
    """
    suspects = sorted({u for u, _, d in graph.edges(data=True) if d.get("type") == "SUSPECT_IN"})
    return max(suspects, key=graph.degree)


def _edge_ids(graph: nx.MultiDiGraph) -> Counter[tuple[str, str, str]]:
    return Counter((u, v, f"{u}|{v}|{k}") for u, v, k in graph.edges(keys=True))


def _read_back(path: Path, fmt: str) -> nx.MultiDiGraph:
    read = nx.read_graphml(path, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(path)
    # networkx reads a GEXF file without parallel links as a DiGraph; the links are the same.
    assert read.is_directed()
    return nx.MultiDiGraph(read)


def _first_group(detected: Path) -> str:
    groups = pd.read_csv(detected / "groups.csv", dtype=str)
    return str(groups["group_id"].iloc[0])


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_graphml_and_gexf_read_back_as_the_selection(sample: Sample, tmp_path: Path, fmt: str) -> None:
    _, graph, detected = sample
    groups = pd.read_csv(detected / "groups.csv", dtype=str)
    group = _first_group(detected)
    selections: dict[str, dict[str, Any]] = {
        "around": {"around": _suspect(graph), "depth": 2},
        "group": {"group_ids": [group], "detection": groups},
    }  # the whole graph is read back in test_no_clear_identifier_reaches_an_export
    for name, how in selections.items():
        expected = select_network(graph, **how)
        path = tmp_path / f"{name}.{fmt}"
        assert export_network(graph, path, fmt, **how) == [path]
        read = _read_back(path, fmt)
        assert set(read.nodes) == set(expected.nodes)
        assert read.number_of_edges() == expected.number_of_edges()
        ids = Counter((u, v, str(d["id"])) for u, v, d in read.edges(data=True))
        assert ids == _edge_ids(expected)
        # The relationship and list attributes survive as plain values.
        types = Counter(str(d["relationship"]) for *_, d in read.edges(data=True))
        assert types == Counter(str(d["type"]) for *_, d in expected.edges(data=True))
        for node, attrs in expected.nodes(data=True):
            if attrs.get("roles"):
                assert read.nodes[node]["roles"] == ";".join(attrs["roles"])
    # The group export holds the group's persons (those in the graph) and no provenance nodes.
    members = {f"Person:{p}" for p in groups.loc[groups["group_id"] == group, "person_id"]}
    chosen = select_network(graph, group_ids=[group], detection=groups)
    assert members & set(graph) and members & set(graph) <= set(chosen)
    assert not {n for n, d in chosen.nodes(data=True) if d.get("label") in {"Record", "Source", "Region"}}
    # The neighbourhood export is the ego selection: nothing farther than depth links.
    one = select_network(graph, around=_suspect(graph), depth=1)
    assert set(one) < set(select_network(graph, around=_suspect(graph), depth=2))


def test_csv_writes_entities_and_links(sample: Sample, tmp_path: Path) -> None:
    _, graph, _ = sample
    how = {"around": _suspect(graph), "depth": 2}
    expected = select_network(graph, **how)
    out = tmp_path / "chart.csv"
    assert export_network(graph, out, "csv", **how) == [out, links_path(out)]
    with out.open(encoding="utf-8") as handle:
        entities = list(csv.DictReader(handle))
    with links_path(out).open(encoding="utf-8") as handle:
        links = list(csv.DictReader(handle))
    assert list(entities[0])[:2] == ["entity_id", "entity_type"]
    assert list(links[0])[:4] == ["link_id", "from_id", "to_id", "link_type"]
    assert {r["entity_id"] for r in entities} == set(expected.nodes)
    assert len(entities) == expected.number_of_nodes()
    assert {r["entity_id"]: r["entity_type"] for r in entities} == dict(expected.nodes(data="label"))
    assert Counter((r["from_id"], r["to_id"], r["link_id"]) for r in links) == _edge_ids(expected)
    assert Counter(r["link_type"] for r in links) == Counter(t for *_, t in expected.edges(data="type"))


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_no_clear_identifier_reaches_an_export(sample: Sample, tmp_path: Path) -> None:
    store, graph, _ = sample
    clear = sample_clear_words()
    assert len(clear) > 50  # the check has names to look for
    for fmt in ("graphml", "gexf", "csv"):
        out = tmp_path / f"all.{fmt}"
        assert main(["export", "--store", str(store), "--format", fmt, "--all", "--out", str(out)]) == 0
        written = [out, links_path(out)] if fmt == "csv" else [out]
        if fmt != "csv":  # the command's whole-graph export reads back as the store's graph
            read = _read_back(out, fmt)
            assert set(read.nodes) == set(graph.nodes)
            assert Counter((u, v, str(d["id"])) for u, v, d in read.edges(data=True)) == _edge_ids(graph)
        for path in written:
            words = {w.lower() for w in re.findall(r"\w+", path.read_text(encoding="utf-8"))}
            assert not clear & words, f"{path.name} holds clear identifiers"


def _one_sentence(capsys: Any) -> str:
    err = str(capsys.readouterr().err).strip()
    assert err and "\n" not in err and "Traceback" not in err
    return err


def test_command_refuses_bad_selections_in_one_sentence(sample: Sample, tmp_path: Path, capsys: Any) -> None:
    store, graph, detected = sample
    base = ["export", "--store", str(store), "--out", str(tmp_path / "x.graphml")]
    # An unknown format.
    assert main([*base, "--format", "pdf", "--all"]) == 2
    assert "unknown export format" in _one_sentence(capsys)
    # An unknown node.
    assert main([*base, "--format", "graphml", "--around", "Person:nobody"]) == 2
    assert "not in the graph" in _one_sentence(capsys)
    # An unknown group.
    assert main([*base, "--format", "graphml", "--group", "G999", "--detected", str(detected)]) == 2
    assert "group G999 is not in the detection" in _one_sentence(capsys)
    # An empty selection: a group whose persons are not in this store.
    other = tmp_path / "other"
    other.mkdir()
    pd.DataFrame({"group_id": ["G001"], "person_id": ["0" * 32]}).to_csv(other / "groups.csv", index=False)
    assert main([*base, "--format", "graphml", "--group", "G001", "--detected", str(other)]) == 2
    assert "the selection is empty" in _one_sentence(capsys)
    # No selection, two selections, a group without its detection.
    assert main([*base, "--format", "gexf"]) == 2
    assert "say what to export" in _one_sentence(capsys)
    assert main([*base, "--format", "gexf", "--all", "--around", _suspect(graph)]) == 2
    _one_sentence(capsys)
    assert main([*base, "--format", "gexf", "--group", "G001"]) == 2
    assert "--detected" in _one_sentence(capsys)
    assert not (tmp_path / "x.graphml").exists()
    with pytest.raises(ConfigError, match="depth must be between 1 and 4"):
        select_network(graph, around=_suspect(graph), depth=5)


def test_command_is_audited_with_the_files_it_wrote(sample: Sample, tmp_path: Path, capsys: Any) -> None:
    store, graph, detected = sample
    group = _first_group(detected)
    out = tmp_path / "g.csv"
    args = ["export", "--store", str(store), "--format", "csv", "--out", str(out)]
    assert main([*args, "--group", group, "--detected", str(detected)]) == 0
    assert "export written to" in capsys.readouterr().out
    entry = json.loads(Path(f"{store}.audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    attributes = entry["attributes"]
    assert attributes["netanalysis.command"] == "export"
    outputs = attributes["netanalysis.outputs"]
    assert len(outputs) == 2
    assert str(out) in json.dumps(outputs) and str(links_path(out)) in json.dumps(outputs)
