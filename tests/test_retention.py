"""Retention and erasure on both stores (issue 14 items 3 and 4).

Erasing source rows removes what exists only because of them and nothing else: the same rules are
checked on a hand-made graph whose every consequence is spelled out, and on the loaded samples
against an oracle (the plan applied to the graph in plain Python) and the invariants the probe
found broken (reliability-probe.md section 5). A cut-off run finishes on a re-run, a dry run
changes nothing, a bad policy deletes nothing, and the embedded store's file holds no deleted
value afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

import netanalysis as na
from graphstore import RelRow
from graphstore.base import GraphStore
from graphstore.erasure import SHARED_REL_KEYS, ErasurePlan, plan_erasure, record_inventory
from loaders.pipeline import load
from loaders.pseudonymise import keygen
from netanalysis.audit import AuditLog
from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.retention import RetentionRule, read_retention_policy
from tests.test_store_conformance import Backend, as_data

DATA = Path(__file__).resolve().parents[1] / "data_samples"
REFERENCE = {"Municipality", "Region"}


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    server = request.getfixturevalue("neo4j_server") if request.param == "neo4j" else None
    b = Backend(request.param, tmp_path, server)
    yield b
    b.close()


# -- a hand-made graph, written the way loaders.graph_rows writes rows -------------------------------


def prov(source: str, row: int, observed_on: str | None, basis: str) -> dict[str, Any]:
    return {
        "source": source,
        "row_id": str(row),
        "batch": "b1",
        "legal_basis": basis,
        "reliability": "B2",
        "observed_on": observed_on,
    }


A = lambda row, day: prov("a", row, day, "Wpg art. 9")  # noqa: E731 - two short row makers
B = lambda row, day: prov("b", row, day, "Wpg art. 19")  # noqa: E731


def hand_world(store: GraphStore) -> None:
    """Persons p1 (case row a:1, signal row b:5) and p2 (case row a:2 only); case C1 from source a,
    named by signal S1 (row b:5); premises X1 in GM0002, placed by a:1 (its last writer) and
    pointed at by b:5 too; signal S2 of two rows, b:6 (names case C2) and b:7."""
    store.upsert_nodes(
        "Region", [{"region_id": "police_unit:RE01", "level": "police_unit", "code": "RE01", "name": "N"}]
    )
    store.upsert_nodes("Municipality", [{"code": "GM0001", "name": "Aa"}, {"code": "GM0002", "name": "Bb"}])
    store.upsert_relationships(
        "IN",
        "Municipality",
        "Region",
        [
            RelRow(
                m, "police_unit:RE01", "CBS 2025:police_unit", {"source": "CBS 2025", "level": "police_unit"}
            )
            for m in ("GM0001", "GM0002")
        ],
    )
    store.upsert_nodes(
        "Source",
        [
            {"name": "a", "kind": "case", "legal_basis": "Wpg art. 9"},
            {"name": "b", "kind": "signal", "legal_basis": "Wpg art. 19"},
        ],
    )
    store.upsert_nodes(
        "Person",
        [
            {"person_id": "p1", "roles": ["signalled", "suspect"], "display": "P-p1"},
            {"person_id": "p2", "roles": ["victim"], "display": "P-p2"},
        ],
    )
    records = [(A(1, "2019-03-01"), "a:1"), (A(2, "2019-04-01"), "a:2"), (B(5, "2023-01-01"), "b:5")]
    store.upsert_nodes("Record", [{"record_id": rid, **p} for p, rid in records])
    store.upsert_nodes("Case", [{"case_id": "C1", "source": "a", "exploitation_type": "sexual"}])
    store.upsert_nodes(
        "Premises", [{"premises_id": "X1", "kind": "hotel", "pc4": "1234", "municipality": "GM0002"}]
    )
    store.upsert_nodes("Phone", [{"phone_id": "ph1"}])
    store.upsert_nodes(
        "Signal",
        [
            {
                "signal_id": "b:S1",
                "source": "b",
                "case_linked": True,
                "case_id": "C1",
                "observed_on": "2023-01-01",
            },
            {
                "signal_id": "b:S2",
                "source": "b",
                "case_linked": True,
                "case_id": "C2",
                "observed_on": "2022-05-01",
            },
        ],
    )
    a1, a2, b5 = A(1, "2019-03-01"), A(2, "2019-04-01"), B(5, "2023-01-01")
    b6, b7 = B(6, "2022-05-01"), B(7, "2022-09-01")
    rels: list[tuple[str, str, str, list[RelRow]]] = [
        ("FROM", "Record", "Source", [RelRow(r, r[0], r, p) for p, r in records]),
        (
            "DESCRIBES",
            "Record",
            "Person",
            [
                RelRow("a:1", "p1", "a:1", {**a1, "role": "suspect", "match": "exact"}),
                RelRow("a:2", "p2", "a:2", {**a2, "role": "victim", "match": "exact"}),
                RelRow("b:5", "p1", "b:5", {**b5, "role": "signalled", "match": "exact"}),
            ],
        ),
        ("SUSPECT_IN", "Person", "Case", [RelRow("p1", "C1", "a:1", a1)]),
        ("VICTIM_IN", "Person", "Case", [RelRow("p2", "C1", "a:2", a2)]),
        (
            "SEEN_AT",
            "Person",
            "Premises",
            [
                RelRow("p1", "X1", "a:1", {**a1, "role": "suspect"}),
                RelRow("p1", "X1", "b:5", {**b5, "role": "signalled"}),
            ],
        ),
        ("SEEN_AT", "Person", "Municipality", [RelRow("p2", "GM0001", "a:2", {**a2, "role": "victim"})]),
        ("USES", "Person", "Phone", [RelRow("p1", "ph1", "a:1", a1)]),
        ("AT", "Case", "Premises", [RelRow("C1", "X1", "a:1", a1)]),
        ("FROM", "Case", "Source", [RelRow("C1", "a", "from", a2)]),
        ("IN", "Premises", "Municipality", [RelRow("X1", "GM0002", "in", {**a1, "observed_on": None})]),
        ("CONCERNS", "Signal", "Person", [RelRow("b:S1", "p1", "b:5", {**b5, "role": "signalled"})]),
        ("AT", "Signal", "Premises", [RelRow("b:S1", "X1", "b:5", b5)]),
        ("TIED_TO", "Signal", "Case", [RelRow("b:S1", "C1", "b:5", b5), RelRow("b:S2", "C2", "b:6", b6)]),
        ("AT", "Signal", "Municipality",
         [RelRow("b:S2", "GM0001", "b:6", b6), RelRow("b:S2", "GM0001", "b:7", b7)]),
        ("FROM", "Signal", "Source", [RelRow("b:S1", "b", "from", b5), RelRow("b:S2", "b", "from", b6)]),
    ]  # fmt: skip
    for rel_type, start, end, rows in rels:
        store.upsert_relationships(rel_type, start, end, rows)


def labels(graph: nx.MultiDiGraph) -> dict[str, int]:
    out: dict[str, int] = {}
    for _n, label in graph.nodes(data="label"):
        out[label] = out.get(label, 0) + 1
    return dict(sorted(out.items()))


def test_erasing_a_source_keeps_what_other_sources_state(backend: Backend) -> None:
    store = backend.empty()
    hand_world(store)
    result = na.erase_records(store, ["a:1", "a:2"])
    g = store.read_graph()
    assert result.counts()["records"] == 2
    # Gone: the records, the person described only by a:2, the phone only a:1 used, the source.
    for gone in ("Record:a:1", "Record:a:2", "Person:p2", "Phone:ph1", "Source:a"):
        assert gone not in g, gone
    # p1 is still described by b:5: only the role that row gives is left.
    assert g.nodes["Person:p1"]["roles"] == ["signalled"]
    # The premises is still pointed at by b:5, so its standing IN link stays, with b:5's provenance.
    (in_link,) = [d for _u, v, d in g.out_edges("Premises:X1", data=True) if d["type"] == "IN"]
    assert (in_link["source"], in_link["row_id"]) == ("b", "5")
    assert "observed_on" not in in_link
    # The case stays (signal S1 names it) but no longer comes from source a.
    assert "Case:C1" in g and "source" not in g.nodes["Case:C1"]
    assert not [v for _u, v, d in g.out_edges("Case:C1", data=True) if d["type"] == "FROM"]
    assert g.nodes["Signal:b:S1"]["case_linked"] is True
    # Nothing left anywhere carries provenance of an erased row.
    assert not [d for *_e, d in g.edges(data=True) if d.get("source") == "a"]
    assert na.erase_records(store, ["b:5"], dry_run=True).counts()["persons_deleted"] == 1


def test_erasing_one_row_of_a_signal_recomputes_its_case_link(backend: Backend) -> None:
    store = backend.empty()
    hand_world(store)
    na.erase_records(store, ["b:6"])
    g = store.read_graph()
    signal = g.nodes["Signal:b:S2"]
    assert signal["case_linked"] is False and "case_id" not in signal
    assert signal["observed_on"] == "2022-09-01"  # its remaining row's date
    assert "Case:C2" not in g  # only the erased row named it
    (from_link,) = [d for _u, _v, d in g.out_edges("Signal:b:S2", data=True) if d["type"] == "FROM"]
    assert from_link["row_id"] == "7"


def test_erasing_every_row_leaves_only_reference_nodes(backend: Backend) -> None:
    store = backend.empty()
    hand_world(store)
    na.erase_records(store, sorted(record_inventory(store.read_graph())))
    g = store.read_graph()
    assert set(labels(g)) == REFERENCE
    assert {d["type"] for *_e, d in g.edges(data=True)} == {"IN"}


# -- the samples, against an oracle ------------------------------------------------------------------


def applied(graph: nx.MultiDiGraph, plan: ErasurePlan) -> nx.MultiDiGraph:
    """The plan applied in plain Python: what a store must read back afterwards."""
    g = graph.copy()
    for label, key, props in plan.node_props:
        attrs = g.nodes[f"{label}:{key}"]
        attrs.clear()
        attrs.update({"label": label, **props})
    for ref, props in plan.rel_props:
        attrs = g.edges[f"{ref.start_label}:{ref.start}", f"{ref.end_label}:{ref.end}", ref.rel_key]
        attrs.clear()
        attrs.update({"type": ref.rel_type, **props})
    for ref in plan.delete_rels:
        u, v = f"{ref.start_label}:{ref.start}", f"{ref.end_label}:{ref.end}"
        if g.has_edge(u, v, ref.rel_key):
            g.remove_edge(u, v, ref.rel_key)
    g.remove_nodes_from(f"{label}:{key}" for label, key in plan.delete_nodes)
    return g


def check_invariants(g: nx.MultiDiGraph) -> None:
    """What the probe found broken after the old deletes, checked over a whole graph."""
    for n, d in g.nodes(data=True):
        label = d["label"]
        ins = [e for *_x, e in g.in_edges(n, data=True)]
        if label == "Person":
            described = [e for e in ins if e["type"] == "DESCRIBES"]
            assert described, n
            assert sorted({e["role"] for e in described if e.get("role")}) == d.get("roles", []), n
        elif label in ("Phone", "Vehicle", "BankAccount"):
            assert any(e["type"] == "USES" for e in ins), n
        elif label == "Premises":
            assert any(e["type"] in ("AT", "SEEN_AT") for e in ins), n
        elif label == "Signal":
            ties = [v for _u, v, e in g.out_edges(n, data=True) if e["type"] == "TIED_TO"]
            assert d["case_linked"] is bool(ties), n
            assert ("case_id" in d) is bool(ties), n
        elif label == "Source":
            assert ins, n
    records = set(record_inventory(g))
    for *_e, d in g.edges(data=True):
        if d.get("rel_key") in SHARED_REL_KEYS:
            assert f"{d['source']}:{d['row_id']}" in records, d


@pytest.fixture
def samples(backend: Backend, tmp_path: Path) -> GraphStore:
    store = backend.empty()
    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    return store


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


POLICY = """\
# Municipal signals 18 months, police cases (Wpg art. 9) until the end of 2022.
rules:
  - source: gemeente_signalen
    term: 18m
  - legal_basis: Wpg art. 9
    term: 2022-12-31
"""


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_retention_on_the_samples_equals_the_oracle_and_keeps_the_invariants(
    samples: GraphStore, tmp_path: Path
) -> None:
    policy = read_retention_policy(write_policy(tmp_path / "retention.yaml", POLICY))
    before = samples.read_graph()
    assert plan_erasure(before, []).empty  # a freshly loaded store has nothing without a reason
    result = na.apply_retention(samples, policy, as_of="2025-06-01")
    counts = result.counts()
    assert counts["records"] > 100 and counts["persons_deleted"] > 10 and counts["nodes_updated"] > 0
    assert result.by_rule["line 3 (source gemeente_signalen, 18m)"] > 0
    after = samples.read_graph()
    assert as_data(after) == as_data(applied(before, result.plan))
    check_invariants(after)
    # Every record left is within its term; nothing is left to do.
    for info in record_inventory(after).values():
        rule = policy.rule_for(info)
        end = rule.end(info.observed_on) if rule else None
        assert end is None or end >= dt.date(2025, 6, 1)
    assert na.apply_retention(samples, policy, as_of="2025-06-01").plan.empty


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_cut_off_run_ends_like_an_uncut_one_when_run_again(samples: GraphStore, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "retention.yaml", POLICY)
    before = samples.read_graph()
    due = na.apply_retention(samples, policy, as_of="2025-06-01", dry_run=True)
    expected = applied(before, due.plan)
    # Cut off after the property rewrites and half the relationship deletes (the order stores
    # apply a plan in; the embedded store applies one plan in one transaction, Neo4j in batches).
    half = len(due.plan.delete_rels) // 2
    samples.apply_erasure(
        dataclasses.replace(due.plan, delete_rels=due.plan.delete_rels[:half], delete_nodes=())
    )
    partial = samples.read_graph()
    assert as_data(partial) != as_data(expected)
    na.apply_retention(samples, policy, as_of="2025-06-01")
    assert as_data(samples.read_graph()) == as_data(expected)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_dry_run_changes_nothing(samples: GraphStore, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "retention.yaml", POLICY)
    before = as_data(samples.read_graph())
    file = Path(samples.uri)
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
    dry = na.apply_retention(samples, policy, as_of="2025-06-01", dry_run=True)
    assert dry.counts()["records"] > 0 and "dry run" in dry.summary()
    assert as_data(samples.read_graph()) == before
    if digest is not None:
        assert hashlib.sha256(file.read_bytes()).hexdigest() == digest
    dry_erase = na.erase_records(samples, [sorted(record_inventory(samples.read_graph()))[0]], dry_run=True)
    assert dry_erase.counts()["records"] == 1
    assert as_data(samples.read_graph()) == before
    real = na.apply_retention(samples, policy, as_of="2025-06-01")
    assert real.counts() == dry.counts()


# -- the embedded store's file -----------------------------------------------------------------------


def store_bytes(path: Path) -> bytes:
    """The database file with its write-ahead log, shared memory and journal (the audit log
    beside it names the source on purpose, and is not part of the store)."""
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    return b"".join(p.read_bytes() for p in files if p.is_file())


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_no_deleted_value_remains_in_the_embedded_store_file(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    store = na.open_store(str(path))
    key = keygen(tmp_path / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp_path / "rejects.csv")
    before = store.read_graph()
    erased = sorted(r for r in record_inventory(before) if r.startswith("comensha_registraties:"))
    plan = plan_erasure(before, erased)
    # The keys and values that must go: record ids, keys of deleted nodes (pseudonyms of persons,
    # keyed hashes of phones, accounts, premises), and the source's own name.
    values = set(erased) | {key for _label, key in plan.delete_nodes} | {"comensha_registraties"}
    assert len(values) > 50
    # The keyed blocking keys of the erased records go with them (the index of resolution across
    # loads), except those that a kept record holds too: in its index keys or in its comparison
    # data, which keeps a dated record's undated-only key "7ud:..." as "7u:...".
    blocks = {
        str(a["record_id"]): {
            form for k in str(a.get("blocks") or "").split() for form in (k, k.replace("ud:", "u:", 1))
        }
        for _n, a in before.nodes(data=True)
        if a.get("label") == "Record"
    }
    kept = set().union(*(keys for rid, keys in blocks.items() if rid not in set(erased)))
    own_keys = set().union(*(blocks.get(rid, set()) for rid in erased)) - kept
    assert len(own_keys) > 20
    values |= own_keys
    store.close()
    raw = store_bytes(path)
    assert [v for v in values if v.encode() in raw], "the scan must find the values before the deletion"
    store = na.open_store(str(path))
    policy = write_policy(
        tmp_path / "retention.yaml", "rules:\n  - source: comensha_registraties\n    term: 2000-01-01\n"
    )
    result = na.apply_retention(store, policy)
    assert result.counts()["records"] == len(erased)
    assert "VACUUM" in result.compaction
    raw = store_bytes(path)  # while the store is still open: its WAL and shared memory included
    store.close()
    raw += store_bytes(path)
    assert [v for v in values if v.encode() in raw] == []


# -- policies ---------------------------------------------------------------------------------------


def test_terms_end_on_the_right_day() -> None:
    assert RetentionRule(1, "a", None, "5y").end("2020-02-29") == dt.date(2025, 2, 28)
    assert RetentionRule(1, "a", None, "18m").end("2023-08-31") == dt.date(2025, 2, 28)
    assert RetentionRule(1, "a", None, "2w3d").end("2024-01-01") == dt.date(2024, 1, 18)
    assert RetentionRule(1, "a", None, "2026-06-30").end("1999-01-01") == dt.date(2026, 6, 30)
    assert RetentionRule(1, "a", None, "5y").end(None) is None


BAD_POLICIES = [
    ("rules:\n  - source: nope\n    term: 5y\n", "line 2: the store has no source nope"),
    ("rules:\n  - source: politie_zaken\n    term: 5 jaar\n", "line 2: the term '5 jaar' is neither"),
    ("rules:\n  - source: politie_zaken\n    term: 2025-02-30\n", "line 2: the term '2025-02-30'"),
    ("rules:\n  - source: politie_zaken\n    term: 5y\n  - source: politie_zaken\n    term: 1y\n",
     "line 4: a second rule for source politie_zaken (the first is on line 2)"),
    ("rules:\n  - source: politie_zaken\n    term: 5y\n  - legal_basis: Wpg art. 9\n    term: 1y\n",
     "line 4: the rule for legal basis Wpg art. 9 overlaps the rule for source politie_zaken on line 2"),
    ("rules:\n  - source: politie_zaken\n    legal_basis: Wpg art. 9\n    term: 1y\n",
     "line 2: a rule names either"),
    ("rules:\n  - source: politie_zaken\n    term: 1y\n    keep: forever\n", "line 2: unknown key 'keep'"),
    ("rules:\n  - source: politie_zaken\n", "line 2: the rule has no term"),
    ("rules: [\n", "is not valid YAML at line 2"),
    ("terms: {}\n", "needs a list of rules"),
]  # fmt: skip


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("retention-samples")
    store = na.open_store(str(tmp / "g.sqlite"))
    key = keygen(tmp / "throwaway.key")
    load([DATA / "sources"], store, DATA / "sources.yaml", key, rejects_path=tmp / "rejects.csv")
    store.close()
    return tmp / "g.sqlite"


@pytest.mark.parametrize(("text", "message"), BAD_POLICIES)
def test_a_bad_policy_is_one_sentence_naming_the_line_and_deletes_nothing(
    text: str, message: str, sample_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write_policy(tmp_path / "retention.yaml", text)
    store = na.open_store(str(sample_store))
    before = store.counts()
    store.close()
    code = main(["retention", "--store", str(sample_store), "--policy", str(policy), "--as-of", "2030-01-01"])
    out, err = capsys.readouterr()
    assert code == 2
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    store = na.open_store(str(sample_store))
    assert store.counts() == before
    last = store.last_load()  # a refused policy leaves no cut-off run that blocks reading
    assert last is not None and last.complete
    store.close()


def test_erase_refuses_a_record_it_does_not_hold(
    sample_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for record, message in (
        ("politie_zaken", "is not a record id"),
        ("politie_zaken:NOPE", "holds no record"),
    ):
        code = main(["erase", "--store", str(sample_store), "--record", record])
        _out, err = capsys.readouterr()
        assert code == 2 and message in err, err
    with pytest.raises(ConfigError, match="say which records"):
        store = na.open_store(str(sample_store))
        try:
            na.erase_records(store, [])
        finally:
            store.close()


# -- the commands, logged ---------------------------------------------------------------------------


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_the_commands_delete_log_counts_only_and_list_stale_detections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = keygen(tmp_path / "test.key")
    monkeypatch.setenv("NETANALYSIS_KEY_FILE", str(key))
    monkeypatch.setenv("NETANALYSIS_PURPOSES", str(DATA / "purposes.yaml"))
    store = str(tmp_path / "g.sqlite")
    assert main(["load", str(DATA / "sources"), "--mapping", str(DATA / "sources.yaml"), "--store", store,
                 "--rejects", str(tmp_path / "rejects.csv"), "--purpose", "netwerkanalyse"]) == 0  # fmt: skip
    det = tmp_path / "det"
    assert main(["detect", "--store", store, "--out", str(det), "--stability-runs", "0",
                 "--purpose", "netwerkanalyse"]) == 0  # fmt: skip
    capsys.readouterr()
    policy = write_policy(tmp_path / "retention.yaml", POLICY)
    persons_before = {
        n for n, d in na.open_store(store).read_graph().nodes(data=True) if d["label"] == "Person"
    }

    # The analysis purpose does not allow deleting; the retention purpose does.
    assert main(["retention", "--store", store, "--policy", str(policy), "--purpose", "netwerkanalyse"]) == 2
    assert "does not allow the command 'retention'" in capsys.readouterr().err
    args = ["retention", "--store", store, "--policy", str(policy), "--as-of", "2025-06-01",
            "--detected", str(tmp_path), "--purpose", "bewaartermijnen"]  # fmt: skip
    assert main([*args, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "would be stale: detection" in dry and "dry run: nothing was changed" in dry
    assert main(args) == 0
    done = capsys.readouterr().out
    assert "records past due" in done and f"stale: detection {det}" in done
    assert [line for line in dry.splitlines() if "past due" in line] == [
        line for line in done.splitlines() if "past due" in line
    ]
    record = sorted(record_inventory(na.open_store(store).read_graph()))[0]
    assert main(["erase", "--store", store, "--record", record, "--purpose", "bewaartermijnen"]) == 0
    assert "erase: 1 records" in capsys.readouterr().out

    entries = AuditLog(tmp_path / "g.sqlite.audit.jsonl").entries()
    commands = [
        (e["attributes"]["netanalysis.command"], e["attributes"]["netanalysis.outcome"]) for e in entries
    ]
    assert commands[2:] == [
        ("retention", "refused"),
        ("retention", "ok"),
        ("retention", "ok"),
        ("erase", "ok"),
    ]
    retention = entries[4]["attributes"]
    assert (
        retention["netanalysis.counts"]["records"] > 0
        and retention["netanalysis.counts"]["stale_detections"] == 1
    )
    assert retention["netanalysis.legal_basis"] == "Wpg art. 14"
    assert entries[5]["attributes"]["netanalysis.parameters"]["record"] == "<given>"
    text = (tmp_path / "g.sqlite.audit.jsonl").read_text(encoding="utf-8")
    assert record not in text
    assert not [p for p in persons_before if p.split(":", 1)[1] in text]
