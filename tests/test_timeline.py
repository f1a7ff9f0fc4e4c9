"""A group's timeline (issue 18 item 3): the table, its figure and the command, on the samples
loaded into an embedded store and detected with ``na.detect``.

The samples hold clear names in their source files (they are synthetic); the timeline must hold
only pseudonyms.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from privacy_scan import sample_clear_words

import netanalysis as na
from graphstore.embedded import EmbeddedStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.graphs import read_analysis_graph

DATA = Path(__file__).resolve().parents[1] / "data_samples"

Sample = tuple[Path, nx.MultiDiGraph, Any, Path]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The samples in an embedded store with a throw-away key, their detection, and the same
    detection written as a folder: (store, graph, detection, detection folder)."""
    folder = tmp_path_factory.mktemp("timeline")
    key_path = keygen(folder / "throwaway.key")
    store = EmbeddedStore(folder / "graph.sqlite")
    try:
        load([DATA / "sources"], store, DATA / "sources.yaml", key_path, rejects_path=folder / "rejects.csv")
        graph = read_analysis_graph(store)
    finally:
        store.close()
    detection = na.detect(graph)
    detected = folder / "detected"
    detection.write(detected)
    return folder / "graph.sqlite", graph, detection, detected


def _cross_regional_group(detection: Any) -> str:
    summary = detection.group_summary
    chosen = summary[summary["cross_regional"].astype(bool) & (summary["moves"].astype(int) > 0)]
    assert len(chosen), "the samples have a cross-regional group with moves"
    return str(chosen["group_id"].iloc[0])


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_timeline_of_a_cross_regional_group(sample: Sample) -> None:
    _, graph, detection, _ = sample
    group = _cross_regional_group(detection)
    table = na.group_timeline(graph, detection, group)
    assert list(table.columns) == [
        "date",
        "kind",
        "person",
        "role",
        "region",
        "municipality",
        "item",
        "source",
        "row_id",
    ]
    # Sorted by date, events from more than one region, every kind that the group has.
    assert list(table["date"]) == sorted(table["date"])
    assert len({r for r in table["region"] if r}) > 1
    assert {"observation", "move", "case"} <= set(table["kind"])
    # Only the group's persons, by pseudonym.
    members = detection.groups[detection.groups["group_id"] == group]
    assert set(table["person"]) <= set(members["person_id"])
    # Its victim moves are the detection's moves of that group.
    moves = detection.movements[detection.movements["group_id"] == group]
    expected = sorted(
        zip(moves["person_id"], moves["date"], moves["from_code"] + "->" + moves["to_code"], strict=True)
    )
    got = table[table["kind"] == "move"]
    assert sorted(zip(got["person"], got["date"], got["item"], strict=True)) == expected
    assert set(got["region"]) == set(moves["to_region"])
    # Observations carry the source row behind them.
    observed = table[table["kind"] == "observation"]
    assert len(observed) and (observed["source"] != "").all() and (observed["row_id"] != "").all()


def test_timeline_without_movements_computes_the_victim_moves(sample: Sample) -> None:
    _, graph, detection, _ = sample
    group = _cross_regional_group(detection)
    from_groups = na.group_timeline(graph, detection.groups, group)
    full = na.group_timeline(graph, detection, group)
    victims = set(detection.groups.query("group_id == @group and role == 'victim'")["person_id"])
    moved = full[(full["kind"] == "move") & full["person"].isin(victims)]
    assert sorted(from_groups[from_groups["kind"] == "move"]["item"]) == sorted(moved["item"])


def test_unknown_group_is_refused(sample: Sample) -> None:
    _, graph, detection, _ = sample
    with pytest.raises(ConfigError, match="is not in the detection"):
        na.group_timeline(graph, detection, "G999")


def test_figure_is_png_and_svg(sample: Sample) -> None:
    _, graph, detection, _ = sample
    figure = na.timeline_figure(na.group_timeline(graph, detection, _cross_regional_group(detection)))
    assert figure.png.startswith(b"\x89PNG\r\n\x1a\n")
    root = ET.fromstring(figure.svg.encode("utf-8"))
    assert root.tag.endswith("svg")
    with pytest.raises(ConfigError, match="no dated events"):
        na.timeline_figure(pd.DataFrame(columns=["date", "kind", "person", "role", "region"]))


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_command_writes_csv_png_svg_without_clear_names_and_is_audited(
    sample: Sample, tmp_path: Path, capsys: Any
) -> None:
    store, _, detection, detected = sample
    group = _cross_regional_group(detection)
    clear = sample_clear_words()
    assert len(clear) > 50  # the check has names to look for
    for suffix in ("csv", "svg", "png"):
        out = tmp_path / f"t.{suffix}"
        args = ["timeline", "--store", str(store), "--detected", str(detected), "--group", group]
        assert main([*args, "--out", str(out)]) == 0
        assert "events written to" in capsys.readouterr().out
        if suffix != "png":
            words = {w.lower() for w in re.findall(r"\w+", out.read_text(encoding="utf-8"))}
            assert not clear & words, f"{out.name} holds clear identifiers"
        else:
            assert out.read_bytes().startswith(b"\x89PNG")
    table = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert len(table) and list(table["date"]) == sorted(table["date"])
    entry = json.loads(Path(f"{store}.audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert entry["attributes"]["netanalysis.command"] == "timeline"


def _one_sentence(capsys: Any) -> str:
    err = str(capsys.readouterr().err).strip()
    assert err and "\n" not in err and "Traceback" not in err
    return err


def test_command_refuses_bad_input_in_one_sentence(sample: Sample, tmp_path: Path, capsys: Any) -> None:
    store, _, _, detected = sample
    base = ["timeline", "--store", str(store)]
    assert (
        main([*base, "--detected", str(detected), "--group", "G999", "--out", str(tmp_path / "t.csv")]) == 2
    )
    assert "is not in the detection" in _one_sentence(capsys)
    assert (
        main(
            [*base, "--detected", str(tmp_path / "none"), "--group", "G001", "--out", str(tmp_path / "t.csv")]
        )
        == 2
    )
    assert "cannot be read" in _one_sentence(capsys)
    assert (
        main([*base, "--detected", str(detected), "--group", "G001", "--out", str(tmp_path / "t.pdf")]) == 2
    )
    assert "--out must end in" in _one_sentence(capsys)
