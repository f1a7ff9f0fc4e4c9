"""What the audit log costs a load and a detection (issue 14: it should be under 2%).

Generates a synthetic set with ``netanalysis synth --rows N`` (fictional people only), loads it
into an embedded store and detects on it, each time once with the audit log (the public functions
as they are) and once without (``fn.__wrapped__``, the undecorated function), and reports CPU
seconds of both. On a busy machine the difference of two runs is mostly noise, so the script also
times the audit's own work alone (checking the log, the counts it takes from the result, hashing
the files written, appending the entry), which is what the log adds.

    .venv/bin/python benchmarks/bench_audit.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _cpu() -> float:
    return time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stability-runs", type=int, default=0)
    args = parser.parse_args()

    import netanalysis as na
    from netanalysis import audit
    from netanalysis.detect import DetectionResult

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                str(BIN / "netanalysis"),
                "synth",
                "--out",
                str(work / "set"),
                "--rows",
                str(args.rows),
                "--seed",
                "3",
            ],
            check=True,
            capture_output=True,
        )
        key = na.Pseudonymiser(os.urandom(32))
        sources, mapping = work / "set" / "sources", work / "set" / "sources.yaml"
        settings = na.DetectionSettings(stability_runs=args.stability_runs)
        figures: dict[str, float | int] = {"rows": args.rows}
        for logged in (True, False):
            tag = "logged" if logged else "unlogged"
            load = na.load if logged else na.load.__wrapped__
            read = na.read_analysis_graph if logged else na.read_analysis_graph.__wrapped__
            detect = na.detect if logged else na.detect.__wrapped__
            write = DetectionResult.write if logged else DetectionResult.write.__wrapped__  # type: ignore[attr-defined]
            store = na.open_store(str(work / f"{tag}.sqlite"))
            start = _cpu()
            summary = load([sources], store, mapping, key, rejects_path=work / f"{tag}.rejects.csv")
            figures[f"load_cpu_s_{tag}"] = round(_cpu() - start, 2)
            start = _cpu()
            graph = read(store)
            result = detect(graph, settings)
            write(result, work / f"{tag}-det")
            figures[f"detect_cpu_s_{tag}"] = round(_cpu() - start, 2)
            store.close()

        # The audit's own work, alone, on the same results (what the logged runs add).
        log = audit.AuditLog(work / "alone.audit.jsonl")
        start = _cpu()
        with log.processing("load", analyst="bench", purpose=None, parameters={"paths": [str(sources)]}) as p:
            log.check_writable()
            audit.record_load(p, summary, {})
        figures["load_audit_cpu_s"] = round(_cpu() - start, 4)
        start = _cpu()
        with log.processing("detect", analyst="bench", purpose=None, parameters={"seed": 0}) as p:
            log.check_writable()
            audit.record_graph(p, graph, {})
            audit.record_detection(p, result, {})
            audit.record_written(p, sorted((work / "logged-det").iterdir()), {})
        figures["detect_audit_cpu_s"] = round(_cpu() - start, 4)
        figures["load_audit_share_pct"] = round(
            100 * figures["load_audit_cpu_s"] / figures["load_cpu_s_logged"], 3
        )
        figures["detect_audit_share_pct"] = round(
            100 * figures["detect_audit_cpu_s"] / figures["detect_cpu_s_logged"], 3
        )
        figures["records"] = summary.records
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
