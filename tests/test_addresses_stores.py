"""Addresses and organisations from the load to the detection, on both stores (issue 20).

A tiny hand-made export (fictional names and numbers) goes through the whole load into the embedded
store and into Neo4j; the evidence, the crowded address and the hub the detection finds are the
known ones, and the same on both stores. No clear address reaches any output.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from privacy_scan import leaked

import netanalysis as na
from graphstore import open_store
from graphstore.base import GraphStore
from loaders.graph_rows import address_id
from loaders.pipeline import load
from loaders.pseudonymise import Pseudonymiser

KEY = Pseudonymiser(bytes(range(32)))

MAPPING = """
version: 1
sources:
  - name: brp
    kind: register
    files: ["brp*.csv"]
    format: csv
    columns:
      Nr: row_id
      Voornaam: first_name
      Achternaam: last_name
      Geboortedatum: birth_date
      Gemeente: municipality
      Postcode: postcode
      Huisnummer: house_number
      Van: from_date
      Tot: to_date
  - name: zaken
    kind: case
    files: ["zaken*.csv"]
    format: csv
    columns:
      Regel: row_id
      Zaak: case_id
      Rol: role
      Voornaam: first_name
      Achternaam: last_name
      Geboortedatum: birth_date
      Gemeente: municipality
      KvK: kvk_number
      Band: organisation_role
      Postcode: postcode
      Huisnummer: house_number
      Van: from_date
      Tot: to_date
      Datum: observed_on
    values:
      role: {Verdachte: suspect, Slachtoffer: victim}
    required: [row_id, observed_on]
"""

# Four more persons registered at the house in 2021: with V1 and V2 six on one day.
BRP = (
    "Nr;Voornaam;Achternaam;Geboortedatum;Gemeente;Postcode;Huisnummer;Van;Tot\n"
    "b1;Proefa;Nepisz;01-01-1990;Rotterdam;3011 AB;12;01-01-2021;\n"
    "b2;Proefb;Nepasz;02-02-1991;Rotterdam;3011 AB;12;01-02-2021;31-12-2021\n"
    "b3;Proefc;Nepusz;03-03-1992;Rotterdam;3011 AB;12;01-04-2021;\n"
    "b4;Proefd;Nepesz;04-04-1993;Rotterdam;3011 AB;12;01-05-2021;30-11-2021\n"
)
# A directs agency 11111111, which employs his own victim V1 and the suspect C; V1 and V2 (victim
# of B) live in the house at the same time; V2 and V3 (victim of C) work for firm 22222222; D and E
# (case Z-4) had their victim V4 in the house in 2018.
ZAKEN = (
    "Regel;Zaak;Rol;Voornaam;Achternaam;Geboortedatum;Gemeente;KvK;Band;Postcode;Huisnummer;Van;Tot;Datum\n"
    "1;Z-1;Verdachte;Testa;Fictief;03-02-1980;Rotterdam;11111111;bestuurder;;;01-01-2019;;01-03-2023\n"
    "2;Z-1;Slachtoffer;Ivana;Testova;05-05-1999;Rotterdam;11111111;werknemer;3011 AB;12;01-03-2021;;"
    "01-03-2023\n"
    "3;Z-2;Verdachte;Berta;Voorbeeld;04-04-1981;Rotterdam;;;;;;;01-04-2023\n"
    "4;Z-2;Slachtoffer;Maria;Dummova;01-01-1998;Rotterdam;22222222;werknemer;3011 AB;12;01-06-2021;;"
    "01-04-2023\n"
    "5;Z-3;Verdachte;Cees;Proef;05-05-1982;Rotterdam;11111111;werknemer;;;01-01-2020;;01-05-2023\n"
    "6;Z-3;Slachtoffer;Olga;Fakeva;02-02-1997;Rotterdam;22222222;werknemer;;;;;01-05-2023\n"
    "7;Z-4;Verdachte;Dirk;Nergens;06-06-1983;Rotterdam;;;;;;;01-06-2023\n"
    "8;Z-4;Verdachte;Eva;Nergens;07-07-1984;Rotterdam;;;;;;;01-06-2023\n"
    "9;Z-4;Slachtoffer;Vera;Nulova;04-04-1995;Rotterdam;;;3011 AB;12;01-01-2018;31-12-2018;01-06-2023\n"
)
SETTINGS = na.DetectionSettings(seed=2, stability_runs=2)
CLEAR = ["3011AB", "3011 AB", "11111111", "22222222", "Testova", "Dummova"]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "sources.yaml").write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    (folder / "brp.csv").write_text(BRP, encoding="utf-8")
    (folder / "zaken.csv").write_text(ZAKEN, encoding="utf-8")
    return folder


def loaded_graph(export: Path, store: GraphStore, rejects: Path) -> nx.MultiDiGraph:
    load([export], store, export / "sources.yaml", KEY, rejects_path=rejects)
    return na.read_analysis_graph(store)


def person_of(g: nx.MultiDiGraph, record_id: str) -> str:
    [person] = [v for _, v, t in g.out_edges(f"Record:{record_id}", data="type") if t == "DESCRIBES"]
    return str(person).split(":", 1)[1]


def check_known_answer(g: nx.MultiDiGraph) -> na.DetectionResult:
    a, b, c, d, e = (person_of(g, f"zaken:{row}") for row in (1, 3, 5, 7, 8))
    net = na.perpetrator_network(g)
    kinds = {frozenset((u, v)): data["evidence"] for u, v, data in net.edges(data=True)}
    assert kinds == {
        frozenset((a, b)): {"address": 1},  # V1 and V2 in the house at the same time
        frozenset((b, c)): {"employer": 1},  # V2 and V3 paid by one firm
        # A directs the agency C works for; C and V1, A's victim, both work for it
        frozenset((a, c)): {"director": 1, "employer": 1},
        frozenset((d, e)): {"case": 1, "victim": 1},
    }
    house = address_id(KEY, "3011AB\x1f12\x1f")
    assert na.crowded_addresses(g) == [
        {
            "address_id": house,
            "pc4": "3011",
            "municipality": "GM0599",
            "persons": 6,
            "first_day": "2021-06-01",
            "last_day": "2021-11-30",
            "registered": 7,
        }
    ]
    result = na.detect(g, SETTINGS)
    group_of = dict(zip(result.groups.person_id, result.groups.group_id, strict=True))
    assert group_of[a] == group_of[b] == group_of[c] != group_of[d] == group_of[e]
    # the house: a lead for the group of A, B and C (V1 and V2), and a hub with D and E's group (V4)
    crowded = result.crowded_addresses
    assert crowded[["address_id", "persons", "group_id", "group_persons"]].values.tolist() == [
        [house, 6, group_of[a], 2],
        [house, 6, group_of[d], 1],
    ]
    assert result.hubs[["hub", "hub_id", "pc4", "n_groups", "persons"]].values.tolist() == [
        ["address", house, "3011", 2, 3]
    ]
    return result


@pytest.mark.slow  # over 1.5 CPU s: a load and a detection
def test_embedded_store_known_answer_and_no_clear_address(export: Path, tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "g.db"))
    try:
        g = loaded_graph(export, store, tmp_path / "rejects.csv")
    finally:
        store.close()
    result = check_known_answer(g)
    out = tmp_path / "out"
    result.write(out)
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(out.iterdir()))
    assert leaked(CLEAR, text, ignore_case=True) == []


@pytest.fixture
def neo4j_store(neo4j_clean: Any) -> Iterator[GraphStore]:
    from graphstore.neo4j_store import Neo4jStore

    store = Neo4jStore(neo4j_clean.uri, user=neo4j_clean.user, password=neo4j_clean.password)
    try:
        yield store
    finally:
        store.close()


def test_neo4j_gives_the_same_evidence_crowded_address_and_hub(
    export: Path, tmp_path: Path, neo4j_store: GraphStore
) -> None:
    embedded = open_store(str(tmp_path / "e.db"))
    try:
        want = na.detect(loaded_graph(export, embedded, tmp_path / "r1.csv"), SETTINGS)
    finally:
        embedded.close()
    got = check_known_answer(loaded_graph(export, neo4j_store, tmp_path / "r2.csv"))
    for name in ("links", "crowded_addresses", "hubs", "groups"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
