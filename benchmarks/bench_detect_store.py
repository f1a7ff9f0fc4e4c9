"""Detection on a loaded store: the whole graph (``read_analysis_graph``) against the detection
graph (``read_detection_graph``), side by side in one run, each in its own process (so each has
its own peak memory), and a check that both give the same frames.

``--way store`` is what ``netanalysis detect`` does since 2026-12-07 evening: ``detect_store``,
the evidence for the network, then each step's facts read around the groups (its read is inside
its detect figures); compare it with ``--way new`` (the detection graph). ``--way network-old``
and ``--way network-new`` time the perpetrator network alone, from the detection graph and from
the store's evidence, and ``--compare-networks`` checks that the two are identical (every node,
edge and attribute, weights to the last bit).

    .venv/bin/netanalysis synth --out set --seed 7 --rows 100000
    .venv/bin/netanalysis keygen --out k.key
    .venv/bin/netanalysis load set/sources --mapping set/sources.yaml --store g.sqlite --key-file k.key
    nice -n 10 .venv/bin/python benchmarks/bench_detect_store.py --store g.sqlite [--stability-runs 10]

Prints per way: read and detect wall and CPU seconds, peak RSS, nodes and edges read; then the
ratios new/old. Exits 1 when a frame differs. On a busy machine the two ways can run at the
same time (``--way old --out old.pickle`` and ``--way new --out new.pickle``, then
``--compare old.pickle new.pickle``); CPU seconds and peak memory are per process either way.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _network_child(store_uri: str, way: str, out: Path) -> None:
    from graphstore import open_store
    from netanalysis.graphs import read_detection_graph, read_evidence_graph
    from netanalysis.projection import perpetrator_network

    figures: dict[str, Any] = {"way": way}
    wall, cpu = time.perf_counter(), time.process_time()
    store = open_store(store_uri)
    try:
        if way == "network-new":
            graph = read_evidence_graph(store)
            as_of = None
        else:
            graph = read_detection_graph(store)
            as_of = graph.graph["provenance"].latest_observed  # what detect passes
    finally:
        store.close()
    figures["read_wall"] = time.perf_counter() - wall
    figures["read_cpu"] = time.process_time() - cpu
    figures["read_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    figures["nodes"], figures["edges"] = graph.number_of_nodes(), graph.number_of_edges()
    wall, cpu = time.perf_counter(), time.process_time()
    network = perpetrator_network(graph, as_of=as_of)
    figures["network_wall"] = time.perf_counter() - wall
    figures["network_cpu"] = time.process_time() - cpu
    figures["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    with out.open("wb") as handle:
        pickle.dump({"network": network, "figures": figures}, handle)


def _compare_networks(old_path: Path, new_path: Path) -> None:
    loaded = []
    for path in (old_path, new_path):
        with path.open("rb") as handle:
            loaded.append(pickle.load(handle))  # our own child's file
    old, new = (item["network"] for item in loaded)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    keys = (
        "nodes",
        "edges",
        "read_wall",
        "read_cpu",
        "read_rss_gb",
        "network_wall",
        "network_cpu",
        "peak_rss_gb",
    )
    print(f"{'':14}{'old':>12}{'new':>12}{'new/old':>10}")
    for key in keys:
        a, b = loaded[0]["figures"][key], loaded[1]["figures"][key]
        print(f"{key:14}{a:12.2f}{b:12.2f}{(b / a if a else float('nan')):10.2f}")
    same = (
        list(old.nodes(data=True)) == list(new.nodes(data=True))
        and list(old.edges(data=True)) == list(new.edges(data=True))
        and old.graph == new.graph
    )
    print(
        f"network: {old.number_of_nodes():,} suspects, {old.number_of_edges():,} links, "
        f"as_of {old.graph['as_of']}"
    )
    print("identical networks (every node, edge, attribute, in order):", same)
    if not same:
        raise SystemExit(1)


def _child(store_uri: str, way: str, stability_runs: int, out: Path) -> None:
    from graphstore import open_store
    from netanalysis.detect import COLUMNS, DetectionSettings, detect
    from netanalysis.graphs import read_analysis_graph, read_detection_graph

    if way.startswith("network-"):
        _network_child(store_uri, way, out)
        return
    settings = DetectionSettings(stability_runs=stability_runs)
    reader = read_detection_graph if way in ("new", "store") else read_analysis_graph
    figures: dict[str, Any] = {"way": way}
    wall, cpu = time.perf_counter(), time.process_time()
    store = open_store(store_uri)
    try:
        if way == "store":  # as netanalysis detect does it: reads as it goes, never the whole graph
            from netanalysis.detect import detect_store

            result = detect_store(store, settings)
            figures["read_wall"] = figures["read_cpu"] = 0.0
            figures["read_rss_gb"] = figures["nodes"] = figures["edges"] = 0
        else:
            graph = reader(store)
    finally:
        if way != "store":
            store.close()
    if way != "store":
        figures["read_wall"] = time.perf_counter() - wall
        figures["read_cpu"] = time.process_time() - cpu
        figures["read_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        figures["nodes"], figures["edges"] = graph.number_of_nodes(), graph.number_of_edges()
        wall, cpu = time.perf_counter(), time.process_time()
        result = detect(graph, settings)
    else:
        store.close()
    figures["detect_wall"] = time.perf_counter() - wall
    figures["detect_cpu"] = time.process_time() - cpu
    figures["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    figures["stages"] = result.timings
    frames = {name: getattr(result, name) for name in COLUMNS}
    with out.open("wb") as handle:
        pickle.dump({"frames": frames, "settings": result.settings, "figures": figures}, handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--stability-runs", type=int, default=10)
    parser.add_argument(
        "--way",
        choices=("old", "new", "store", "network-old", "network-new"),
        help="Run one way only, into --out.",
    )
    parser.add_argument(
        "--compare-networks", nargs=2, type=Path, metavar=("OLD", "NEW"), help="Compare two network ways."
    )
    parser.add_argument("--out", type=Path, help="With --way: the file of its results.")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="Compare two --way results."
    )
    args = parser.parse_args()
    if args.way:
        _child(args.store, args.way, args.stability_runs, args.out)
        return

    if args.compare_networks:
        _compare_networks(*args.compare_networks)
        return
    results: dict[str, Any] = {}
    if args.compare:
        for way, path in zip(("old", "new"), args.compare, strict=True):
            with path.open("rb") as handle:
                results[way] = pickle.load(handle)  # our own child's file
        _report(results)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for way in ("old", "new"):
            out = Path(tmp) / f"{way}.pickle"
            command = [sys.executable, __file__, "--store", args.store, "--way", way, "--out", str(out)]
            command += ["--stability-runs", str(args.stability_runs)]
            subprocess.run(command, check=True)
            with out.open("rb") as handle:
                results[way] = pickle.load(handle)  # our own child's file
    _report(results)


def _report(results: dict[str, Any]) -> None:
    import pandas as pd

    same = True
    for name, old in results["old"]["frames"].items():
        try:
            pd.testing.assert_frame_equal(old, results["new"]["frames"][name], obj=name)
        except AssertionError as exc:
            same = False
            print(f"DIFFERENT {name}: {exc}")
    same = same and results["old"]["settings"] == results["new"]["settings"]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    keys = (
        "nodes",
        "edges",
        "read_wall",
        "read_cpu",
        "read_rss_gb",
        "detect_wall",
        "detect_cpu",
        "peak_rss_gb",
    )
    print(f"{'':14}{'old':>12}{'new':>12}{'new/old':>10}")
    for key in keys:
        a, b = results["old"]["figures"][key], results["new"]["figures"][key]
        print(f"{key:14}{a:12.2f}{b:12.2f}{(b / a if a else float('nan')):10.2f}")
    for way in ("old", "new"):
        print(way, "stages", json.dumps(results[way]["figures"]["stages"]))
    print("identical frames and settings:", same)
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
