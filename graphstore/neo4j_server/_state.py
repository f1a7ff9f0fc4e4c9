"""Where a server home lives, its 0600 state file, the home's lock, and the choice of ports."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from netanalysis.errors import ConfigError


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running server: give ``uri``, ``user`` and ``password`` to the driver."""

    uri: str
    user: str
    # Not in the repr: a ServerInfo shown in a traceback, log or test report would print it.
    password: str = field(repr=False)
    pid: int
    bolt_port: int
    http_port: int
    home: Path
    #: Whether the Graph Data Science library is in its plugins folder (``start(gds=True)``).
    gds: bool = False

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
        gds=bool(state.get("gds", False)),
    )


# --- ports -------------------------------------------------------------------------------------


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


# --- an initial import in progress ---------------------------------------------------------------

#: Stages of an initial import that its marker records: the loader writes its CSV files and the
#: database is untouched ("files"), or the database is being replaced or has been replaced but not
#: yet checked and given its schema, so it belongs to the unfinished import ("database").
IMPORT_FILES = "files"
IMPORT_DATABASE = "database"


def _import_marker_path(home: Path) -> Path:
    return home / "initial-import.json"


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` from /proc (clock ticks since boot), ``None`` if it is gone; with
    the pid it tells a live process from a later one that took the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]


def _read_import_marker(home: Path) -> dict[str, object] | None:
    """The marker of an initial import into ``home`` that started and has not finished, if any."""
    path = _import_marker_path(home)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        # Cut off while being written: the import that wrote it got no further than its start.
        return {"stage": IMPORT_FILES, "pid": None}
    return data if isinstance(data, dict) else {"stage": IMPORT_FILES, "pid": None}


def _write_import_marker(home: Path, **fields: object) -> dict[str, object]:
    """Record (or update) that this process runs an initial import into ``home``."""
    marker = _read_import_marker(home) or {}
    pid = os.getpid()
    marker.update({"pid": pid, "process_start": _process_start(pid), **fields})
    path = _import_marker_path(home)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(marker, fh, indent=2, default=str)
        fh.write("\n")
    os.replace(tmp, path)
    return marker


def _import_running(marker: dict[str, object]) -> bool:
    """Whether the process that wrote ``marker`` still runs (so the import is not abandoned)."""
    pid = marker.get("pid")
    if not isinstance(pid, int):
        return False
    return _process_start(pid) is not None and _process_start(pid) == marker.get("process_start")


def _remove_database(home: Path) -> None:
    """Delete the store and transaction files of the ``neo4j`` database; the server creates it
    afresh, empty, on its next start (the system database, with the password, is kept)."""
    for sub in ("databases", "transactions"):
        shutil.rmtree(home / "data" / sub / "neo4j", ignore_errors=True)
