"""Build and render time of group and region maps with about 1k, 5k and 10k persons.

Builds synthetic groups (netanalysis.maps._demo: groups of 6 suspects and 8 victims in one case
each, so every case is a clique of 14), renders the maps, opens each file in headless Chromium
with networking cut off and measures: Python time to build and render the HTML, file size, and
the time from navigation start until the map is drawn (median of ``--repeat`` opens), with the
page's own split (JSON parse, data sets, vis-network setup).

The group view is measured two ways in the same run:

- ``pairs``: a line between every two persons sharing an item (``max_links`` unlimited), the
  drawing before issue 6 was finished;
- ``items``: the default; above ``MAX_LINKS`` links, items shared by 4 or more persons are
  drawn as one node with a line to each person.

A second table times the layout alone on the ``pairs`` links: one Fruchterman-Reingold run over
the whole graph from a start squeezed into [-1, 1] (the layout before) against one run per
connected part, packed in rows (the layout now).

    .venv/bin/python benchmarks/bench_maps.py [--sizes 1000 5000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _old_layout(ids: list[str], pairs: list[tuple[str, str]], seed: int = 7) -> None:
    """The layout before: one FR run over everything, start positions in [-1, 1]."""
    import igraph as ig
    import numpy as np

    index = {n: i for i, n in enumerate(ids)}
    edges = sorted({(index[a], index[b]) for a, b in pairs})
    g = ig.Graph(n=len(ids), edges=edges)
    start = np.random.default_rng(seed).uniform(-1.0, 1.0, (len(ids), 2)).tolist()
    ig.set_random_number_generator(random.Random(seed))
    try:
        g.layout_fruchterman_reingold(seed=start, niter=500 if len(ids) <= 1000 else 200, grid="auto")
    finally:
        ig.set_random_number_generator(random)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-layout", action="store_true", help="skip the layout comparison")
    args = parser.parse_args()
    import igraph  # noqa: F401  (imported by the detection before any map is drawn; not timed)

    from netanalysis.maps import group_map, layout_positions, region_map
    from netanalysis.maps._demo import demo_data
    from netanalysis.maps._facts import person_links

    sys.path.insert(
        0, str(Path(__file__).resolve().parents[1] / "tests")
    )  # the browser driver is a test tool
    from browser import Chromium, local_only

    rows: list[str] = []
    layout_rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, Chromium() as chrome:
        for size in args.sizes:
            graph, result = demo_data(n_groups=max(1, size // 14), suspects=6, victims=8, seed=5)
            persons = len(result.groups)
            variants: list[tuple[str, Any]] = [
                ("group, pairs", lambda g, r: group_map(g, r, max_links=10**9)),
                ("group, items", group_map),
                ("region", region_map),
            ]
            for view, make in variants:
                t0 = time.perf_counter()
                m = make(graph, result)
                page = Path(tmp) / f"{view.replace(', ', '-')}-{size}.html"
                m.save(page)
                build = time.perf_counter() - t0
                opens: list[float] = []
                splits: list[dict[str, float]] = []
                for _ in range(args.repeat):
                    chrome.requests.clear()
                    opens.append(float(chrome.open(page) or 0))
                    splits.append(chrome.evaluate("window.netanalysisMap.timings"))
                    assert not local_only(chrome.requests, page)
                    assert chrome.evaluate("window.netanalysisMap.nodeView.length") == len(m.nodes)
                ms = statistics.median(opens)
                split = "/".join(
                    f"{statistics.median(s[k] for s in splits):.0f}" for k in ("parse", "data", "network")
                )
                rows.append(
                    f"| {persons:,} | {view} | {len(m.nodes):,} | {len(m.edges):,} | {m.aggregated} | "
                    f"{build:.1f} | {page.stat().st_size / 1e6:.1f} | {ms:.0f} | {split} |"
                )
                print(rows[-1], flush=True)
            if not args.no_layout and persons <= 5000:
                members = sorted(f"Person:{p}" for p in result.groups.person_id)
                pairs = sorted({(a, b) for a, b, _ in person_links(graph, members)})
                t0 = time.perf_counter()
                _old_layout(members, pairs)
                before = time.perf_counter() - t0
                t0 = time.perf_counter()
                layout_positions(members, pairs)
                after = time.perf_counter() - t0
                layout_rows.append(
                    f"| {persons:,} | {len(pairs):,} | {before:.2f} | {after:.2f} | {before / after:.0f}× |"
                )
                print(layout_rows[-1], flush=True)
    print()
    print(
        "| persons | view | drawn nodes | links | aggregated | build+layout s | HTML MB | browser ms "
        "| parse/data/network ms |"
    )
    print("| ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    if layout_rows:
        print()
        print("| persons | links | layout before s | layout now s | ratio |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(layout_rows))


if __name__ == "__main__":
    main()
