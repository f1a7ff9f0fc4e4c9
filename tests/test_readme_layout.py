"""The README's layout table and the folder listing agree: every top-level entry is explained, and
every entry the table names exists, so someone who picks the project up can trust the table."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _layout_names() -> set[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            first_cell = row.split("|")[1]
            names.update(name.rstrip("/") for name in re.findall(r"`([^`]+)`", first_cell))
    return names


def _tracked_top_level() -> set[str]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    return {path.split("/", 1)[0] for path in files if not path.startswith(".")} - {"README.md"}


def test_every_top_level_entry_is_in_the_layout_table() -> None:
    missing = _tracked_top_level() - _layout_names()
    assert not missing, f"README.md's layout table does not explain: {sorted(missing)}"


def test_every_entry_of_the_layout_table_exists() -> None:
    absent = {name for name in _layout_names() if not (REPO / name).exists()}
    assert not absent, f"README.md's layout table names what is not there: {sorted(absent)}"
