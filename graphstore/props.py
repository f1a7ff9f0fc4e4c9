"""One normalisation of property maps, shared by every backend.

Neo4j cannot store null, nested maps, mixed-type lists or lists with nulls. So that both backends
read back the same graph, every property map goes through :func:`clean_props` before it is written:

* ``None`` values (and float NaN, the pandas "missing" marker) are dropped: a property is absent,
  never null. A missing value in a later upsert therefore does not erase a value already stored.
* ``datetime.date``/``datetime`` become ISO strings; tuples, sets and frozensets become lists (sets
  sorted, so the stored list does not depend on hash order).
* A list must hold values of one type (bool, int, float or str) without ``None``.
* ``observed_on`` must be an ISO date ``YYYY-MM-DD`` (slicing and retention compare it as text).
* Nested maps, other objects, integers outside 64 bits are refused with :class:`StoreError`.

Error messages name the label or type and the property, never the value (it may be personal data).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from graphstore.base import RelRow
from netanalysis.errors import StoreError

__all__ = [
    "OBSERVED_ON",
    "SOURCE",
    "check_iso_date",
    "check_property_names",
    "clean_props",
    "prepare_node",
    "prepare_rel",
]

SOURCE = "source"
OBSERVED_ON = "observed_on"
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


@lru_cache(maxsize=1 << 14)
def _is_iso_date(value: str) -> bool:
    # Cached: a load writes the same few thousand observation dates on a million rows.
    try:
        return len(value) == 10 and dt.date.fromisoformat(value).isoformat() == value
    except (TypeError, ValueError):
        return False


def check_iso_date(value: str, what: str) -> str:
    """Return ``value`` if it is an ISO date ``YYYY-MM-DD``, else raise StoreError about ``what``."""
    if not (isinstance(value, str) and _is_iso_date(value)):
        raise StoreError(f"{what} must be an ISO date written YYYY-MM-DD")
    return value


_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_property_names(names: Sequence[str]) -> list[str]:
    """The property names as a list, or StoreError when one is not a plain name (letters, digits,
    underscores): a read that names its properties may put them in a JSON path or a query.

    Examples
    --------
    >>> check_property_names(("gender", "nationality"))
    ['gender', 'nationality']
    """
    if isinstance(names, str):
        raise StoreError("property names are given as a list of names, not as one string")
    for name in names:
        if not isinstance(name, str) or not _PLAIN_NAME.match(name):
            raise StoreError(f"{str(name)[:40]!r} is not a plain property name (letters, digits, _)")
    return list(names)


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise StoreError(f"cannot store {where}: integer outside the 64-bit range")
        return value
    if isinstance(value, float):
        if math.isinf(value):
            raise StoreError(f"cannot store {where}: infinite number")
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise StoreError(
        f"cannot store {where}: values must be str, int, float, bool or lists of one of those, "
        f"not {type(value).__name__}"
    )


def _value(value: Any, where: str) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        out = []
        for item in items:
            if item is None or (isinstance(item, float) and math.isnan(item)):
                raise StoreError(f"cannot store {where}: a list may not contain empty values")
            if isinstance(item, list | tuple | set | frozenset | Mapping):
                raise StoreError(f"cannot store {where}: lists may not be nested")
            out.append(_scalar(item, where))
        kinds = {type(item) for item in out}
        if len(kinds) > 1:
            raise StoreError(f"cannot store {where}: a list must hold values of one type")
        return out
    if isinstance(value, Mapping):
        raise StoreError(f"cannot store {where}: nested maps are not storable, flatten them")
    return _scalar(value, where)


def clean_props(props: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Return the storable form of ``props`` (see the module docstring).

    Parameters
    ----------
    props
        The property map of one node or relationship row.
    what
        How to name the item in an error, e.g. ``"Person"`` or ``"relationship SEEN_AT"``.

    Returns
    -------
    dict
        A new dict without empty values, with JSON-compatible values only.
    """
    out: dict[str, Any] = {}
    for name, value in props.items():
        if type(name) is not str and not isinstance(name, str) or not name:
            raise StoreError(f"cannot store {what}: property names must be non-empty strings")
        kind = type(value)
        # Fast path for the common plain values; everything else takes the checked path below.
        if kind is str:
            if name != OBSERVED_ON or _is_iso_date(value):
                out[name] = value
                continue
        elif kind is bool:
            out[name] = value
            continue
        elif kind is float and math.isfinite(value):
            out[name] = value
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        where = f"property {name!r} of {what}"
        clean = _value(value, where)
        if name == OBSERVED_ON:
            if not isinstance(clean, str):
                raise StoreError(f"{where} must be an ISO date written YYYY-MM-DD")
            check_iso_date(clean, where)
        out[name] = clean
    return out


def prepare_node(label: str, key_prop: str, row: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check one node row and return ``(key, storable props)``; the props include the key."""
    key = row.get(key_prop)
    if not isinstance(key, str) or not key:
        raise StoreError(f"a {label} row has no {key_prop} (the key must be a non-empty string)")
    if "label" in row:
        raise StoreError(f"a {label} row has a property named 'label', which read_graph reserves")
    return key, clean_props(row, label)


def prepare_rel(rel_type: str, row: Any) -> tuple[str, str, str, dict[str, Any]]:
    """Check one relationship row (a ``RelRow`` or a mapping with the same fields) and return
    ``(start, end, rel_key, storable props)``; the props include ``rel_key``."""
    start: Any
    end: Any
    rel_key: Any
    props: Any
    if type(row) is RelRow:
        start, end, rel_key, props = row.start, row.end, row.rel_key, row.props
    elif isinstance(row, Mapping):
        start, end, rel_key, props = row.get("start"), row.get("end"), row.get("rel_key"), row.get("props")
    else:
        start, end = getattr(row, "start", None), getattr(row, "end", None)
        rel_key, props = getattr(row, "rel_key", None), getattr(row, "props", None)
    if not (type(start) is str and type(end) is str and type(rel_key) is str and start and end and rel_key):
        for name, value in (("start", start), ("end", end), ("rel_key", rel_key)):
            if not isinstance(value, str) or not value:
                raise StoreError(f"a {rel_type} row has no {name} (it must be a non-empty string)")
    assert isinstance(start, str) and isinstance(end, str) and isinstance(rel_key, str)
    props = props or {}
    if "type" in props:
        raise StoreError(f"a {rel_type} row has a property named 'type', which read_graph reserves")
    if props.get("rel_key", rel_key) != rel_key:
        raise StoreError(f"a {rel_type} row has a rel_key property that differs from its rel_key")
    # clean_props makes a new map: rel_key goes where it is in ``props``, else last.
    clean = clean_props(props, f"relationship {rel_type}")
    clean["rel_key"] = rel_key
    return start, end, rel_key, clean
