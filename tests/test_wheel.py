"""The toolkit as a user installs it: the built wheel in a fresh virtual environment, away from the checkout.

An analyst installs the package into her own environment; nothing may depend on files that only a
git checkout has (the graph model, the sample data, templates). The test builds the sdist and the
wheel from it (so MANIFEST.in is tested too), installs the wheel without extras, runs
synth -> keygen -> load -> detect -> map there, checks that the report names the extra it needs in
one sentence, then installs ``[report]`` and runs the report and the demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """The environment without anything that points back into the checkout or at a server."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "NEO4J_URI", "NETANALYSIS_STORE", "NETANALYSIS_KEY_FILE")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(args: list[str | Path], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=1200
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def test_the_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run([sys.executable, "-m", "build", "--outdir", dist, REPO], cwd=tmp_path)
    (wheel,) = dist.glob("netanalysis-*.whl")
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python, na = venv / "bin" / "python", venv / "bin" / "netanalysis"
    _run([python, "-m", "pip", "install", "--quiet", wheel], cwd=work)

    # The installed packages are the wheel's, not the checkout's.
    where = _run([python, "-c", "import graphstore, netanalysis; print(netanalysis.__file__)"], cwd=work)
    assert str(venv) in where.stdout and str(REPO) not in where.stdout

    _run([na, "synth", "--out", "synth-set", "--seed", "5", "--groups", "6"], cwd=work)
    _run([na, "keygen", "--out", "k.key"], cwd=work)
    _run(
        [na, "load", "synth-set/sources", "--mapping", "synth-set/sources.yaml", "--store", "graph.sqlite",
         "--key-file", "k.key", "--rejects", "rejects.csv", "--summary-json", "summary.json"],
        cwd=work,
    )  # fmt: skip
    _run([na, "detect", "--store", "graph.sqlite", "--out", "detected"], cwd=work)
    assert (work / "detected" / "group_summary.csv").stat().st_size > 0
    _run([na, "map", "--store", "graph.sqlite", "--out", "regions.html", "--view", "region"], cwd=work)
    assert "<html" in (work / "regions.html").read_text(encoding="utf-8").lower()

    # Without the [report] extra: one sentence that names it, nothing written.
    report = [na, "report", "--store", "graph.sqlite", "--period", "2024", "--out", "report-2024"]
    refused = _run(report, cwd=work, check=False)
    assert refused.returncode == 2
    assert "pip install 'netanalysis[report]'" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (work / "report-2024").exists()

    _run([python, "-m", "pip", "install", "--quiet", f"{wheel}[report]"], cwd=work)
    _run(report, cwd=work)
    assert (work / "report-2024" / "report.pdf").read_bytes().startswith(b"%PDF")

    demo = _run([na, "demo", "--out", "demo-out"], cwd=work)
    assert "cross-regional" in demo.stdout
    assert (work / "demo-out" / "report" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (work / "demo-out" / "evaluation.json").stat().st_size > 0  # the shipped truth was found
