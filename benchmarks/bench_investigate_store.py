"""Investigation speed through a store: ``find`` and ``connect`` reading only what they need.

``build`` writes the store-shaped graph of ``bench_investigate`` (``bench_detect.build_graph``
plus ``--targets`` persons with real keyed pseudonyms, synthetic names and a throw-away key) into
a store: an embedded file or a Neo4j URI (password from ``NEO4J_PASSWORD``). It also writes
``STORE.pairs.json`` beside an embedded file (or ``--pairs``): the pseudonymous node ids of two
connect queries (two suspects of one case, and suspects of two groups joined by a shared
vehicle, 4 hops). Every other person gets one Record with a synthetic name (``FIRST_NAMES``,
``SURNAMES``, common names often), a birth date and the keyed blocking keys a load indexes, and
the ``bench`` Source node is marked as indexed, so ``find`` reads the blocking-key index as in a
loaded store. ``--bulk-home HOME`` builds into the empty database of the toolkit's server in
``HOME`` by the initial import (``neo4j-admin database import``, as ``load --initial-import``).
``run`` opens the store and times, per query, in CPU and wall seconds:

- ``na.find_person(store, ...)`` for every target: with the birth date, with day and month
  swapped, and without a birth date; ``--old`` also times ``find_person`` as it was at commit
  ``--old-from`` on the same store, side by side, and says for how many queries the two list
  the same matches (``--old-from main``: the look-up of every spelling by pseudonym, before find
  read the blocking-key index). Half the targets have a name nobody else has, half the most
  common first names and surnames (their index blocks are the largest);
- ``na.connecting_network(store, pair, max_hops=4)`` for both pairs; ``--whole-graph`` also
  times the previous way (read the whole graph, then search it in memory).

    .venv/bin/python benchmarks/bench_investigate_store.py build --persons 100000 --store b100k.sqlite
    .venv/bin/python benchmarks/bench_investigate_store.py run --persons 100000 \
        --store b100k.sqlite --old --whole-graph
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect import build_graph

from loaders.crossload import BLOCK_INDEX_VERSION, Comparer, blocking_keys
from loaders.pseudonymise import Pseudonymiser
from loaders.records import Record
from loaders.resolve import identity_string

LETTERS = "abcdefghijklmnopqrstuvwxyz"
KEY = Pseudonymiser(bytes(range(32)))
SOURCE = "bench"


def _name(i: int, length: int = 7) -> str:
    out = []
    for _ in range(length):
        i, r = divmod(i, 26)
        out.append(LETTERS[r])
    return "".join(out)


#: The synthetic first names and surnames of every person, most common first: a person's name is
#: drawn with weight 1/(rank + 10) (first names) and 1/(rank + 20) (surnames), so the most common
#: first name is about 1.5% of the persons and the most common surname 0.65% (as "de Jong" is
#: about 0.5% of the Dutch): the blocks find reads for a common name are realistically large.
FIRST_NAMES = [_name(7919 * k + 101, 6) for k in range(5_000)]
SURNAMES = [_name(104_729 * k + 13, 8) for k in range(30_000)]


def _cumulative(n: int, offset: int) -> list[float]:
    total, out = 0.0, []
    for rank in range(n):
        total += 1 / (rank + offset)
        out.append(total)
    return out


def targets(n: int) -> list[tuple[str, str, str, str]]:
    """(first, last, ISO birth date, pseudonym) of the ``n`` target persons (the same every time):
    the even ones with a name nobody else has, the odd ones with the most common first names and
    surnames (target 1 has the most common of both)."""
    rng = random.Random(1)
    out = []
    for t in range(n):
        if t % 2:
            first, last = FIRST_NAMES[t // 2], SURNAMES[t // 2]
        else:
            first, last = _name(3 * t + 11), _name(7 * t + 5)
        # Day and month both up to 12, so the query with the two swapped is a valid date too.
        birth = f"{rng.randint(1960, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 12):02d}"
        out.append((first, last, birth, KEY.hash("person", identity_string(first, last, birth))))
    return out


def _open(uri: str) -> Any:
    from graphstore import open_store

    if "://" in uri:
        return open_store(uri, password=os.environ.get("NEO4J_PASSWORD", ""))
    return open_store(uri)


def _pairs_file(args: argparse.Namespace) -> Path:
    return Path(args.pairs) if args.pairs else Path(f"{args.store}.pairs.json")


def build(args: argparse.Namespace) -> None:
    from graphstore import load_schema
    from graphstore.base import RelRow

    w, c = time.perf_counter(), time.process_time()
    graph = build_graph(args.persons, seed=0)
    rng = random.Random(2)
    cases = sorted(n for n in graph if n.startswith("Case:"))
    comparer = Comparer(KEY)
    for t, (first, last, birth, pid) in enumerate(targets(args.targets)):
        node, record = f"Person:{pid}", f"Record:bench:{t}"
        graph.add_node(node, label="Person", roles=["suspect"])
        value = comparer.value(
            Record(SOURCE, str(t), "case", {"first_name": first, "last_name": last, "birth_date": birth})
        )
        graph.add_node(
            record,
            label="Record",
            source="bench",
            row_id=str(t),
            reliability="B2",
            comparison=value,
            blocks=blocking_keys(value),
        )
        graph.add_edge(record, node, key=f"t{t}", type="DESCRIBES", source="bench", row_id=str(t))
        graph.add_edge(
            node, rng.choice(cases), key=f"c{t}", type="SUSPECT_IN", reliability="A1", source="bench"
        )
    users: dict[str, list[str]] = {}
    for u, v, d in graph.edges(data=True):
        if d.get("type") == "USES" and v.startswith("Vehicle:"):
            users.setdefault(v, []).append(u)

    def mates(person: str) -> list[str]:
        cs = [x for _, x, d in graph.out_edges(person, data=True) if d.get("type") == "SUSPECT_IN"]
        return sorted(
            p
            for x in cs
            for p, _, d in graph.in_edges(x, data=True)
            if d.get("type") == "SUSPECT_IN" and p != person
        )

    one, two, mate = next(
        (a, b, mates(a)[0])
        for _, ps in sorted(users.items())
        if len(ps) == 2
        for a, b in (ps, ps[::-1])
        if mates(a)
    )
    _pairs_file(args).write_text(json.dumps({"same_group": [one, mate], "two_groups": [mate, two]}))
    print(f"graph built: {time.process_time() - c:.1f} CPU s, {time.perf_counter() - w:.1f} s", flush=True)

    found_by_name = {f"Person:{pid}" for *_names, pid in targets(args.targets)}
    background = sorted(
        str(n).removeprefix("Person:")
        for n, a in graph.nodes(data=True)
        if a.get("label") == "Person" and n not in found_by_name
    )
    graph.add_node(f"Source:{SOURCE}", label="Source", kind="case", block_index=BLOCK_INDEX_VERSION)
    schema = load_schema()
    if args.bulk_home:
        from graphstore import neo4j_server
        from graphstore.bulk_import import BulkImportWriter

        home = Path(args.bulk_home)
        info = neo4j_server.status(home)
        assert info is not None, f"no server runs in {home}"
        run = neo4j_server.initial_import_run(home, heap=args.heap, pagecache=args.pagecache)
        workdir = run.__enter__()
        live = _open(info.uri)
        store: Any = BulkImportWriter(live, workdir, check_empty=False)
    else:
        store = _open(args.store)
        store.apply_schema()
    w, c = time.perf_counter(), time.process_time()
    by_label: dict[str, list[dict[str, Any]]] = {}
    for node, attrs in graph.nodes(data=True):
        label, key = node.split(":", 1)
        props = {k: v for k, v in attrs.items() if k != "label"}
        props[schema.key_of(label)] = key
        by_label.setdefault(label, []).append(props)
    for label, rows in sorted(by_label.items()):
        store.upsert_nodes(label, rows)
    del by_label
    by_combo: dict[tuple[str, str, str], list[RelRow]] = {}
    for u, v, k, attrs in graph.edges(keys=True, data=True):
        sl, sk = u.split(":", 1)
        el, ek = v.split(":", 1)
        props = {n: x for n, x in attrs.items() if n != "type"}
        by_combo.setdefault((attrs["type"], sl, el), []).append(RelRow(sk, ek, str(k), props))
    nodes, rels = graph.number_of_nodes(), graph.number_of_edges()
    graph.clear()  # its memory back before the relationships are written
    for (typ, sl, el), rows in sorted(by_combo.items()):
        store.upsert_relationships(typ, sl, el, rows)
    del by_combo
    records = _write_records(store, background)
    if args.bulk_home:
        files = store.finish()
        live.close()
        info = neo4j_server.import_full(files, home, heap=args.heap, pagecache=args.pagecache)
        run.__exit__(None, None, None)
        store = _open(info.uri)
        store.restore_empty_lists(files.empty_lists)
        store.apply_schema()  # the constraints, and the block index built over what was imported
        print(f"imported into {info.uri}", flush=True)
    store.close()
    nodes += records
    rels += records
    print(
        f"written {nodes} nodes, {rels} relationships: {time.process_time() - c:.1f} CPU s, "
        f"{time.perf_counter() - w:.1f} s; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB",
        flush=True,
    )


def _write_records(store: Any, persons: list[str], batch: int = 20_000) -> int:
    """A Record for each of ``persons`` with a name drawn from ``FIRST_NAMES``/``SURNAMES``, a birth
    date, its keyed blocking keys (``blocks``, indexed) and a comparison value of the size a load
    writes (about 950 bytes: one of 200 real encodings, since find reads but never uses it), and
    its DESCRIBES. Returns the records written."""
    from graphstore.base import RelRow
    from loaders.encode import _blocks, _ShortHasher
    from loaders.resolve import blocking_rules, features

    rng = random.Random(3)
    firsts, lasts = _cumulative(len(FIRST_NAMES), 10), _cumulative(len(SURNAMES), 20)
    comparer, hasher, rules = Comparer(KEY), _ShortHasher(KEY), blocking_rules()
    pool = [
        comparer.value(
            Record(SOURCE, "pool", "case", {"first_name": f, "last_name": g, "birth_date": "1980-01-01"})
        )
        for f, g in zip(FIRST_NAMES[:200], SURNAMES[:200], strict=True)
    ]
    for start in range(0, len(persons), batch):
        nodes, rels = [], []
        for i, pid in enumerate(persons[start : start + batch], start=start):
            first = rng.choices(FIRST_NAMES, cum_weights=firsts)[0]
            last = rng.choices(SURNAMES, cum_weights=lasts)[0]
            birth = f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            values = {"first_name": first, "last_name": last, "birth_date": birth}
            dated = _blocks(hasher, features(Record(SOURCE, f"p{i}", "case", values)), rules)
            value = pool[i % len(pool)]
            rid = f"{SOURCE}:p{i}"
            keys = blocking_keys(json.dumps({"birth": "dated", "blocks": dated}))
            nodes.append(
                {"record_id": rid, "source": SOURCE, "row_id": f"p{i}", "comparison": value, "blocks": keys}
            )
            rels.append(RelRow(rid, pid, f"p{i}", {"source": SOURCE, "row_id": f"p{i}"}))
        store.upsert_nodes("Record", nodes)
        store.upsert_relationships("DESCRIBES", "Record", "Person", rels)
    return len(persons)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.process_time() - c, time.perf_counter() - w


def _queries(n: int) -> Iterator[tuple[str, str, str, str | None, str]]:
    for t, (first, last, birth, pid) in enumerate(targets(n)):
        y, m, d = birth.split("-")
        names = "common name" if t % 2 else "rare name"
        yield f"{names}, birth date", last, first, f"{d}-{m}-{y}", pid
        yield f"{names}, day and month swapped", last, first, f"{m}-{d}-{y}", pid
        yield f"{names}, no birth date", last, first, None, pid


def _old_find(commit: str) -> Callable[..., Any]:
    """``find_person`` as it was at ``commit`` (its module taken from git, imported on its own)."""
    import importlib.util
    import subprocess
    import tempfile

    text = subprocess.run(
        ["git", "show", f"{commit}:netanalysis/find.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_find.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("old_find", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_find"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.find_person  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> None:
    import netanalysis as na

    store = _open(args.store)
    print(
        f"store {args.store}: {store.counts().get('Person', 0)} persons; load {os.getloadavg()}", flush=True
    )
    ways: list[tuple[str, Callable[..., Any]]] = [("new", na.find_person)]
    if args.old:
        ways.append(("old", _old_find(args.old_from)))
    queries = list(_queries(args.targets))
    answers: dict[str, list[list[dict[str, Any]]]] = {}
    for way, fn in ways:
        cpu: dict[str, list[float]] = {}
        wall: dict[str, list[float]] = {}
        found: dict[str, int] = {}
        for kind, first, last, birth, pid in queries:
            matches, c, w = _timed(lambda: fn(store, KEY, first, last, birth))  # noqa: B023
            cpu.setdefault(kind, []).append(c)
            wall.setdefault(kind, []).append(w)
            found[kind] = found.get(kind, 0) + any(m.person_id == pid for m in matches)
            answers.setdefault(way, []).append([m.to_dict() for m in matches])
        for kind in cpu:
            print(
                f"find {way}, {kind}: CPU s per query median {statistics.median(cpu[kind]):.3f} "
                f"max {max(cpu[kind]):.3f}; wall median {statistics.median(wall[kind]):.3f}; "
                f"found {found[kind]}/{len(cpu[kind])}",
                flush=True,
            )
    if args.old:
        same = sum(a == b for a, b in zip(answers["new"], answers["old"], strict=True))
        print(f"find new and old list the same matches for {same}/{len(queries)} queries", flush=True)
    pairs = json.loads(_pairs_file(args).read_text())
    for name, pair in pairs.items():
        result, c, w = _timed(lambda: na.connecting_network(store, pair, max_hops=4))  # noqa: B023
        print(
            f"connect new, {name}: {c:.2f} CPU s, {w:.2f} s wall; {len(result.paths)} paths, "
            f"{result.network.number_of_nodes()} nodes",
            flush=True,
        )
    if args.whole_graph:
        graph, c, w = _timed(lambda: na.read_analysis_graph(store))
        print(f"whole graph read: {c:.1f} CPU s, {w:.1f} s wall", flush=True)
        for name, pair in pairs.items():
            result, c2, w2 = _timed(lambda: na.connecting_network(graph, pair, max_hops=4))  # noqa: B023
            print(
                f"connect old, {name}: {c + c2:.2f} CPU s, {w + w2:.2f} s wall (read included); "
                f"{len(result.paths)} paths",
                flush=True,
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB; load {os.getloadavg()}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("build", "run"))
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--store", required=True, help="embedded file or neo4j:// URI")
    parser.add_argument("--pairs", help="where the connect pairs are kept (default STORE.pairs.json)")
    parser.add_argument("--old", action="store_true", help="also time the previous way, side by side")
    parser.add_argument("--whole-graph", action="store_true", help="also connect the old way")
    parser.add_argument("--old-from", default="69cad3a", help="the commit whose find is the old way")
    parser.add_argument(
        "--bulk-home", help="build: import into the empty database of the toolkit's server in this home"
    )
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()
    build(args) if args.what == "build" else run(args)


if __name__ == "__main__":
    main()
