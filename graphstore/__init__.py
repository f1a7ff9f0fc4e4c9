"""Graph store: one protocol, an embedded (SQLite) backend and a Neo4j backend."""

from graphstore.base import GraphSlice, GraphStore, RelRow, node_id
from graphstore.schema import GraphSchema, load_schema

__all__ = [
    "GraphSchema",
    "GraphSlice",
    "GraphStore",
    "RelRow",
    "load_schema",
    "node_id",
    "open_store",
]


def open_store(uri: str, **kwargs: object) -> GraphStore:
    """Open a store: a ``neo4j://``, ``neo4j+s://``, ``bolt://`` URI, or a path to an embedded file.

    Neo4j credentials come from ``kwargs`` (``user``, ``password``) or from the environment
    (``NEO4J_USERNAME``, ``NEO4J_PASSWORD``).
    """
    if uri.split("://", 1)[0] in {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}:
        from graphstore.neo4j_store import Neo4jStore

        return Neo4jStore(uri, **kwargs)  # type: ignore[arg-type]
    from graphstore.embedded import EmbeddedStore

    return EmbeddedStore(uri)
