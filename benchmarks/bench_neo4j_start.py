"""How long the toolkit's own Neo4j server takes to provision and start (issue 2).

The figures, each in a throw-away cache so nothing of yours is touched:

* cold: an empty Maven repository and an empty cache, as on a fresh machine: Maven downloads the
  jars (~125 MB), the admin tool sets the password, the first start creates the databases;
* warm first start: jars in the cache, a new server home (password, database creation);
* warm restart: the same home again after a clean stop, with the class-data archive that the
  first clean stop of a version writes (that first stop is slower: it dumps the archive);
* stop: SIGTERM until the process is gone.

Usage::

    .venv/bin/python benchmarks/bench_neo4j_start.py            # cold + warm (downloads ~125 MB)
    .venv/bin/python benchmarks/bench_neo4j_start.py --no-cold  # warm figures only
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from graphstore import neo4j_server

T = TypeVar("T")


def _timed(label: str, func: Callable[[], T]) -> T:
    started = time.monotonic()
    result = func()
    print(f"{label:<28} {time.monotonic() - started:7.1f} s", flush=True)
    return result


def _start(label: str, home: Path, version: str) -> None:
    """Start, and print the wall time and the CPU seconds the JVM spent until Bolt answered
    (the CPU figure is the one that does not depend on what else the shared machine runs)."""
    started = time.monotonic()
    info = neo4j_server.start(home, version=version)
    wall = time.monotonic() - started
    fields = Path(f"/proc/{info.pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    print(f"{label:<28} {wall:7.1f} s   (JVM CPU {cpu:.1f} s)", flush=True)


def _last_download(lines: list[str]) -> str:
    return next((line for line in reversed(lines) if line.startswith("downloaded ")), "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-cold", action="store_true", help="skip the download from an empty Maven repo")
    parser.add_argument("--version", default=neo4j_server.DEFAULT_VERSION)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-neo4j-"))
    saved = {k: os.environ.get(k) for k in ("NETANALYSIS_CACHE", "MAVEN_OPTS")}
    try:
        if not args.no_cold:
            os.environ["NETANALYSIS_CACHE"] = str(root / "cold-cache")
            os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={root / 'm2'}"
            seen: list[str] = []
            _timed("cold: download jars", lambda: neo4j_server.provision(args.version, progress=seen.append))
            print(f"{'  progress lines':<28} {len(seen):7d}   last download line: {_last_download(seen)}")
            size = sum(p.stat().st_size for p in (root / "m2").rglob("*") if p.is_file())
            print(f"{'  Maven downloaded':<28} {size / 2**20:7.1f} MB")
            home = root / "cold-home"
            _start("cold: first start", home, args.version)
            _timed("stop (dumps class archive)", lambda: neo4j_server.stop(home))
            os.environ.pop("MAVEN_OPTS")

        os.environ["NETANALYSIS_CACHE"] = str(root / "warm-cache")
        lib = neo4j_server.provision(args.version)  # from ~/.m2; not timed
        print(f"jars in {lib}: {len(list(lib.glob('*.jar')))}")
        home = root / "warm-home"
        _start("warm: first start (new home)", home, args.version)
        _timed("stop (dumps class archive)", lambda: neo4j_server.stop(home))
        _start("warm: restart (archive)", home, args.version)
        _timed("start again (idempotent)", lambda: neo4j_server.start(home, version=args.version))
        _timed("stop", lambda: neo4j_server.stop(home))
    finally:
        for home in (root / "cold-home", root / "warm-home"):
            if home.is_dir():
                neo4j_server.stop(home)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
