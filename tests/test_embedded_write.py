"""The embedded store's write path: the properties' JSON text and the page size of a new file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import graphstore.embedded as embedded
from graphstore.embedded import EmbeddedStore

_SCALARS = st.one_of(
    st.text(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
_VALUES = st.one_of(_SCALARS, st.lists(st.text()), st.lists(st.integers()))
_PROPS = st.dictionaries(st.text(min_size=1), _VALUES)


def test_the_rows_json_comes_from_the_one_shot_encoder() -> None:
    # On the Python versions the project supports the C encoder is there: the fallback would
    # silently give back the slower encoding.
    assert embedded._dumps is not embedded._ENCODER.encode


@given(_PROPS)
def test_the_one_shot_encoder_writes_the_text_of_json_dumps(props: dict[str, object]) -> None:
    expected = json.dumps(props, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert embedded._dumps(props) == expected


def test_a_new_store_has_8_kb_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "new.sqlite") as store:
        store.upsert_nodes("Phone", [{"phone_id": "a"}])
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("CREATE TABLE t (x)")  # a file with content keeps its page size
    conn.close()
    with EmbeddedStore(old) as store:
        store.upsert_nodes("Phone", [{"phone_id": "a"}])
        assert store.counts()["Phone"] == 1
    files = (tmp_path / "new.sqlite", old)
    sizes = [sqlite3.connect(p).execute("PRAGMA page_size").fetchone()[0] for p in files]
    assert sizes == [8192, 4096]
