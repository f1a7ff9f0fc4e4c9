"""Resolution across loads: link a new delivery's records to the persons already in the store.

The store holds no clear name or birth date, so a later load cannot compare its records with the
earlier ones in clear. Every person-describing Record therefore keeps its **comparison data**: the
keyed, non-reversible encoding of ``loaders.encode`` (the privacy-preserving linkage of issue 9)
in the Record's ``comparison`` property: Bloom filters of the name parts, keyed hashes of the
birth-date views, of the document number, of the phone, plate, IBAN and premises, of the clear
blocking keys and of the keyed identity, plus the birth year, nationality and gender (which the
graph holds anyway). ``docs/loading.md`` says what this reveals to someone with the store but
without the key.

A load then (``links_across_loads``):

1. encodes its own person records with the same key and schema;
2. reads the stored comparison data of the records that share a blocking key with them;
3. resolves the two together with the encoded resolution (``loaders.resolve_encoded``: the
   engine of ``loaders.linkage`` with Dice levels for names) and keeps the accepted pairs of a new
   record with a stored one;
4. re-resolves the stored persons those pairs reach with the new records, by one load's guard
   against chaining, and plans a split of each whose records the guard keeps apart
   (``_reresolve``, ``loaders.splits``);
5. gives each new record the person of its best such pair: ``loaders.resolve.resolve`` takes
   those as ``known``, so the new record's (clear) cluster joins that person.

Step 2 reads the store through an index, so a delivery costs what it finds, not what the store
holds: every person Record keeps its keyed blocking keys (the ``blocks`` of its comparison data,
the same keys the resolution blocks on) also in its own property ``blocks``, which both stores
index (``GraphStore.person_records``). ``stored_candidates`` reads the records that share a key
with this load's, the other records of their persons (the guard against chaining must see them)
and this load's records the store already holds, with their persons' records: exactly the stored
records ``matches_across_loads`` would take from a read of everything (``stored_comparisons``),
so the result is the same (tests/test_block_index.py).

A store loaded before records kept comparison data cannot be linked to; ``check_comparison_data``
refuses a load into such a store with one sentence that says how to migrate (load the earlier
files once more: records get their comparison data when they are written again). A store whose
records have comparison data but no indexed blocking keys (loaded before the index) is migrated
once by the first load into it (``ensure_block_index``): it reads every stored record, writes its
keys and marks each Source node with ``block_index``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from graphstore.base import GraphSlice, GraphStore
from loaders.encode import EncodingSchema, _blocks, _Encoder, _ShortHasher, encode_record
from loaders.hub import _features
from loaders.linkage import (
    DEFAULT_THRESHOLD,
    ESTIMATE_M,
    MAX_BLOCK,
    MatchModel,
    _contradiction_check,
    _join_without_conflicts,
    _UnionFind,
    candidate_pairs,
    fit_m,
    is_exact,
    probability,
    score,
)
from loaders.pseudonymise import Pseudonymiser
from loaders.records import Record
from loaders.resolve import Features, blocking_rules, describes_person
from loaders.resolve_encoded import ENCODED, EncodedFeatures, exported_rules, resolve_encoded
from netanalysis.errors import ConfigError

__all__ = [
    "BLOCK_INDEX_VERSION",
    "COMPARISON_FIELDS",
    "METHOD",
    "METHODS",
    "Matches",
    "PlannedSplit",
    "blocking_keys",
    "ensure_block_index",
    "index_keys_of_names",
    "stored_candidates",
    "StoredMatch",
    "StoredRecords",
    "lookup_keys",
    "check_comparison_data",
    "comparison_value",
    "links_across_loads",
    "matches_across_loads",
    "stored_comparisons",
]

#: The encoded fields a Record keeps for later loads (``loaders.encode.COLUMNS``).
COMPARISON_FIELDS: tuple[str, ...] = (
    "first", "last", "last_core", "birth_year", "birth", "birth_ym", "birth_yd", "birth_md",
    "birth_swap", "birth_week", "nationality", "gender", "document", "phone", "plate", "iban",
    "premises", "blocks", "identity", "document_identity",
)  # fmt: skip

#: How a delivery is resolved against the stored persons (``matches_across_loads``): "whole"
#: resolves the new records with the stored ones read, stored-stored pairs included (its cost
#: grows with the store); "pairs" scores only the pairs that hold a new record (a third cheaper
#: at 100k rows, but 0.3-0.6 points lower ER precision and mostly lower group ARI in the replay of
#: 12 deliveries on held-out seeds: benchmarks/RESULTS.md, "A delivery scores only its own pairs").
METHOD = "whole"
METHODS = ("whole", "pairs")
#: Whether the "pairs" method estimates m by EM on the pairs that hold a new record.
ESTIMATE_M_ACROSS = ESTIMATE_M

SCHEMA = EncodingSchema()
_SCHEMA_TAG = "s"  # the schema id travels with the value: a later schema is not compared with it


class Comparer:
    """Encodes the records of one load with the load's key (caches shared across records)."""

    def __init__(self, p: Pseudonymiser) -> None:
        self._encoder = _Encoder(p, SCHEMA)

    def value(self, record: Record) -> str | None:
        """The ``comparison`` property of a person-describing record (None for other records)."""
        return comparison_value(record, self._encoder)


# The text json.dumps(sort_keys=True, separators=(",", ":")) gives, from one encoder made once.
_COMPARISON_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def comparison_value(record: Record, encoder: _Encoder) -> str | None:
    """The keyed comparison data of ``record`` as compact JSON, or None when it describes no person."""
    if not describes_person(record):
        return None
    row = encode_record(record, encoder)
    data = {name: row[name] for name in COMPARISON_FIELDS if row.get(name)}
    data[_SCHEMA_TAG] = SCHEMA.schema_id
    return _COMPARISON_JSON.encode(data)


#: Written on each Source node (``block_index``) once its records' blocking keys are indexed.
#: Version 2 keeps the undated-only keys of dated records apart (``blocking_keys``).
BLOCK_INDEX_VERSION = 2

_KEY = re.compile(r"^[0-9]+u?:[0-9a-f]+$")
_KEYS = re.compile(r"[0-9]++u?:[0-9a-f]++(?: [0-9]++u?:[0-9a-f]++)*+")


# A comparison value as ``comparison_value`` writes it: a flat object of plain strings without
# quotes or escapes (hex, base64url, digits, keys). Such text is read with a few searches instead
# of ``json.loads`` (blocking_keys 23.5 -> 12 us a value); any other text takes the parser.
_PLAIN_OBJECT = re.compile(r'\{"[a-z_]++":"[0-9A-Za-z_ :-]*+"(?:,"[a-z_]++":"[0-9A-Za-z_ :-]*+")*+\}')


def _field(value: str, tag: str) -> str:
    """The value after ``tag`` (``'"name":"'``) in a ``_PLAIN_OBJECT`` text, "" when absent."""
    # No value holds a quote, so the tag is always a key.
    start = value.find(tag)
    if start < 0:
        return ""
    start += len(tag)
    return value[start : value.index('"', start)]


def _blocks_and_birth(value: str) -> tuple[str, bool]:
    """The ``blocks`` text of a comparison value and whether its ``birth`` is filled."""
    # A repeated key takes the parser, which keeps the last one.
    if _PLAIN_OBJECT.fullmatch(value) and value.count('"blocks":"') < 2 and value.count('"birth":"') < 2:
        return _field(value, '"blocks":"'), bool(_field(value, '"birth":"'))
    try:
        data = json.loads(value)
    except ValueError:
        return "", False
    if not isinstance(data, dict):
        return "", False
    return str(data.get("blocks") or ""), bool(data.get("birth"))


def _keys_and_dated(value: str | None) -> tuple[list[str], bool]:
    """The blocking keys of a comparison value (``"<rule>:<hash>"``) and whether it has a birth date."""
    if not value:
        return [], False
    blocks, dated = _blocks_and_birth(value)
    # One match over the whole text when every key is well formed (as written by this version),
    # instead of one match per key: a load parses every record's keys three times.
    keys = blocks.split(" ") if _KEYS.fullmatch(blocks) else [k for k in blocks.split() if _KEY.match(k)]
    return keys, dated


def _index_key(key: str, dated: bool) -> str:
    rule, _sep, digest = key.partition(":")
    return f"{rule}d:{digest}" if dated and rule.endswith("u") else key


def _index_keys_of(key: str) -> tuple[str, ...]:
    """The index keys under which the stored members of the block ``key`` are found."""
    rule, _sep, digest = key.partition(":")
    return (key, f"{rule}d:{digest}") if rule.endswith("u") else (key,)


def blocking_keys(value: str | None) -> str:
    """The keyed blocking keys of a comparison value, space-separated: the Record's ``blocks``.

    Each key is ``"<rule>:<hash>"`` (``"<rule>u:<hash>"`` for a rule that pairs only records
    without a birth date), as in ``loaders.encode``; anything else is left out. The undated-only
    keys of a record *with* a birth date are indexed apart, as ``"<rule>ud:<hash>"``: a pair of
    two dated records never comes from such a rule (``loaders.linkage.candidate_pairs``), so a
    dated record of a later load looks up only the undated records under those keys, and the
    common names that such rules key on do not make it read every dated namesake.

    >>> blocking_keys('{"blocks":"0:1a2b 6u:ff00","s":"x"}')
    '0:1a2b 6u:ff00'
    >>> blocking_keys('{"birth":"9f","blocks":"0:1a2b 6u:ff00","s":"x"}')
    '0:1a2b 6ud:ff00'
    >>> blocking_keys(None), blocking_keys("not json")
    ('', '')
    """
    if not value:
        return ""
    blocks, dated = _blocks_and_birth(value)
    if _KEYS.fullmatch(blocks):
        # Every key well formed: "u:" follows only a rule's number (a hash is hex).
        return blocks.replace("u:", "ud:") if dated else blocks
    keys, dated = _keys_and_dated(value)
    return " ".join(_index_key(k, dated) for k in keys)


def index_keys_of_names(key: Pseudonymiser, names: Iterable[Features], rules: Collection[str]) -> list[str]:
    """The index keys under which stored records with these name features are found, for the
    blocking rules named ``rules`` only (e.g. ``first_alone``): the keys ``loaders.encode`` gives
    such a record, keyed with ``key``, in every form the index keeps them (``blocking_keys``).

    ``netanalysis.find`` looks persons up by name through this, so its keys are the loader's.

    Raises
    ------
    ValueError
        A rule name that is not one of ``loaders.resolve.blocking_rules()``.
    """
    numbered = blocking_rules()
    wanted = {i for i, (rule, _undated) in enumerate(numbered) if rule.__name__ in rules}
    if len(wanted) != len(set(rules)):
        raise ValueError(f"unknown blocking rules among {sorted(rules)}")
    hasher = _ShortHasher(key)
    found = {
        index_key
        for f in names
        for block in _blocks(hasher, f, numbered).split()
        if int(block.split(":", 1)[0].rstrip("u")) in wanted
        for index_key in _index_keys_of(block)
    }
    return sorted(found)


class StoredRecords(dict[str, tuple[str, str]]):
    """record id -> (person id, comparison value) of stored person records read through the
    index, with ``block_sizes``: index key -> stored records that hold it, for the blocking keys
    of this load (what a read of everything would count)."""

    block_sizes: dict[str, int]


def _load_blocks(
    comparisons: Mapping[str, str], stored: Mapping[str, tuple[str, str]], block_sizes: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, tuple[list[str], bool]]]:
    """The size of each block of this load's records in a load of everything (stored records
    under its key, with this load's records instead of their stored copies), and each record's
    keys and whether it is dated."""
    of_load = {rid: _keys_and_dated(value) for rid, value in comparisons.items()}
    sizes: dict[str, int] = {}
    for keys, _dated in of_load.values():
        for key in keys:
            if key not in sizes:
                sizes[key] = sum(block_sizes.get(k, 0) for k in _index_keys_of(key))
            sizes[key] += 1
    for rid in of_load.keys() & stored.keys():
        for key in _keys_and_dated(stored[rid][1])[0]:
            if key in sizes:
                sizes[key] -= 1
    return sizes, of_load


def lookup_keys(
    comparisons: Mapping[str, str],
    new_ids: Iterable[str],
    stored: Mapping[str, tuple[str, str]],
    block_sizes: Mapping[str, int],
) -> tuple[set[str], set[str]]:
    """The index keys whose stored records this load's new records ``new_ids`` can pair with, and
    the blocking keys of this load that a load of everything skips (``MAX_BLOCK``).

    A block that a load of everything would skip pairs nobody; a key of an undated-only rule pairs
    a dated new record only with the undated stored records under it (``blocking_keys``).
    """
    sizes, of_load = _load_blocks(comparisons, stored, block_sizes)
    oversized = {key for key, size in sizes.items() if size > MAX_BLOCK}
    wanted: set[str] = set()
    for rid in new_ids:
        keys, dated = of_load.get(rid, ([], False))
        for key in keys:
            if key in oversized:
                continue
            wanted.update((key,) if dated else _index_keys_of(key))
    return wanted, oversized


def _count_blocks(stored: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _pid, value in stored.values():
        for key in blocking_keys(value).split():
            counts[key] = counts.get(key, 0) + 1
    return counts


def _decode(value: str, where: str) -> EncodedFeatures | None:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get(_SCHEMA_TAG) != SCHEMA.schema_id:
        return None
    row = {name: str(data.get(name, "")) for name in COMPARISON_FIELDS}
    return _features(row, SCHEMA.bits, where)


def stored_comparisons(
    store: GraphStore,
) -> tuple[dict[str, tuple[str, str]], dict[str, str], set[str]]:
    """What a load needs of the stored person records, from one read of the store.

    Returns
    -------
    (dict, dict, set)
        record id -> (person id, comparison value) of the records that have comparison data;
        record id -> person id of every stored person record (the smallest person id for a
        record that describes several); the ids of the
        records of clear sources without comparison data (loaded by an older version).
    """
    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Record", "Person", "Source"}), rel_types=frozenset({"DESCRIBES"}))
    )
    encoded_sources = {
        str(attrs.get("name"))
        for _n, attrs in graph.nodes(data=True)
        if attrs.get("label") == "Source" and attrs.get("encoding")
    }
    out: dict[str, tuple[str, str]] = {}
    person_of: dict[str, str] = {}
    missing: set[str] = set()
    for u, v, data in graph.edges(data=True):
        if data.get("type") != "DESCRIBES":
            continue
        record = graph.nodes[u]
        rid, pid = record.get("record_id"), graph.nodes[v].get("person_id")
        if not rid or not pid:
            continue
        rid, pid = str(rid), str(pid)
        if rid not in person_of or pid < person_of[rid]:
            person_of[rid] = pid
        value = record.get("comparison")
        if value:
            out[rid] = (person_of[rid], str(value))
        elif str(record.get("source")) not in encoded_sources:
            missing.add(rid)
    return out, person_of, missing


def stored_candidates(
    store: GraphStore, records: Sequence[Record], comparisons: Mapping[str, str]
) -> tuple[StoredRecords, dict[str, str]]:
    """What a load needs of the stored person records, read through the blocking-key index.

    The same two mappings as the first two of ``stored_comparisons``, restricted to the records
    that matter to this load: those with the id of one of ``records``, those that share a
    blocking key with one of this load's new records that can pair them (``lookup_keys``: not a
    block a load of everything skips, not a dated record under an undated-only key of a dated
    one), and every record of the persons these describe (with all the persons each such record
    describes, so that its person is the smallest, as there). ``matches_across_loads`` and
    ``loaders.merges`` give the same result on these as on a read of everything: they only look
    at these records, and the first mapping carries the sizes of this load's blocks in the store.
    """
    rows = store.person_records(records=[r.record_id for r in records])
    mine = {rid: value for rid, _pid, value in rows if value}
    new_ids = [rid for rid in comparisons if rid not in mine]
    keys = {key for value in comparisons.values() for key in _keys_and_dated(value)[0]}
    sizes = store.block_sizes(sorted({k for key in keys for k in _index_keys_of(key)}))
    as_stored = {rid: ("", str(value)) for rid, value in mine.items()}
    wanted, _oversized = lookup_keys(comparisons, new_ids, as_stored, sizes)
    rows = [*rows, *store.person_records(blocks=sorted(wanted))]
    persons = sorted({pid for _rid, pid, _value in rows})
    seen = {rid for rid, _pid, _value in rows}
    more = store.person_records(persons=persons)
    # A record of these persons may describe another one too (left by an older version): read
    # all its persons, to give it the smallest as a read of everything does.
    extra = sorted({rid for rid, _pid, _value in more} - seen)
    rows = [*rows, *more, *store.person_records(records=extra)]
    out = StoredRecords()
    out.block_sizes = sizes
    person_of: dict[str, str] = {}
    values: dict[str, str] = {}
    for rid, pid, value in rows:
        if rid not in person_of or pid < person_of[rid]:
            person_of[rid] = pid
        if value:
            values[rid] = str(value)
    for rid, value in sorted(values.items()):
        out[rid] = (person_of[rid], value)
    return out, person_of


def ensure_block_index(store: GraphStore, this_load: Iterable[str], batch_size: int = 5000) -> int:
    """Index the blocking keys of a store loaded before the index existed, once; refuse a store of
    records without comparison data (``check_comparison_data``) before writing anything.

    A store is indexed when every Source node of a clear source has ``block_index`` (an empty
    store is). Otherwise this reads every stored person record (what every load did before),
    writes the ``blocks`` of those that lack them and marks the Source nodes; a migration cut off
    is simply made again by the next load. Returns the records given their keys.
    """
    graph = store.read_graph(GraphSlice(labels=frozenset({"Source"}), rel_types=frozenset()))
    sources = [attrs for _n, attrs in graph.nodes(data=True) if not attrs.get("encoding")]
    if all(attrs.get("block_index") == BLOCK_INDEX_VERSION for attrs in sources):
        return 0
    _stored, _person_of, missing = stored_comparisons(store)
    check_comparison_data(missing, this_load, store.uri)
    records = store.read_graph(GraphSlice(labels=frozenset({"Record"}), rel_types=frozenset()))
    rows = [
        {"record_id": attrs["record_id"], "blocks": keys}
        for _n, attrs in records.nodes(data=True)
        if attrs.get("record_id")
        and (keys := blocking_keys(attrs.get("comparison")))
        and attrs.get("blocks") != keys
    ]
    del records
    store.upsert_nodes("Record", rows, batch_size)
    store.upsert_nodes(
        "Source", [{"name": a["name"], "block_index": BLOCK_INDEX_VERSION} for a in sources], batch_size
    )
    return len(rows)


def check_comparison_data(missing: set[str], this_load: Iterable[str], store_uri: str) -> None:
    """Refuse a load into a store whose earlier person records lack comparison data, unless this
    load writes all of them again (which migrates the store)."""
    missing_after_load = len(missing - set(this_load))
    if missing_after_load:
        raise ConfigError(
            f"the store at {store_uri} holds {missing_after_load:,} person records loaded by an older "
            "version without the comparison data that links later deliveries to them; load their "
            "source files into it once more (alone or with this delivery) to migrate it"
        )


def links_across_loads(
    records: Sequence[Record],
    comparisons: Mapping[str, str],
    stored: Mapping[str, tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, str]:
    """Person ids of stored records that this load's records describe too: the first of
    ``matches_across_loads`` for each record (see there for the parameters).

    Returns
    -------
    dict
        New record id -> the person of the stored record it matches best (accepted by the encoded
        resolution, highest score, then smallest person id). Records that the store already holds
        under the same id are left out (they keep their person).
    """
    found = matches_across_loads(records, comparisons, stored, threshold)
    return {rid: matches[0].person for rid, matches in found.items()}


class StoredMatch(NamedTuple):
    """A stored person that a new record matches: its id, the best pair's score and stored record."""

    person: str
    score: float
    record: str


def matches_across_loads(
    records: Sequence[Record],
    comparisons: Mapping[str, str],
    stored: Mapping[str, tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    method: str | None = None,
) -> Matches:
    """Every stored person that each of this load's records describes too, best match first.

    A record that matches two or more persons an earlier load kept apart bridges them: the load
    merges them (``loaders.merges``).

    Parameters
    ----------
    records : sequence of Record
        This load's records.
    comparisons : mapping
        record id -> comparison value of this load's person records (``Comparer.value``).
    stored : mapping
        record id -> (person id, comparison value): every stored person record
        (``stored_comparisons``) or those ``stored_candidates`` reads through the index, which
        carry the sizes of this load's blocks in the store (``StoredRecords``).
    threshold : float
        The load's threshold; the resolution across loads demands ``ACROSS_MARGIN`` bits more.
    method : {"whole", "pairs"}, optional
        ``METHOD`` when None. ``"whole"`` resolves this load's records together with the stored
        records read, stored-stored pairs included, as one load of them would (its cost grows with
        the store); ``"pairs"`` scores only the pairs that hold a record of this load, with the
        model estimated on them, and clusters this load's records with the stored persons they
        reach, each taken whole.

    Returns
    -------
    Matches
        New record id -> the persons of the stored records it matches (pairs accepted by the
        encoded resolution, persons it may join: ``_reresolve``, or ``_joins`` for "pairs" or
        without ``SPLIT_REACHED``), highest score first, then smallest person id; the persons
        as they are after the splits, which ``splits`` lists (``loaders.splits`` makes them).
        Records that the store already holds under the same id are left out.
    """
    method = method or METHOD
    threshold += ACROSS_MARGIN
    if method not in METHODS:
        raise ConfigError(f"resolution across loads is one of {', '.join(METHODS)}, not {method!r}")
    new_ids = [r.record_id for r in records if r.record_id in comparisons and r.record_id not in stored]
    if not new_ids or not stored:
        return Matches()
    new_feats = {rid: f for rid in new_ids if (f := _decode(comparisons[rid], rid)) is not None}
    # The blocks of a load of everything: their sizes from the store (read through the index with
    # the records) or, given every stored record, counted here.
    block_sizes = stored.block_sizes if isinstance(stored, StoredRecords) else _count_blocks(stored)
    wanted, oversized = lookup_keys(comparisons, new_feats, stored, block_sizes)
    rules = {key.replace("ud:", "u:", 1) for key in wanted}
    old_feats: dict[str, EncodedFeatures] = {}
    for rid, (_pid, value) in stored.items():
        # Cheap pre-filter on the stored text: only records that share a blocking key are decoded.
        if rid in new_feats or not _shares_block(value, rules):
            continue
        f = _decode(value, rid)
        # Its index keys (``blocking_keys``), from the decoded value rather than parsed again.
        if f is not None and not wanted.isdisjoint(_index_key(k, bool(f.birth)) for k in f.blocks):
            old_feats[rid] = f
    if not old_feats:
        return Matches()
    # The other records of those persons take part too, so that the guard against chaining sees
    # them as one load would: an undated record must not bridge two persons whose birth dates
    # differ only because the second arrives in a later delivery.
    persons = {stored[rid][0] for rid in old_feats}
    for rid, (pid, value) in stored.items():
        if pid in persons and rid not in old_feats and rid not in new_feats:
            f = _decode(value, rid)
            if f is not None:
                old_feats[rid] = f
    if oversized:
        # A block that a load of everything skips pairs nobody here either.
        for group in (new_feats, old_feats):
            for rid, f in group.items():
                if not oversized.isdisjoint(f.blocks):
                    group[rid] = f._replace(blocks=tuple(k for k in f.blocks if k not in oversized))
    records_of: dict[str, set[str]] = {}
    for rid in old_feats:
        records_of.setdefault(stored[rid][0], set()).add(rid)
    if method == "whole":
        cluster_of, pairs = _resolve_whole(new_feats, old_feats, threshold)
    else:
        cluster_of, pairs = _resolve_new_pairs(new_feats, old_feats, stored, records_of, threshold)
    found = Matches()
    person_after: dict[str, str] = {}
    if method == "whole" and SPLIT_REACHED:
        group_of, found.splits = _reresolve(new_feats, old_feats, stored, records_of, pairs)
        person_after = {rid: split.into for split in found.splits for rid in split.records}
    best: dict[str, dict[str, tuple[float, str]]] = {}
    for a, b, pair_score in pairs:
        for x, y in ((a, b), (b, a)):
            if x not in new_feats or y not in old_feats:
                continue
            if method == "whole" and SPLIT_REACHED:
                # The person of ``y`` after the splits lies whole in one group of the
                # re-resolution, which holds no contradicting pair.
                person = person_after.get(y, stored[y][0])
                joins = group_of.get(x) == group_of.get(y)
            else:
                # Only a person the guard left whole: when the new record contradicts some of
                # the person's records (they end up in another cluster), it does not join the rest.
                person = stored[y][0]
                joins = _joins(x, y, records_of[person], cluster_of, new_feats, old_feats)
            if joins:
                candidate = (-pair_score, y)
                of_record = best.setdefault(x, {})
                if person not in of_record or candidate < of_record[person]:
                    of_record[person] = candidate
    for rid, of_person in sorted(best.items()):
        found[rid] = sorted(
            (StoredMatch(person, -neg, record) for person, (neg, record) in of_person.items()),
            key=lambda m: (-m.score, m.person),
        )
    return found


class PlannedSplit(NamedTuple):
    """Stored records of ``person`` that leave it for the new person ``into`` (``loaders.splits``):
    the re-resolution of a person a load reached kept them apart from the person's other records
    (``reason``)."""

    person: str
    into: str
    records: tuple[str, ...]
    reason: str


class Matches(dict[str, list[StoredMatch]]):
    """What ``matches_across_loads`` returns: new record id -> the stored persons it matches (after
    the splits), with ``splits``: the stored persons the re-resolution splits (``PlannedSplit``)."""

    def __init__(self) -> None:
        super().__init__()
        self.splits: list[PlannedSplit] = []


#: Whether a load re-resolves the stored persons its records reach (method "whole") with the
#: guard against chaining of one load, and splits a person whose records the guard keeps apart
#: (``loaders.splits``): one load of everything undoes a false link with the records that
#: arrive later, and so does the replay of deliveries then.
SPLIT_REACHED = True
#: Stored persons with more records than this are linked in the re-resolution by a chain of
#: their records (in the order of their ids) rather than by every pair of them.
_ALL_PAIRS_UP_TO = 30


def split_person_id(person: str, first_record: str) -> str:
    """The id of the person split off ``person`` whose smallest record id is ``first_record``: a
    hash of the (keyed) person id and the record id, the same in every load that makes it.

    >>> len(split_person_id("ab" * 16, "politie_zaken:7"))
    32
    """
    return hashlib.sha256(f"split {person} {first_record}".encode()).hexdigest()[:32]


def _reresolve(
    new_feats: Mapping[str, EncodedFeatures],
    old_feats: Mapping[str, EncodedFeatures],
    stored: Mapping[str, tuple[str, str]],
    records_of: Mapping[str, set[str]],
    pairs: Sequence[tuple[str, str, float]],
) -> tuple[dict[str, int], list[PlannedSplit]]:
    """Re-resolve the stored persons this load reaches with the new records, as one load would.

    The accepted pairs of the encoded resolution are joined strongest first, then the store's
    own links (every pair of records of a stored person, weaker than any scored pair), skipping
    a join that would put two records that contradict each other (``loaders.linkage.score``) in
    one group: the guard of one load (``linkage._join_without_conflicts``). A stored person that
    a new record's accepted pair reaches and whose records end in several groups is split: the
    group with most of its records keeps it (then the one with the smallest record id), each
    other group's records go to a new person (``split_person_id``).

    Returns each record's group (only the records in a group with a new record) and the splits.
    """
    reached = sorted(
        {stored[y][0] for a, b, _s in pairs for x, y in ((a, b), (b, a)) if x in new_feats and y in old_feats}
    )
    if not reached:
        return {}, []
    ids = [*new_feats, *old_feats]
    feats = [*new_feats.values(), *old_feats.values()]
    index = {rid: i for i, rid in enumerate(ids)}
    edges = [(score_, index[a], index[b]) for a, b, score_ in pairs]
    for members in records_of.values():
        ordered = sorted(members)
        linked = (
            itertools.combinations(ordered, 2)
            if len(ordered) <= _ALL_PAIRS_UP_TO
            else itertools.pairwise(ordered)
        )
        edges += [(-1.0, index[a], index[b]) for a, b in linked]
    # Only the components that hold a new record are re-resolved.
    components = _UnionFind(len(ids))
    for _w, i, j in edges:
        components.union(i, j)
    wanted = {components.find(index[rid]) for rid in new_feats}
    members_in = [i for i in range(len(ids)) if components.find(i) in wanted]
    edges = [e for e in edges if components.find(e[1]) in wanted]
    group = _join_without_conflicts(members_in, edges, _contradiction_check(feats, ENCODED), ids)
    group_of = {ids[i]: min(group[i]) for i in members_in}
    splits: list[PlannedSplit] = []
    for person in reached:
        parts: dict[int, list[str]] = {}
        for rid in sorted(records_of.get(person, ())):
            parts.setdefault(group_of[rid], []).append(rid)
        if len(parts) < 2:
            continue
        ordered_parts = sorted(parts.values(), key=lambda part: (-len(part), part[0]))
        for part in ordered_parts[1:]:
            splits.append(
                PlannedSplit(person, split_person_id(person, part[0]), tuple(part), "contradiction")
            )
    return group_of, splits


#: Whether a new record joins a stored person only when the encoded resolution keeps all of the
#: person's records in its cluster (True), or when it shares a cluster with the stored record it
#: matched and contradicts none of the person's records (False). The first refuses most joins
#: to a person that was joined in clear or by a merge, since the encoded resolution splits it
#: again; it cost 2.1 points of ER recall in the replay of 12 deliveries on the tuning seed
#: (benchmarks/RESULTS.md, "Where the replay of deliveries loses quality").
WHOLE_PERSONS_ONLY = False
#: Bits added to the load's threshold for the resolution across loads: one load's guard against
#: chaining would have seen records that the replay has not read yet. 4 bits before the splits
#: (``SPLIT_REACHED``: a later delivery undoes a false link); with them 3 bits, tuned on seed 5
#: only (benchmarks/RESULTS.md, "Splits: a delivery re-resolves the persons it reaches").
ACROSS_MARGIN = 3.0


def _joins(
    x: str,
    y: str,
    members: Collection[str],
    cluster_of: Mapping[str, str],
    new_feats: Mapping[str, EncodedFeatures],
    old_feats: Mapping[str, EncodedFeatures],
) -> bool:
    """Whether new record ``x``, accepted with stored record ``y``, joins the person whose stored
    records read are ``members`` (``WHOLE_PERSONS_ONLY``)."""
    if WHOLE_PERSONS_ONLY:
        return all(cluster_of.get(r) == cluster_of.get(x) for r in members)
    if cluster_of.get(x) != cluster_of.get(y):
        return False
    a = new_feats[x]
    return not any(
        cluster_of.get(r) != cluster_of.get(x)
        and not is_exact(a, old_feats[r])
        and score(a, old_feats[r], ENCODED).contradiction
        for r in members
    )


def _resolve_whole(
    new_feats: Mapping[str, EncodedFeatures], old_feats: Mapping[str, EncodedFeatures], threshold: float
) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    """Method ``"whole"``: the encoded resolution of the new and the stored records together.
    Returns each record's cluster and the accepted pairs (record, record, score) it kept."""
    ids = [*new_feats, *old_feats]
    resolution = resolve_encoded([*new_feats.values(), *old_feats.values()], ids, threshold=threshold)
    cluster_of = {rid: cid for cid, members in resolution.clusters.items() for rid in members}
    return cluster_of, [(p.record_a, p.record_b, p.score) for p in resolution.pairs]


def _resolve_new_pairs(
    new_feats: Mapping[str, EncodedFeatures],
    old_feats: Mapping[str, EncodedFeatures],
    stored: Mapping[str, tuple[str, str]],
    records_of: Mapping[str, set[str]],
    threshold: float,
) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    """Method ``"pairs"``: score only the candidate pairs that hold a new record (new-new and
    new-stored), with u and the term frequencies of the records read and m estimated by EM on
    those pairs; then cluster the new records with the stored persons they reach.

    A stored person enters the clustering whole (its records joined up front, as the store holds
    them) and its records are never compared with each other; a new record that contradicts one
    of its records is kept apart from it by the guard against chaining (``_split_guarded``).
    Returns each record's cluster (an index) and the accepted pairs (record, record, score).
    """
    ids = [*new_feats, *old_feats]
    feats = [*new_feats.values(), *old_feats.values()]
    n, fresh = len(ids), len(new_feats)
    focus = [i < fresh for i in range(n)]
    stats: Counter[str] = Counter()
    weights = MatchModel(feats, ENCODED)
    codes = array("q", (i * n + j for i, j in candidate_pairs(feats, exported_rules(feats), stats, focus)))
    if ESTIMATE_M_ACROSS:
        weights = fit_m(weights, feats, codes, ENCODED, stats)
    accepted: list[tuple[float, int, int]] = []
    for code in codes:
        i, j = divmod(code, n)
        a, b = feats[i], feats[j]
        if is_exact(a, b):
            accepted.append((math.inf, i, j))
            continue
        weight, allowed, _contradiction = score(a, b, ENCODED, weights)
        if allowed and weight >= threshold:
            accepted.append((weight, i, j))
    index = {rid: i for i, rid in enumerate(ids)}
    joined = [
        (math.inf, index[a], index[b])
        for members in records_of.values()
        for a, b in itertools.pairwise(sorted(members))
    ]
    person = [""] * fresh + [stored[rid][0] for rid in old_feats]
    cluster = _split_guarded(person, [*joined, *accepted], feats, weights, ids)
    cluster_of = {rid: str(cluster[i]) for i, rid in enumerate(ids)}
    pairs = [
        (ids[i], ids[j], 1.0 if w == math.inf else round(probability(w), 4))
        for w, i, j in accepted
        if cluster[i] == cluster[j]
    ]
    return cluster_of, pairs


def _split_guarded(
    person: Sequence[str],
    edges: Sequence[tuple[float, int, int]],
    feats: Sequence[EncodedFeatures],
    weights: MatchModel,
    ids: Sequence[str],
) -> list[int]:
    """Clusters of the records: the edges joined strongest first (equal ones in the order of
    their records' ids), skipping an edge that would put two records that contradict each other
    (``loaders.linkage.score``) in one cluster, as ``loaders.linkage.link`` does. ``person`` is
    each record's stored person ("" for a new record): two records of one stored person never
    contradict here (the store keeps them as it holds them), so only the components that hold a
    new record are compared, and in them every pair but those."""
    n = len(person)
    components = _UnionFind(n)
    find = components.find
    for _w, i, j in edges:
        components.union(i, j)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    conflicts: set[tuple[int, int]] = set()
    for group in members.values():
        if len(group) < 3 or person[group[0]]:
            continue  # two records joined by an accepted pair, or a stored person alone
        for x, i in enumerate(group):
            for j in group[x + 1 :]:
                if person[i] and person[i] == person[j]:
                    continue
                a, b = feats[i], feats[j]
                if not is_exact(a, b) and score(a, b, ENCODED, weights).contradiction:
                    conflicts.add((i, j))
    if not conflicts:
        return [find(i) for i in range(n)]
    group_of = _join_without_conflicts(range(n), edges, conflicts, ids)
    return [min(group_of[i]) for i in range(n)]


def _shares_block(value: str, wanted: set[str]) -> bool:
    start = value.find('"blocks":"')
    if start < 0:
        return False
    end = value.find('"', start + 10)
    return any(key in wanted for key in value[start + 10 : end].split())
