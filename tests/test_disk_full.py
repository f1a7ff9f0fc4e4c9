"""A disk that fills up (issue 21): one sentence, never a traceback, and a load into the embedded
store leaves the store as it was before the load; run again with space, it ends as an
uninterrupted load.

The full disk is real: a small tmpfs mounted in a mount namespace of the test's own (``unshare``),
so nothing outside the test sees it. The store files are copied out of it before the namespace
ends, and read outside.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA_SAMPLES

from graphstore.embedded import EmbeddedStore
from netanalysis.cli import main

REPO = Path(__file__).resolve().parents[1]
MAPPING = DATA_SAMPLES / "sources.yaml"
SOURCES = DATA_SAMPLES / "sources"

pytestmark = pytest.mark.slow  # each test loads the samples more than once


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "test.key"
    assert main(["keygen", "--out", str(path)]) == 0
    return path


def _env(key_file: Path) -> dict[str, str]:
    return {**os.environ, "NETANALYSIS_KEY_FILE": str(key_file), "COLUMNS": "200"}


def cli(key_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netanalysis", *args],
        env=_env(key_file),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )


def on_small_disk(
    key_file: Path, disk: Path, size_kib: int, setup: list[str], args: list[str], keep: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``netanalysis ARGS`` with a tmpfs of ``size_kib`` mounted at ``disk`` (after the shell
    commands ``setup``), then copy what is on it to ``keep``."""
    disk.mkdir()
    keep.mkdir()
    command = shlex.join([sys.executable, "-m", "netanalysis", *args])
    script = "\n".join(
        [
            "set -e",
            f"mount -t tmpfs -o size={size_kib}k tmpfs {shlex.quote(str(disk))}",
            *setup,
            "set +e",
            command,
            "code=$?",
            f"cp -a {shlex.quote(str(disk))}/. {shlex.quote(str(keep))}/",
            "exit $code",
        ]
    )
    # Root makes the mount in a namespace of its own; anyone else in a user namespace.
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.append("--map-root-user")
    return subprocess.run(
        [*unshare, "sh", "-c", script],
        env=_env(key_file),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )


def one_sentence_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), stderr
    assert "Traceback" not in stderr, stderr
    return lines[-1]


_RUN_TIMES = frozenset({"merged_at", "split_at"})


def as_data(path: Path) -> tuple[Any, ...]:
    with EmbeddedStore(path, read_only=True) as store:
        graph = store.read_graph()
        last = store.last_load()
    # A merge or a split records when the run that made it ran (docs/living-graph.md): the rest is
    # the same for a run cut off and run again.
    nodes = sorted(
        (n, sorted((k, v) for k, v in a.items() if k not in _RUN_TIMES)) for n, a in graph.nodes(data=True)
    )
    rels = sorted((u, v, k, sorted(a.items())) for u, v, k, a in graph.edges(keys=True, data=True))
    return nodes, rels, last


def load_args(store: Path, source: Path, rejects: Path) -> list[str]:
    return ["load", str(source), "--mapping", str(MAPPING), "--store", str(store), "--rejects", str(rejects)]


def test_a_full_disk_during_a_load_leaves_the_store_as_it_was(key_file: Path, tmp_path: Path) -> None:
    # The store before: the police export alone. The load that fills the disk: every source.
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(SOURCES / "politie_zaken.csv", first)
    base = tmp_path / "base.sqlite"
    done = cli(key_file, *load_args(base, first, tmp_path / "rejects-1.csv"))
    assert done.returncode == 0, done.stderr
    before = as_data(base)
    assert before[2] is not None and before[2].complete

    disk, kept = tmp_path / "disk", tmp_path / "kept"
    # The police export alone is about 40% of the samples' store: the rest does not fit in 1 MiB more.
    size = base.stat().st_size // 1024 + 1024
    full = on_small_disk(
        key_file,
        disk,
        size,
        [f"cp {shlex.quote(str(base))} {shlex.quote(str(disk / 'g.sqlite'))}"],
        load_args(disk / "g.sqlite", SOURCES, tmp_path / "rejects-2.csv"),
        kept,
    )
    assert full.returncode == 2, (full.stdout, full.stderr)
    line = one_sentence_error(full.stderr)
    assert "disk is full" in line and "as it was before" in line and "run it again" in line, line
    assert as_data(kept / "g.sqlite") == before

    # With space again, the same load ends as an uninterrupted one.
    again, uncut = tmp_path / "again.sqlite", tmp_path / "uncut.sqlite"
    shutil.copy(kept / "g.sqlite", again)
    shutil.copy(base, uncut)
    for store in (again, uncut):
        done = cli(key_file, *load_args(store, SOURCES, tmp_path / f"rejects-{store.stem}.csv"))
        assert done.returncode == 0, done.stderr
    want, got = as_data(uncut), as_data(again)
    assert got[:2] == want[:2] and len(got[0]) > len(before[0])
    assert got[2] is not None and got[2].complete


def test_a_full_disk_for_outputs_is_one_sentence(key_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "g.sqlite"
    done = cli(key_file, *load_args(store, SOURCES, tmp_path / "rejects.csv"))
    assert done.returncode == 0, done.stderr
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    # A disk with room for almost nothing: the detection's CSV files do not fit.
    full = on_small_disk(
        key_file,
        disk,
        16,
        [f"head -c 12k /dev/zero > {shlex.quote(str(disk / 'filler'))}"],
        ["detect", "--store", str(store), "--out", str(disk / "detected")],
        kept,
    )
    assert full.returncode == 2, (full.stdout, full.stderr)
    line = one_sentence_error(full.stderr)
    assert "disk is full" in line and "run the command again" in line, line
