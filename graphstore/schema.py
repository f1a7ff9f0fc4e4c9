"""Read the graph model from ``graph_schema.cypher``.

The schema file is data: its ``// @node`` and ``// @rel`` header lines say which labels,
keys and relationship types exist, and its statements are what Neo4j applies. Code asks this
module instead of repeating the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from netanalysis.errors import SchemaError

__all__ = ["GraphSchema", "RelType", "load_schema", "schema_path"]

_NODE = re.compile(r"^//\s*@node\s+(\w+)\s+key=(\w+)")
_REL = re.compile(r"^//\s*@rel\s+(\w+)\s+\(([\w|]+)\)->\(([\w|]+)\)")


@dataclass(frozen=True)
class RelType:
    """A relationship type with the labels allowed at each end.

    ``pairs`` are the (start label, end label) combinations allowed: one ``// @rel`` line allows
    every start with every end, and a type declared on several lines (``AT``) allows the union of
    its lines, so ``(Premises)-[:AT]->(Address)`` does not also allow ``(Premises)-[:AT]->(Premises)``.
    ``start_labels`` and ``end_labels`` are the labels seen at each end over all lines.
    """

    name: str
    start_labels: tuple[str, ...]
    end_labels: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()

    def allows(self, start_label: str, end_label: str) -> bool:
        """Whether ``(start_label)-[:name]->(end_label)`` is in the schema."""
        if self.pairs:
            return (start_label, end_label) in self.pairs
        return start_label in self.start_labels and end_label in self.end_labels


@dataclass(frozen=True)
class GraphSchema:
    """Labels with their key property, relationship types, and the Cypher statements."""

    node_keys: dict[str, str]
    rel_types: dict[str, RelType]
    statements: tuple[str, ...] = field(default=())
    path: Path | None = None

    def key_of(self, label: str) -> str:
        """Return the key property of ``label`` or raise SchemaError."""
        try:
            return self.node_keys[label]
        except KeyError:
            raise SchemaError(
                f"label {label!r} is not in graph_schema.cypher (known: {', '.join(sorted(self.node_keys))})"
            ) from None

    def check_rel(self, rel_type: str, start_label: str, end_label: str) -> RelType:
        """Return the relationship type if it may join these labels, else raise SchemaError."""
        rel = self.rel_types.get(rel_type)
        if rel is None:
            raise SchemaError(
                f"relationship type {rel_type!r} is not in graph_schema.cypher "
                f"(known: {', '.join(sorted(self.rel_types))})"
            )
        if not rel.allows(start_label, end_label):
            raise SchemaError(
                f"graph_schema.cypher does not allow ({start_label})-[:{rel_type}]->({end_label})"
            )
        return rel


def schema_path() -> Path:
    """Locate graph_schema.cypher: shipped inside the package, or at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "graph_schema.cypher", here.parent / "graph_schema.cypher"):
        if candidate.is_file():
            return candidate
    raise SchemaError("graph_schema.cypher not found next to the graphstore package")


def parse_schema(text: str, path: Path | None = None) -> GraphSchema:
    """Parse the schema text into a GraphSchema."""
    node_keys: dict[str, str] = {}
    rels: dict[str, RelType] = {}
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if m := _NODE.match(stripped):
            node_keys[m.group(1)] = m.group(2)
        elif m := _REL.match(stripped):
            rels[m.group(1)] = _add_line(rels.get(m.group(1)), m.group(1), m.group(2), m.group(3))
        elif stripped and not stripped.startswith("//"):
            body.append(line)
    statements = tuple(s.strip() for s in "\n".join(body).split(";") if s.strip())
    for rel in rels.values():
        for label in rel.start_labels + rel.end_labels:
            if label not in node_keys:
                raise SchemaError(f"relationship {rel.name} names unknown label {label}")
    return GraphSchema(node_keys, rels, statements, path)


def _add_line(rel: RelType | None, name: str, starts: str, ends: str) -> RelType:
    """The relationship type with one more ``// @rel`` line of allowed labels."""
    new_starts, new_ends = starts.split("|"), ends.split("|")
    old = rel or RelType(name, (), ())
    pairs = dict.fromkeys([*old.pairs, *((s, e) for s in new_starts for e in new_ends)])
    return RelType(
        name,
        tuple(dict.fromkeys([*old.start_labels, *new_starts])),
        tuple(dict.fromkeys([*old.end_labels, *new_ends])),
        tuple(pairs),
    )


@lru_cache(maxsize=1)
def load_schema() -> GraphSchema:
    """Load and cache the project's graph_schema.cypher."""
    path = schema_path()
    return parse_schema(path.read_text(encoding="utf-8"), path)
