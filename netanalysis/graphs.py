"""Read the graph the analysis works on from a store: the only module in ``netanalysis`` that
touches a store.

Every algorithm (projection, groups, movement, key players, leads) is a pure function over the
``networkx.MultiDiGraph`` returned here, so a notebook can build or filter a graph itself and get
the same answers.
"""

from __future__ import annotations

import datetime as dt

import networkx as nx

from graphstore.base import GraphSlice, GraphStore
from graphstore.errors import ConfigError

__all__ = ["check_iso_date", "read_analysis_graph"]


def check_iso_date(value: str | None, name: str) -> str | None:
    """Return ``value`` when it is an ISO date (YYYY-MM-DD) or None; raise ConfigError otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2023-01-31."
        ) from None


def read_analysis_graph(
    store: GraphStore, date_from: str | None = None, date_to: str | None = None
) -> nx.MultiDiGraph:
    """Read the whole graph, or the facts observed in a date window, from a store.

    Parameters
    ----------
    store : GraphStore
        An open store (``graphstore.open_store(uri)``).
    date_from, date_to : str, optional
        ISO dates, inclusive. Facts with an ``observed_on`` outside the window are left out;
        reference facts (municipality in region, premises in municipality) are always kept.

    Returns
    -------
    networkx.MultiDiGraph
        Node ids ``"Label:key"``, attributes as stored (see ``graphstore.base``).

    Raises
    ------
    ConfigError
        When a date is not ISO or ``date_from`` is after ``date_to``.
    """
    date_from = check_iso_date(date_from, "--from")
    date_to = check_iso_date(date_to, "--to")
    if date_from and date_to and date_from > date_to:
        raise ConfigError(f"--from {date_from} is after --to {date_to}; swap them.")
    return store.read_graph(GraphSlice(observed_from=date_from, observed_to=date_to))
