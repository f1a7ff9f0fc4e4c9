"""``detect --engine gds``: the perpetrator network, its groups and the betweenness within groups,
computed inside a Neo4j server with the Graph Data Science library.

The evidence network is projected in the server with Cypher (``graphstore.cypher``), with the
weights of :func:`netanalysis.projection.perpetrator_network`; Leiden (or Louvain) and betweenness
run there too, and Python receives only the links, the communities and the scores. The result has
the same shape as the local engine's, so the rest of the detection (victims, moves, stability, key
players, disruption, leads) runs on it unchanged. What differs and why is in docs/detection.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Literal, cast

import networkx as nx

from graphstore import gds
from graphstore.cypher import GDS_EVIDENCE_KINDS
from netanalysis.errors import ConfigError
from netanalysis.graphs import GraphIndex, index_graph
from netanalysis.groups import _connected_parts, communities_to_groups
from netanalysis.movement import bare_key, main_region, municipality_regions, observations
from netanalysis.projection import EVIDENCE_KINDS, EvidenceWeights, suspects

__all__ = ["ENGINES", "check_engine", "gds_network"]

#: Where the network, groups and betweenness are computed: in Python, or in Neo4j with GDS.
ENGINES: tuple[str, ...] = ("local", "gds")


def check_engine(engine: str, weights: EvidenceWeights, method: str, resolution: float) -> None:
    """Refuse, in one sentence, what the GDS engine cannot compute as the local one does.

    Examples
    --------
    >>> check_engine("gds", EvidenceWeights(address=0, employer=0, director=0), "leiden", 1.5)
    >>> check_engine("spark", EvidenceWeights(), "leiden", 1.0)
    Traceback (most recent call last):
    ...
    netanalysis.errors.ConfigError: unknown engine 'spark'; use one of local, gds.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if engine != "gds":
        return
    for kind in EVIDENCE_KINDS:
        if kind not in GDS_EVIDENCE_KINDS and weights.kind_weight(kind) != 0:
            raise ConfigError(
                f"--engine gds cannot compute the evidence kind {kind!r} in the database yet; use "
                f"--engine local (or give {kind} the weight 0)."
            )
    if method == "louvain" and resolution != 1.0:
        raise ConfigError(
            "GDS Louvain has no resolution: use --method leiden with --engine gds, or --engine local "
            f"for Louvain at resolution {resolution:g}."
        )


def _latest_date(index: GraphIndex) -> str | None:
    # The default as_of of perpetrator_network: the latest observation in the graph.
    dates = [d for edges in index.all_edges() for _, _, data in edges if (d := data.get("observed_on"))]
    return str(max(dates)) if dates else None


def gds_network(
    graph: nx.MultiDiGraph,
    store: object,
    *,
    weights: EvidenceWeights,
    method: str,
    seed: int,
    resolution: float,
    level: str,
    as_of: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    index: GraphIndex | None = None,
) -> tuple[nx.Graph, dict[Hashable, str], dict[str, float]]:
    """The perpetrator network, its groups and each suspect's betweenness within its group, from
    the server of ``store``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The graph read from ``store`` with the same window (``date_from``, ``date_to``): the regions
        and roles of the suspects come from it.
    store : graphstore.neo4j_store.Neo4jStore
        The Neo4j store the graph was read from; its server needs GDS.
    weights, method, seed, resolution, level, as_of
        As in ``DetectionSettings``.

    Returns
    -------
    (networkx.Graph, dict, dict)
        The network as :func:`netanalysis.projection.perpetrator_network` returns it, the groups as
        :func:`netanalysis.groups.find_groups` does, and normalised betweenness per suspect (as
        ``key_players`` reports it: distance 1/weight, over pairs of other members of the group).

    Raises
    ------
    ConfigError
        The store is not a Neo4j server with GDS, or a setting GDS cannot follow (one sentence
        saying what to do).
    """
    check_engine("gds", weights, method, resolution)
    index = index_graph(graph, index)
    as_of = as_of or _latest_date(index)
    result = gds.evidence_network(
        store,
        kind_weights={kind: weights.kind_weight(kind) for kind in GDS_EVIDENCE_KINDS},
        source_grade=weights.source_grade,
        information_grade=weights.information_grade,
        missing_grade=weights.missing_grade,
        max_item_persons=weights.max_item_persons,
        half_life_days=weights.half_life_days,
        as_of=as_of,
        method=cast(Literal["leiden", "louvain"], method),
        resolution=resolution,
        seed=seed,
        observed_from=date_from,
        observed_to=date_to,
    )

    suspect_nodes = suspects(graph, index)
    regions = municipality_regions(graph, level, index)
    obs = observations(graph, suspect_nodes, index)
    network = nx.Graph(as_of=as_of, skipped_items=dict(sorted(result.skipped_items.items())), level=level)
    network.add_nodes_from(
        (
            bare_key(node),
            {
                "region": main_region(obs.get(node, []), regions),
                "roles": sorted(graph.nodes[node].get("roles") or ["suspect"]),
            },
        )
        for node in suspect_nodes
    )
    for link in result.links:
        evidence = dict(sorted(link.evidence.items()))
        network.add_edge(link.a, link.b, weight=link.weight, evidence=evidence, kinds="|".join(evidence))

    # GDS numbers communities of the linked suspects; a suspect without links is a group of its own.
    by_community: dict[int, set[Hashable]] = {}
    for person, community in result.communities.items():
        by_community.setdefault(community, set()).add(person)
    communities = list(by_community.values())
    communities += [{node} for node in network if node not in result.communities]
    # As find_groups: a community that is not connected (Louvain can return those) is split.
    partition = communities_to_groups(_connected_parts(network, communities))
    return network, partition, _betweenness_within_groups(store, network, partition)


def _betweenness_within_groups(
    store: object, network: nx.Graph, partition: Mapping[Hashable, str]
) -> dict[str, float]:
    inside = [
        (str(a), str(b), 1.0 / float(data["weight"]))
        for a, b, data in network.edges(data=True)
        if partition[a] == partition[b]
    ]
    raw = gds.betweenness_within(store, inside)
    sizes: dict[str, int] = {}
    for group in partition.values():
        sizes[group] = sizes.get(group, 0) + 1
    scores: dict[str, float] = {}
    for person, group in partition.items():
        n = sizes[group]
        # GDS counts each unordered pair of other members once; normalised over the
        # (n - 1)(n - 2) / 2 such pairs, as networkx normalized=True and key_players do.
        scores[str(person)] = raw.get(str(person), 0.0) * 2.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
    return scores
