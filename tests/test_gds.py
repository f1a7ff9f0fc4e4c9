"""``detect --engine gds``: the evidence network, groups and betweenness computed inside Neo4j with
the Graph Data Science library, against the local engine on the same graph.

The server tests use the toolkit's own server with GDS (fixture ``neo4j_gds_server``: GDS Community
2.13.9 assembled from Maven Central into its plugins folder). The provisioning tests at the end
need no server.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graphstore import gds as server_gds
from graphstore.embedded import EmbeddedStore
from graphstore.neo4j_server import _gds
from graphstore.neo4j_server import _run_maven as run_maven
from graphstore.neo4j_store import Neo4jStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis import keyplayers
from netanalysis.detect import COLUMNS, DetectionSettings, detect
from netanalysis.errors import ConfigError, StoreUnavailable
from netanalysis.evaluate import adjusted_rand_index
from netanalysis.graphs import read_analysis_graph, read_detection_graph
from netanalysis.groups import find_groups
from netanalysis.indatabase import check_engine, gds_network
from netanalysis.projection import EvidenceWeights, perpetrator_network

DATA = Path(__file__).resolve().parents[1] / "data_samples"
CATALOG = "CALL gds.graph.list() YIELD graphName RETURN graphName"
#: The kinds the Cypher of --engine gds does not compute yet get the weight 0 (docs/detection.md).
GDS_WEIGHTS = EvidenceWeights(address=0.0, employer=0.0, director=0.0)


def _store(conn: Any) -> Neo4jStore:
    return Neo4jStore(conn.uri, user=conn.user, password=conn.password)


@pytest.fixture(scope="module")
def samples_in_gds(tmp_path_factory: pytest.TempPathFactory, neo4j_gds_server: Any) -> Iterator[Neo4jStore]:
    """The samples loaded once into the server with GDS (the tests here only read them)."""
    from tests.conftest import WIPE_NEO4J

    tmp = tmp_path_factory.mktemp("gds-samples")
    store = _store(neo4j_gds_server)
    try:
        store.run_once("emptying the test database", WIPE_NEO4J, {})
        key = keygen(tmp / "throwaway.key")
        load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp / "rejects.csv")
        yield store
    finally:
        store.close()


def _links(network: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(min(a, b), max(a, b)): data for a, b, data in network.edges(data=True)}


def assert_same_network(local: Any, in_db: Any) -> None:
    assert dict(local.nodes(data=True)) == dict(in_db.nodes(data=True))
    assert local.graph == in_db.graph
    a, b = _links(local), _links(in_db)
    assert set(a) == set(b)
    for pair, data in a.items():
        other = b[pair]
        # Equal up to the order the server adds the items of a pair in (floating point sums).
        assert math.isclose(data["weight"], other["weight"], rel_tol=1e-12), pair
        assert data["evidence"] == other["evidence"], pair
        assert data["kinds"] == other["kinds"], pair


@pytest.mark.slow
@pytest.mark.parametrize(
    ("window", "weights"),
    [
        ((None, None), GDS_WEIGHTS),
        # A window, recency off, other weights and a small item cap (which leaves items out).
        (
            ("2022-01-01", "2024-06-30"),
            EvidenceWeights(
                half_life_days=0,
                phone=1.3,
                premises=0.0,
                max_item_persons=3,
                address=0.0,
                employer=0.0,
                director=0.0,
            ),  # fmt: skip
        ),
    ],
)
def test_network_is_the_local_projection(
    samples_in_gds: Neo4jStore, window: tuple[str | None, str | None], weights: EvidenceWeights
) -> None:
    graph = read_analysis_graph(samples_in_gds, *window)
    local = perpetrator_network(graph, weights)
    in_db, _, _ = gds_network(
        graph,
        samples_in_gds,
        weights=weights,
        method="leiden",
        seed=1,
        resolution=1.0,
        level="police_unit",
        date_from=window[0],
        date_to=window[1],
    )
    assert local.number_of_edges() > 30  # enough links to compare (49 in the window on the samples)
    assert_same_network(local, in_db)
    if weights.max_item_persons == 3:
        assert sum(in_db.graph["skipped_items"].values()) > 0
    assert samples_in_gds.run_once("listing projected graphs", CATALOG, {}) == []


@pytest.mark.slow
@pytest.mark.parametrize("resolution", [1.0, 2.0])
def test_groups_and_betweenness_agree_with_local_leiden(
    samples_in_gds: Neo4jStore, resolution: float
) -> None:
    graph = read_analysis_graph(samples_in_gds)
    weights = GDS_WEIGHTS
    local = perpetrator_network(graph, weights)
    network, partition, betweenness = gds_network(
        graph, samples_in_gds, weights=weights, method="leiden", seed=1, resolution=resolution,
        level="police_unit",
    )  # fmt: skip
    local_groups = find_groups(local, "leiden", 1, resolution)
    people = sorted(local_groups, key=str)
    ari = adjusted_rand_index([local_groups[p] for p in people], [partition[p] for p in people])
    assert ari >= 0.99
    assert len(set(partition.values())) > 10

    # Betweenness within groups: the same groups for both, so the scores compare person by person.
    mine = keyplayers.key_players(local, local_groups).set_index("person_id")["betweenness"]
    theirs = keyplayers.key_players(network, local_groups, betweenness=None)
    theirs_db = keyplayers.key_players(network, partition, betweenness=betweenness).set_index("person_id")
    assert (mine > 0).sum() > 5  # brokers to compare (7 on the samples)
    if ari == 1.0:
        pd.testing.assert_series_equal(
            mine.sort_index(), theirs_db["betweenness"].sort_index(), check_exact=False, atol=1e-9
        )
    assert len(theirs) == len(mine)


@pytest.mark.slow
def test_detect_with_engine_gds_writes_the_local_outputs(samples_in_gds: Neo4jStore, tmp_path: Path) -> None:
    graph = read_analysis_graph(samples_in_gds)
    base = DetectionSettings(weights=GDS_WEIGHTS, seed=2, stability_runs=2, betweenness_k=None)
    local = detect(graph, base)
    in_db = detect(graph, dataclasses.replace(base, engine="gds"), store=samples_in_gds)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(
            getattr(local, name), getattr(in_db, name), check_exact=False, rtol=1e-9, obj=f"{name}.csv"
        )
    # The detection graph (what `netanalysis detect` reads) gives the same in the database too.
    from_lean = detect(
        read_detection_graph(samples_in_gds), dataclasses.replace(base, engine="gds"), store=samples_in_gds
    )
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(in_db, name), getattr(from_lean, name), obj=f"{name}.csv")
    assert in_db.settings["engine"] == "gds"
    assert "network_and_groups_in_database" in in_db.timings
    written = {p.name for p in in_db.write(tmp_path)}
    assert {f"{name}.csv" for name in COLUMNS} <= written


@pytest.mark.slow
def test_cli_detect_engine_gds(
    samples_in_gds: Neo4jStore,
    neo4j_gds_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from netanalysis.cli import main

    monkeypatch.setenv("NEO4J_USERNAME", neo4j_gds_server.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_gds_server.password)
    uri = neo4j_gds_server.uri
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(DetectionSettings(weights=GDS_WEIGHTS).to_dict()))
    common = ["--settings", str(settings), "--seed", "1", "--stability-runs", "0"]
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "gds"), *common, "--engine", "gds"]) == 0
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "local"), *common]) == 0
    for name in ("groups", "links", "group_summary", "key_players"):
        gds_file = (tmp_path / "gds" / f"{name}.csv").read_text()
        assert gds_file == (tmp_path / "local" / f"{name}.csv").read_text(), name
    assert '"engine": "gds"' in (tmp_path / "gds" / "settings.json").read_text()
    capsys.readouterr()
    refused = ["detect", "--store", uri, "--out", str(tmp_path / "x"), "--settings", str(settings),
               "--engine", "gds", "--method", "louvain", "--resolution", "2"]  # fmt: skip
    assert main(refused) == 2
    assert "GDS Louvain has no resolution" in capsys.readouterr().err


@pytest.mark.slow
def test_projected_graph_is_dropped_when_a_step_fails(samples_in_gds: Neo4jStore) -> None:
    from graphstore import cypher
    from netanalysis.errors import StoreError

    params = {
        "kind_weights": dict.fromkeys(cypher.GDS_EVIDENCE_KINDS, 1.0),
        "source_grade": {}, "information_grade": {}, "missing_grade": 0.5, "max_item_persons": 50,
        "half_life_days": 0.0, "as_of": None, "observed_from": None, "observed_to": None,
    }  # fmt: skip
    with pytest.raises(StoreError, match="reading a property that is not there"):
        with server_gds._projected(samples_in_gds) as graph:
            project = cypher.gds_project_evidence()
            rows = samples_in_gds.run_once("projecting", project, {**params, "graph": graph})
            assert rows[0]["links"] > 0
            assert len(samples_in_gds.run_once("listing projected graphs", CATALOG, {})) == 1
            # A step that fails in the server after the projection.
            wrong = {"graph": graph, "properties": ["x"]}
            samples_in_gds.run_once("reading a property that is not there", cypher.gds_links(), wrong)
    assert samples_in_gds.run_once("listing projected graphs", CATALOG, {}) == []


def test_server_without_gds_says_how_to_get_it(neo4j_server: Any) -> None:
    store = _store(neo4j_server)
    try:
        with pytest.raises(ConfigError, match=r"has no Graph Data Science library: .*--with-gds"):
            server_gds.check_gds(store)
    finally:
        store.close()


def test_gds_version_is_the_provisioned_one(neo4j_gds_server: Any) -> None:
    store = _store(neo4j_gds_server)
    try:
        assert server_gds.check_gds(store) == _gds.GDS_VERSION
    finally:
        store.close()


# --- without a server --------------------------------------------------------------------------


def test_engine_gds_refuses_what_it_cannot_compute_in_one_sentence() -> None:
    with pytest.raises(ConfigError, match=r"^GDS Louvain has no resolution: .*--engine local"):
        check_engine("gds", GDS_WEIGHTS, "louvain", 1.5)
    check_engine("gds", GDS_WEIGHTS, "louvain", 1.0)
    refusal = r"^--engine gds cannot compute the evidence kind 'address' .*--engine local"
    with pytest.raises(ConfigError, match=refusal):
        check_engine("gds", EvidenceWeights(), "leiden", 1.0)
    with pytest.raises(ConfigError, match="unknown engine 'spark'"):
        DetectionSettings(engine="spark").validate()


def test_engine_gds_needs_a_neo4j_store(tmp_path: Path) -> None:
    import networkx as nx

    settings = DetectionSettings(weights=GDS_WEIGHTS, engine="gds")
    with pytest.raises(ConfigError, match="needs the Neo4j store"):
        detect(nx.MultiDiGraph(), settings)
    embedded = EmbeddedStore(tmp_path / "graph.sqlite")
    try:
        with pytest.raises(ConfigError, match="not a Neo4j server: use --engine local"):
            detect(nx.MultiDiGraph(), settings, store=embedded)
    finally:
        embedded.close()


def test_gds_download_failure_is_one_sentence() -> None:
    script = (
        "import sys\n"
        "print('[ERROR] Could not find artifact org.neo4j.gds:proc:jar:2.13.99 -> [Help 1]')\n"
        "sys.exit(1)\n"
    )
    with pytest.raises(StoreUnavailable) as info:
        run_maven(
            [sys.executable, "-c", script], "2.13.99", None, what="the Graph Data Science library 2.13.99"
        )
    assert str(info.value) == (
        "Maven could not fetch the Graph Data Science library 2.13.99: "
        "Could not find artifact org.neo4j.gds:proc:jar:2.13.99"
    )


def _jar(path: Path, entries: dict[str, str] | None = None) -> Path:
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in (entries or {"x.txt": "x"}).items():
            zf.writestr(name, text)
    return path


def test_libraries_the_server_has_are_left_out(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    _jar(
        lib / "jackson-core-2.22.1.jar",
        {"META-INF/maven/com.fasterxml.jackson.core/jackson-core/pom.properties": ""},
    )
    _jar(lib / "caffeine-3.1.8.jar")  # no Maven metadata: known by its file name
    _jar(lib / "annotations-5.26.30.jar", {"META-INF/maven/org.neo4j/annotations/pom.properties": ""})
    known, names = _gds._server_artifacts(lib)
    assert _gds._in_server("com.fasterxml.jackson.core", "jackson-core", known, names)
    assert _gds._in_server("com.github.ben-manes.caffeine", "caffeine", known, names)
    # GDS's own modules stay, also when Neo4j has a module of the same name.
    assert not _gds._in_server("org.neo4j.gds", "annotations", known, names)
    assert not _gds._in_server("org.ejml", "ejml-core", known, names)


def test_plugins_follow_the_request_and_a_repeat_changes_nothing(tmp_path: Path) -> None:
    cached = tmp_path / "cache"
    for name in ("org.neo4j.gds.proc-2.13.9.jar", "org.agrona.agrona-1.23.0.jar"):
        _jar(cached / name)
    home = tmp_path / "home"
    (home / "plugins").mkdir(parents=True)
    mine = _jar(home / "plugins" / "someone-elses-plugin.jar")
    _gds.install_plugins(home, cached)
    first = {p.name: p.stat().st_mtime_ns for p in (home / "plugins").glob("*.jar")}
    assert set(first) == {"org.neo4j.gds.proc-2.13.9.jar", "org.agrona.agrona-1.23.0.jar", mine.name}
    _gds.install_plugins(home, cached)
    assert {p.name: p.stat().st_mtime_ns for p in (home / "plugins").glob("*.jar")} == first
    _gds.install_plugins(home, None)
    assert [p.name for p in (home / "plugins").glob("*.jar")] == [mine.name]
    assert not (home / "plugins" / _gds.PLUGIN_LIST).exists()


def test_cached_gds_is_not_fetched_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETANALYSIS_CACHE", str(tmp_path))
    done = _gds._gds_dir("2.13.9", "5.26.30")
    _jar(done / "org.neo4j.gds.proc-2.13.9.jar")
    (done / ".complete").write_text("1 jars\n")
    monkeypatch.setenv("PATH", "")  # no Maven: a fetch would fail
    assert _gds.provision_gds(tmp_path / "lib", "5.26.30") == done
