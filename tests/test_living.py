"""The living graph (issue 13): deliveries over time on both stores.

A reload with another key is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA_SAMPLES

from graphstore import open_store
from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser, keygen
from netanalysis.cli import main
from netanalysis.errors import ConfigError

KEY = Pseudonymiser(bytes(range(32)))
OTHER_KEY = Pseudonymiser(bytes(range(32, 64)))
MAPPING = DATA_SAMPLES / "sources.yaml"


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each kind: the embedded file and the session's real Neo4j server."""
    if request.param == "neo4j":
        from graphstore.neo4j_store import Neo4jStore

        server: Any = request.getfixturevalue("neo4j_clean")
        opened: GraphStore = Neo4jStore(server.uri, user=server.user, password=server.password)
    else:
        opened = open_store(str(tmp_path / "graph.db"))
    try:
        yield opened
    finally:
        opened.close()


# --- wrong key on reload ----------------------------------------------------------------------------


def test_reload_with_another_key_is_refused_before_anything_is_written(
    store: GraphStore, tmp_path: Path
) -> None:
    load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
    before = store.counts()
    graph_before = store.read_graph()
    rejects = tmp_path / "r2.csv"
    with pytest.raises(ConfigError) as caught:
        load([DATA_SAMPLES / "sources"], store, MAPPING, OTHER_KEY, rejects_path=rejects)
    message = str(caught.value)
    assert "another key" in message and KEY.fingerprint in message and OTHER_KEY.fingerprint in message
    assert "\n" not in message
    assert store.counts() == before
    assert sorted(store.read_graph().edges(keys=True)) == sorted(graph_before.edges(keys=True))
    assert not rejects.exists()  # not even the rejects file
    # The same key still loads (and changes nothing).
    load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r3.csv")
    assert store.counts() == before


def test_cli_reload_with_another_key_exits_2_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [keygen(tmp_path / "a.key"), keygen(tmp_path / "b.key")]
    store = str(tmp_path / "graph.db")
    common = ["load", str(DATA_SAMPLES / "sources"), "--mapping", str(MAPPING), "--store", store]
    assert main([*common, "--key-file", str(keys[0]), "--rejects", str(tmp_path / "r1.csv")]) == 0
    capsys.readouterr()
    assert main([*common, "--key-file", str(keys[1]), "--rejects", str(tmp_path / "r2.csv")]) == 2
    err = capsys.readouterr().err
    assert "another key" in err and "Traceback" not in err
