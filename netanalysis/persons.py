"""Which person each loaded record describes, read from the store without running detection.

``record_persons(store)`` reads only the ``(Record)-[:DESCRIBES]->(Person)`` relationships: the
record's source and row id (where it came from), the person's pseudonym and how entity resolution
matched them. No clear value is in the store, so none can reach the table. It is what a user who
only wants the resolution needs (``netanalysis persons``): detection reads and projects the whole
graph, which takes many gigabytes at a million rows; this reads two labels and one relationship.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphstore.base import GraphSlice
from netanalysis.audit import audited

if TYPE_CHECKING:
    import pandas as pd

    from graphstore import GraphStore

__all__ = ["RECORD_PERSON_COLUMNS", "record_persons"]

#: The columns of :func:`record_persons` (and of ``netanalysis persons --out``).
RECORD_PERSON_COLUMNS: tuple[str, ...] = ("source", "row_id", "person_id", "match", "score")


def _count(proc: Any, frame: Any, arguments: Any) -> None:
    proc.count("records_out", len(frame))
    proc.count("persons_out", int(frame["person_id"].nunique()) if len(frame) else 0)


@audited("persons", store="store", after=_count)
def record_persons(store: GraphStore) -> pd.DataFrame:
    """Record -> person: one row per loaded record that describes a person.

    Parameters
    ----------
    store : GraphStore
        An open store (``na.open_store``); it is only read.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, row_id, person_id, match, score`` (``RECORD_PERSON_COLUMNS``), sorted by
        source and row id: the source row, the pseudonym of the person it describes, and how
        entity resolution matched it (``exact`` or ``probabilistic`` with the pair's match
        probability). Only what the store holds: no name, date or other clear value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from graphstore import open_store
    >>> store = open_store(str(pathlib.Path(tempfile.mkdtemp()) / "g.db"))
    >>> store.apply_schema()
    >>> record_persons(store).columns.tolist()
    ['source', 'row_id', 'person_id', 'match', 'score']
    >>> store.close()
    """
    import pandas as pd

    graph = store.read_graph(
        GraphSlice(labels=frozenset({"Record", "Person"}), rel_types=frozenset({"DESCRIBES"}))
    )
    rows = []
    for u, v, data in graph.edges(data=True):
        if data.get("type") != "DESCRIBES":
            continue
        record, person = graph.nodes[u], graph.nodes[v]
        rows.append(
            (
                str(record.get("source") or ""),
                str(record.get("row_id") or ""),
                str(person.get("person_id") or ""),
                str(data.get("match") or ""),
                float(data["score"]) if data.get("score") is not None else None,
            )
        )
    frame = pd.DataFrame(rows, columns=list(RECORD_PERSON_COLUMNS))
    return frame.sort_values(["source", "row_id", "person_id"], kind="stable").reset_index(drop=True)
