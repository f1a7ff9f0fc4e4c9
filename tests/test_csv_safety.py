"""Formula injection: no CSV the toolkit writes for people holds a cell a spreadsheet would run."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from detect_graphs import three_groups

from loaders.csv_safety import FORMULA_START, guard_cell, guard_frame, unguard_cell, unguard_frame
from loaders.rejects import guard_cell as rejects_guard
from netanalysis.detect import DetectionSettings, detect
from netanalysis.report.disclosure import defuse_formula

EVIL = [
    "=cmd|' -C calc'!A0",
    '=HYPERLINK("http://127.0.0.1/s","sig29")',
    "+1+2",
    "-3",
    "@SUM(A1)",
    "\tx",
    "\ry",
]


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_detection_csvs_guard_every_text_cell(tmp_path: Path) -> None:
    result = detect(three_groups(), DetectionSettings(seed=1))
    n = len(result.persons)
    # A bare CR inside a cell is not quoted by to_csv with "\n" lines; persons get the others.
    spoken = EVIL[:-1]
    persons = result.persons.assign(
        source=[spoken[i % len(spoken)] for i in range(n)],
        row_id=[spoken[-i % len(spoken)] for i in range(n)],
    )
    signal_rows = pd.DataFrame(
        {c: [EVIL[0], EVIL[2]] for c in result.signal_rows.columns}, columns=result.signal_rows.columns
    )
    leads = pd.DataFrame({c: [EVIL[1]] for c in result.leads.columns}, columns=result.leads.columns)
    evil = dataclasses.replace(result, persons=persons, signal_rows=signal_rows, leads=leads)
    paths = [p for p in evil.write(tmp_path) if p.suffix == ".csv"]
    assert {"persons.csv", "signal_rows.csv", "leads.csv"} <= {p.name for p in paths}
    for path in paths:
        bad = [c for c in _cells(path) if c.startswith(FORMULA_START)]
        assert not bad, (path.name, bad[:3])
    back = pd.read_csv(tmp_path / "persons.csv", dtype=str, keep_default_na=False)
    assert back["source"].map(unguard_cell).tolist() == persons["source"].tolist()
    # Numbers stay numbers: a negative score is not text and is not prefixed.
    assert guard_frame(pd.DataFrame({"score": [-1.5]}))["score"].tolist() == [-1.5]


@pytest.mark.parametrize("value", EVIL)
def test_one_guard_for_rejects_report_and_detection(value: str) -> None:
    assert guard_cell(value) == "'" + value
    assert rejects_guard(value) == defuse_formula(value) == guard_cell(value)
    assert unguard_cell(guard_cell(value)) == value


def test_plain_text_is_unchanged() -> None:
    for value in ["Jansen", "'t Hart", "<5", "x", ""]:
        assert guard_cell(value) == value
        assert unguard_cell(value) == value


def test_unguard_frame_gives_back_what_guard_frame_was_given(tmp_path: Path) -> None:
    plain = ["Jansen", "'t Hart", "'", "''=x", "<5", "", "x'", "'a'"]
    values = [*EVIL[:-1], *plain]  # a bare CR inside a cell is not quoted by to_csv with "\n" lines
    frame = pd.DataFrame({"text": values, "other": list(reversed(values)), "plain": plain + plain[:6]})
    path = tmp_path / "guarded.csv"
    guard_frame(frame).to_csv(path, index=False, lineterminator="\n")
    read = pd.read_csv(path, dtype=str, keep_default_na=False)
    by_cell = read.map(unguard_cell)
    back = unguard_frame(read)
    assert back.to_dict("list") == frame.to_dict("list") == by_cell.to_dict("list")
    # Text that looks guarded comes back as unguard_cell gives it (the guard cannot tell it apart).
    odd = pd.DataFrame({"text": ["'@", "'=1", "'", "a"]})
    assert unguard_frame(odd.copy()).to_dict("list") == odd.map(unguard_cell).to_dict("list")
    # Read without dtype=str: numbers stay numbers, the text of a mixed column is unguarded.
    mixed = unguard_frame(pd.DataFrame({"n": [1, -2], "m": [1, "'=x"]}))
    assert mixed.to_dict("list") == {"n": [1, -2], "m": [1, "=x"]}
