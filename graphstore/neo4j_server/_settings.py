"""The server's defaults, fixed names and JVM options, and the checks of the settings a caller gives."""

from __future__ import annotations

import re
from collections.abc import Callable

from netanalysis.errors import ConfigError

#: The newest Neo4j 5.26 LTS patch on Maven Central that resolves (5.26 is the line that runs on
#: Java 17; the calendar releases need Java 21).
DEFAULT_VERSION = "5.26.30"
#: Sized for a 2-core, 24 GB machine that also runs the test suite.
DEFAULT_HEAP = "2g"
DEFAULT_PAGECACHE = "1g"
#: Seconds to wait for Bolt; the first start creates the system database and is the slowest.
DEFAULT_TIMEOUT = 300.0
#: Seconds between SIGTERM and SIGKILL in ``stop``; a clean shutdown checkpoints the store.
STOP_GRACE = 90.0

USER = "neo4j"
MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"
MIN_JAVA = 17

# Taken from the JVM options of the official neo4j.conf; AlwaysPreTouch is left out on purpose so
# the heap is not committed up front on a machine shared with the tests.
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
)

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_MEMORY_RE = re.compile(r"^[1-9]\d*[kKmMgG]?$")

Progress = Callable[[str], None]


def _check_version(version: str) -> None:
    if not _VERSION_RE.match(version):
        raise ConfigError(f"Neo4j version {version!r} is not of the form MAJOR.MINOR.PATCH, e.g. 5.26.30.")


def _check_memory(name: str, value: str) -> None:
    if not _MEMORY_RE.match(value):
        raise ConfigError(f"{name} {value!r} is not a memory size such as 512m or 2g.")
