"""Exports for other tools (issue 18 item 5): GraphML, GEXF, i2 ANX and CSV of a selection of the analysis
graph, on the samples loaded into an embedded store, from the API and the command line.

The samples hold clear names in their source files (they are synthetic); an export must hold
only the pseudonyms and attributes of the graph.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
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
from netanalysis.anx import INFORMATION_GRADES, SOURCE_GRADES, anx_grades
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
    for fmt in ("graphml", "gexf", "anx", "csv"):
        out = tmp_path / f"all.{fmt}"
        assert main(["export", "--store", str(store), "--format", fmt, "--all", "--out", str(out)]) == 0
        written = [out, links_path(out)] if fmt == "csv" else [out]
        if fmt in {"graphml", "gexf"}:  # the command's whole-graph export reads back as the store's graph
            read = _read_back(out, fmt)
            assert set(read.nodes) == set(graph.nodes)
            assert Counter((u, v, str(d["id"])) for u, v, d in read.edges(data=True)) == _edge_ids(graph)
        for path in written:
            text = path.read_text(encoding="utf-16" if fmt == "anx" else "utf-8")
            # The formats' own type names (attr.type="long") are markup, not data: a sample person
            # may be called Long.
            text = re.sub(r'\btype="\w+"', "", text)
            words = {w.lower() for w in re.findall(r"\w+", text)}
            assert not clear & words, f"{path.name} holds clear identifiers"


def _anx_chart(path: Path) -> tuple[dict[str, ET.Element], list[ET.Element], dict[str, list[str]]]:
    """An ANX file read back: entity chart items by identity, link chart items, grade names."""
    root = ET.fromstring(path.read_bytes())  # UTF-16 with its declaration, as i2 writes it
    assert root.tag == "Chart"
    grades = {
        name: [s.attrib["Text"] for s in root.findall(f"{name}/StringCollection/String")]
        for name in ("GradeOne", "GradeTwo")
    }
    items = root.findall("ChartItemCollection/ChartItem")
    entities = {
        str(i.find("End/Entity").attrib["Identity"]): i for i in items if i.find("End/Entity") is not None
    }
    links = [i for i in items if i.find("Link") is not None]
    assert len(entities) + len(links) == len(items)
    return entities, links, grades


def _grade(item: ET.Element, grades: dict[str, list[str]], which: str) -> str | None:
    index = item.attrib.get(f"Grade{which}Index")
    name = grades[f"Grade{which}"][int(index)] if index is not None else "-"
    return None if name == "-" else name


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_anx_chart_has_types_dates_and_grades(sample: Sample, tmp_path: Path) -> None:
    _, graph, detected = sample
    groups = pd.read_csv(detected / "groups.csv", dtype=str)
    for how in (
        {"around": _suspect(graph), "depth": 2},
        {"group_ids": [_first_group(detected)], "detection": groups},
    ):
        expected = select_network(graph, **how)
        out = tmp_path / "chart.anx"
        assert export_network(graph, out, "anx", **how) == [out]
        entities, links, grades = _anx_chart(out)
        assert grades["GradeOne"][:-1] == list(SOURCE_GRADES.values())
        assert grades["GradeTwo"][:-1] == list(INFORMATION_GRADES.values())
        # One entity per node, typed by its label; one link per edge, typed by its relationship.
        assert set(entities) == set(expected.nodes)
        for node, item in entities.items():
            assert item.find("End/Entity/Icon/IconStyle").attrib["Type"] == expected.nodes[node]["label"]
        assert len(links) == expected.number_of_edges()
        ids = {i.find("End/Entity").attrib["EntityId"]: n for n, i in entities.items()}
        read: Counter[tuple[str, str, str, str | None, str | None, str | None, str | None]] = Counter()
        for item in links:
            link = item.find("Link")
            assert link is not None
            date = item.attrib["DateTime"][:10] if item.attrib.get("DateSet") == "true" else None
            read[
                (
                    ids[link.attrib["End1Id"]],
                    ids[link.attrib["End2Id"]],
                    link.find("LinkStyle").attrib["Type"],
                    date,
                    _grade(item, grades, "One"),
                    _grade(item, grades, "Two"),
                    item.attrib.get("SourceReference"),
                )
            ] += 1
            # The link's card repeats its fact, with the same grades.
            card = item.find("Link/CardCollection/Card")
            assert card is not None and card.attrib.get("SourceReference") == item.attrib.get(
                "SourceReference"
            )
            assert _grade(card, grades, "One") == _grade(item, grades, "One")
        wanted = Counter(
            (
                u,
                v,
                d["type"],
                d.get("observed_on"),
                *anx_grades(d.get("reliability")),
                f"{d['source']}:{d['row_id']}",
            )
            for u, v, d in expected.edges(data=True)
        )
        assert read == wanted
        assert any(key[3] for key in read) and any(key[4] for key in read) and any(key[5] for key in read)
        # Each person carries one card per record that describes it, with the record's grades.
        for node, item in entities.items():
            if expected.nodes[node]["label"] != "Person":
                continue
            assert item.attrib["Label"] == f"P-{node.partition(':')[2][:8]}"
            records = [d for _, _, d in graph.in_edges(node, data=True) if d.get("type") == "DESCRIBES"]
            cards = item.findall("End/Entity/CardCollection/Card")
            assert len(cards) == len(records)
            assert Counter(
                (c.attrib["SourceReference"], _grade(c, grades, "One"), _grade(c, grades, "Two"))
                for c in cards
            ) == Counter((f"{d['source']}:{d['row_id']}", *anx_grades(d.get("reliability"))) for d in records)


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
    for fmt in ("graphml", "anx"):
        assert main([*base, "--format", fmt, "--group", "G001", "--detected", str(other)]) == 2
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
