"""Running the perpetrator network's heavy steps inside Neo4j with the Graph Data Science library.

``detect --engine gds`` (``netanalysis.indatabase``) projects the suspect-suspect evidence network
into the GDS graph catalog with one Cypher query (``graphstore.cypher.gds_project_evidence``), finds
groups with Leiden or Louvain there and computes betweenness within groups, and reads back only
the links, the communities and the scores. Every projected graph is dropped afterwards, also when
a step fails. The functions return plain data; what it means is up to the analysis layer.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from graphstore import cypher
from graphstore.neo4j_store import Neo4jStore
from netanalysis.errors import ConfigError, StoreError

__all__ = ["EvidenceLink", "GdsNetwork", "betweenness_within", "check_gds", "evidence_network"]

#: Properties of a projected link besides the per-kind counts.
_LINK_PROPERTIES = ("weight",)


@dataclass(frozen=True)
class EvidenceLink:
    """One link of the network: person ids ``a < b``, its weight and items per evidence kind."""

    a: str
    b: str
    weight: float
    evidence: dict[str, int]


@dataclass(frozen=True)
class GdsNetwork:
    """What ``evidence_network`` read back: the links, the items left out per kind (too many
    suspects), the community of every linked suspect, and the server's GDS version."""

    links: list[EvidenceLink]
    skipped_items: dict[str, int]
    communities: dict[str, int]
    version: str


def _store(store: object) -> Neo4jStore:
    if not isinstance(store, Neo4jStore):
        raise ConfigError(
            "--engine gds runs inside a Neo4j server with the Graph Data Science library; this store "
            "is not a Neo4j server: use --engine local."
        )
    return store


def check_gds(store: object) -> str:
    """The server's GDS version; ConfigError saying how to get GDS when the server has none."""
    neo = _store(store)
    try:
        rows = neo.run_once("asking for the Graph Data Science version", cypher.gds_version(), {})
    except StoreError as exc:
        if "gds.version" not in str(exc) and "Unknown function" not in str(exc):
            raise
        raise ConfigError(
            f"The Neo4j server at {neo.uri} has no Graph Data Science library: start the toolkit's "
            "own server with `netanalysis neo4j start --with-gds` (stop it first if it runs), install "
            "GDS 2.13 into your server's plugins folder, or use --engine local."
        ) from None
    return str(rows[0]["version"])


@contextmanager
def _projected(neo: Neo4jStore) -> Iterator[str]:
    """A fresh graph name for the catalog; the graph is dropped on the way out, error or not."""
    name = f"netanalysis-{uuid.uuid4().hex}"
    drop = cypher.gds_drop_graph()
    try:
        yield name
    except BaseException:
        # The step's own error is the one to report; a drop that fails as well (the server went
        # away) must not hide it.
        with contextlib.suppress(StoreError):
            neo.run_once("dropping a projected graph", drop, {"graph": name})
        raise
    neo.run_once("dropping a projected graph", drop, {"graph": name})


def evidence_network(
    store: object,
    *,
    kind_weights: Mapping[str, float],
    source_grade: Mapping[str, float],
    information_grade: Mapping[str, float],
    missing_grade: float,
    max_item_persons: int,
    half_life_days: float,
    as_of: str | None,
    method: Literal["leiden", "louvain"],
    resolution: float,
    seed: int,
    observed_from: str | None = None,
    observed_to: str | None = None,
) -> GdsNetwork:
    """Project the evidence network in the server, find its communities there, read both back.

    The weights follow ``netanalysis.projection.perpetrator_network`` for the kinds in
    ``graphstore.cypher.GDS_EVIDENCE_KINDS`` (``kind_weights`` gives each of them); the window
    ``observed_from``/``observed_to`` is that of ``read_analysis_graph``.
    """
    neo = _store(store)
    version = check_gds(neo)
    params: dict[str, Any] = {
        "kind_weights": {kind: float(kind_weights[kind]) for kind in cypher.GDS_EVIDENCE_KINDS},
        "source_grade": dict(source_grade),
        "information_grade": dict(information_grade),
        "missing_grade": float(missing_grade),
        "max_item_persons": int(max_item_persons),
        "half_life_days": float(half_life_days),
        "as_of": as_of,
        "observed_from": observed_from,
        "observed_to": observed_to,
    }
    skipped = {
        str(row["kind"]): int(row["items"])
        for row in neo.run_once(
            "counting evidence items with too many suspects",
            cypher.gds_skipped_items(observed_from, observed_to),
            params,
        )
    }
    with _projected(neo) as graph:
        neo.run_once(
            "projecting the evidence network into GDS",
            cypher.gds_project_evidence(observed_from, observed_to),
            {**params, "graph": graph},
        )
        links = []
        names = [*_LINK_PROPERTIES, *cypher.GDS_EVIDENCE_KINDS]
        for row in neo.run_once(
            "reading the links of the projected network",
            cypher.gds_links(),
            {"graph": graph, "properties": names},
        ):
            props = {str(k): float(v) for k, v in row["props"]}
            evidence = {
                kind: int(props[kind]) for kind in cypher.GDS_EVIDENCE_KINDS if props.get(kind, 0.0) > 0
            }
            links.append(EvidenceLink(str(row["person_a"]), str(row["person_b"]), props["weight"], evidence))
        communities = {
            str(row["person_id"]): int(row["community"])
            for row in neo.run_once(
                f"finding groups with GDS {method}",
                cypher.gds_groups(method),
                {"graph": graph, "resolution": float(resolution), "seed": int(seed)},
            )
        }
    return GdsNetwork(links=links, skipped_items=skipped, communities=communities, version=version)


def betweenness_within(store: object, links: Sequence[tuple[str, str, float]]) -> dict[str, float]:
    """Shortest-path betweenness by ``distance`` over ``links`` (``(a, b, distance)``, person ids).

    Give only the links inside groups: the graph then falls apart into the groups, and a score
    counts the shortest paths within its group. Scores are raw: each unordered pair of other persons
    counts once;
    persons without links are not in the result.
    """
    neo = _store(store)
    if not links:
        return {}
    rows = [{"a": a, "b": b, "distance": float(d)} for a, b, d in links]
    with _projected(neo) as graph:
        neo.run_once(
            "projecting the links within groups into GDS",
            cypher.gds_project_links(),
            {"graph": graph, "links": rows},
        )
        scores = neo.run_once("computing betweenness with GDS", cypher.gds_betweenness(), {"graph": graph})
        return {str(row["person_id"]): float(row["score"]) for row in scores}
