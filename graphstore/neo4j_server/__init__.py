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

With ``start(gds=True)`` (``netanalysis neo4j start --with-gds``) the server also gets the Graph
Data Science library: its modules are resolved from Maven Central with ``gds_pom.xml`` into
``<cache>/gds-<version>-neo4j-<version>/plugins`` and copied into ``<home>/plugins``.

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

# The modules follow the steps above; `X as X` keeps the few private names that callers and tests
# reach through this package (from before the split) importable from here.
from graphstore.neo4j_server._admin_import import (
    IMPORT_HEAP,
    IMPORT_OFF_HEAP,
    import_full,
    initial_import_run,
    recover_initial_import,
)
from graphstore.neo4j_server._config import _new_password as _new_password
from graphstore.neo4j_server._gds import GDS_VERSION, provision_gds
from graphstore.neo4j_server._lifecycle import start, status, stop
from graphstore.neo4j_server._provision import _run_maven as _run_maven
from graphstore.neo4j_server._provision import provision
from graphstore.neo4j_server._settings import ADMIN_CLASS as ADMIN_CLASS
from graphstore.neo4j_server._settings import (
    DEFAULT_HEAP,
    DEFAULT_PAGECACHE,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
)
from graphstore.neo4j_server._settings import MAIN_CLASS as MAIN_CLASS
from graphstore.neo4j_server._settings import USER as USER
from graphstore.neo4j_server._settings import Progress as Progress
from graphstore.neo4j_server._state import ServerInfo, cache_root, default_home

__all__ = [
    "DEFAULT_HEAP",
    "DEFAULT_PAGECACHE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_VERSION",
    "GDS_VERSION",
    "IMPORT_HEAP",
    "IMPORT_OFF_HEAP",
    "ServerInfo",
    "cache_root",
    "default_home",
    "import_full",
    "initial_import_run",
    "provision",
    "provision_gds",
    "recover_initial_import",
    "start",
    "status",
    "stop",
]
