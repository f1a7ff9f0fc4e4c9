"""Refuse a load whose key is not the key the store was loaded with.

Every Source node holds the fingerprint of the key its rows were pseudonymised with
(``loaders.graph_rows.RowBuilder.source_node``). Pseudonyms made with another key never match
the ones in the store, so a load with another key silently doubles every person, case, phone,
vehicle, account and premises it shares with what is already there. ``check_store_key`` reads
the fingerprints already stored and refuses such a load with one sentence, before the load
writes anything (store, rejects file or audit).

A fingerprint is a one-way hash of the key (``Pseudonymiser.fingerprint``): showing it in a
message reveals nothing about the key or the data.
"""

from __future__ import annotations

from graphstore.base import GraphSlice, GraphStore
from netanalysis.errors import ConfigError

__all__ = ["check_store_key", "store_key_fingerprints"]


def store_key_fingerprints(store: GraphStore) -> set[str]:
    """The key fingerprints on the store's Source nodes (empty for an empty store)."""
    graph = store.read_graph(GraphSlice(labels=frozenset({"Source"}), rel_types=frozenset()))
    return {str(fp) for _node, attrs in graph.nodes(data=True) if (fp := attrs.get("key_fingerprint"))}


def check_store_key(store: GraphStore, fingerprint: str, *, what: str = "this load") -> None:
    """Raise ``ConfigError`` when the store holds data pseudonymised with another key.

    Parameters
    ----------
    store : GraphStore
        The store about to be written.
    fingerprint : str
        The fingerprint of the key the new rows were pseudonymised with.
    what : str
        How the message names the load ("this load", "the encoded exports").

    Raises
    ------
    ConfigError
        The store already holds a Source with another key fingerprint.
    """
    stored = store_key_fingerprints(store)
    others = sorted(stored - {fingerprint})
    if others:
        raise ConfigError(
            f"the store at {store.uri} holds data pseudonymised with another key (fingerprint "
            f"{', '.join(others)}) but {what} uses key {fingerprint}; load with the key file used "
            "before, or into a new store"
        )
