"""``--max-memory``: a run that needs more stops with one sentence naming the step and the setting
(exit code 2), never a ``MemoryError`` traceback; a load cut off by it leaves the store as it was.

The limits are real: each command runs in a process of its own under ``RLIMIT_AS``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graphstore.embedded import EmbeddedStore
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.memory import ENV_MAX_MEMORY, MemoryLimit, MemorySettings, parse_bytes

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "data_samples" / "sources"
MAPPING = REPO / "data_samples" / "sources.yaml"
# Far below what the toolkit needs to read and analyse even the samples (about 700M of address
# space on this machine), far above what the interpreter needs to start.
TOO_LITTLE = "300M"


@pytest.mark.parametrize("text", ["8", "eight G", "8X", "-1G", "100M"])
def test_a_bad_amount_is_one_sentence(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="--max-memory") as caught:
        MemorySettings.from_text(text)
    assert "\n" not in str(caught.value)
    monkeypatch.setenv(ENV_MAX_MEMORY, text)
    with pytest.raises(ConfigError, match=ENV_MAX_MEMORY):
        MemorySettings.from_text(None)


def test_the_setting_comes_from_the_option_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_MAX_MEMORY, raising=False)
    assert MemorySettings.from_text(None).max_memory is None
    monkeypatch.setenv(ENV_MAX_MEMORY, "3G")
    assert MemorySettings.from_text(None).max_memory == 3 * 2**30
    assert MemorySettings.from_text("1.5G").max_memory == parse_bytes("1536M")


def test_the_limit_is_lifted_after_the_block_and_names_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    limit = MemoryLimit(MemorySettings(2 * 2**30), "detect", ", or detect on a window")
    steps: list[str] = []
    tell = limit.tracking(lambda stage, done, total: steps.append(stage), {"read": "read the graph"})
    assert limit.step == "read the graph"
    with pytest.raises(ConfigError) as caught, limit:
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == 2 * 2**30
        tell("groups", 0, None)
        bytearray(3 * 2**30)  # more than the limit: refused at once
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert steps == ["groups"]
    assert str(caught.value) == (
        "detect ran out of memory in the step 'groups' under --max-memory 2G: raise --max-memory "
        f"(or {ENV_MAX_MEMORY}) to what this machine can give, or detect on a window"
    )
    # Other errors pass through untouched; without a limit nothing is caught.
    with pytest.raises(KeyError), limit:
        raise KeyError("x")
    with pytest.raises(MemoryError), MemoryLimit(MemorySettings(), "detect"):
        raise MemoryError


def cli(key_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETANALYSIS_KEY_FILE": str(key_file), "COLUMNS": "200"}
    env.pop(ENV_MAX_MEMORY, None)
    return subprocess.run(
        [sys.executable, "-m", "netanalysis", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )


def one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and "MemoryError" not in stderr, stderr
    # Besides the progress bar's lines (detect draws them also outside a terminal): one sentence.
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1 and lines[-1] == errors[0] and errors[0].startswith("error: "), stderr
    return errors[0]


def as_data(path: Path) -> tuple[Any, ...]:
    with EmbeddedStore(path, read_only=True) as store:
        graph = store.read_graph()
    nodes = sorted((n, sorted(a.items())) for n, a in graph.nodes(data=True))
    rels = sorted((u, v, k, sorted(a.items())) for u, v, k, a in graph.edges(keys=True, data=True))
    return nodes, rels


@pytest.mark.slow  # four processes load or analyse the samples
def test_each_big_command_stops_with_one_sentence_under_a_real_limit(tmp_path: Path) -> None:
    key_file = tmp_path / "test.key"
    assert main(["keygen", "--out", str(key_file)]) == 0
    store = tmp_path / "g.sqlite"
    load = ["load", str(SOURCES), "--mapping", str(MAPPING), "--store", str(store)]
    load += ["--rejects", str(tmp_path / "rejects.csv")]
    police = tmp_path / "police"
    police.mkdir()
    (police / "politie_zaken.csv").write_bytes((SOURCES / "politie_zaken.csv").read_bytes())
    first = ["load", str(police), "--mapping", str(MAPPING), "--store", str(store)]
    assert cli(key_file, *first, "--rejects", str(tmp_path / "r0.csv")).returncode == 0
    before = as_data(store)

    cut = cli(key_file, *load, "--max-memory", TOO_LITTLE)
    assert cut.returncode == 2, cut.stderr
    line = one_sentence(cut.stderr)
    assert line.startswith("error: the load ran out of memory in the step '"), line
    assert f"--max-memory {TOO_LITTLE}: raise --max-memory" in line, line
    assert as_data(store) == before  # the embedded store rolled the load back

    done = cli(key_file, *load, "--max-memory", "6G")
    assert done.returncode == 0, done.stderr
    assert len(as_data(store)[0]) > len(before[0])

    for command, args in (
        ("detect", ["detect", "--store", str(store), "--out", str(tmp_path / "d")]),
        ("the report", ["report", "--store", str(store), "--period", "2024", "--out", str(tmp_path / "r")]),
    ):
        run = cli(key_file, *args, "--no-pdf" if command == "the report" else "--seed=0",
                  "--max-memory", TOO_LITTLE)  # fmt: skip
        assert run.returncode == 2, run.stderr
        line = one_sentence(run.stderr)
        assert line.startswith(f"error: {command} ran out of memory in the step '"), line
        assert "--max-memory" in line and ENV_MAX_MEMORY in line, line
    # Enough memory: the report is written.
    report = ["report", "--store", str(store), "--period", "2024", "--out", str(tmp_path / "r2"), "--no-pdf"]
    ok = cli(key_file, *report, "--max-memory", "6G")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "r2" / "report.html").exists()
