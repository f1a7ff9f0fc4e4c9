"""Ground-truth writers: ``DIR/truth/*.csv`` (UTF-8, comma, header row), streamed as rows are made.

See ``data_samples/README.md`` for every column.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

__all__ = ["TRUTH_FILES", "TruthWriter"]

TRUTH_FILES: dict[str, tuple[str, ...]] = {
    "mentions": ("source", "row_id", "true_person"),
    "groups": ("true_person", "group_id", "role"),
    "group_facts": ("group_id", "cross_regional", "regions", "exploitation_type", "size"),
    "movements": ("true_person", "from_code", "to_code", "date", "group_id"),
    "signals": ("source", "row_id", "group_id"),
    "noise": ("source", "row_id", "kind"),
    "shared_identifiers": ("group_id", "kind", "value", "persons"),
    "addresses": ("address_id", "kind", "group_id", "municipality", "postcode", "house_number", "addition"),
    "organisations": (
        "organisation_id",
        "kind",
        "group_id",
        "kvk_number",
        "name",
        "organisation_kind",
        "municipality",
    ),
    "registrations": ("source", "row_id", "address_id", "organisation_id"),
    "link_only_groups": ("group_id", "through", "target_id"),
}


class TruthWriter:
    """Open writers for all truth files; use as a context manager."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._files: list[IO[str]] = []
        self.w: dict[str, Any] = {}
        for name, header in TRUTH_FILES.items():
            fh = open(folder / f"{name}.csv", "w", encoding="utf-8", newline="")
            self._files.append(fh)
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            self.w[name] = writer

    def close(self) -> None:
        for fh in self._files:
            fh.close()

    def __enter__(self) -> TruthWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
