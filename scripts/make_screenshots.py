"""Regenerate the map screenshots in docs/images/ from the synthetic sample data.

Loads data_samples/ into a temporary embedded store (with a throw-away pseudonymisation key),
runs the detection, renders the group, region and ego views, opens each in headless Chromium
with networking cut off, and saves a PNG per view.

    .venv/bin/python scripts/make_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()

    from graphstore import open_store
    from netanalysis.cli import main as cli
    from netanalysis.detect import DetectionSettings, detect
    from netanalysis.graphs import read_analysis_graph
    from netanalysis.maps import ego_map, group_map, region_map

    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "tests")
    )  # the browser driver is a test tool
    from browser import Chromium, local_only

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store_path = tmp / "store.db"
        key = tmp / "demo.key"
        samples = REPO / "data_samples"
        if cli(["keygen", "--out", str(key)]) != 0:
            return 1
        code = cli(
            [
                "load",
                str(samples / "sources"),
                "--store",
                str(store_path),
                "--mapping",
                str(samples / "sources.yaml"),
                "--key-file",
                str(key),
                "--rejects",
                str(tmp / "rejects.csv"),
            ]
        )
        if code != 0:
            return code
        store = open_store(str(store_path))
        try:
            graph = read_analysis_graph(store)
        finally:
            store.close()
        result = detect(graph, DetectionSettings(seed=0))
        summary = result.group_summary.sort_values("priority", ascending=False)
        cross = summary[summary["cross_regional"].astype(bool)]
        top = list(cross["group_id"].head(2)) or list(summary["group_id"].head(2))
        kp = result.key_players[result.key_players["group_id"] == top[0]].sort_values("rank")
        centre = f"Person:{kp['person_id'].iloc[0]}"
        label = "data_samples (synthetic)"
        maps = {
            "map-group": group_map(graph, result, top, data_label=label),
            "map-region": region_map(graph, result, data_label=label),
            "map-ego": ego_map(graph, centre, 2, result=result, data_label=label),
        }
        args.out.mkdir(parents=True, exist_ok=True)
        with Chromium(width=1400, height=860) as chrome:
            for name, m in maps.items():
                page = tmp / f"{name}.html"
                m.save(page)
                chrome.requests.clear()
                chrome.open(page)
                chrome.pump(0.5)
                leaked = local_only(chrome.requests, page)
                if leaked:
                    print(f"{name}: the page made requests: {leaked}", file=sys.stderr)
                    return 1
                png = chrome.screenshot(args.out / f"{name}.png")
                print(f"{png}: {len(m.nodes)} nodes, {len(m.edges)} links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
