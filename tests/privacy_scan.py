"""Scanning outputs for clear values: one regular-expression pass instead of one pass per value.

The privacy tests look for a thousand or more clear values in files of several megabytes; testing
``value in text`` for each one scans the text a thousand times (seconds per test). One regular
expression shaped as a trie of the values (each position is tried against the values' common
prefixes once, as an Aho-Corasick automaton would) scans it once. The slow listing runs only when
something was found, to say which values leaked.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, AnyStr

from loaders.reference import municipalities, regions

SAMPLE_SOURCES = Path(__file__).resolve().parents[1] / "data_samples" / "sources"


def leaked(values: Iterable[AnyStr], haystack: AnyStr, *, ignore_case: bool = False) -> list[AnyStr]:
    """The values that occur in ``haystack`` (sorted); an empty list when none does."""
    wanted = sorted(set(values), key=len, reverse=True)
    if ignore_case:
        wanted = sorted({v.lower() for v in wanted}, key=len, reverse=True)
        haystack = haystack.lower()
    if not wanted:
        return []
    if _compiled(tuple(wanted)).search(haystack) is None:
        return []
    return sorted(v for v in wanted if v in haystack)


@functools.lru_cache(maxsize=16)
def _compiled(words: tuple[AnyStr, ...]) -> re.Pattern[AnyStr]:
    """The trie pattern of ``words``, built once per set of values (a test scans many files)."""
    if words and isinstance(words[0], bytes):
        source = _trie_pattern([w.decode("latin-1") for w in words])  # type: ignore[union-attr]
        return re.compile(source.encode("latin-1"))  # type: ignore[return-value]
    return re.compile(_trie_pattern(words))  # type: ignore[arg-type]


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, nested by common prefix."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:  # a shorter word ends here; the longer ones continue
            body = "(?:" + body + ")?"
        return body

    return pattern(trie)


def sample_clear_words() -> set[str]:
    """Every word (4+ letters) of a name, and every IBAN, in the sample source files; place names
    are reference data, not persons, and are left out (a whole-graph export holds them)."""
    values: list[str] = []
    for name, sep, columns in (
        ("politie_zaken.csv", ";", ("Voornaam", "Achternaam", "IBAN")),
        ("comensha_registraties.csv", ";", ("Naam",)),
        ("gemeente_signalen.csv", ",", ("Naam betrokkene",)),
    ):
        raw = (SAMPLE_SOURCES / name).read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:  # the municipality's export is Windows-1252 (sources.yaml)
            text = raw.decode("cp1252")
        for row in csv.DictReader(text.splitlines(), delimiter=sep):
            values.extend(row[c] for c in columns if row.get(c))
    words = {w.lower() for v in values for w in re.findall(r"\w+", v) if len(w) >= 4 and not w.isdigit()}
    places = " ".join([*municipalities()["name"], *regions()["name"]])
    return words - {w.lower() for w in re.findall(r"\w+", places)}
