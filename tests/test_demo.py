"""The main job (the README's first command) runs end to end on the samples, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netanalysis.cli import main
from netanalysis.demo import run_pipeline


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_demo_command_on_the_embedded_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in (
        "graph.sqlite",
        "rejects.csv",
        "detection",
        "evaluation.json",
        "groups.html",
        "regions.html",
        "ego.html",
        "report.html",
        "report.pdf",
    ):
        assert name in printed, name
    figures = json.loads((out / "evaluation.json").read_text())["figures"]
    # The samples' own truth: the detection must find what was planted.
    assert figures["group_ari"] >= 0.9
    assert figures["cross_regional_recall"] >= 0.9
    summary = json.loads((out / "load_summary.json").read_text())
    for counts in summary["sources"].values():
        assert counts["read"] == counts["loaded"] + counts["rejected"]
    # A second run over the same store changes nothing.
    before = (out / "detection" / "group_summary.csv").read_text()
    assert main(["demo", "--out", str(out)]) == 0
    assert (out / "detection" / "group_summary.csv").read_text() == before


@pytest.mark.neo4j
def test_demo_on_neo4j_gives_the_same_detection(tmp_path: Path, neo4j_clean, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_clean.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_clean.password)
    key = tmp_path / "k.key"
    from loaders.pseudonymise import keygen

    keygen(key)
    embedded = run_pipeline(out_dir=tmp_path / "embedded", key_file=key)
    server = run_pipeline(out_dir=tmp_path / "neo4j", store_uri=neo4j_clean.uri, key_file=key)
    assert server.store == neo4j_clean.uri
    for name in ("groups", "persons", "movements", "group_summary", "leads"):
        a = (tmp_path / "embedded" / "detection" / f"{name}.csv").read_text()
        b = (tmp_path / "neo4j" / "detection" / f"{name}.csv").read_text()
        assert a == b, name
    assert embedded.evaluation is not None and server.evaluation is not None
    assert embedded.evaluation.figures == server.evaluation.figures
