"""Render time of group maps with about 1k, 5k and 10k persons in headless Chromium.

Builds synthetic groups (netanalysis.maps._demo), renders the group view, opens the file in
Chromium with networking cut off and measures: Python time to build and render the HTML, file
size, and the time from navigation start until the map is drawn (physics off with a layout
computed in Python above 300 nodes; above 5,000 persons the map shows groups as nodes).

    .venv/bin/python benchmarks/bench_maps.py [--sizes 1000 5000 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    args = parser.parse_args()
    from netanalysis.maps import group_map, region_map
    from netanalysis.maps._demo import demo_data
    from netanalysis.maps.browser import Chromium, local_only

    print("| persons | view | drawn nodes | links | aggregated | build+layout s | HTML MB | browser ms |")
    print("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp, Chromium() as chrome:
        for size in args.sizes:
            graph, result = demo_data(n_groups=max(1, size // 14), suspects=6, victims=8, seed=5)
            for view, make in (("group", group_map), ("region", region_map)):
                t0 = time.perf_counter()
                m = make(graph, result)
                page = Path(tmp) / f"{view}-{size}.html"
                m.save(page)
                build = time.perf_counter() - t0
                chrome.requests.clear()
                ms = chrome.open(page)
                assert not local_only(chrome.requests, page)
                drawn = chrome.evaluate("window.netanalysisMap.nodeView.length")
                assert drawn == len(m.nodes)
                persons = len(result.groups)
                print(
                    f"| {persons:,} | {view} | {len(m.nodes):,} | {len(m.edges):,} | {m.aggregated} | "
                    f"{build:.1f} | {page.stat().st_size / 1e6:.1f} | {ms:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
