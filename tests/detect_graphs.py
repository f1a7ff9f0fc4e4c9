"""Small hand-made store graphs (as ``read_graph`` returns them) with known answers, for the
detection tests. Pseudonyms are made-up short keys; no data about real people.

The ``three_groups`` graph:

* group A (suspects a1, a2, a3; case cA, sexual exploitation): victim va moved from Amsterdam
  (GM0363, RE05) to Rotterdam (GM0599, RE07) on 2023-03-01 and on to Den Haag (GM0518, RE06) on
  2023-06-10 -> cross-regional, two cross-region moves.
* group B (suspects b1, b2; share a phone and a car; b1 in case cB, labour): victim vb moved from
  Amsterdam to Diemen (GM0384), both RE05 -> not cross-regional.
* lone offender l1 (case cL): victim vl, one place, no moves.
* a3 and b1 were once seen at the same hotel (premises h1 in Utrecht): a weak link that must not
  merge A and B.
"""

from __future__ import annotations

import networkx as nx

REGIONS = {"GM0363": "RE05", "GM0384": "RE05", "GM0599": "RE07", "GM0518": "RE06", "GM0344": "RE03"}


class GraphBuilder:
    """Builds a MultiDiGraph shaped like ``GraphStore.read_graph`` output."""

    def __init__(self) -> None:
        self.g = nx.MultiDiGraph()
        self._n = 0
        for code, region in REGIONS.items():
            self.g.add_node(f"Municipality:{code}", label="Municipality", code=code)
            rid = f"Region:police_unit:{region}"
            self.g.add_node(
                rid, label="Region", region_id=f"police_unit:{region}", level="police_unit", code=region
            )
            self.rel("IN", f"Municipality:{code}", rid)

    def rel(
        self, rel_type: str, u: str, v: str, date: str | None = None, grade: str = "A1", **props: object
    ) -> None:
        self._n += 1
        self.g.add_edge(
            u,
            v,
            key=f"r{self._n}",
            type=rel_type,
            observed_on=date,
            reliability=grade,
            source="test",
            row_id=str(self._n),
            **props,
        )

    def person(self, key: str, *roles: str, birth_year: int | None = None) -> str:
        node = f"Person:{key}"
        self.g.add_node(node, label="Person", person_id=key, roles=sorted(roles), birth_year=birth_year)
        record = f"Record:src:{key}-row"
        self.g.add_node(record, label="Record", record_id=f"src:{key}-row", source="src", row_id=f"{key}-row")
        self.rel("DESCRIBES", record, node)
        return node

    def case(self, key: str, exploitation_type: str = "sexual") -> str:
        node = f"Case:{key}"
        self.g.add_node(node, label="Case", case_id=key, exploitation_type=exploitation_type)
        return node

    def suspect_in(self, person: str, case: str, date: str, grade: str = "A1") -> None:
        self.rel("SUSPECT_IN", f"Person:{person}", f"Case:{case}", date, grade)

    def victim_in(self, person: str, case: str, date: str, grade: str = "A1") -> None:
        self.rel("VICTIM_IN", f"Person:{person}", f"Case:{case}", date, grade)

    def seen(self, person: str, code: str, date: str, role: str = "victim") -> None:
        self.rel("SEEN_AT", f"Person:{person}", f"Municipality:{code}", date, role=role)

    def premises(self, key: str, code: str) -> str:
        node = f"Premises:{key}"
        self.g.add_node(node, label="Premises", premises_id=key, municipality=code, kind="hotel")
        self.rel("IN", node, f"Municipality:{code}")
        return node

    def seen_premises(self, person: str, premises: str, date: str, role: str = "suspect") -> None:
        self.rel("SEEN_AT", f"Person:{person}", f"Premises:{premises}", date, role=role)

    def uses(self, person: str, label: str, key: str, date: str, grade: str = "A1") -> None:
        node = f"{label}:{key}"
        key_prop = {"Phone": "phone_id", "Vehicle": "vehicle_id", "BankAccount": "account_id"}[label]
        self.g.add_node(node, label=label, **{key_prop: key})
        self.rel("USES", f"Person:{person}", node, date, grade)

    def address(self, key: str, pc4: str = "3011", code: str = "GM0599") -> str:
        node = f"Address:{key}"
        self.g.add_node(node, label="Address", address_id=key, pc4=pc4, municipality=code)
        return node

    def organisation(self, key: str, kind: str = "employment agency", code: str = "GM0599") -> str:
        node = f"Organisation:{key}"
        self.g.add_node(node, label="Organisation", organisation_id=key, kind=kind, municipality=code)
        return node

    def registered(
        self, person: str, address: str, start: str | None, end: str | None = None, grade: str = "A1"
    ) -> None:
        self.rel(
            "REGISTERED_AT",
            f"Person:{person}",
            f"Address:{address}",
            None,
            grade,
            from_date=start,
            to_date=end,
        )

    def tie(
        self, rel_type: str, person: str, organisation: str, start: str | None = None, end: str | None = None
    ) -> None:
        """EMPLOYED_BY, DIRECTOR_OF or OWNS."""
        self.rel(
            rel_type, f"Person:{person}", f"Organisation:{organisation}", None, from_date=start, to_date=end
        )

    def role(self, rel_type: str, suspect: str, victim: str, date: str = "2021-01-01") -> None:
        """EXPLOITED, RECRUITED, TRANSPORTED or CONTROLLED."""
        self.rel(rel_type, f"Person:{suspect}", f"Person:{victim}", date, from_date=date, to_date=None)


def labour_network() -> nx.MultiDiGraph:
    """Suspects tied only through addresses and organisations (issue 20), with known answers.

    * s1, s2, s3: suspects of three separate cases (c1, c2, c3) with victims v1, v2, v3. v1 and v2
      are registered at house H in overlapping periods (2021), v2 and v3 too (from 2022), v1 and
      v3 never at the same time -> address links s1-s2 and s2-s3, none s1-s3. s3 directs agency A
      that employs v1 -> director link s1-s3.
    * s4, s5: no case; both work for cleaning firm F in overlapping periods -> employer link.
    * s6, s7: registered at house H2 one after the other -> no link.
    * s8, s9: suspects of case c4 with victim v4, registered alone at H3 -> a case link only.
    * s10, s11: s10 directs and s11 owns firm O2 -> director link.
    * group P (p1, p2; case cP) and group Q (q1, q2; case cQ): their victims vp and vq are
      registered at house H4 one after the other (no evidence) and work for agency B: H4 and B
      are hubs of two groups.
    """
    b = GraphBuilder()
    suspects = ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "p1", "p2", "q1", "q2")
    for key in suspects:
        b.person(key, "suspect")
    for key in ("v1", "v2", "v3", "v4", "vp", "vq"):
        b.person(key, "victim")
    for case, people, victim in (
        ("c1", ("s1",), "v1"),
        ("c2", ("s2",), "v2"),
        ("c3", ("s3",), "v3"),
        ("c4", ("s8", "s9"), "v4"),
        ("cP", ("p1", "p2"), "vp"),
        ("cQ", ("q1", "q2"), "vq"),
    ):
        b.case(case, "labour")
        for person in people:
            b.suspect_in(person, case, "2022-06-01")
        b.victim_in(victim, case, "2022-06-01")
    for key in ("H", "H2", "H3", "H4"):
        b.address(key)
    b.registered("v1", "H", "2021-01-01", "2021-12-31")
    b.registered("v2", "H", "2021-06-01")
    b.registered("v3", "H", "2022-03-01")
    b.registered("s6", "H2", "2020-01-01", "2020-06-30")
    b.registered("s7", "H2", "2020-07-01")
    b.registered("v4", "H3", "2021-01-01")
    b.registered("vp", "H4", "2021-07-01", "2021-12-31")
    b.registered("vq", "H4", "2022-01-01")
    b.organisation("A")
    b.organisation("F", kind="cleaning")
    b.organisation("O2", kind="construction")
    b.organisation("B")
    b.tie("DIRECTOR_OF", "s3", "A", "2018-01-01")
    b.tie("EMPLOYED_BY", "v1", "A", "2021-02-01", "2021-10-31")
    b.tie("EMPLOYED_BY", "s4", "F", "2020-01-01", "2020-12-31")
    b.tie("EMPLOYED_BY", "s5", "F", "2020-12-01")
    b.tie("DIRECTOR_OF", "s10", "O2")
    b.tie("OWNS", "s11", "O2", "2015-01-01")
    b.tie("EMPLOYED_BY", "vp", "B", "2021-07-01", "2021-10-31")
    b.tie("EMPLOYED_BY", "vq", "B", "2022-01-01")
    return b.g


def three_groups() -> nx.MultiDiGraph:
    """The graph described in the module docstring."""
    b = GraphBuilder()
    for key in ("a1", "a2", "a3", "b1", "b2", "l1"):
        b.person(key, "suspect")
    for key in ("va", "vb", "vl"):
        b.person(key, "victim", birth_year=1990)
    b.case("cA", "sexual")
    b.case("cB", "labour")
    b.case("cL", "criminal")
    for key in ("a1", "a2", "a3"):
        b.suspect_in(key, "cA", "2023-01-05")
        b.seen(key, "GM0363", "2023-01-05", role="suspect")
    b.victim_in("va", "cA", "2023-01-05")
    b.seen("va", "GM0363", "2023-01-01")
    b.seen("va", "GM0363", "2023-02-01")
    b.seen("va", "GM0599", "2023-03-01")
    b.seen("va", "GM0599", "2023-04-01")
    b.seen("va", "GM0518", "2023-06-10")

    b.suspect_in("b1", "cB", "2022-05-01")
    b.victim_in("vb", "cB", "2022-05-01")
    b.uses("b1", "Phone", "p1", "2022-05-01")
    b.uses("b2", "Phone", "p1", "2022-06-01")
    b.uses("b1", "Vehicle", "car1", "2022-05-01")
    b.uses("b2", "Vehicle", "car1", "2022-05-01")
    b.seen("b1", "GM0363", "2022-05-01", role="suspect")
    b.seen("b2", "GM0384", "2022-07-01", role="suspect")
    b.seen("vb", "GM0363", "2022-05-01")
    b.seen("vb", "GM0384", "2022-07-01")

    b.suspect_in("l1", "cL", "2024-01-01")
    b.victim_in("vl", "cL", "2024-01-01")
    b.seen("l1", "GM0344", "2024-01-01", role="suspect")
    b.seen("vl", "GM0344", "2024-01-01")

    b.premises("h1", "GM0344")
    b.seen_premises("a3", "h1", "2021-01-01")
    b.seen_premises("b1", "h1", "2021-01-01")
    return b.g


def write_to_store(graph: nx.MultiDiGraph, store: object) -> None:
    """Upsert a hand-made graph into a real store through the GraphStore protocol."""
    from graphstore.base import RelRow
    from graphstore.schema import load_schema

    schema = load_schema()
    by_label: dict[str, list[dict]] = {}
    for _, data in graph.nodes(data=True):
        props = {k: v for k, v in data.items() if k != "label" and v is not None}
        by_label.setdefault(data["label"], []).append(props)
    for label, rows in by_label.items():
        store.upsert_nodes(label, rows)  # type: ignore[attr-defined]
    by_type: dict[tuple[str, str, str], list[RelRow]] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        lu, lv = graph.nodes[u]["label"], graph.nodes[v]["label"]
        start = graph.nodes[u][schema.key_of(lu)]
        end = graph.nodes[v][schema.key_of(lv)]
        props = {k: val for k, val in data.items() if k != "type"}
        by_type.setdefault((data["type"], lu, lv), []).append(RelRow(start, end, key, props))
    for (rel_type, lu, lv), rows in by_type.items():
        store.upsert_relationships(rel_type, lu, lv, rows)  # type: ignore[attr-defined]
