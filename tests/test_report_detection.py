"""The report on a detection the analysts already have (``netanalysis report --detection DIR``).

``read_detection`` gives back the frames ``detect`` wrote, with their types; the report on the
folder of ``netanalysis detect`` is, file for file, the report that detects again; a folder of
another state of the store, of another level, of an older version or not a detection at all is
refused with one sentence. On both stores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from graphstore.base import GraphStore
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.cli import main
from netanalysis.detect import COLUMNS, DetectionSettings, detect, read_detection
from netanalysis.errors import ConfigError
from netanalysis.graphs import read_detection_graph

DATA = Path(__file__).resolve().parents[1] / "data_samples"

pytestmark = pytest.mark.slow


def load_samples(store: GraphStore, tmp_path: Path) -> Path:
    key = keygen(tmp_path / "throwaway.key")
    # The samples hold broken rows on purpose.
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    return key


def embedded_samples(tmp_path: Path) -> str:
    """An embedded store of the samples; returns its path."""
    from graphstore import open_store

    store = open_store(str(tmp_path / "graph.db"))
    try:
        load_samples(store, tmp_path)
    finally:
        store.close()
    return str(tmp_path / "graph.db")


def test_read_detection_gives_back_the_frames_detect_wrote(tmp_path: Path) -> None:
    from graphstore import open_store

    store = open_store(str(tmp_path / "graph.db"))
    try:
        load_samples(store, tmp_path)
        graph = read_detection_graph(store)
    finally:
        store.close()
    result = detect(graph, DetectionSettings(seed=2, stability_runs=3))
    result.write(tmp_path / "out")
    read = read_detection(tmp_path / "out")
    assert read.settings == json.loads(json.dumps(result.settings))
    assert read.level == result.level
    for name in COLUMNS:
        written, back = getattr(result, name), getattr(read, name)
        if len(written):
            pd.testing.assert_frame_equal(back, written, obj=name)
        else:
            assert list(back.columns) == list(written.columns) and back.empty, name
    # Not a comparison of empty tables: the samples have groups, moves and leads.
    assert len(read.group_summary) and len(read.movements) and len(read.leads)
    assert read.groups["core"].dtype == bool and read.leads["rank"].dtype == "int64"


def test_the_report_on_the_detection_is_the_report_that_detects_again(
    store: GraphStore, tmp_path: Path
) -> None:
    load_samples(store, tmp_path)
    uri = str(getattr(store, "uri", ""))
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "detection")]) == 0
    recorded = json.loads((tmp_path / "detection" / "settings.json").read_text())["store"]
    assert recorded["last_load"] and recorded["counts"]["Person"] > 0
    args = ["report", "--store", uri, "--period", "2024", "--lang", "en", "--no-pdf"]
    assert main([*args, "--out", str(tmp_path / "again")]) == 0
    assert main([*args, "--out", str(tmp_path / "given"), "--detection", str(tmp_path / "detection")]) == 0
    again = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    given = sorted(p.relative_to(tmp_path / "given") for p in (tmp_path / "given").rglob("*") if p.is_file())
    assert again == given and len(again) > 20
    for name in again:
        if name.suffix in (".csv", ".html", ".png", ".svg"):
            assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "given" / name).read_bytes(), name


def test_a_detection_of_another_state_of_the_store_is_refused(
    store: GraphStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = load_samples(store, tmp_path)
    uri = str(getattr(store, "uri", ""))
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "detection")]) == 0
    # A later delivery: one more source file, loaded into the store after the detection.
    more = tmp_path / "more"
    more.mkdir()
    source = sorted((DATA / "sources").glob("*.csv"))[0]
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.head(5).assign(
        **{frame.columns[0]: [f"{v}-later" for v in frame.head(5)[frame.columns[0]]]}
    ).to_csv(more / source.name, index=False)
    load([more], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects2.csv")
    capsys.readouterr()
    args = ["report", "--store", uri, "--period", "2024", "--no-pdf", "--out", str(tmp_path / "r")]
    assert main([*args, "--detection", str(tmp_path / "detection")]) == 2
    err = capsys.readouterr().err
    assert "the store changed after the detection" in err and "a load" in err
    assert "Traceback" not in err and not (tmp_path / "r" / "report.html").exists()


def test_a_folder_that_is_not_a_detection_of_this_version_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = embedded_samples(tmp_path)
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "detection")]) == 0
    args = ["report", "--store", uri, "--period", "2024", "--no-pdf", "--out", str(tmp_path / "r")]

    def refused(folder: Path, words: str, *extra: str) -> None:
        capsys.readouterr()
        assert main([*args, "--detection", str(folder), *extra]) == 2
        err = capsys.readouterr().err
        assert words in " ".join(err.split()) and "Traceback" not in err, err

    empty = tmp_path / "empty"
    empty.mkdir()
    refused(empty, "is not a detection folder")
    refused(tmp_path / "detection", "was made at level police_unit", "--level", "province")
    # An older version: no state of the store recorded.
    older = tmp_path / "older"
    shutil.copytree(tmp_path / "detection", older)
    settings = json.loads((older / "settings.json").read_text())
    del settings["store"]
    (older / "settings.json").write_text(json.dumps(settings))
    refused(older, "does not record the state of the store")
    # Another version's columns.
    (older / "groups.csv").write_text("group,person\nG001,x\n")
    refused(older, "was written by another version of netanalysis")
    # A cell that is not a number where a count belongs.
    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "detection", broken)
    summary = pd.read_csv(broken / "group_summary.csv", dtype=str, keep_default_na=False)
    summary.loc[0, "members"] = "many"
    summary.to_csv(broken / "group_summary.csv", index=False)
    refused(broken, "cannot be read as a detection")
    with pytest.raises(ConfigError, match="--previous"):
        read_detection(empty, flag="--previous")


def test_settings_of_a_tracked_detection_can_start_the_next_run(tmp_path: Path) -> None:
    uri = embedded_samples(tmp_path)
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "first"), "--track"]) == 0
    recorded = json.loads((tmp_path / "first" / "settings.json").read_text())
    assert "lineage" in recorded and "store" in recorded
    # The run facts it records are not settings: --settings takes the file as it is.
    settings = ["--settings", str(tmp_path / "first" / "settings.json")]
    assert main(["detect", "--store", uri, "--out", str(tmp_path / "second"), *settings]) == 0
    # Tracked groups (Group nodes) are not a change of the store's contents.
    args = ["report", "--store", uri, "--period", "2024", "--no-pdf", "--out", str(tmp_path / "r")]
    assert main([*args, "--detection", str(tmp_path / "first")]) == 0


def test_the_facts_read_of_the_store_are_those_of_the_report_graph(store: GraphStore, tmp_path: Path) -> None:
    """``read_report_data`` asks the store for what ``report_data`` takes of the report graph: the
    same facts of the detection's persons, every signal, region, municipality, batch and source."""
    from netanalysis.graphs import read_report_graph
    from netanalysis.report.data import read_report_data, report_data, report_persons

    load_samples(store, tmp_path)
    graph = read_report_graph(store)
    groups = detect(graph, DetectionSettings(stability_runs=0)).groups
    keys = report_persons(groups)
    assert keys
    for level in ("police_unit", "safety_region"):
        want, got = report_data(graph, level), read_report_data(store, level, keys)
        assert got.regions == want.regions and got.regions, level
    assert got.municipalities == want.municipalities > 0
    assert got.batches == want.batches and got.batches and got.sources == want.sources
    # The observation days of a person, each once (the graph lists a day once per fact).
    assert {p: sorted(got.observations.get(p, [])) for p in keys} == {
        p: sorted(set(want.observations.get(p, []))) for p in keys
    }
    assert got.persons == {f"Person:{p}": want_facts(want.persons, p) for p in keys}
    assert _sorted_forms(got.forms) == _sorted_forms({p: want.forms[p] for p in keys if p in want.forms})
    # Not a comparison of nothing: the samples' persons have forms, genders and birth years.
    assert got.forms and all(any(k in f for f in got.persons.values()) for k in ("gender", "birth_year"))
    fields = ("signal_id", "observed_on", "source", "case_linked")
    assert sorted(tuple(s.get(f) for f in fields) for s in got.signals) == sorted(
        tuple(s.get(f) for f in fields) for s in want.signals
    )
    assert got.signal_place == want.signal_place and got.signal_place
    assert got.uri == store.uri


def want_facts(persons: dict[str, dict[str, object]], person: str) -> dict[str, object]:
    """A person's coarse facts as the report graph holds them (label and the three the report reads)."""
    attrs = persons.get(f"Person:{person}", {})
    return {k: v for k, v in attrs.items() if k in ("label", "gender", "nationality", "birth_year")}


def _sorted_forms(forms: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    return {p: {day: sorted(kinds) for day, kinds in dated.items()} for p, dated in forms.items()}
