"""The write side of an initial import: rows become ``neo4j-admin database import`` CSV files.

``BulkImportWriter`` takes the same ``upsert_nodes``/``upsert_relationships`` calls as every store
and gives them the same meaning as the Neo4j MERGE path (``graphstore.neo4j_store``), so that the
imported graph is identical to an online load of the same rows:

* a node is identified by (label, key); a later row's properties are added over the earlier ones
  (``SET n += props``; absent and ``None`` values never erase a stored value);
* a relationship is identified by (type, start, end, rel_key), a later row merged over the earlier;
* an endpoint never given as a node row becomes a node with only its key (MERGE creates it);
* values are normalised by ``graphstore.props`` exactly as in the other backends.

Reads (``read_graph``, ``counts``) go to the live store, which must be empty: an initial import
replaces the whole database.

Files
    One CSV per label (per relationship type and endpoint labels) and property *signature* (the
    property names and their types), so every column of a file holds a value in every row: an
    empty cell never has to mean "absent". Headers name the id space of each label
    (``person_id:ID(Person)``, ``:START_ID(Person)``, ``:END_ID(Premises)``) and the type of each
    column (``birth_year:long``, ``roles:string[]``). Array elements are separated by U+001F, which
    no value may contain; files with a value that spans lines are listed for ``--multiline-fields``.

Memory
    Nodes are merged in memory (about 0.5 kB each). Relationships go straight to disk; only an
    8-byte hash per relationship is kept (in a compact array), and at ``finish`` the rows whose
    hash occurs more than once are read back, compared by their full identity and merged in order.

Empty lists
    The CSV format cannot tell an empty list from an absent value. A node property that is an
    empty list (the roles of a person known only from a register) is written as a marker
    property ``_empty_list_<name> = true`` instead; ``ImportFiles.empty_lists`` names them and
    ``Neo4jStore.restore_empty_lists`` turns each marker back into the empty list after the import.

Limits
    Lists that hold one empty string, and empty lists on relationships, cannot be told from an
    absent value in the CSV format and are refused, as are property names outside
    ``[A-Za-z_][A-Za-z0-9_]*``; load such data without the initial import.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from array import array
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import networkx as nx

from graphstore.base import (
    GraphSlice,
    GraphStore,
    PersonMerge,
    PersonSplit,
    Props,
    ProvenanceRows,
    RelRow,
    RowProgress,
)
from graphstore.erasure import ErasurePlan
from graphstore.loads import LoadRecord
from graphstore.props import prepare_node, prepare_rel
from graphstore.schema import GraphSchema, load_schema
from netanalysis.errors import ConfigError, StoreError

__all__ = ["ARRAY_DELIMITER", "BulkImportWriter", "ImportFiles", "column_type", "encode_value"]

#: Between array elements in the CSV files (``--array-delimiter``); refused inside any value.
ARRAY_DELIMITER = "\x1f"

_TYPES: dict[type, str] = {bool: "boolean", int: "long", float: "double", str: "string"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Signature = tuple[tuple[str, str], ...]
"""Property names (sorted) with their column types, e.g. (("birth_year", "long"), ...)."""

RelCombo = tuple[str, str, str]


@dataclass(frozen=True)
class ImportFiles:
    """The CSV files of one ``neo4j-admin database import full`` run.

    nodes, relationships
        ``(label or type, file)`` pairs; every file starts with its own header line.
    array_delimiter
        The character between array elements (``--array-delimiter``).
    multiline
        The files with values that span lines (``--multiline-fields``, only those files).
    report_file
        Where the import tool reports bad entries; it must stay empty.
    node_counts, rel_counts
        Distinct nodes per label and relationships per type in the files: what the imported
        database must count.
    empty_lists
        ``(label, property, marker)``: node properties that were empty lists, written as the
        boolean marker property; restore them after the import (``Neo4jStore.restore_empty_lists``).
    """

    nodes: tuple[tuple[str, Path], ...]
    relationships: tuple[tuple[str, Path], ...]
    array_delimiter: str
    multiline: tuple[Path, ...]
    report_file: Path
    node_counts: dict[str, int] = field(default_factory=dict)
    rel_counts: dict[str, int] = field(default_factory=dict)
    empty_lists: tuple[tuple[str, str, str], ...] = ()


#: The marker property that stands for an empty list ``name`` in the import files.
EMPTY_LIST_MARKER = "_empty_list_{}"


def column_type(value: Any, where: str) -> str:
    """The import header type of a stored value: ``long``, ``double``, ``boolean``, ``string`` or
    one of those with ``[]`` for a list. Raises StoreError for a list the CSV cannot carry."""
    if isinstance(value, list):
        if not value or value == [""]:
            raise StoreError(
                f"cannot bulk-import {where}: an empty list (or a list of one empty string) reads "
                "back as an absent value after neo4j-admin import; load without --initial-import"
            )
        return _TYPES[type(value[0])] + "[]"
    return _TYPES[type(value)]


def _scalar_text(value: Any, where: str) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)  # the shortest text that parses back to the same double
    text = str(value)
    if ARRAY_DELIMITER in text:
        raise StoreError(
            f"cannot bulk-import {where}: a value contains the control character U+001F, which "
            "separates list elements in the import files; load without --initial-import"
        )
    return text


def encode_value(value: Any, where: str) -> str:
    """The CSV cell text of a stored value (lists joined by ``ARRAY_DELIMITER``)."""
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(_scalar_text(item, where) for item in value)
    return _scalar_text(value, where)


def _decode(text: str, kind: str) -> Any:
    if kind.endswith("[]"):
        return [_decode(item, kind[:-2]) for item in text.split(ARRAY_DELIMITER)]
    if kind == "long":
        return int(text)
    if kind == "double":
        return float(text)
    if kind == "boolean":
        return text == "true"
    return text


def _encode_row(
    props: Mapping[str, Any], skip: str, where: str, sorted_names: dict[tuple[str, ...], tuple[str, ...]]
) -> tuple[Signature, list[str], bool]:
    """The signature of a row, its cells in signature order, and whether a cell spans lines.

    ``sorted_names`` caches the sorted property names per ``skip`` and key order (rows of one kind
    come with their keys in the same order), so most rows cost one lookup for their column order.
    """
    keys = (skip, *props)
    names = sorted_names.get(keys)
    if names is None:
        names = sorted_names[keys] = tuple(n for n in sorted(props) if n != skip)
    sig = []
    cells = []
    multiline = False
    for name in names:
        value = props[name]
        if type(value) is str:
            if ARRAY_DELIMITER in value:
                _scalar_text(value, f"property {name!r} of {where}")  # raises, naming the property
            if "\n" in value or "\r" in value:
                multiline = True
            cells.append(value)
            sig.append((name, "string"))
            continue
        kind = column_type(value, f"property {name!r} of {where}")
        text = encode_value(value, f"property {name!r} of {where}")
        if kind == "string[]" and ("\n" in text or "\r" in text):
            multiline = True
        cells.append(text)
        sig.append((name, kind))
    return tuple(sig), cells, multiline


def _check_names(sig: Signature, where: str) -> None:
    """Refuse property names a CSV header cannot carry (checked once per signature)."""
    for name, _kind in sig:
        if not _NAME.match(name):
            raise StoreError(
                f"cannot bulk-import {where}: property name {name!r} is not a plain identifier "
                "(letters, digits, underscore); load without --initial-import"
            )


class _SpoolFile:
    """One CSV file being written: a header, then rows in arrival order."""

    def __init__(self, path: Path, header: list[str], signature: Signature) -> None:
        self.path = path
        self.header = header
        self.signature = signature
        self.rows = 0
        self.multiline = False
        self._handle: IO[str] | None = open(path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        self._csv.writerow(header)

    def write(self, cells: list[str], multiline: bool) -> None:
        self.multiline = self.multiline or multiline
        self._csv.writerow(cells)
        self.rows += 1

    def reopen(self) -> None:
        """Append again after ``close`` (merged rows go after the others)."""
        self._handle = open(self.path, "a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class BulkImportWriter:
    """A graph store whose writes become import files; reads go to the live, empty store.

    Parameters
    ----------
    live
        The store the import will replace (a ``Neo4jStore`` of the toolkit's own server). It must
        be empty; its ``uri`` is this writer's ``uri``.
    workdir
        A new or empty folder for the CSV files (they hold pseudonyms only, no clear values).
    schema
        The graph model; default the project's graph_schema.cypher.

    Example
    -------
    >>> writer = BulkImportWriter(live_store, "/data/import/run1")        # doctest: +SKIP
    >>> loaders.pipeline.load(paths, writer, mapping, key, rejects_path=r)  # doctest: +SKIP
    >>> files = writer.finish()                                           # doctest: +SKIP
    """

    def __init__(
        self,
        live: GraphStore,
        workdir: str | os.PathLike[str],
        schema: GraphSchema | None = None,
        check_empty: bool = True,
    ) -> None:
        self.live = live
        self.uri = live.uri
        self.schema = schema or load_schema()
        self.workdir = Path(workdir)
        if self.workdir.exists() and any(self.workdir.iterdir()):
            raise ConfigError(f"the import folder {self.workdir} is not empty; give a new or empty folder")
        if "," in str(self.workdir.resolve()):
            raise ConfigError(
                f"the import folder {self.workdir} has a comma in its path, which neo4j-admin reads "
                "as a list separator; choose another folder"
            )
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if check_empty and any(n > 0 for n in live.counts().values()):
            raise ConfigError(
                f"the database at {live.uri} is not empty: --initial-import only loads into an empty "
                "database of the toolkit's own server; load without it to merge into existing data"
            )
        self._nodes: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._endpoints: dict[str, set[str]] = defaultdict(set)
        self._empty_lists: set[tuple[str, str, str]] = set()
        self._rel_files: dict[RelCombo, dict[Signature, int]] = defaultdict(dict)
        self._spools: dict[RelCombo, list[_SpoolFile]] = defaultdict(list)
        self._hashes: dict[RelCombo, array[int]] = defaultdict(lambda: array("q"))
        self._file_of: dict[RelCombo, array[int]] = defaultdict(lambda: array("H"))
        self._finished: ImportFiles | None = None
        self._sorted_names: dict[tuple[str, ...], tuple[str, ...]] = {}

    # -- the write half of the store protocol --------------------------------------------------

    def apply_schema(self) -> None:
        """Nothing to do here: the import replaces the database, schema included; the caller
        applies the schema to the imported database (``Neo4jStore.apply_schema``)."""

    def begin_load(self, batch: str, wait: float = 0.0) -> None:
        """Nothing to lock: the server is the import's alone (its database must be empty); the
        initial import records the load in the imported database once it is complete."""

    def end_load(self, batch: str, completed: bool = True) -> None:
        """See ``begin_load``."""

    def last_load(self) -> LoadRecord | None:
        """None: the import files hold no earlier load."""
        return None

    def upsert_nodes(self, label: str, rows: Iterable[Props], batch_size: int = 5000) -> int:
        """Merge node rows by key into memory (``SET n += props``); returns rows taken."""
        self._open()
        key_prop = self.schema.key_of(label)
        nodes = self._nodes[label]
        written = 0
        for row in rows:
            key, props = prepare_node(label, key_prop, row)
            old = nodes.get(key)
            if old is None:
                nodes[key] = props
            else:
                old.update(props)
            written += 1
        return written

    def upsert_relationships(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        rows: Iterable[RelRow],
        batch_size: int = 5000,
    ) -> int:
        """Write relationship rows to the import files; repeats are merged at ``finish``."""
        self._open()
        self.schema.check_rel(rel_type, start_label, end_label)
        combo = (rel_type, start_label, end_label)
        files = self._rel_files[combo]
        spools = self._spools[combo]
        hashes, file_of = self._hashes[combo], self._file_of[combo]
        starts, ends = self._nodes[start_label], self._nodes[end_label]
        start_only, end_only = self._endpoints[start_label], self._endpoints[end_label]
        where = f"relationship {rel_type}"
        names = self._sorted_names
        written = 0
        for row in rows:
            start, end, rel_key, props = prepare_rel(rel_type, row)
            sig, cells, multiline = _encode_row(props, "", where, names)
            index = files.get(sig)
            if index is None:
                index = self._new_rel_file(combo, sig)
            spools[index].write([start, end, *cells], multiline)
            # Python's hash is enough to find candidates; repeats are confirmed by full identity.
            hashes.append(hash((start, end, rel_key)))
            file_of.append(index)
            if start not in starts:
                start_only.add(start)
            if end not in ends:
                end_only.add(end)
            written += 1
        return written

    # -- the read half goes to the live store --------------------------------------------------

    def read_graph(
        self, graph_slice: GraphSlice | None = None, progress: RowProgress | None = None
    ) -> nx.MultiDiGraph:
        """The live store's graph (empty: this load's rows are not in it until the import)."""
        return self.live.read_graph(graph_slice, progress)

    def read_evidence_graph(self, graph_slice: GraphSlice | None = None) -> nx.MultiDiGraph:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.read_evidence_graph(graph_slice)

    def read_around(
        self,
        graph_slice: GraphSlice,
        seeds: Mapping[str, Collection[str]],
        rel_types: Collection[str] | None = None,
    ) -> nx.MultiDiGraph:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.read_around(graph_slice, seeds, rel_types)

    def busy_ends(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        min_starts: int,
        observed_from: str | None = None,
        observed_to: str | None = None,
    ) -> list[str]:
        """The live store's (none, as for ``read_graph``)."""
        return self.live.busy_ends(rel_type, start_label, end_label, min_starts, observed_from, observed_to)

    def provenance_rows(
        self,
        labels: frozenset[str],
        observed_from: str | None = None,
        observed_to: str | None = None,
        progress: RowProgress | None = None,
    ) -> ProvenanceRows:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.provenance_rows(labels, observed_from, observed_to, progress)

    def person_records(
        self,
        *,
        blocks: Sequence[str] = (),
        persons: Sequence[str] = (),
        records: Sequence[str] = (),
    ) -> list[tuple[str, str, str | None]]:
        """None: an initial import goes into an empty store (its indexes are made after it)."""
        return []

    def persons_in_blocks(self, blocks: Sequence[str]) -> list[str]:
        """None: an initial import goes into an empty store."""
        return []

    def block_sizes(self, blocks: Sequence[str]) -> dict[str, int]:
        """None: an initial import goes into an empty store."""
        return {}

    def counts(self) -> dict[str, int]:
        """The live store's counts."""
        return self.live.counts()

    def node_properties(
        self, label: str, properties: Sequence[str], progress: RowProgress | None = None
    ) -> list[tuple[Any, ...]]:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.node_properties(label, properties, progress)

    def distinct_values(self, label: str, prop: str) -> list[str]:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.distinct_values(label, prop)

    def observation_days(
        self, label: str, keys: Sequence[str], end_labels: Collection[str]
    ) -> list[tuple[str, str]]:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.observation_days(label, keys, end_labels)

    def fact_rows(
        self,
        rel_type: str,
        start_label: str,
        end_label: str,
        *,
        start_keys: Sequence[str] | None = None,
        end_keys: Sequence[str] | None = None,
        rel_properties: Sequence[str] = (),
        start_properties: Sequence[str] = (),
        end_properties: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """The live store's (empty, as for ``read_graph``)."""
        return self.live.fact_rows(
            rel_type, start_label, end_label, start_keys=start_keys, end_keys=end_keys,
            rel_properties=rel_properties, start_properties=start_properties, end_properties=end_properties,
        )  # fmt: skip

    def delete_by_source(self, source: str) -> int:
        raise StoreError("an initial import only adds data; delete after the import, from the server")

    def delete_observed_before(self, date: str) -> int:
        raise StoreError("an initial import only adds data; delete after the import, from the server")

    def merge_persons(self, merges: Sequence[PersonMerge]) -> int:
        """Nothing to merge: the store is empty, so a load finds no earlier persons to join."""
        if merges:
            raise StoreError("an initial import only adds data; it has no earlier persons to merge")
        return 0

    def split_persons(self, splits: Sequence[PersonSplit]) -> int:
        """Nothing to split: the store is empty, so a load reaches no earlier persons."""
        if splits:
            raise StoreError("an initial import only adds data; it has no earlier persons to split")
        return 0

    def apply_erasure(self, plan: ErasurePlan, batch_size: int = 5000) -> None:
        raise StoreError("an initial import only adds data; erase after the import, from the server")

    def compact(self) -> str:
        raise StoreError("an initial import only adds data; compact after the import, from the server")

    def close(self) -> None:
        """Close open files (the live store is the caller's to close)."""
        for spools in self._spools.values():
            for spool in spools:
                spool.close()

    # -- files ---------------------------------------------------------------------------------

    def _open(self) -> None:
        if self._finished is not None:
            raise StoreError("this bulk import writer is finished; make a new one for another load")

    def _new_rel_file(self, combo: RelCombo, sig: Signature) -> int:
        index = len(self._spools[combo])
        if index > 0xFFFF:
            raise StoreError(f"too many property combinations for {combo[0]} relationships to bulk-import")
        rel_type, start_label, end_label = combo
        _check_names(sig, f"relationship {rel_type}")
        path = self.workdir / f"rel-{rel_type}-{start_label}-{end_label}-{index}.csv"
        header = [f":START_ID({start_label})", f":END_ID({end_label})", *(f"{n}:{t}" for n, t in sig)]
        self._spools[combo].append(_SpoolFile(path, header, sig))
        self._rel_files[combo][sig] = index
        return index

    def finish(self) -> ImportFiles:
        """Merge repeated relationships, write the node files and return what to import.

        Returns
        -------
        ImportFiles
            Node and relationship files with their labels and types, the files that need
            ``--multiline-fields``, and the expected counts per label and type.
        """
        if self._finished is not None:
            return self._finished
        self.close()
        rel_counts: dict[str, int] = defaultdict(int)
        for combo in list(self._spools):
            rel_counts[combo[0]] += self._merge_repeats(combo)
        for label, keys in self._endpoints.items():
            key_prop = self.schema.key_of(label)
            nodes = self._nodes[label]
            for key in keys:
                if key not in nodes:
                    nodes[key] = {key_prop: key}
        self._endpoints.clear()
        node_files: list[tuple[str, Path]] = []
        multiline: list[Path] = []
        node_counts: dict[str, int] = {}
        for label in sorted(self._nodes):
            node_counts[label] = len(self._nodes[label])
            for spool in self._write_nodes(label):
                node_files.append((label, spool.path))
                if spool.multiline:
                    multiline.append(spool.path)
        rel_files: list[tuple[str, Path]] = []
        for combo in sorted(self._spools):
            for spool in self._spools[combo]:
                if spool.rows:
                    rel_files.append((combo[0], spool.path))
                    if spool.multiline:
                        multiline.append(spool.path)
                else:
                    spool.path.unlink(missing_ok=True)
        self._finished = ImportFiles(
            empty_lists=tuple(sorted(self._empty_lists)),
            nodes=tuple(node_files),
            relationships=tuple(rel_files),
            array_delimiter=ARRAY_DELIMITER,
            multiline=tuple(multiline),
            report_file=self.workdir / "import.report",
            node_counts=node_counts,
            rel_counts=dict(sorted(rel_counts.items())),
        )
        return self._finished

    def remove_files(self) -> None:
        """Delete the import folder and everything in it."""
        self.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _write_nodes(self, label: str) -> list[_SpoolFile]:
        key_prop = self.schema.key_of(label)
        by_sig: dict[Signature, _SpoolFile] = {}
        for key, props in self._nodes.pop(label).items():
            if any(type(v) is list and not v for v in props.values()):
                props = self._mark_empty_lists(label, props)
            sig, cells, multiline = _encode_row(props, key_prop, label, self._sorted_names)
            spool = by_sig.get(sig)
            if spool is None:
                _check_names(sig, label)
                path = self.workdir / f"node-{label}-{len(by_sig)}.csv"
                header = [f"{key_prop}:ID({label})", *(f"{n}:{t}" for n, t in sig)]
                spool = by_sig[sig] = _SpoolFile(path, header, sig)
            spool.write([key, *cells], multiline)
        for spool in by_sig.values():
            spool.close()
        self._nodes[label] = {}  # keep the label known; the rows are in the files now
        return list(by_sig.values())

    def _mark_empty_lists(self, label: str, props: dict[str, Any]) -> dict[str, Any]:
        """``props`` with each empty list replaced by its marker (``EMPTY_LIST_MARKER``)."""
        out: dict[str, Any] = {}
        for name, value in props.items():
            if type(value) is list and not value:
                marker = EMPTY_LIST_MARKER.format(name)
                self._empty_lists.add((label, name, marker))
                out[marker] = True
            else:
                out[name] = value
        return out

    def _merge_repeats(self, combo: RelCombo) -> int:
        """Merge the rows of ``combo`` that repeat a (start, end, rel_key); returns the number of
        distinct relationships left in its files."""
        import numpy as np

        hashes = np.frombuffer(self._hashes.pop(combo), dtype=np.int64)
        file_of = np.frombuffer(self._file_of.pop(combo), dtype=np.uint16)
        total = len(hashes)
        values, counts = np.unique(hashes, return_counts=True)
        suspects = values[counts > 1]
        if not len(suspects):
            return total
        suspect = np.isin(hashes, suspects)
        spools = self._spools[combo]
        found: list[tuple[int, tuple[str, str, str], dict[str, Any]]] = []
        for index in sorted({int(i) for i in file_of[suspect]}):
            positions = np.flatnonzero(file_of == index)
            found.extend(self._take_rows(spools[index], positions, suspect[positions]))
        merged: dict[tuple[str, str, str], dict[str, Any]] = {}
        for _seq, ident, props in sorted(found, key=lambda item: item[0]):
            merged.setdefault(ident, {}).update(props)
        for spool in spools:
            spool.reopen()
        where = f"relationship {combo[0]}"
        for (start, end, _rel_key), props in merged.items():
            sig, cells, multiline = _encode_row(props, "", where, self._sorted_names)
            target = self._rel_files[combo].get(sig)
            if target is None:
                target = self._new_rel_file(combo, sig)
            spools[target].write([start, end, *cells], multiline)
        for spool in spools:
            spool.close()
        return total - len(found) + len(merged)

    def _take_rows(
        self, spool: _SpoolFile, positions: Any, take: Any
    ) -> Iterator[tuple[int, tuple[str, str, str], dict[str, Any]]]:
        """Rewrite ``spool`` without the rows flagged in ``take``; yield those rows as
        ``(arrival position, identity, props)``."""
        names = [n for n, _t in spool.signature]
        kinds = [t for _n, t in spool.signature]
        rel_key_at = names.index("rel_key")
        tmp = spool.path.with_suffix(".tmp")
        taken = []
        with (
            open(spool.path, newline="", encoding="utf-8") as src,
            open(tmp, "w", newline="", encoding="utf-8") as dst,
        ):
            reader = csv.reader(src)
            writer = csv.writer(dst, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerow(next(reader))
            for i, cells in enumerate(reader):
                if not take[i]:
                    writer.writerow(cells)
                    continue
                values = cells[2:]
                props = {n: _decode(v, k) for n, k, v in zip(names, kinds, values, strict=True)}
                taken.append((int(positions[i]), (cells[0], cells[1], values[rel_key_at]), props))
        os.replace(tmp, spool.path)
        spool.rows -= len(taken)
        return iter(taken)
