"""Each reference concept has one owner: ``loaders.reference`` reads the tables and owns the levels."""

from __future__ import annotations

import builtins
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from loaders import reference
from loaders.graph_rows import premises_id, reference_rows
from loaders.normalise import places
from loaders.pseudonymise import Pseudonymiser
from netanalysis import movement
from netanalysis.detect import DetectionSettings, detect
from netanalysis.errors import ConfigError
from netanalysis.maps import _reference as maps_reference
from synth import places as synth_places

CHECK_SCRIPT = reference.REFERENCE_DIR / "check_reference.py"


def _clear_caches() -> None:
    for cached in (
        reference.rows,
        reference._municipality_table,
        reference._region_table,
        places.place_index,
        places.resolve_match,
        movement._reference_regions,
        maps_reference.municipalities,
        maps_reference._region_names,
        synth_places.geography,
    ):
        cached.cache_clear()


def test_every_reader_shares_one_read_of_each_table(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_caches()
    opened: Counter[str] = Counter()
    real_open = io.open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        path = Path(file) if isinstance(file, str | Path) else None
        if path is not None and path.resolve().parent == reference.REFERENCE_DIR:
            opened[path.name] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    try:
        places.place_index()
        synth_places.geography()
        list(reference_rows())
        movement._reference_regions("province")
        maps_reference.municipalities()
        maps_reference.region_names("police_unit")
        reference.municipalities(), reference.regions(), reference.aliases(), reference.places()
        reference.region_of("GM0363", "safety_region")
    finally:
        monkeypatch.undo()
        _clear_caches()
    assert opened == {"municipalities.csv": 1, "regions.csv": 1, "aliases.csv": 1, "places.csv": 1}


def test_rows_are_read_only_and_frames_are_copies() -> None:
    row = reference.rows("municipalities")[0]
    with pytest.raises(TypeError):
        row["name"] = "changed"  # type: ignore[index]
    frame = reference.municipalities()
    frame.loc[0, "name"] = "changed"
    assert reference.municipalities().loc[0, "name"] == row["name"]
    assert list(reference.places().columns) == list(reference.rows("places")[0])


def test_region_levels_have_one_definition_and_one_error() -> None:
    assert movement.LEVELS is reference.LEVELS and maps_reference.LEVELS is reference.LEVELS
    assert movement.check_level is reference.check_level
    assert maps_reference.check_level is reference.check_level
    assert {item.row.props["level"] for item in reference_rows() if hasattr(item, "row")} == set(
        reference.LEVELS
    )
    expected = "unknown region level 'county'; use one of police_unit, safety_region, province"
    calls = [
        lambda: reference.region_of("GM0363", "county"),
        lambda: movement.municipality_regions(nx.MultiDiGraph(), "county"),
        lambda: maps_reference.region_names("county"),
        lambda: detect(nx.MultiDiGraph(), DetectionSettings(level="county")),
    ]
    for call in calls:
        with pytest.raises(ConfigError) as raised:
            call()
        assert str(raised.value) == expected


def test_premises_key_folds_like_every_other_name() -> None:
    key = Pseudonymiser(b"k" * 32)
    same = premises_id(key, "Café ’t Hoekje", "1234", None)
    assert premises_id(key, "cafe 't  hoekje", "1234", None) == same
    assert premises_id(key, "Cafe `t Hoekje", "1234", None) == same
    assert premises_id(key, "Café 't Hoekje", "1235", None) != same


def test_check_reference_script_passes_on_the_shipped_tables() -> None:
    done = subprocess.run(
        [sys.executable, CHECK_SCRIPT.name],
        cwd=CHECK_SCRIPT.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "FAIL" not in done.stdout and done.stdout.rstrip().endswith("RESULT: all checks passed")
