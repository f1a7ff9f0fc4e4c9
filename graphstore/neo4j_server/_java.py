"""Finding a Java 17+ to run the server and its admin tool."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from graphstore.neo4j_server._settings import MIN_JAVA
from netanalysis.errors import StoreUnavailable


def _java() -> tuple[str, str]:
    """The java executable (``$JAVA_HOME/bin/java``, else ``java`` on PATH) and a short id of its
    exact build (a class-data archive only fits the JVM that wrote it)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not candidate or not Path(candidate).is_file():
        raise StoreUnavailable(
            f"Java {MIN_JAVA}+ not found (looked in {'$JAVA_HOME' if java_home else 'PATH'}); "
            "install a JDK, e.g. apt-get install openjdk-17-jre-headless."
        )
    try:
        out = subprocess.run(
            [candidate, "-version"], capture_output=True, text=True, timeout=60, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreUnavailable(
            f"Java at {candidate} does not run ({exc}); install a working JDK 17+."
        ) from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise StoreUnavailable(f"Cannot tell the version of the Java at {candidate}; install a JDK 17+.")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise StoreUnavailable(
            f"Java {MIN_JAVA}+ not found: {candidate} is Java {major}; install JDK 17 or 21 "
            "and put it on PATH or in JAVA_HOME."
        )
    return candidate, hashlib.sha256(f"{candidate}\n{out}".encode()).hexdigest()[:12]
