"""The blocking-key index of resolution across loads (issue 13), on both stores.

A delivery reads only the stored person records that share a keyed blocking key with its own
(``loaders.crossload.stored_candidates``, ``GraphStore.person_records``) instead of the comparison
data of every stored record; it must end with the same persons and merges as the read of
everything. A store loaded before the index is migrated once by the next load; erasure takes
the keys with their record.

With ``crossload.METHOD = "pairs"`` a delivery scores only the pairs that hold one of its
records, so it is not bound to end exactly as one load of everything: what holds is checked here
(the same persons and merges as the method "whole" on the samples delivered in order, and index
against a read of everything with either method).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA_SAMPLES
from test_living import persons_as_records, split_deliveries

import loaders.pipeline as pipeline
from graphstore import open_store
from graphstore.base import GraphSlice, GraphStore
from loaders import crossload
from loaders.linkage import candidate_pairs
from loaders.mapping import load_mapping
from loaders.pipeline import load, read_records
from loaders.pseudonymise import Pseudonymiser
from loaders.read import assign_files
from loaders.resolve_encoded import exported_rules
from netanalysis.errors import ConfigError
from synth import generate

KEY = Pseudonymiser(bytes(range(32)))
MAPPING = DATA_SAMPLES / "sources.yaml"


def read_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``load`` read the stored records as before the index: every one of them."""

    def everything(store: GraphStore, records: Any, comparisons: Any) -> tuple[Any, Any]:
        stored, person_of, missing = crossload.stored_comparisons(store)
        crossload.check_comparison_data(missing, comparisons, store.uri)
        return stored, person_of

    monkeypatch.setattr(pipeline, "stored_candidates", everything)
    monkeypatch.setattr(pipeline, "ensure_block_index", lambda store, this_load, batch_size=5000: 0)


def check_each_read(monkeypatch: pytest.MonkeyPatch, reads: list[tuple[int, int]]) -> None:
    """Around every load: the records read through the index are records of the store with the
    same person and comparison data, and the stored persons each new record matches are the
    same as from a read of everything. ``reads`` gets (records read, records stored)."""
    real = crossload.stored_candidates

    def checked(store: GraphStore, records: Any, comparisons: Any) -> tuple[Any, Any]:
        stored, person_of = real(store, records, comparisons)
        every, every_person_of, _missing = crossload.stored_comparisons(store)
        assert all(every[rid] == value for rid, value in stored.items())
        # The index counts the records under each key as a read of everything does.
        counted = crossload._count_blocks(every)
        asked = {k for v in comparisons.values() for k in crossload.blocking_keys(v).split()}
        assert all(counted[key] == n for key, n in stored.block_sizes.items())
        assert all(key in stored.block_sizes for key in asked if key in counted)
        assert all(every_person_of[rid] == pid for rid, pid in person_of.items())
        assert crossload.matches_across_loads(records, comparisons, stored) == (
            crossload.matches_across_loads(records, comparisons, every)
        )
        reads.append((len(person_of), len(every_person_of)))
        return stored, person_of

    monkeypatch.setattr(pipeline, "stored_candidates", checked)


def _value(blocks: str, dated: bool) -> str:
    return '{"birth":"9f",' * dated + "{" * (not dated) + f'"blocks":"{blocks}","s":"x"}}'


def test_a_dated_record_looks_up_only_undated_records_under_an_undated_only_key() -> None:
    dated, undated = _value("0:aa 6u:bb", True), _value("6u:bb", False)
    assert crossload.blocking_keys(dated) == "0:aa 6ud:bb"  # a dated record's undated-only key
    assert crossload.blocking_keys(undated) == "6u:bb"
    wanted, oversized = crossload.lookup_keys({"new:1": dated}, ["new:1"], {}, {})
    assert wanted == {"0:aa", "6u:bb"} and not oversized
    wanted, _ = crossload.lookup_keys({"new:2": undated}, ["new:2"], {}, {})
    assert wanted == {"6u:bb", "6ud:bb"}


@pytest.mark.parametrize(
    ("value", "keys"),
    [
        ('{"birth":"9f","blocks":"0:aa 6u:bb","s":"x"}', "0:aa 6ud:bb"),
        ('{"birth":"","blocks":"0:aa 6u:bb"}', "0:aa 6u:bb"),  # an empty birth is no date
        ('{"blocks":"0:aa","blocks":"1:cc"}', "1:cc"),  # a repeated key: the last, as JSON reads it
        ('{"birth":"9f","birth":"","blocks":"6u:bb"}', "6u:bb"),
        ('{"a":"\\"blocks\\":\\"9:ff\\"","blocks":"1:cc"}', "1:cc"),  # a key's text inside a value
        ('{"a":"\\"blocks\\":\\"9:ff\\""}', ""),
        ('{"blocks":"0:aa BAD 6u:bb","birth":"1"}', "0:aa 6ud:bb"),  # a malformed key is left out
        ('{"blocks":"0:aa"', ""),  # not JSON
        ('{"blocks":5}', ""),
        ('["0:aa"]', ""),
        ("", ""),
    ],
)
def test_the_blocking_keys_of_plain_and_other_comparison_texts(value: str, keys: str) -> None:
    # Comparison texts as comparison_value writes them are read without the JSON parser; any
    # other text must give what the parser gives.
    assert crossload.blocking_keys(value) == keys
    assert crossload._keys_and_dated(value)[0] == [k.replace("ud:", "u:") for k in keys.split()]


def test_a_block_that_a_load_of_everything_skips_is_not_looked_up() -> None:
    new = {"new:1": _value("0:aa 6u:bb", False), "old:1": _value("6u:bb", False)}
    # 399 stored records under the key (dated or not) and two of this load: 401, too many.
    wanted, oversized = crossload.lookup_keys(new, ["new:1"], {}, {"6u:bb": 300, "6ud:bb": 99})
    assert "6u:bb" in oversized and wanted == {"0:aa"}
    # One of this load's records is a stored one delivered again: it counts once, 400 are compared.
    stored = {"old:1": ("p", new["old:1"])}
    wanted, oversized = crossload.lookup_keys(new, ["new:1"], stored, {"6u:bb": 300, "6ud:bb": 99})
    assert not oversized and wanted == {"0:aa", "6u:bb", "6ud:bb"}


def test_a_stored_block_over_the_lookup_cap_is_not_looked_up() -> None:
    new = {"new:1": _value("0:aa 6u:bb", False), "new:2": _value("1:cc 6u:dd", True)}
    sizes = {"0:aa": 3, "6u:bb": 2, "6ud:bb": 51, "1:cc": 50, "6u:dd": 60, "6ud:dd": 1}
    wanted, oversized = crossload.lookup_keys(new, ["new:1", "new:2"], {}, sizes, cap=50)
    # The dated namesakes of the undated record (51) and the undated block of the dated one (60)
    # are over the cap; a block of exactly the cap is read.
    assert wanted == {"0:aa", "6u:bb", "1:cc"} and not oversized
    wanted, _ = crossload.lookup_keys(new, ["new:1", "new:2"], {}, sizes, cap=None)
    assert wanted == {"0:aa", "6u:bb", "6ud:bb", "1:cc", "6u:dd"}
    # A selective rule's block (name_monthday, 1) is read over the cap: it holds one person's records.
    wanted, _ = crossload.lookup_keys(new, ["new:2"], {}, {**sizes, "1:cc": 80}, cap=50)
    assert wanted == {"1:cc"}
    # A record whose every stored block is over the cap reads its smallest (a prolific person).
    only_broad = {"new:3": _value("6u:ee 12u:ff", False)}
    sizes = {"6u:ee": 70, "6ud:ee": 60, "12u:ff": 90, "12ud:ff": 0}
    wanted, _ = crossload.lookup_keys(only_broad, ["new:3"], {}, sizes, cap=50)
    assert wanted == {"6ud:ee"}


def test_a_delivery_pairs_only_what_holds_one_of_its_records() -> None:
    mapping = load_mapping(MAPPING)
    records = read_records(mapping, assign_files(mapping, [DATA_SAMPLES / "sources"]), lambda _i: None, {})
    comparer = crossload.Comparer(KEY)
    feats = [
        f
        for r in records
        if (value := comparer.value(r)) is not None
        and (f := crossload._decode(value, r.record_id)) is not None
    ]
    assert len(feats) > 500
    focus = [i % 7 == 0 for i in range(len(feats))]  # the "new" records
    rules = exported_rules(feats)
    every = set(candidate_pairs(feats, rules, Counter()))
    focused = list(candidate_pairs(feats, rules, Counter(), focus))
    assert len(focused) == len(set(focused))  # each pair once
    assert set(focused) == {(i, j) for i, j in every if focus[i] or focus[j]}
    assert any(not focus[i] and not focus[j] for i, j in every)  # stored-stored pairs exist
    assert all(i < j for i, j in focused)


def as_data(store: GraphStore) -> tuple[list[Any], list[Any]]:
    """The whole graph as plain data, without the time a merge was made."""
    graph = store.read_graph()
    nodes = sorted(
        (n, sorted((k, repr(v)) for k, v in a.items() if k != "merged_at")) for n, a in graph.nodes(data=True)
    )
    edges = sorted(
        (u, v, k, sorted((x, repr(y)) for x, y in d.items()))
        for u, v, k, d in graph.edges(keys=True, data=True)
    )
    return nodes, edges


def replay(store: GraphStore, deliveries: list[Path], mapping: Path, rejects: Path) -> None:
    for number, delivery in enumerate(deliveries):
        load([delivery], store, mapping, KEY, rejects_path=rejects / f"r{number}.csv")


def replay_both_ways(
    store: GraphStore, deliveries: list[Path], mapping: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, int]]:
    """Replay the deliveries into ``store`` through the index (checking each read) and into an
    embedded store of its own reading everything; assert the two graphs are the same (persons,
    records, merges) and return the reads as (records read, records stored)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reads: list[tuple[int, int]] = []
    with monkeypatch.context() as patch:
        check_each_read(patch, reads)
        replay(store, deliveries, mapping, tmp_path / "a")
    reference = open_store(str(tmp_path / "everything.db"))
    try:
        with monkeypatch.context() as patch:
            read_everything(patch)
            replay(reference, deliveries, mapping, tmp_path / "b")
        assert as_data(store) == as_data(reference)
        assert persons_as_records(store)
    finally:
        reference.close()
    return reads


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_samples_as_deliveries_give_the_same_persons_and_merges_as_reading_everything(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliveries = split_deliveries(tmp_path / "deliveries", months_per_delivery=6)
    assert len(deliveries) > 8
    reads = replay_both_ways(store, deliveries, MAPPING, tmp_path, monkeypatch)
    # The first delivery, into an empty store, reads nothing (loaders.pipeline); the others read
    # a part of the store through the index: all of it only where one touches every person.
    assert len(reads) == len(deliveries) - 1
    assert sum(r for r, _ in reads) < sum(s for _, s in reads)


@pytest.fixture(scope="module")
def noisy_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic set at high noise, written as 6 chronological deliveries (seed 23, not
    one the resolution was tuned on)."""
    out = tmp_path_factory.mktemp("noisy")
    generate(out, seed=23, groups=12, noise=0.3, deliveries=6)
    return out


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
@pytest.mark.parametrize("method", crossload.METHODS)
def test_noisy_deliveries_give_the_same_persons_and_merges_as_reading_everything(
    method: str, store: GraphStore, noisy_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliveries = sorted(p for p in (noisy_set / "deliveries").iterdir() if p.is_dir())
    assert len(deliveries) == 6
    mapping = noisy_set / "sources.yaml"
    monkeypatch.setattr(crossload, "METHOD", method)
    replay_both_ways(store, deliveries, mapping, tmp_path, monkeypatch)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_small_lookup_cap_reads_less_and_ends_as_reading_everything_with_it(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cap small enough to bite in the samples: the index and the read of everything still end
    # with the same persons and merges, and the deliveries read fewer stored records.
    deliveries = split_deliveries(tmp_path / "deliveries", months_per_delivery=6)
    mapping = MAPPING
    (tmp_path / "capped").mkdir()
    (tmp_path / "uncapped").mkdir()
    monkeypatch.setattr(crossload, "LOOKUP_CAP", 1)
    capped = replay_both_ways(store, deliveries, mapping, tmp_path / "capped", monkeypatch)
    monkeypatch.setattr(crossload, "LOOKUP_CAP", None)
    every = open_store(str(tmp_path / "uncapped.db"))
    try:
        reads: list[tuple[int, int]] = []
        with monkeypatch.context() as patch:
            check_each_read(patch, reads)
            replay(every, deliveries, mapping, tmp_path / "uncapped")
    finally:
        every.close()
    assert sum(r for r, _ in capped) < sum(r for r, _ in reads)


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_scoring_only_the_new_pairs_gives_the_persons_of_resolving_the_stored_records_again(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliveries = split_deliveries(tmp_path / "deliveries", months_per_delivery=6)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(crossload, "METHOD", "pairs")
        replay(store, deliveries, MAPPING, tmp_path / "a")
    reference = open_store(str(tmp_path / "whole.db"))
    try:
        with monkeypatch.context() as patch:
            patch.setattr(crossload, "METHOD", "whole")
            replay(reference, deliveries, MAPPING, tmp_path / "b")
        assert persons_as_records(store) == persons_as_records(reference)
        assert store.counts()["Merge"] == reference.counts()["Merge"]
    finally:
        reference.close()


def test_an_unknown_method_across_loads_is_refused_in_one_sentence() -> None:
    with pytest.raises(ConfigError, match="resolution across loads is one of whole, pairs, not 'all'"):
        crossload.matches_across_loads([], {}, {}, method="all")


def _as_before_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load as a version before the index did: no ``blocks`` on records, no mark on sources."""
    monkeypatch.setattr(pipeline, "blocking_keys", lambda value: None)
    monkeypatch.setattr(pipeline, "BLOCK_INDEX_VERSION", None)
    read_everything(monkeypatch)


def _blocks_of_records(store: GraphStore) -> dict[str, str]:
    graph = store.read_graph(GraphSlice(labels=frozenset({"Record"}), rel_types=frozenset()))
    return {str(a["record_id"]): str(a.get("blocks") or "") for _n, a in graph.nodes(data=True)}


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_a_store_loaded_before_the_index_is_migrated_once(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    *earlier, last = split_deliveries(tmp_path / "deliveries", months_per_delivery=12)
    with monkeypatch.context() as patch:
        _as_before_the_index(patch)
        load(earlier, store, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
    old = _blocks_of_records(store)
    assert old and not any(old.values())  # no keys: nothing to find through the index
    assert store.person_records(blocks=["0:" + "0" * 16]) == []
    # The migration reads every record once and writes its keys.
    migrated = crossload.ensure_block_index(store, [])
    assert migrated == sum(1 for rid in old if rid in crossload.stored_comparisons(store)[1])
    keys = _blocks_of_records(store)
    with_keys = {rid: k for rid, k in keys.items() if k}
    assert len(with_keys) == migrated
    # Each key finds its record.
    rid, blocks = sorted(with_keys.items())[0]
    assert rid in {r for r, _p, _v in store.person_records(blocks=blocks.split()[:1])}
    assert crossload.ensure_block_index(store, []) == 0  # once
    # The next delivery then ends as with a read of everything.
    load([last], store, MAPPING, KEY, rejects_path=tmp_path / "r2.csv")
    reference = open_store(str(tmp_path / "everything.db"))
    try:
        with monkeypatch.context() as patch:
            read_everything(patch)
            load(earlier, reference, MAPPING, KEY, rejects_path=tmp_path / "r3.csv")
            load([last], reference, MAPPING, KEY, rejects_path=tmp_path / "r4.csv")
        assert persons_as_records(store) == persons_as_records(reference)
        assert as_data(store)[1] == as_data(reference)[1]
    finally:
        reference.close()


def test_a_delivery_into_a_migrated_store_does_not_read_every_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    *earlier, last = split_deliveries(tmp_path / "deliveries", months_per_delivery=24)
    store = open_store(str(tmp_path / "graph.db"))
    try:
        load(earlier, store, MAPPING, KEY, rejects_path=tmp_path / "r1.csv")
        monkeypatch.setattr(
            crossload, "stored_comparisons", lambda store: pytest.fail("read every stored record")
        )
        load([last], store, MAPPING, KEY, rejects_path=tmp_path / "r2.csv")
    finally:
        store.close()


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_erasing_a_record_deletes_its_keys(tmp_path: Path) -> None:
    from graphstore.erasure import plan_erasure, record_inventory

    path = tmp_path / "graph.db"

    def indexed() -> set[str]:
        with sqlite3.connect(path) as conn:
            return {r for (r,) in conn.execute("SELECT DISTINCT record FROM record_blocks")}

    store = open_store(str(path))
    try:
        load([DATA_SAMPLES / "sources"], store, MAPPING, KEY, rejects_path=tmp_path / "r.csv")
        before = store.read_graph()
        erased = sorted(r for r in record_inventory(before) if r.startswith("comensha_registraties:"))
        assert set(erased) & indexed()
        store.apply_erasure(plan_erasure(before, erased))
        assert indexed() and not indexed() & set(erased)
        assert indexed() == {r for r, k in _blocks_of_records(store).items() if k}
    finally:
        store.close()


def _record_row(rid: str, blocks: str) -> dict[str, Any]:
    return {"record_id": rid, "source": "s", "row_id": rid, "blocks": blocks}


def _index_rows(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return set(conn.execute("SELECT block, record FROM record_blocks"))


def _has_insert_trigger(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'record_blocks_insert'"
        return conn.execute(query).fetchone() is not None


def _secondary_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
        return {name for (name,) in conn.execute(query)}


SECONDARY = {"nodes_source", "nodes_observed", "rels_end", "rels_source", "rels_observed"}


def test_a_first_load_fills_the_index_at_its_end_with_what_the_trigger_gives(tmp_path: Path) -> None:
    # A load into an empty store leaves the keys of its Records to its end (one sorted insert
    # instead of a trigger run per Record): the index must end as the trigger would leave it,
    # reads during the load must see the Records written so far, and a load that fails must
    # leave the trigger in place.
    first, later = tmp_path / "first.db", tmp_path / "later.db"
    rows = [_record_row("r1", "1:aa 2:bb"), _record_row("r2", "1:aa"), _record_row("r3", 'bad"key 3:cc')]
    with open_store(str(later)) as store:  # the trigger's way: the store is not empty
        store.upsert_nodes("Source", [{"name": "s"}])
        store.begin_load("b")
        store.upsert_nodes("Record", rows)
        store.upsert_nodes("Record", [_record_row("r2", "4:dd")])  # an update in the load
        store.end_load("b")
    with open_store(str(first)) as store:
        store.begin_load("b")
        store.upsert_nodes("Source", [{"name": "s"}])
        store.upsert_nodes("Record", rows)
        assert store.block_sizes(["1:aa", "2:bb"]) == {"1:aa": 2, "2:bb": 1}
        store.upsert_nodes("Record", [_record_row("r2", "4:dd")])
        store.end_load("b")
        assert _has_insert_trigger(first)
        # The secondary indexes, dropped for the load, are built at its end and are read.
        assert _secondary_indexes(first) == _secondary_indexes(later) == SECONDARY
        with sqlite3.connect(first) as conn:
            plan = conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM rels WHERE end_label = 'Source' AND end_key = 's'"
            ).fetchall()
        assert any("rels_end" in str(row) for row in plan)
        assert _index_rows(first) == _index_rows(later) == {("1:aa", "r1"), ("2:bb", "r1"), ("4:dd", "r2")}
    failed = tmp_path / "failed.db"
    with open_store(str(failed)) as store:
        store.begin_load("b")
        store.upsert_nodes("Record", rows)
        # Dropped inside the load's transaction: other readers still see the store before it.
        assert _secondary_indexes(failed) == SECONDARY
        store.end_load("b", completed=False)
        assert _has_insert_trigger(failed)
        assert _secondary_indexes(failed) == SECONDARY  # back with the rollback
        store.upsert_nodes("Record", rows[:1])  # outside a load: the trigger's way
    assert _index_rows(failed) == {("1:aa", "r1"), ("2:bb", "r1")}


@pytest.mark.slow  # over 1.5 CPU s: left out of `make check`, run by `make test`
def test_the_load_command_takes_the_method_across_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from loaders.pseudonymise import keygen, load_key
    from netanalysis.cli import main

    deliveries = split_deliveries(tmp_path / "deliveries", months_per_delivery=24)
    assert len(deliveries) >= 2
    key = keygen(tmp_path / "k.key")
    by_command, by_api = tmp_path / "command.db", tmp_path / "api.db"
    bad = ["load", str(deliveries[0]), "--mapping", str(MAPPING), "--key-file", str(key)]
    assert main([*bad, "--store", str(tmp_path / "never.db"), "--across-loads", "fast"]) == 2
    assert "--across-loads is one of whole, pairs" in capsys.readouterr().err
    assert not (tmp_path / "never.db").exists()
    # The method the command was given is the one the resolution across loads runs.
    methods: list[str | None] = []
    real = pipeline.matches_across_loads

    def spy(*args: Any, **kwargs: Any) -> Any:
        methods.append(args[4] if len(args) > 4 else kwargs.get("method"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "matches_across_loads", spy)
    for n, delivery in enumerate(deliveries):
        args = ["load", str(delivery), "--mapping", str(MAPPING), "--key-file", str(key)]
        rejects = ["--rejects", str(tmp_path / f"rejects-{n}.csv")]
        assert main([*args, *rejects, "--store", str(by_command), "--across-loads", "pairs"]) == 0
    assert methods == ["pairs"] * len(deliveries)
    monkeypatch.setattr(pipeline, "matches_across_loads", real)
    api = open_store(str(by_api))
    try:
        for n, delivery in enumerate(deliveries):
            rejects_csv = tmp_path / f"r{n}.csv"
            load([delivery], api, MAPPING, load_key(key), rejects_path=rejects_csv, across_loads="pairs")
        expected = persons_as_records(api)
    finally:
        api.close()
    command = open_store(str(by_command))
    try:
        assert persons_as_records(command) == expected and len(expected) > 100
    finally:
        command.close()
