"""Fetching the server's jars from Maven Central into the cache (``mvn dependency:copy-dependencies``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import deque
from importlib import resources
from pathlib import Path

from graphstore.neo4j_server._settings import DEFAULT_VERSION, Progress, _check_version
from graphstore.neo4j_server._state import _locked, cache_root
from netanalysis.errors import StoreUnavailable

_LIB_DONE = ".complete"


def _lib_dir(version: str) -> Path:
    return cache_root() / f"neo4j-{version}" / "lib"


def provision(version: str = DEFAULT_VERSION, progress: Progress | None = None) -> Path:
    """Make sure the server jars of ``version`` are in the cache; fetch them with Maven if not.

    Parameters
    ----------
    version
        A Neo4j 5.x version on Maven Central, e.g. ``"5.26.30"``.
    progress
        Called with a short line of text as Maven downloads (the first run fetches ~125 MB).

    Returns
    -------
    Path
        The folder that holds the jars (``<cache>/neo4j-<version>/lib``).

    Raises
    ------
    ConfigError
        ``version`` is malformed.
    StoreUnavailable
        Maven is missing or could not fetch the artifacts.
    """
    _check_version(version)
    lib = _lib_dir(version)
    if (lib / _LIB_DONE).is_file():
        return lib
    with _locked(lib.parent / ".lock"):
        if (lib / _LIB_DONE).is_file():  # another process finished it while we waited
            return lib
        mvn = shutil.which("mvn")
        if not mvn:
            raise StoreUnavailable(
                "Maven (mvn) not found on PATH; install it (e.g. apt-get install maven) so the "
                "toolkit can fetch the Neo4j server from Maven Central."
            )
        work = lib.parent / "lib.partial"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        pom = lib.parent / "pom.xml"
        pom.write_bytes(resources.files("graphstore.neo4j_server").joinpath("pom.xml").read_bytes())
        cmd = [
            mvn,
            "-B",
            "-U",  # retry artifacts whose earlier failure Maven cached (a network hiccup)
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-Dneo4j.version={version}",
            f"-DoutputDirectory={work}",
            "-DincludeScope=runtime",
        ]
        _run_maven(cmd, version, progress)
        jars = list(work.glob("*.jar"))
        if not any(j.name == f"neo4j-{version}.jar" for j in jars):
            raise StoreUnavailable(
                f"Maven could not fetch org.neo4j:neo4j:{version}: the jar is missing from {work} "
                "after the download."
            )
        (work / _LIB_DONE).write_text(f"{len(jars)} jars\n")
        shutil.rmtree(lib, ignore_errors=True)
        work.rename(lib)
        if progress:
            progress(f"Neo4j {version}: {len(jars)} jars ready in {lib}")
        return lib


def _run_maven(
    cmd: list[str],
    version: str,
    progress: Progress | None,
    what: str | None = None,
    size: str = "~125 MB",
) -> None:
    """Run Maven, passing download progress on, and turn a failure into one sentence.

    ``what`` names the download in the messages (default: the Neo4j server of ``version``).
    """
    fetching = what or f"Neo4j {version}"
    what = what or f"org.neo4j:neo4j:{version}"
    tail: deque[str] = deque(maxlen=40)
    files = 0
    total_kb = 0.0
    sizes = re.compile(r"\(([\d.]+) (B|kB|MB|GB)")
    scale = {"B": 1 / 1024, "kB": 1.0, "MB": 1024.0, "GB": 1024.0 * 1024}
    if progress:
        progress(f"fetching {fetching} from Maven Central (first run: {size})")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    except OSError as exc:
        raise StoreUnavailable(f"Maven could not fetch {what}: {exc}.") from exc
    assert proc.stdout is not None
    last_report = 0.0
    for line in proc.stdout:
        line = line.rstrip()
        tail.append(line)
        if "Downloaded from " in line:  # "[INFO] Downloaded from central: URL (12 kB at ...)"
            files += 1
            m = sizes.search(line)
            if m:
                total_kb += float(m.group(1)) * scale[m.group(2)]
            now = time.monotonic()
            if progress and now - last_report > 0.5:
                last_report = now
                progress(f"downloaded {files} files, {total_kb / 1024:.1f} MB")
    code = proc.wait()
    if code != 0:
        errors = [ln[8:] for ln in tail if ln.startswith("[ERROR] ") and ln.strip() != "[ERROR]"]
        reason = errors[0] if errors else (tail[-1] if tail else f"exit code {code}")
        reason = reason.removesuffix(" -> [Help 1]")
        raise StoreUnavailable(f"Maven could not fetch {what}: {reason}")
    if progress and files:
        progress(f"downloaded {files} files, {total_kb / 1024:.1f} MB")
