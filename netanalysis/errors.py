"""The toolkit's exceptions.

All errors a user can meet derive from one root, so callers (the CLI, a notebook) can catch
``NetanalysisError`` and show its message: one sentence that says what is wrong and what to do.
Messages name the file, URI or statement that failed, never the personal data in it.

    NetanalysisError
    ├── ConfigError          settings, key files, mapping files that are missing or malformed
    ├── InputFileError       a source file that is not what its mapping says
    ├── SchemaError          a label/type unknown to graph_schema.cypher, or a statement Neo4j rejects
    ├── StoreError           the graph store cannot be reached or a write failed
    │   └── StoreUnavailable the server is unreachable, refused the credentials or went away
    ├── AccessRefused        the purpose given does not allow this command (processing register)
    └── AuditWriteError      the audit log cannot be written, so no output is released
"""

from __future__ import annotations

__all__ = [
    "AccessRefused",
    "AuditWriteError",
    "ConfigError",
    "InputFileError",
    "NetanalysisError",
    "SchemaError",
    "StoreError",
    "StoreUnavailable",
]


class NetanalysisError(Exception):
    """Root of every error the toolkit raises on purpose."""


class ConfigError(NetanalysisError):
    """A setting, key file or mapping file is missing or malformed."""


class InputFileError(NetanalysisError):
    """A source file cannot be read as its mapping describes; the whole file is refused."""


class SchemaError(NetanalysisError):
    """A label or relationship type is not in graph_schema.cypher, or the schema was rejected."""


class StoreError(NetanalysisError):
    """The graph store failed to read or write."""


class StoreUnavailable(StoreError):
    """The graph store cannot be reached (wrong URI, wrong password, server down)."""


class AccessRefused(NetanalysisError):
    """The processing register does not allow this command for this purpose (or knows no such purpose)."""


class AuditWriteError(NetanalysisError):
    """The audit log cannot be written; the command stops and releases no output."""
