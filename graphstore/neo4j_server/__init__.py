"""A real Neo4j Community server, provisioned and run by the toolkit itself.

Maven Central carries the Neo4j 5.26 LTS server as jars but no distribution tarball, so the toolkit:

1. resolves the server's modules with the small ``pom.xml`` kept in this package and copies them
   into a cache outside the repository, ``~/.cache/netanalysis/neo4j-<version>/lib``
   (``mvn dependency:copy-dependencies``; the first run downloads about 125 MB);
2. lays out a server home (``conf/neo4j.conf`` written here, ``data``, ``logs``, ``run``), by
   default ``~/.cache/netanalysis/server``;
3. on the very first start sets a generated password for the user ``neo4j`` with the admin tool
   (``neo4j-admin dbms set-initial-password``), so no server ever runs with the default password;
4. starts ``org.neo4j.server.CommunityEntryPoint`` on Java 17+ with Bolt and HTTP bound to
   127.0.0.1 on free ports, and waits until Bolt answers a query;
5. records the URI, user, password, pid and ports in ``<home>/state.json`` (mode 0600).

``start`` is idempotent, ``stop`` ends the server with SIGTERM (SIGKILL after a grace period) and
``status`` tells whether it runs. See docs/neo4j.md.

Example
-------
>>> from graphstore import neo4j_server          # doctest: +SKIP
>>> info = neo4j_server.start()                   # doctest: +SKIP
>>> info.uri                                      # doctest: +SKIP
'bolt://127.0.0.1:40123'
>>> neo4j_server.stop()                           # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from netanalysis.errors import ConfigError, StoreUnavailable

if TYPE_CHECKING:
    from graphstore.bulk_import import ImportFiles

__all__ = [
    "DEFAULT_HEAP",
    "DEFAULT_PAGECACHE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_VERSION",
    "IMPORT_HEAP",
    "IMPORT_OFF_HEAP",
    "ServerInfo",
    "cache_root",
    "default_home",
    "import_full",
    "provision",
    "start",
    "status",
    "stop",
]

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
_LIB_DONE = ".complete"

Progress = Callable[[str], None]

# Servers started by this process, so they can be reaped (a dead child stays a zombie otherwise).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running server: give ``uri``, ``user`` and ``password`` to the driver."""

    uri: str
    user: str
    password: str
    pid: int
    bolt_port: int
    http_port: int
    home: Path

    def env(self) -> dict[str, str]:
        """The environment variables that point the toolkit at this server."""
        return {"NEO4J_URI": self.uri, "NEO4J_USERNAME": self.user, "NEO4J_PASSWORD": self.password}


# --- where things live ------------------------------------------------------------------------


def cache_root() -> Path:
    """The toolkit's cache: ``$NETANALYSIS_CACHE``, else ``$XDG_CACHE_HOME/netanalysis``, else
    ``~/.cache/netanalysis``. Never inside the repository."""
    explicit = os.environ.get("NETANALYSIS_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "netanalysis").resolve()


def default_home() -> Path:
    """The server home used when none is given: ``<cache>/server``."""
    return cache_root() / "server"


def _home(home: Path | str | None) -> Path:
    return (Path(home).expanduser() if home is not None else default_home()).resolve()


def _state_path(home: Path) -> Path:
    return home / "state.json"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` so two processes do not provision or start at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- checks -----------------------------------------------------------------------------------


def _check_version(version: str) -> None:
    if not _VERSION_RE.match(version):
        raise ConfigError(f"Neo4j version {version!r} is not of the form MAJOR.MINOR.PATCH, e.g. 5.26.30.")


def _check_memory(name: str, value: str) -> None:
    if not _MEMORY_RE.match(value):
        raise ConfigError(f"{name} {value!r} is not a memory size such as 512m or 2g.")


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


# --- provisioning -----------------------------------------------------------------------------


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
        pom.write_bytes(resources.files(__name__).joinpath("pom.xml").read_bytes())
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


def _run_maven(cmd: list[str], version: str, progress: Progress | None) -> None:
    """Run Maven, passing download progress on, and turn a failure into one sentence."""
    tail: deque[str] = deque(maxlen=40)
    files = 0
    total_kb = 0.0
    sizes = re.compile(r"\(([\d.]+) (B|kB|MB|GB)")
    scale = {"B": 1 / 1024, "kB": 1.0, "MB": 1024.0, "GB": 1024.0 * 1024}
    if progress:
        progress(f"fetching Neo4j {version} from Maven Central (first run: ~125 MB)")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    except OSError as exc:
        raise StoreUnavailable(f"Maven could not fetch org.neo4j:neo4j:{version}: {exc}.") from exc
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
        raise StoreUnavailable(f"Maven could not fetch org.neo4j:neo4j:{version}: {reason}")
    if progress and files:
        progress(f"downloaded {files} files, {total_kb / 1024:.1f} MB")


# --- state ------------------------------------------------------------------------------------


def _read_state(home: Path) -> dict[str, object] | None:
    path = _state_path(home)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The server state file {path} is unreadable ({exc}); stop any server of {home} by hand "
            "and delete the file."
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"The server state file {path} is not a JSON object; delete it.")
    return data


def _write_state(home: Path, state: dict[str, object]) -> None:
    path = _state_path(home)
    tmp = path.with_suffix(".tmp")
    # Created 0600 from the start: the file holds the password.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2, default=str)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _info(state: dict[str, object], home: Path) -> ServerInfo:
    return ServerInfo(
        uri=str(state["uri"]),
        user=str(state["user"]),
        password=str(state["password"]),
        pid=int(str(state["pid"])),
        bolt_port=int(str(state["bolt_port"])),
        http_port=int(str(state["http_port"])),
        home=home,
    )


# --- processes --------------------------------------------------------------------------------


def _alive(pid: int, home: Path) -> bool:
    """Whether ``pid`` is a live Neo4j server of ``home`` (not a zombie, not a reused pid)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        # Our own child: poll() is exact. Its /proc cmdline can read empty while the JVM starts.
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    else:
        with contextlib.suppress(ChildProcessError, OSError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process took the pid
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                return False
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return MAIN_CLASS.encode() in cmdline and f"--home-dir={home}".encode() in cmdline
    return True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the server's own listener does: connections of the previous run that linger in
        # TIME_WAIT do not keep the port from being reused (only a live listener does).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(avoid: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


def _pick_ports(previous: dict[str, object] | None) -> tuple[int, int]:
    """Reuse the previous ports when they are still free, so an exported NEO4J_URI stays valid."""
    if previous:
        try:
            bolt, http = int(str(previous["bolt_port"])), int(str(previous["http_port"]))
        except (KeyError, ValueError):
            bolt = http = 0
        if bolt and http and bolt != http and _port_free(bolt) and _port_free(http):
            return bolt, http
    bolt = _free_port(set())
    return bolt, _free_port({bolt})


def _write_conf(home: Path, bolt: int, http: int, pagecache: str) -> None:
    lines = [
        "# Written by graphstore.neo4j_server on every start; edits are overwritten.",
        "server.default_listen_address=127.0.0.1",
        "server.default_advertised_address=127.0.0.1",
        f"server.bolt.listen_address=127.0.0.1:{bolt}",
        f"server.bolt.advertised_address=127.0.0.1:{bolt}",
        "server.bolt.tls_level=DISABLED",
        f"server.http.listen_address=127.0.0.1:{http}",
        f"server.http.advertised_address=127.0.0.1:{http}",
        "server.http.enabled=true",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=true",
        # Police data: nothing leaves the machine.
        "dbms.usage_report.enabled=false",
        f"server.memory.pagecache.size={pagecache}",
        f"server.directories.data={home / 'data'}",
        f"server.directories.logs={home / 'logs'}",
        f"server.directories.run={home / 'run'}",
        f"server.directories.plugins={home / 'plugins'}",
        f"server.directories.import={home / 'import'}",
        # Tests wipe and reload the graph often; keep the transaction logs small.
        "db.tx_log.rotation.retention_policy=2 files",
        # Bolt waits ~10 s for idle connections on shutdown by default; nothing here needs that.
        "internal.server.bolt.connection_shutdown_wait_time=1s",
        "internal.server.bolt.thread_pool_shutdown_wait_time=1s",
        "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        "internal.dbms.bolt.netty_server_shutdown_timeout=2",
        "",
    ]
    (home / "conf" / "neo4j.conf").write_text("\n".join(lines))


def _log_tail(home: Path, n: int = 12) -> str:
    """The last lines of the server's logs, for error messages."""
    parts = []
    for name in ("console.log", "neo4j.log"):
        path = home / "logs" / name
        if path.is_file():
            with contextlib.suppress(OSError):
                lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
                if lines:
                    parts.append(f"{path}: " + " | ".join(lines[-n:]))
    return " ;; ".join(parts) if parts else f"nothing logged yet in {home / 'logs'}"


def _new_password() -> str:
    """A random password that the admin tool cannot mistake for an option: a token starting with
    '-' (about one in 64) made `set-initial-password` print its usage instead."""
    while (password := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return password


def _set_initial_password(java: str, lib: Path, home: Path, password: str) -> None:
    """``neo4j-admin dbms set-initial-password``, with the password in a picocli argument file
    (``@file``, mode 0600) so it never shows in the process list."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]{8,}", password):
        raise ConfigError("A generated Neo4j password must be at least 8 letters, digits, '-' or '_'.")
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    args_file = home / "run" / "initial-password.args"
    fd = os.open(args_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    cmd = [java, "-Xmx256m", "-cp", f"{lib}/*", ADMIN_CLASS, "dbms", "set-initial-password", f"@{args_file}"]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreUnavailable(f"Setting the initial Neo4j password in {home} failed: {exc}.") from exc
    finally:
        args_file.unlink(missing_ok=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).replace(password, "***").strip().splitlines()
        reason = detail[-1] if detail else f"exit code {done.returncode}"
        raise StoreUnavailable(f"Setting the initial Neo4j password in {home} failed: {reason}.")


def _wait_for_bolt(info: ServerInfo, timeout: float) -> None:
    """Wait until the server answers ``RETURN 1`` over Bolt, or raise with the log's last lines."""
    import neo4j
    from neo4j.exceptions import AuthError, DriverError, Neo4jError

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if not _alive(info.pid, info.home):
            raise StoreUnavailable(
                f"The Neo4j server in {info.home} exited while starting; last lines of its log: "
                f"{_log_tail(info.home)}"
            )
        try:
            with (
                neo4j.GraphDatabase.driver(
                    info.uri, auth=(info.user, info.password), connection_timeout=5.0
                ) as driver,
                driver.session() as session,
            ):
                # An auto-commit query: execute_query would retry with growing back-off on its own.
                session.run("RETURN 1 AS ok").consume()
            return
        except AuthError as exc:
            raise StoreUnavailable(
                f"The Neo4j server in {info.home} refused the password in {_state_path(info.home)}; "
                f"stop it and delete {info.home / 'data'} to start afresh ({exc.code})."
            ) from exc
        except (DriverError, Neo4jError, OSError) as exc:
            last = f"{type(exc).__name__}"
        if time.monotonic() > deadline:
            raise StoreUnavailable(
                f"Neo4j did not answer on {info.uri} within {timeout:g} s ({last}); last lines of "
                f"its log: {_log_tail(info.home)}"
            )
        time.sleep(1.0)


# --- public API -------------------------------------------------------------------------------


def status(home: Path | str | None = None) -> ServerInfo | None:
    """The running server of ``home`` (default ``<cache>/server``), or ``None`` if none runs.

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.

    Returns
    -------
    ServerInfo or None
        How to reach the server, if its process is alive.
    """
    where = _home(home)
    state = _read_state(where)
    if not state or not state.get("pid"):
        return None
    info = _info(state, where)
    return info if _alive(info.pid, where) else None


def start(
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> ServerInfo:
    """Start the toolkit's Neo4j server (or return the one already running) and wait for Bolt.

    Parameters
    ----------
    home
        The server home (config, data, logs, state file); ``None`` means :func:`default_home`.
    version
        The Neo4j version to run; fetched from Maven Central into the cache on first use.
    heap, pagecache
        JVM heap and page cache sizes, e.g. ``"2g"`` and ``"1g"``.
    timeout
        Seconds to wait for Bolt to answer before giving up.
    progress
        Called with short lines of text while jars download and the server starts.

    Returns
    -------
    ServerInfo
        URI (``bolt://127.0.0.1:<port>``), user, the generated password, pid and ports.

    Raises
    ------
    ConfigError
        A malformed version or memory size, or an unreadable state file.
    StoreUnavailable
        Java or Maven is missing, the download failed, or the server did not answer in time
        (the message quotes the last lines of its log).
    """
    _check_version(version)
    _check_memory("heap", heap)
    _check_memory("pagecache", pagecache)
    where = _home(home)
    if not where.is_dir():
        # The home will hold graph data: readable by its owner only.
        where.mkdir(parents=True, mode=0o700)
    with _locked(where / ".lock"):
        state = _read_state(where)
        if state and state.get("pid"):
            running = _info(state, where)
            if _alive(running.pid, where):
                _wait_for_bolt(running, timeout)
                return running
        java, java_id = _java()
        lib = provision(version, progress)
        for sub in ("conf", "data", "logs", "run", "plugins", "import"):
            (where / sub).mkdir(exist_ok=True)
        bolt, http = _pick_ports(state)
        _write_conf(where, bolt, http, pagecache)

        first_start = (
            not (where / "data" / "dbms" / "auth.ini").exists()
            and not (where / "data" / "databases" / "system").exists()
        )
        if first_start:
            password = _new_password()
            if progress:
                progress("setting a generated password for user neo4j")
            _set_initial_password(java, lib, where, password)
            # Saved at once: from now on this data only opens with this password.
            _write_state(where, {"user": USER, "password": password, "pid": None, "version": version})
        elif state and state.get("password"):
            password = str(state["password"])
        else:
            raise ConfigError(
                f"The Neo4j data in {where / 'data'} was created with a password that is not in "
                f"{_state_path(where)}; delete {where / 'data'} to start afresh."
            )

        if progress:
            progress(f"starting Neo4j {version} (Bolt on 127.0.0.1:{bolt})")
        cds_option, cds_partial = _class_data_sharing(lib, java_id)
        cmd = [
            java,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *JVM_OPTIONS,
            cds_option,
            "-cp",
            f"{lib}/*:{where / 'plugins'}/*",
            MAIN_CLASS,
            f"--home-dir={where}",
            f"--config-dir={where / 'conf'}",
        ]
        env = dict(os.environ, NEO4J_HOME=str(where), NEO4J_CONF=str(where / "conf"))
        console = open(where / "logs" / "console.log", "ab")  # handed to the child, closed below
        try:
            # A session of its own: Ctrl-C in the shell or test run that started it does not kill it.
            proc = subprocess.Popen(
                cmd,
                cwd=where,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise StoreUnavailable(f"Could not run {java} to start Neo4j: {exc}.") from exc
        finally:
            console.close()
        _CHILDREN[proc.pid] = proc
        info = ServerInfo(
            uri=f"bolt://127.0.0.1:{bolt}",
            user=USER,
            password=password,
            pid=proc.pid,
            bolt_port=bolt,
            http_port=http,
            home=where,
        )
        started = {**asdict(info), "home": str(where), "version": version, "started": time.time()}
        if cds_partial:
            started["cds_partial"] = str(cds_partial)
        _write_state(where, started)
        try:
            _wait_for_bolt(info, timeout)
        except BaseException:
            _terminate(proc.pid, where)
            _finish_class_data(started, clean=False)
            _write_state(where, {**started, "pid": None, "cds_partial": None})
            raise
        return info


def _class_data_sharing(lib: Path, java_id: str) -> tuple[str, Path | None]:
    """The JVM option for a class-data-sharing archive of the server's classes, and the file a
    first run dumps it to (``None`` when the archive exists already).

    Loading and verifying Neo4j's classes is much of its start-up; with the archive (written once, when
    the first server of this version stops cleanly) a start needs about 40 % less CPU. A JVM that
    cannot map the archive (another Java build, a damaged file) ignores it and loads the classes.
    """
    final = lib.parent / f"classes-{java_id}.jsa"
    if final.is_file():
        return f"-XX:SharedArchiveFile={final}", None
    for stale in lib.parent.glob("classes-*.partial"):
        # A dump in progress lasts under a minute; an older partial is from a killed server.
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 600:
                stale.unlink()
    partial = lib.parent / f"classes-{java_id}.{secrets.token_hex(4)}.partial"
    return f"-XX:ArchiveClassesAtExit={partial}", partial


def _finish_class_data(state: dict[str, object], clean: bool) -> None:
    """After the server exited: keep the archive it dumped if it stopped cleanly, else drop it."""
    partial_name = state.get("cds_partial")
    if not partial_name:
        return
    partial = Path(str(partial_name))
    final = partial.parent / (partial.name.split(".", 1)[0] + ".jsa")
    if clean and partial.is_file() and partial.stat().st_size > 0 and not final.exists():
        os.replace(partial, final)
    else:
        partial.unlink(missing_ok=True)


def _terminate(pid: int, home: Path, grace: float = STOP_GRACE) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; ``True`` if it stopped without KILL."""
    clean = True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid, home):
        if time.monotonic() > deadline:
            clean = False
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 10
            while _alive(pid, home) and time.monotonic() < kill_deadline:
                time.sleep(0.1)
            break
        time.sleep(0.2)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    return clean


def stop(home: Path | str | None = None, grace: float = STOP_GRACE) -> bool:
    """Stop the server of ``home``: SIGTERM, wait up to ``grace`` seconds, then SIGKILL.

    Parameters
    ----------
    home
        The server home; ``None`` means :func:`default_home`.
    grace
        Seconds to wait for a clean shutdown before killing the process.

    Returns
    -------
    bool
        ``True`` if a running server was stopped, ``False`` if none was running.
    """
    where = _home(home)
    if not where.is_dir():
        return False
    with _locked(where / ".lock"):
        state = _read_state(where)
        if not state or not state.get("pid"):
            return False
        pid = int(str(state["pid"]))
        was_running = _alive(pid, where)
        clean = _terminate(pid, where, grace) if was_running else False
        _finish_class_data(state, clean)
        _write_state(where, {**state, "pid": None, "cds_partial": None})
        return was_running


# --- initial import (neo4j-admin database import full) ---------------------------------------

#: JVM heap and off-heap memory of the import tool on this 2-core, 24 GB machine: the importer
#: keeps its id mapping and caches off heap; by default it would claim 90 % of RAM.
IMPORT_HEAP = "2g"
IMPORT_OFF_HEAP = "4g"


def _import_command(java: str, lib: Path, files: ImportFiles, heap: str, off_heap: str) -> list[str]:
    cmd = [
        java,
        f"-Xmx{heap}",
        *JVM_OPTIONS,
        "-cp",
        f"{lib}/*",
        ADMIN_CLASS,
        "database",
        "import",
        "full",
        # The database first: --nodes and --relationships take every later word as a file.
        "neo4j",
        "--overwrite-destination=true",
        # Any bad entry aborts the import: nothing is dropped silently.
        "--bad-tolerance=0",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        "--strict=true",
        # Values are written exactly: no trimming, "" is an empty string, never null.
        "--trim-strings=false",
        "--ignore-empty-strings=false",
        "--ignore-extra-columns=false",
        f"--array-delimiter=U+{ord(files.array_delimiter):04X}",
        f"--max-off-heap-memory={off_heap}",
        f"--report-file={files.report_file}",
        # Without it a failure says only "Error importing csv file"; the cause is what helps.
        "--verbose",
        "--threads=2",
    ]
    if files.multiline:
        cmd += [
            "--multiline-fields-format=v2",
            "--multiline-fields=" + ",".join(str(p) for p in files.multiline),
        ]
    cmd += [f"--nodes={label}={path}" for label, path in files.nodes]
    cmd += [f"--relationships={rel_type}={path}" for rel_type, path in files.relationships]
    return cmd


def import_full(
    files: ImportFiles,
    home: Path | str | None = None,
    version: str = DEFAULT_VERSION,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    import_heap: str = IMPORT_HEAP,
    import_off_heap: str = IMPORT_OFF_HEAP,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> ServerInfo:
    """Replace the ``neo4j`` database of the toolkit's server with the given CSV files.

    Stops the server of ``home`` if it runs, runs ``neo4j-admin database import full neo4j
    --overwrite-destination`` (the database's previous content, constraints and indexes are
    deleted), and starts the server again. The system database (users, the password) is kept.

    Parameters
    ----------
    files
        The node and relationship CSV files (``graphstore.bulk_import.BulkImportWriter.finish``).
    home
        The server home; ``None`` means :func:`default_home`. It must have been started before
        (its configuration and password come from that start).
    version, heap, pagecache, timeout
        As for :func:`start`, used for the restart.
    import_heap, import_off_heap
        Heap and off-heap memory of the import tool.
    progress
        Called with short lines of text at each step.

    Returns
    -------
    ServerInfo
        The restarted server.

    Raises
    ------
    ConfigError
        The home was never started, or a memory size is malformed.
    StoreError
        The import tool failed or reported a bad entry; the message quotes it. The server is
        started again with an empty ``neo4j`` database (the import had emptied it already).
    StoreUnavailable
        Java is missing or the server did not come back.
    """
    from netanalysis.errors import StoreError

    _check_version(version)
    _check_memory("import heap", import_heap)
    _check_memory("import off-heap memory", import_off_heap)
    where = _home(home)
    state = _read_state(where) if where.is_dir() else None
    if not state or not state.get("password") or not (where / "conf" / "neo4j.conf").is_file():
        raise ConfigError(
            f"{where} is not a home of the toolkit's Neo4j server; start it once with "
            "`netanalysis neo4j start` before an initial import."
        )
    java, _java_id = _java()
    lib = provision(version, progress)
    if progress:
        progress(f"stopping the Neo4j server of {where} for the import")
    stop(where)
    env = dict(os.environ, NEO4J_HOME=str(where), NEO4J_CONF=str(where / "conf"))
    cmd = _import_command(java, lib, files, import_heap, import_off_heap)
    log = where / "logs" / "import.log"
    failure: str | None = None
    with _locked(where / ".lock"):  # no `start` of this home while the store files are rewritten
        if progress:
            progress("importing with neo4j-admin database import full")
        try:
            with open(log, "wb") as out:
                done = subprocess.run(
                    cmd,
                    env=env,
                    cwd=where,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            code: int | None = done.returncode
        except OSError as exc:
            code, failure = None, f"could not run {java}: {exc}"
        if failure is None and code != 0:
            failure = f"exit code {code}: {_import_error(log)}"
        if failure is None and files.report_file.is_file() and files.report_file.stat().st_size > 0:
            first = files.report_file.read_text(errors="replace").strip().splitlines()[0]
            failure = f"bad entries in {files.report_file}, the first: {first}"
        if failure is not None:
            # The tool leaves half-written store files that the server cannot open; without them
            # the server creates the database afresh, empty, as the import had already emptied it.
            for sub in ("databases", "transactions"):
                shutil.rmtree(where / "data" / sub / "neo4j", ignore_errors=True)
    if progress:
        progress("starting the Neo4j server again")
    info = start(where, version=version, heap=heap, pagecache=pagecache, timeout=timeout, progress=progress)
    if failure is not None:
        raise StoreError(f"neo4j-admin database import into {where} failed ({failure}); the log is {log}.")
    return info


def _import_error(log: Path) -> str:
    """The import tool's own explanation: the innermost cause it printed, else its last line."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"no output in {log}"
    causes = [ln.removeprefix("Caused by: ") for ln in lines if ln.startswith("Caused by: ")]
    if causes:
        cause = causes[-1]
        # "org.neo4j...InputException: <what is wrong>": the Java class name helps nobody.
        return (cause.split("Exception: ", 1)[1] if "Exception: " in cause else cause)[:500]
    errors = [ln for ln in lines if "ERROR" in ln or "Exception" in ln]
    return (errors[0] if errors else lines[-1] if lines else "no output")[:500]
