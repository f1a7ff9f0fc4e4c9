"""The server's ``neo4j.conf`` and its generated password (``neo4j-admin dbms set-initial-password``)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

from graphstore.neo4j_server._settings import ADMIN_CLASS
from netanalysis.errors import ConfigError, StoreUnavailable


def _write_conf(home: Path, bolt: int, http: int, pagecache: str, gds: bool = False) -> None:
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
    ]
    if gds:
        # GDS reaches into the kernel (its own page reads, transactions, memory tracking), which a
        # procedure may only do when it is named here; the allowlist loads nothing else from plugins/.
        lines += [
            "dbms.security.procedures.unrestricted=gds.*",
            "dbms.security.procedures.allowlist=gds.*",
        ]
    lines.append("")
    (home / "conf" / "neo4j.conf").write_text("\n".join(lines))


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
