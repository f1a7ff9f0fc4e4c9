"""Graph store: one protocol, an embedded (SQLite) backend and a Neo4j backend.

``open_store`` takes everything it needs as arguments. ``store_from_env`` is the one place where
the environment is read (``NETANALYSIS_STORE``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``); the
command line and the notebooks call it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from graphstore.base import GraphSlice, GraphStore, RelRow, node_id
from graphstore.schema import GraphSchema, load_schema

__all__ = [
    "GraphSchema",
    "GraphSlice",
    "GraphStore",
    "RelRow",
    "is_server_uri",
    "load_schema",
    "node_id",
    "open_store",
    "store_from_env",
]

ENV_STORE = "NETANALYSIS_STORE"
ENV_NEO4J_USERNAME = "NEO4J_USERNAME"
ENV_NEO4J_PASSWORD = "NEO4J_PASSWORD"
_NEO4J_SCHEMES = {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}


def is_server_uri(uri: str) -> bool:
    """True for a Neo4j URI (``neo4j://``, ``bolt://`` and their ``+s``/``+ssc`` forms), False for
    the path of an embedded store."""
    return uri.split("://", 1)[0] in _NEO4J_SCHEMES


def open_store(uri: str, *, read_only: bool = False, **kwargs: object) -> GraphStore:
    """Open a store: a ``neo4j://``, ``neo4j+s://``, ``bolt://`` URI, or a path to an embedded file.

    Neo4j credentials are ``kwargs`` (``user``, default ``neo4j``; ``password``); this function
    never reads the environment (``store_from_env`` does). ``read_only`` opens an existing
    embedded file without writing to it, so reading never waits for a load that writes.
    """
    if is_server_uri(uri):
        from graphstore.neo4j_store import Neo4jStore

        return Neo4jStore(uri, **kwargs)  # type: ignore[arg-type]
    from graphstore.embedded import EmbeddedStore

    return EmbeddedStore(uri, read_only=read_only)


def store_from_env(
    uri: str | os.PathLike[str] | None = None,
    *,
    default: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **kwargs: object,
) -> GraphStore:
    """Open the store the environment points at: the edge between a user's shell and the library.

    Parameters
    ----------
    uri : str or path, optional
        The store; when not given, ``$NETANALYSIS_STORE``, else ``default``.
    default : str or path, optional
        The store when neither ``uri`` nor ``$NETANALYSIS_STORE`` names one.
    environ : mapping, optional
        The environment to read (default ``os.environ``).
    **kwargs
        Passed to ``open_store``; they win over the environment.

    Returns
    -------
    GraphStore
        For a Neo4j URI, logged in as ``$NEO4J_USERNAME`` (else ``neo4j``) with ``$NEO4J_PASSWORD``.

    Raises
    ------
    ConfigError
        No store named anywhere, or (from ``open_store``) no password for a Neo4j URI.

    Examples
    --------
    >>> store = store_from_env(default="graph.sqlite")   # doctest: +SKIP
    """
    from netanalysis.errors import ConfigError

    env = os.environ if environ is None else environ
    target = uri if uri is not None and str(uri) else env.get(ENV_STORE) or default
    if target is None or not str(target):
        raise ConfigError(f"no graph store given; pass a store or set {ENV_STORE}")
    text = str(Path(target)) if not isinstance(target, str) else target
    if is_server_uri(text):
        if env.get(ENV_NEO4J_USERNAME):
            kwargs.setdefault("user", env[ENV_NEO4J_USERNAME])
        if env.get(ENV_NEO4J_PASSWORD) is not None:
            kwargs.setdefault("password", env[ENV_NEO4J_PASSWORD])
    read_only = bool(kwargs.pop("read_only", False))
    return open_store(text, read_only=read_only, **kwargs)
