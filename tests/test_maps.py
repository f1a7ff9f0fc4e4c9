"""The map views: what they intend to draw, escaping, aggregation, errors (no browser here)."""

from __future__ import annotations

import json
import re

import pytest
from maps_data import S1, S2, S3, V1, V2, X1, small_graph, small_result

from netanalysis.errors import ConfigError, NetanalysisError
from netanalysis.maps import (
    PHYSICS_MAX_NODES,
    NetworkMap,
    ego_map,
    embed_json,
    group_map,
    layout_positions,
    region_map,
)
from netanalysis.maps._demo import demo_data
from netanalysis.maps._reference import municipalities, project


def _ids(items: list[dict]) -> set[str]:
    return {i["id"] for i in items}


def test_embed_json_cannot_end_the_script_element() -> None:
    value = {"a": "</script><script>alert(1)</script>", "b": "x\u2028y\u2029z", "c": "<!-- & -->"}
    text = embed_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == value


def test_group_map_draws_the_group_members_and_their_shared_evidence() -> None:
    m = group_map(small_graph(), small_result(), ["G001"])
    assert _ids(m.nodes) == {f"Person:{k}" for k in (S1, S2, V1, V2)}
    # S1-S2 share the phone and the case; V1 shares the case with both; V2 shares premises with
    # S2. X1 also uses the phone but is in no group, so it is not drawn.
    kinds = {(e["from"], e["to"], e["id"].rsplit("|", 1)[1]) for e in m.edges}
    p = {k: f"Person:{k}" for k in (S1, S2, V1, V2)}
    assert kinds == {
        (p[S1], p[S2], "case"),
        (p[S1], p[S2], "phone"),
        (p[S1], p[V1], "case"),
        (p[S2], p[V1], "case"),
        (p[S2], p[V2], "premises"),
    }
    by_id = {n["id"]: n for n in m.nodes}
    assert by_id[p[S1]]["shape"] == "diamond"  # broker
    assert by_id[p[S2]]["shape"] == "dot"
    assert by_id[p[S1]]["size"] > by_id[p[S2]]["size"]  # betweenness 0.5 vs 0
    assert by_id[p[S2]]["shapeProperties"] == {"borderDashes": [4, 3]}  # outside the core
    assert by_id[p[S1]]["color"]["background"] != by_id[p[V1]]["color"]  # suspect vs victim
    tip = dict(by_id[p[V1]]["tip"])
    assert tip["Pseudonym"] == V1[:8]
    assert tip["First seen"] == "2023-01-07" and tip["Last seen"] == "2023-06-01"
    assert "RE01" in tip["Regions"] and "RE05" in tip["Regions"] and "RE03" in tip["Regions"]
    assert by_id[p[V1]]["f"]["groups"] == ["G001"]
    assert by_id[p[V1]]["f"]["types"] == ["sexual"]
    assert m.filters["groups"] == [["G001", "G001"]]


def test_group_map_all_groups_and_computed_size() -> None:
    m = group_map(small_graph(), small_result(), size_by="degree")
    assert f"Person:{S3}" in _ids(m.nodes)
    assert m.title == "Group map: 2 groups"
    assert "politie_zaken" in m.subtitle and "observations 2021-01-01 to 2023-06-01" in m.subtitle


def test_no_name_field_reaches_the_page() -> None:
    page = group_map(small_graph(), small_result()).html()
    page += ego_map(small_graph(), S1, 2).html()
    page += region_map(small_graph(), small_result()).html()
    assert "Piet" not in page and "Jansen" not in page
    assert S1 not in page.replace(f"Person:{S1}", "")  # the full pseudonym only as an id


@pytest.mark.parametrize(
    "call",
    [
        lambda: group_map(small_graph(), small_result(), ["G999"]),
        lambda: group_map(small_graph(), small_result(), size_by="name"),
        lambda: group_map(small_graph(), small_result(), level="county"),
        lambda: region_map(small_graph(), small_result(), level="county"),
        lambda: ego_map(small_graph(), "Person:nobody", 2),
        lambda: ego_map(small_graph(), S1, 0),
        lambda: ego_map(small_graph(), "Record:r1", 1),
    ],
)
def test_user_errors_are_netanalysis_errors(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        call()
    assert isinstance(info.value, NetanalysisError)
    assert str(info.value).endswith(tuple("abcdefghijklmnopqrstuvwxyz)0123456789'"))


def test_region_map_places_persons_at_their_municipality_and_counts_moves() -> None:
    m = region_map(small_graph(), small_result(), group_ids=["G001"])
    by_id = {n["id"]: n for n in m.nodes}
    assert sum(1 for i in by_id if i.startswith("Municipality:")) == len(municipalities()) == 342
    assert {i for i in by_id if i.startswith("Region:")} == {
        f"Region:police_unit:RE{i:02d}" for i in range(1, 11)
    }
    # V1 was last seen in Almere (GM0034): drawn there, within the jitter radius.
    x, y = project(municipalities()["GM0034"].lat, municipalities()["GM0034"].lon)
    v1 = by_id[f"Person:{V1}"]
    assert abs(v1["x"] - x) <= 15 and abs(v1["y"] - y) <= 15
    # Amsterdam lies west of Groningen and south of it: the map is oriented as the country.
    ams, gro = by_id["Municipality:GM0363"], by_id["Municipality:GM0014"]
    assert ams["x"] < gro["x"] and ams["y"] > gro["y"]
    arrows = {e["id"]: e for e in m.edges}
    assert set(arrows) == {"move:RE01>RE05", "move:RE05>RE03"}  # the move within RE05 is no arrow
    assert arrows["move:RE01>RE05"]["label"] == "2" and arrows["move:RE05>RE03"]["label"] == "1"
    assert arrows["move:RE01>RE05"]["width"] > arrows["move:RE05>RE03"]["width"]
    assert m.options["physics"] == {"enabled": False}
    hub = dict(by_id["Region:police_unit:RE05"]["tip"])
    assert hub["Moves within the region"] == "1"
    # V2 was only seen at premises in Amsterdam: placed through the premises' municipality.
    assert f"Person:{V2}" in by_id


def test_region_map_other_level_and_unplaced_persons() -> None:
    m = region_map(small_graph(), small_result(), level="province")
    assert {n["id"] for n in m.nodes if n["id"].startswith("Region:")} == {
        f"Region:province:PV{i}" for i in range(20, 32)
    }
    assert {e["id"] for e in m.edges} == {"move:PV20>PV27", "move:PV27>PV24"}
    graph = small_graph()
    graph.remove_edge(f"Person:{S3}", "Municipality:GM0014", key="k12")
    m = region_map(graph, small_result())
    assert f"Person:{S3}" not in _ids(m.nodes)
    assert "1 persons have no known municipality" in m.notice


def test_ego_map_depths_and_skipped_provenance() -> None:
    g = small_graph()
    one = ego_map(g, S1, 1)
    assert _ids(one.nodes) == {f"Person:{S1}", "Case:c1", "Phone:p1"}
    two = ego_map(g, f"Person:{S1}", 2, result=small_result())
    assert _ids(two.nodes) == {
        f"Person:{S1}",
        "Case:c1",
        "Phone:p1",
        f"Person:{S2}",
        f"Person:{V1}",
        f"Person:{X1}",
    }
    assert not any(n.startswith(("Record:", "Source:", "Municipality:")) for n in _ids(two.nodes))
    assert {(e["from"], e["to"]) for e in two.edges} == {
        (f"Person:{S1}", "Case:c1"),
        (f"Person:{S2}", "Case:c1"),
        (f"Person:{V1}", "Case:c1"),
        (f"Person:{S1}", "Phone:p1"),
        (f"Person:{S2}", "Phone:p1"),
        (f"Person:{X1}", "Phone:p1"),
    }
    centre = next(n for n in two.nodes if n["id"] == f"Person:{S1}")
    assert centre["borderWidth"] == 4 and dict(centre["tip"])["Group"] == "G001"
    premises = ego_map(g, "Premises:pr1", 1)
    assert _ids(premises.nodes) == {"Premises:pr1", f"Person:{S2}", f"Person:{V2}"}


def test_ego_map_styles_and_explains_every_relationship_it_draws() -> None:
    g = small_graph()
    g.add_node("Signal:s9", label="Signal", signal_id="s9")
    g.add_edge("Signal:s9", "Case:c1", type="TIED_TO")
    g.add_edge("Signal:s9", "Case:c1", type="NEW_KIND")  # a type the maps have no style for yet
    ego = ego_map(g, "Case:c1", 1)
    legend = next(part for part in ego.legend if part["title"] == "Relationships")
    texts = [item["text"] for item in legend["items"]]
    assert "signal names case" in texts and "new kind" in texts
    tied = next(e for e in ego.edges if e["from"] == "Signal:s9" and "signal names case" in str(e["tip"]))
    assert tied["color"]["color"] == "#7f7f7f"


def test_large_maps_are_laid_out_in_python_and_aggregated_beyond_the_limit() -> None:
    graph, result = demo_data(n_groups=25, suspects=6, victims=8, seed=3)
    m = group_map(graph, result)
    assert len(m.nodes) == 350 > PHYSICS_MAX_NODES
    assert m.options["physics"] == {"enabled": False}
    assert all("x" in n and "y" in n for n in m.nodes)
    agg = group_map(graph, result, max_nodes=100)
    assert agg.aggregated and _ids(agg.nodes) == {f"Group:G{i:03d}" for i in range(1, 26)}
    assert "350 persons" in agg.notice and "groups as nodes" in agg.title
    small = group_map(graph, result, ["G001"])
    assert small.options["physics"]["enabled"] is True
    assert small.options["physics"]["stabilization"]["iterations"] == 400
    reg = region_map(graph, result, max_nodes=100)
    assert reg.aggregated and not any(n["id"].startswith("Person:") for n in reg.nodes)
    ego = ego_map(graph, "Person:" + result.groups.person_id[0], 4, max_nodes=5)
    assert ego.aggregated and "grouped by kind and distance" in ego.notice


def test_layout_positions_are_deterministic_and_spread() -> None:
    ids = [f"n{i}" for i in range(50)]
    pairs = [(f"n{i}", f"n{i + 1}") for i in range(49)]
    a = layout_positions(ids, pairs, seed=1)
    assert a == layout_positions(ids, pairs, seed=1)
    assert len({(round(x), round(y)) for x, y in a.values()}) == 50


def test_page_is_self_contained() -> None:
    page = group_map(small_graph(), small_result()).html()
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.IGNORECASE)
    for host in ("cdnjs", "jsdelivr", "cloudflare", "unpkg", "bootstrap"):  # pyvis' template loads these
        assert host not in page.lower()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1)
    nonce = re.search(r"'nonce-([^']+)'", csp.group(1))
    assert nonce and page.count(f'<script nonce="{nonce.group(1)}">') == 2
    assert "@license" in page and "vis-network" in page  # vis-network's licence header is kept
    assert page.count("</script>") == 3  # the data block, vis-network and the map script


def test_save_and_notebook_repr(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = group_map(small_graph(), small_result(), ["G001"])
    out = m.save(tmp_path / "g.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ConfigError):
        m.save(tmp_path / "missing" / "g.html")
    frame = m._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script" not in frame
    assert isinstance(m, NetworkMap) and "view='group'" in repr(m)


def test_many_links_draw_shared_items_as_nodes_and_lose_no_membership() -> None:
    graph, result = demo_data(n_groups=3, suspects=6, victims=8, seed=4)
    full = group_map(graph, result)
    assert not full.notice and not any(n["id"].startswith("Case:") for n in full.nodes)
    thin = group_map(graph, result, max_links=10)
    persons = {n["id"] for n in thin.nodes if n["id"].startswith("Person:")}
    assert persons == _ids(full.nodes)
    hubs = {n["id"]: n for n in thin.nodes if not n["id"].startswith("Person:")}
    # Every item shared by 4 or more persons is a node, linked to exactly the persons that share it.
    for item, node in hubs.items():
        spokes = {e["to"] for e in thin.edges if e["from"] == item}
        sharing = {p for p in persons if graph.has_edge(p, item) or graph.has_edge(item, p)}
        assert spokes == sharing and len(spokes) >= 4
        assert dict(node["tip"])["Persons on this map"] == str(len(spokes))
    assert sum(1 for i in hubs if i.startswith("Case:")) == 3
    pair_kinds = {e["id"].rsplit("|", 1)[1] for e in thin.edges if e["from"].startswith("Person:")}
    assert "case" not in pair_kinds and "phone" in pair_kinds  # 3 phones for 6 suspects: pairs stay
    assert len(thin.edges) < len(full.edges) / 3
    assert "drawn as a node with a line to each of its persons" in thin.notice
    legend_text = [i["text"] for sec in thin.legend for i in sec["items"]]
    assert "case shared by 4 or more persons" in legend_text
    case = next(n for i, n in hubs.items() if i.startswith("Case:"))
    assert case["shape"] == "square" and case["f"]["groups"] and case["f"]["types"]


def test_layout_keeps_each_connected_part_together() -> None:
    # Two triangles and a lone node: each triangle is compact, and they do not overlap.
    ids = ["a1", "a2", "a3", "b1", "b2", "b3", "c"]
    pairs = [("a1", "a2"), ("a2", "a3"), ("a1", "a3"), ("b1", "b2"), ("b2", "b3"), ("b1", "b3")]
    pos = layout_positions(ids, pairs, seed=3)

    def box(names: list[str]) -> tuple[float, float, float, float]:
        xs, ys = [pos[n][0] for n in names], [pos[n][1] for n in names]
        return min(xs), max(xs), min(ys), max(ys)

    a, b = box(["a1", "a2", "a3"]), box(["b1", "b2", "b3"])
    apart = a[1] < b[0] or b[1] < a[0] or a[3] < b[2] or b[3] < a[2]
    assert apart
    assert max(a[1] - a[0], a[3] - a[2]) < 200


def test_large_pages_draw_straight_edges_hidden_while_moving() -> None:
    from netanalysis.maps.views import LARGE_NODES, _options

    small = _options(50, False, smooth={"enabled": True, "type": "continuous"})
    big = _options(LARGE_NODES + 1, True, smooth={"enabled": True, "type": "continuous"})
    assert small["edges"]["smooth"] == {"enabled": True, "type": "continuous"}
    assert big["edges"]["smooth"] is False
    assert big["interaction"]["hideEdgesOnDrag"] and big["physics"] == {"enabled": False}
    assert big["layout"]["improvedLayout"] is False


def test_reference_is_read_through_the_loaders() -> None:
    from loaders import reference

    maps_ref = municipalities()
    assert set(maps_ref) == set(reference.municipality_codes())
    for code, muni in maps_ref.items():
        assert muni.regions == {lvl: reference.region_of(code, lvl) for lvl in reference.LEVELS}
        assert muni.name == reference.municipality(code).name
