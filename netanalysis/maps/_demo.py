"""Synthetic groups for screenshots, benchmarks and tests of the maps (no real data).

Builds a store-shaped graph (``"Label:key"`` ids, ``label`` and ``type`` attributes as
``GraphStore.read_graph`` returns them) and a detection-shaped result with the frames the maps
read. It stands in for ``netanalysis.detect`` wherever the maps must be shown without it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from netanalysis.maps._reference import municipalities

__all__ = ["DemoResult", "demo_data"]


@dataclass
class DemoResult:
    """The frames of ``netanalysis.detect.DetectionResult`` that the maps read."""

    groups: pd.DataFrame
    movements: pd.DataFrame
    group_summary: pd.DataFrame
    key_players: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    level: str = "police_unit"


def _key(rng: random.Random) -> str:
    return hashlib.sha256(str(rng.random()).encode()).hexdigest()[:32]


def demo_data(
    n_groups: int = 4, suspects: int = 6, victims: int = 8, seed: int = 1
) -> tuple[nx.MultiDiGraph, DemoResult]:
    """A graph of ``n_groups`` synthetic groups and a matching detection-shaped result.

    Parameters
    ----------
    n_groups, suspects, victims : size of the data; persons = n_groups * (suspects + victims).
    seed : random seed; the same seed gives the same data.

    Returns
    -------
    (graph, result)
    """
    rng = random.Random(seed)
    ref = municipalities()
    by_region: dict[str, list[str]] = {}
    for code, muni in sorted(ref.items()):
        by_region.setdefault(muni.regions["police_unit"], []).append(code)
    regions = sorted(by_region)
    types = ["sexual", "labour", "criminal"]
    g = nx.MultiDiGraph()
    for name in ("politie_zaken", "gemeente_signalen"):
        g.add_node(f"Source:{name}", label="Source", name=name)
    group_rows: list[dict[str, Any]] = []
    move_rows: list[dict[str, Any]] = []
    summary_rows: list[dict[str, Any]] = []
    kp_rows: list[dict[str, Any]] = []

    def edge(u: str, v: str, rel: str, **props: Any) -> None:
        key = hashlib.sha1(f"{rel}{u}{v}{props}".encode()).hexdigest()[:16]
        g.add_edge(u, v, key=key, type=rel, rel_key=key, source="politie_zaken", **props)

    for gi in range(n_groups):
        gid = f"G{gi + 1:03d}"
        etype = types[gi % len(types)]
        home = rng.choice(regions)
        reach = [home, *rng.sample([r for r in regions if r != home], k=rng.randint(1, 3))]
        places = [rng.choice(by_region[r]) for r in reach]
        case = f"Case:{_key(rng)}"
        g.add_node(case, label="Case", case_id=case[5:], exploitation_type=etype, source="politie_zaken")
        premises = []
        for code in places[:2]:
            pid = f"Premises:{_key(rng)}"
            g.add_node(pid, label="Premises", premises_id=pid[9:], kind="massage parlour", municipality=code)
            premises.append(pid)
        phones = []
        for _ in range(max(1, suspects // 2)):
            ph = f"Phone:{_key(rng)}"
            g.add_node(ph, label="Phone", phone_id=ph[6:])
            phones.append(ph)
        members = []
        year = 2021 + gi % 3
        for si in range(suspects):
            p = f"Person:{_key(rng)}"
            members.append(p)
            g.add_node(p, label="Person", person_id=p[7:], roles=["suspect"])
            edge(p, case, "SUSPECT_IN", observed_on=f"{year}-0{1 + si % 9}-1{si % 9}")
            edge(p, rng.choice(phones), "USES", observed_on=f"{year}-02-01")
            code = places[0] if si < suspects // 2 else rng.choice(places)
            edge(p, f"Municipality:{code}", "SEEN_AT", observed_on=f"{year}-03-0{1 + si % 9}", role="suspect")
            if si % 3 == 0:
                edge(p, rng.choice(premises), "SEEN_AT", observed_on=f"{year}-04-01", role="suspect")
            group_rows.append(
                {
                    "group_id": gid,
                    "person_id": p[7:],
                    "role": "suspect",
                    "core": si < suspects - 1,
                    "stability": 0.8,
                }
            )
        victims_here = []
        for vi in range(victims):
            p = f"Person:{_key(rng)}"
            victims_here.append(p)
            g.add_node(p, label="Person", person_id=p[7:], roles=["victim"])
            edge(p, case, "VICTIM_IN", observed_on=f"{year}-05-01")
            path = [places[0], *rng.sample(places[1:], k=min(len(places) - 1, 1 + vi % 2))]
            for step, code in enumerate(path):
                edge(
                    p,
                    f"Municipality:{code}",
                    "SEEN_AT",
                    observed_on=f"{year}-0{6 + step}-1{vi % 9}",
                    role="victim",
                )
            edge(p, rng.choice(premises), "SEEN_AT", observed_on=f"{year}-06-15", role="victim")
            for a, b in zip(path, path[1:], strict=False):
                ra, rb = ref[a].regions["police_unit"], ref[b].regions["police_unit"]
                move_rows.append(
                    {
                        "group_id": gid,
                        "person_id": p[7:],
                        "from_code": a,
                        "to_code": b,
                        "from_region": ra,
                        "to_region": rb,
                        "date": f"{year}-0{7 + path.index(b) - 1}-1{vi % 9}",
                        "cross_region": ra != rb,
                    }
                )
            group_rows.append(
                {"group_id": gid, "person_id": p[7:], "role": "victim", "core": True, "stability": 0.8}
            )
        sig = f"Signal:gemeente_signalen:{gi}"
        g.add_node(
            sig,
            label="Signal",
            signal_id=sig[7:],
            exploitation_type=etype,
            observed_on=f"{year}-08-01",
            source="gemeente_signalen",
            reliability="C3",
        )
        edge(sig, members[0], "CONCERNS", observed_on=f"{year}-08-01", role="suspect")
        edge(sig, victims_here[0], "CONCERNS", observed_on=f"{year}-08-01", role="victim")
        edge(sig, premises[0], "AT", observed_on=f"{year}-08-01")
        proj = nx.Graph()
        proj.add_nodes_from(members)
        for a in members:
            for b in members:
                if a < b and set(g.successors(a)) & set(g.successors(b)):
                    proj.add_edge(a, b)
        bc = nx.betweenness_centrality(proj)
        ranked = sorted(members, key=lambda m: -bc[m])
        for rank, m in enumerate(ranked, 1):
            broker = rank == 1
            kp_rows.append(
                {
                    "group_id": gid,
                    "person_id": m[7:],
                    "region": home,
                    "degree": proj.degree(m),
                    "weighted_degree": proj.degree(m),
                    "betweenness": bc[m],
                    "coordinator": 2 if broker else 0,
                    "gatekeeper": 1 if broker else 0,
                    "representative": 0,
                    "liaison": 0,
                    "itinerant": 0,
                    "brokerage": 3 if broker else 0,
                    "rank": rank,
                    "fragmentation_if_removed": 0.1,
                }
            )
        group_moves = [m for m in move_rows if m["group_id"] == gid]
        summary_rows.append(
            {
                "group_id": gid,
                "members": suspects,
                "victims": victims,
                "regions": "|".join(sorted(set(reach))),
                "n_regions": len(set(reach)),
                "moves": len(group_moves),
                "cross_region_moves": sum(m["cross_region"] for m in group_moves),
                "cross_regional": len(reach) > 1,
                "exploitation_types": etype,
                "first_seen": f"{year}-01-10",
                "last_seen": f"{year}-08-01",
                "stability": 0.8,
                "priority": round(rng.random(), 3),
                "priority_reasons": "synthetic",
            }
        )
    for code, muni in ref.items():
        g.add_node(
            f"Municipality:{code}",
            label="Municipality",
            code=code,
            name=muni.name,
            lat=muni.lat,
            lon=muni.lon,
        )
    result = DemoResult(
        groups=pd.DataFrame(group_rows),
        movements=pd.DataFrame(move_rows),
        group_summary=pd.DataFrame(summary_rows),
        key_players=pd.DataFrame(kp_rows),
        settings={"seed": seed, "synthetic": True},
    )
    return g, result
