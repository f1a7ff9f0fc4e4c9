"""`netanalysis map` end to end on an embedded store, and the maps on a real detection result."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from detect_graphs import three_groups, write_to_store

from graphstore import open_store
from netanalysis.cli import main
from netanalysis.detect import DetectionSettings, detect
from netanalysis.graphs import read_analysis_graph
from netanalysis.maps import ego_map, group_map, region_map


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "store.db"
    store = open_store(str(path))
    store.apply_schema()
    write_to_store(three_groups(), store)
    store.close()
    return path


def test_maps_follow_the_detection_contract() -> None:
    graph = three_groups()
    result = detect(graph, DetectionSettings(seed=1, stability_runs=2))
    suspects = set(result.groups.loc[result.groups.role == "suspect", "person_id"])
    assert {"a1", "a2", "a3", "b1", "b2"} <= suspects
    gid = result.groups.loc[result.groups.person_id == "a1", "group_id"].iloc[0]
    m = group_map(graph, result, [gid])
    assert {n["id"] for n in m.nodes} == {
        f"Person:{p}" for p in result.groups.loc[result.groups.group_id == gid, "person_id"]
    }
    r = region_map(graph, result, group_ids=[gid])
    arrows = {e["id"]: e["label"] for e in r.edges}
    assert arrows == {"move:RE05>RE07": "1", "move:RE07>RE06": "1"}
    e = ego_map(graph, "a1", 1, result=result)
    assert "Person:a1" in {n["id"] for n in e.nodes}


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (["--view", "group"], "Group map"),
        (["--view", "region", "--level", "province"], "Region map"),
        (["--view", "ego", "--node", "Person:a1", "--depth", "2"], "Ego map"),
    ],
)
def test_cli_writes_each_view(store_path: Path, tmp_path: Path, capsys, args, title) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "map.html"
    assert main(["map", "--store", str(store_path), "--out", str(out), "--seed", "1", *args]) == 0
    page = out.read_text(encoding="utf-8")
    assert title in page and "store.db" in page
    assert re.search(r"map with \d+ nodes and \d+ links written to", capsys.readouterr().out)


def test_cli_group_choice_and_errors(store_path: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m.html"
    base = ["map", "--store", str(store_path), "--out", str(out), "--seed", "1"]
    assert main([*base, "--group", "G999"]) == 2
    assert "is not in the detection result" in capsys.readouterr().err
    assert main([*base, "--view", "ego"]) == 2
    assert "needs --node" in capsys.readouterr().err
    assert main([*base, "--view", "ego", "--node", "nobody"]) == 2
    assert main([*base, "--view", "atlas"]) == 2
    assert main(["map", "--store", str(tmp_path / "none.db"), "--out", str(out)]) == 2
    assert main(["map", "--store", str(store_path), "--out", str(tmp_path / "no" / "m.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_cli_ego_view_runs_the_detection(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "ego.html"
    args = ["map", "--store", str(store_path), "--out", str(out), "--seed", "1"]
    assert main([*args, "--view", "ego", "--node", "Person:a1", "--depth", "2"]) == 0
    page = out.read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    assert block
    data = json.loads(block.group(1))
    centre = next(n for n in data["nodes"] if n["id"] == "Person:a1")
    # The same settings as `netanalysis detect`: the group is the one the detection gives a1.
    store = open_store(str(store_path))
    try:
        graph = read_analysis_graph(store)
    finally:
        store.close()
    result = detect(graph, DetectionSettings(seed=1))
    gid = str(result.groups.loc[result.groups.person_id == "a1", "group_id"].iloc[0])
    assert dict(centre["tip"])["Group"] == gid
    assert centre["f"]["groups"] == [gid]
    assert [gid, gid] in data["filters"]["groups"]
    assert "detection" in data["subtitle"]
