"""Small hand-made graphs and detection-shaped results for the map tests (synthetic only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

# Pseudonyms as the loaders make them: 32 hex characters.
S1 = "a1" * 16
S2 = "b2" * 16
S3 = "c3" * 16
V1 = "d4" * 16
V2 = "e5" * 16
X1 = "f6" * 16  # not in any group


@dataclass
class Result:
    groups: pd.DataFrame
    movements: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    level: str = "police_unit"


def small_graph(
    premises_kind: str = "massage parlour", source_name: str = "politie_zaken"
) -> nx.MultiDiGraph:
    """Two groups: G001 (S1, S2, V1, V2) and G002 (S3). S1 and S2 share a phone and a case,
    V1 is a victim in the case and was seen in Groningen, then Amsterdam, then Almere."""
    g = nx.MultiDiGraph()
    g.add_node(f"Source:{source_name}", label="Source", name=source_name)
    for key, roles in (
        (S1, ["suspect"]),
        (S2, ["suspect"]),
        (S3, ["suspect"]),
        (V1, ["victim"]),
        (V2, ["victim"]),
        (X1, ["signalled"]),
    ):
        # `display` and `first_name` stand for fields a careless loader might fill with a name.
        g.add_node(
            f"Person:{key}",
            label="Person",
            person_id=key,
            roles=roles,
            display="Piet Jansen",
            first_name="Piet",
        )
    g.add_node("Case:c1", label="Case", case_id="c1", exploitation_type="sexual", source=source_name)
    g.add_node("Phone:p1", label="Phone", phone_id="p1")
    g.add_node("Premises:pr1", label="Premises", premises_id="pr1", kind=premises_kind, municipality="GM0363")
    g.add_node("Record:r1", label="Record", record_id="politie_zaken:1", source=source_name)
    for code, lat, lon in (("GM0014", 53.21806, 6.62034), ("GM0363", 52.37, 4.9), ("GM0034", 52.37, 5.25)):
        g.add_node(f"Municipality:{code}", label="Municipality", code=code, lat=lat, lon=lon)

    def rel(u: str, v: str, typ: str, key: str, **props: Any) -> None:
        g.add_edge(u, v, key=key, type=typ, rel_key=key, **props)

    rel(f"Person:{S1}", "Case:c1", "SUSPECT_IN", "k1", observed_on="2023-01-05", source=source_name)
    rel(f"Person:{S2}", "Case:c1", "SUSPECT_IN", "k2", observed_on="2023-01-06", source=source_name)
    rel(f"Person:{V1}", "Case:c1", "VICTIM_IN", "k3", observed_on="2023-01-07", source=source_name)
    rel(f"Person:{S1}", "Phone:p1", "USES", "k4", observed_on="2023-02-01")
    rel(f"Person:{S2}", "Phone:p1", "USES", "k5", observed_on="2023-02-02")
    rel(f"Person:{S1}", "Municipality:GM0363", "SEEN_AT", "k6", observed_on="2023-03-01", role="suspect")
    rel(f"Person:{S2}", "Premises:pr1", "SEEN_AT", "k7", observed_on="2023-03-02", role="suspect")
    rel(f"Person:{V1}", "Municipality:GM0014", "SEEN_AT", "k8", observed_on="2023-04-01", role="victim")
    rel(f"Person:{V1}", "Municipality:GM0363", "SEEN_AT", "k9", observed_on="2023-05-01", role="victim")
    rel(f"Person:{V1}", "Municipality:GM0034", "SEEN_AT", "k10", observed_on="2023-06-01", role="victim")
    rel(f"Person:{V2}", "Premises:pr1", "SEEN_AT", "k11", observed_on="2023-05-03", role="victim")
    rel(f"Person:{S3}", "Municipality:GM0014", "SEEN_AT", "k12", observed_on="2022-01-01", role="suspect")
    rel(f"Person:{X1}", "Phone:p1", "USES", "k13", observed_on="2021-01-01")
    rel("Record:r1", f"Person:{S1}", "DESCRIBES", "k14")
    rel("Record:r1", f"Source:{source_name}", "FROM", "k15")
    return g


def small_result(group_id: str = "G001") -> Result:
    groups = pd.DataFrame(
        [
            {"group_id": group_id, "person_id": S1, "role": "suspect", "core": True, "stability": 0.9},
            {"group_id": group_id, "person_id": S2, "role": "suspect", "core": False, "stability": 0.9},
            {"group_id": group_id, "person_id": V1, "role": "victim", "core": True, "stability": 0.9},
            {"group_id": group_id, "person_id": V2, "role": "victim", "core": True, "stability": 0.9},
            {"group_id": "G002", "person_id": S3, "role": "suspect", "core": True, "stability": 1.0},
        ]
    )
    movements = pd.DataFrame(
        [
            {
                "group_id": group_id,
                "person_id": V1,
                "from_code": "GM0014",
                "to_code": "GM0363",
                "from_region": "RE01",
                "to_region": "RE05",
                "date": "2023-05-01",
                "cross_region": True,
            },
            {
                "group_id": group_id,
                "person_id": V1,
                "from_code": "GM0363",
                "to_code": "GM0034",
                "from_region": "RE05",
                "to_region": "RE03",
                "date": "2023-06-01",
                "cross_region": True,
            },
            {
                "group_id": group_id,
                "person_id": V2,
                "from_code": "GM0014",
                "to_code": "GM0363",
                "from_region": "RE01",
                "to_region": "RE05",
                "date": "2023-05-02",
                "cross_region": True,
            },
            {
                "group_id": group_id,
                "person_id": V2,
                "from_code": "GM0363",
                "to_code": "GM0362",
                "from_region": "RE05",
                "to_region": "RE05",
                "date": "2023-05-03",
                "cross_region": False,
            },
        ]
    )
    summary = pd.DataFrame(
        [
            {
                "group_id": group_id,
                "members": 2,
                "victims": 2,
                "regions": "RE01|RE03|RE05",
                "n_regions": 3,
                "moves": 4,
                "cross_region_moves": 3,
                "cross_regional": True,
                "exploitation_types": "sexual",
                "first_seen": "2023-01-05",
                "last_seen": "2023-06-01",
                "stability": 0.9,
                "priority": 0.7,
                "priority_reasons": "cross-regional",
            },
            {
                "group_id": "G002",
                "members": 1,
                "victims": 0,
                "regions": "RE01",
                "n_regions": 1,
                "moves": 0,
                "cross_region_moves": 0,
                "cross_regional": False,
                "exploitation_types": "labour",
                "first_seen": "2022-01-01",
                "last_seen": "2022-01-01",
                "stability": 1.0,
                "priority": 0.1,
                "priority_reasons": "",
            },
        ]
    )
    kp = pd.DataFrame(
        [
            {
                "group_id": group_id,
                "person_id": S1,
                "region": "RE05",
                "degree": 3,
                "weighted_degree": 4,
                "betweenness": 0.5,
                "coordinator": 1,
                "gatekeeper": 0,
                "representative": 0,
                "liaison": 0,
                "itinerant": 0,
                "brokerage": 1,
                "rank": 1,
                "fragmentation_if_removed": 0.5,
            },
            {
                "group_id": group_id,
                "person_id": S2,
                "region": "RE05",
                "degree": 2,
                "weighted_degree": 2,
                "betweenness": 0.0,
                "coordinator": 0,
                "gatekeeper": 0,
                "representative": 0,
                "liaison": 0,
                "itinerant": 0,
                "brokerage": 0,
                "rank": 2,
                "fragmentation_if_removed": 0.0,
            },
        ]
    )
    return Result(groups, movements, summary, kp, settings={"seed": 1})
