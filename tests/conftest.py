"""Shared test fixtures.

The Neo4j server: tests marked ``neo4j`` (and the Neo4j half of the conformance suite) use the
session fixture ``neo4j_server``. It starts the toolkit's own server (``netanalysis.neo4j_server``)
unless ``NEO4J_URI`` points at one; when no server comes up the tests fail, never skip.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_SAMPLES = REPO / "data_samples"
