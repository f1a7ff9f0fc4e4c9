"""The load reads its files twice and holds no Record through resolution (loaders.pipeline).

The first read gives the rejects file and what entity resolution needs of each person record;
the second gives the records again, one at a time, as their rows are written. A file that
changes between the reads is refused in one sentence, and the load run again ends with the graph
of an uncut load of the files as they are then.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from test_load_pipeline import KEY, graph_of, run_load, same_graph, small  # noqa: F401 - fixture

import loaders.pipeline as pipeline
from graphstore import open_store
from loaders.records import Record
from netanalysis.errors import InputFileError

NEW_SIGNAL = "a4,S3,,Nieuwa Verzonnen,1990-01-01,,Utrecht,,2023-06-01\n"


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="cp1252") as handle:
        handle.write(line)


@pytest.mark.parametrize("when", [("read", True), ("resolve", True)])
def test_a_file_changed_before_the_writes_is_refused_and_nothing_written(
    small: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
    when: tuple[str, bool],
) -> None:
    stage, at_end = when
    store_path = tmp_path / "g.db"

    def progress(step: str, done: int, total: int | None) -> None:
        # The end of the first read, or the end of resolution: before the lock and the writes.
        if step == stage and (total is not None) == at_end and not changed:
            changed.append(True)
            _append(small / "signalen.csv", NEW_SIGNAL)

    changed: list[bool] = []
    with pytest.raises(InputFileError, match=r"signalen\.csv: the file changed while it was being loaded"):
        run_load(small, store_path, progress=progress)
    assert changed
    store = open_store(str(store_path))
    try:
        assert store.counts().get("Record", 0) == 0  # nothing of this load was written
    finally:
        store.close()
    # Run again on the files as they are now: the graph of a load of them into a fresh store.
    run_load(small, store_path)
    run_load(small, tmp_path / "fresh.db")
    assert same_graph(graph_of(store_path), graph_of(tmp_path / "fresh.db"))


def test_a_file_changed_during_the_second_read_is_refused_and_a_rerun_completes(
    small: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The real reader, watched: when the second read opens the first file (zaken.csv), the
    # second file changes, so the check before the second read opens it must refuse it.
    opened: list[str] = []
    real = pipeline.read_source

    def read_source(source: Any, path: Path) -> Any:
        opened.append(Path(path).name)
        if opened == ["zaken.csv", "signalen.csv", "zaken.csv"]:
            _append(small / "signalen.csv", NEW_SIGNAL)
        return real(source, path)

    monkeypatch.setattr(pipeline, "read_source", read_source)
    store_path = tmp_path / "g.db"
    with pytest.raises(InputFileError, match=r"signalen\.csv: the file changed while it was being loaded"):
        run_load(small, store_path)
    assert opened == ["zaken.csv", "signalen.csv", "zaken.csv"]
    monkeypatch.undo()
    store = open_store(str(store_path))
    try:
        assert store.counts().get("Signal", 0) == 0  # the changed file's rows were never written
    finally:
        store.close()
    run_load(small, store_path)
    run_load(small, tmp_path / "fresh.db")
    assert same_graph(graph_of(store_path), graph_of(tmp_path / "fresh.db"))


def _records_alive() -> int:
    """Records with values alive now (a delivery keeps stand-ins that carry an id only)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, Record) and o.values)


@pytest.mark.parametrize("delivery", [False, True])
def test_no_record_is_held_through_resolution(
    small: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
    delivery: bool,
) -> None:
    store_path = tmp_path / "g.db"
    if delivery:
        run_load(small, store_path)  # the store holds person records: the load resolves across
        _append(small / "signalen.csv", NEW_SIGNAL)
    alive: dict[str, int] = {}

    def progress(step: str, done: int, total: int | None) -> None:
        if step == "resolve" and total is None:
            alive["resolve"] = _records_alive()

    # Objects frozen by the caller keep the load from freezing its own (``_long_lived``), so
    # that ``gc.get_objects`` sees every record.
    gc.freeze()
    try:
        summary = run_load(small, store_path, progress=progress)
    finally:
        gc.unfreeze()
    assert summary.loaded == (8 if delivery else 7)
    assert alive == {"resolve": 0}
