"""m estimated by EM on the candidate pairs (u fixed from random pairs), on small hand-made data:
it finds the planted m, and when it cannot (too few pairs, no convergence, a model that is not one
of matches) it warns and falls back to the documented m, never crashing (issue 15, item 1)."""

from __future__ import annotations

import json
import logging
import random
import string
from collections import Counter
from pathlib import Path

import pytest

from loaders.linkage import DEFAULT_M, EM_MIN_PAIRS, estimate_m
from loaders.pseudonymise import Pseudonymiser
from loaders.records import Record
from loaders.resolve import resolve
from netanalysis.cli import main

P = Pseudonymiser(bytes(range(32)))
U = {
    "first": {3: 0.01, 2: 0.01, 1: 0.03, 0: 0.95},
    "last": {3: 0.005, 2: 0.005, 1: 0.02, 0: 0.97},
    "birth": {3: 0.001, 2: 0.01, 1: 0.05, 0: 0.939},
    "nationality": {1: 0.3, 0: 0.7},
    "gender": {1: 0.5, 0: 0.5},
}


def _planted(
    matches: int, others: int, first_typo: float, no_birth: float, seed: int = 1
) -> Counter[tuple[int, ...]]:
    """Pairs drawn from a known m (matches) and from U (different people)."""
    rng = random.Random(seed)
    out: Counter[tuple[int, ...]] = Counter()

    def draw(dist: dict[int, float]) -> int:
        return rng.choices(list(dist), weights=list(dist.values()))[0]

    for _ in range(matches):
        first = 2 if rng.random() < first_typo else 3
        birth = -1 if rng.random() < no_birth else 3
        out[(first, 3, birth, 1, 1)] += 1
    for _ in range(others):
        out[
            (draw(U["first"]), draw(U["last"]), draw(U["birth"]), draw(U["nationality"]), draw(U["gender"]))
        ] += 1
    return out


def test_em_finds_the_planted_m_and_match_share() -> None:
    found = estimate_m(_planted(2000, 18000, first_typo=0.2, no_birth=0.3), U)
    assert found.converged and found.reason == ""
    assert found.m["first"][3] == pytest.approx(0.8, abs=0.03)
    assert found.m["first"][2] == pytest.approx(0.2, abs=0.03)
    assert found.m["last"][3] == pytest.approx(1.0, abs=0.02)
    assert found.m["birth"][3] == pytest.approx(1.0, abs=0.02)  # a missing date says nothing
    assert found.match_share == pytest.approx(0.1, abs=0.01)


def test_em_that_runs_out_of_iterations_says_so() -> None:
    found = estimate_m(_planted(2000, 18000, first_typo=0.2, no_birth=0.3), U, max_iterations=1)
    assert not found.converged and "no convergence in 1 iterations" in found.reason


def test_em_on_pairs_without_any_match_is_not_a_model() -> None:
    # Only different people: EM converges to an empty match class, which is no model of matches.
    found = estimate_m(Counter({(0, 0, 0, 0, 1): 5000, (1, 0, 1, 1, 0): 3000}), U)
    assert not found.converged and found.reason


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9))).capitalize()


def _typo(rng: random.Random, name: str) -> str:
    at = rng.randrange(1, len(name))
    return name[:at] + rng.choice([c for c in "aeiouxyz" if c != name[at]]) + name[at + 1 :]


def _records(persons: int, first_typo: float, seed: int = 5) -> list[Record]:
    rng = random.Random(seed)
    # Small pools of names, so that blocking also pairs namesakes (different people).
    firsts = [_name(rng) for _ in range(20)]
    lasts = [_name(rng) for _ in range(60)]
    out = []
    for p in range(persons):
        first, last = rng.choice(firsts), rng.choice(lasts)
        birth = f"{rng.randint(1960, 1999)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for copy in range(2):
            f = _typo(rng, first) if copy and rng.random() < first_typo else first
            values = {"first_name": f, "last_name": last, "birth_date": birth, "role": "suspect"}
            out.append(Record("src", f"{p}-{copy}", "case", values))
    return out


@pytest.mark.slow
def test_em_on_records_estimates_m_of_the_planted_typos() -> None:
    records = _records(800, first_typo=0.25)
    res = resolve(records, lambda ident: P.hash("person", ident), estimate_m=True)
    assert res.stats["m_estimated"] == 1 and res.model is not None
    assert res.model.m["first"][3] == pytest.approx(0.75, abs=0.06)
    assert res.model.m["last"][3] == pytest.approx(1.0, abs=0.02)
    assert res.model.m["birth"][3] == pytest.approx(1.0, abs=0.06)
    # And the decision still links every planted pair.
    assert len(res.clusters) == 800


@pytest.mark.slow
def test_too_few_pairs_for_em_warns_and_uses_the_documented_m(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(9)
    records = [
        Record("src", str(i), "case", {"first_name": _name(rng), "last_name": _name(rng), "role": "suspect"})
        for i in range(1200)
    ]
    with caplog.at_level(logging.WARNING, logger="loaders.linkage"):
        res = resolve(records, lambda ident: P.hash("person", ident), estimate_m=True)
    assert res.stats["m_estimated"] == 0 and res.model is not None and res.model.m == DEFAULT_M
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert f"too few to estimate m by EM (at least {EM_MIN_PAIRS})" in caplog.text
    assert "documented m (DEFAULT_M) is used" in caplog.text


def test_a_small_load_uses_the_documented_m_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="loaders.linkage"):
        res = resolve(_records(20, first_typo=0.5), lambda ident: P.hash("person", ident), estimate_m=True)
    assert res.stats["m_estimated"] == 0 and not caplog.records


@pytest.mark.slow
def test_load_estimate_m_reaches_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`netanalysis load --estimate-m` estimates m on a load big enough (the default m is tested above)."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "sources.yaml").write_text(
        "version: 1\nsources:\n  - name: lijst\n    kind: register\n    files: ['p.csv']\n    format: csv\n"
        "    columns: {Nr: row_id, Voornaam: first_name, Achternaam: last_name, Geboren: birth_date}\n",
        encoding="utf-8",
    )
    lines = ["Nr;Voornaam;Achternaam;Geboren"]
    lines += [f"{r.row_id};{r.values['first_name']};{r.values['last_name']};{r.values['birth_date']}"
              for r in _records(800, first_typo=0.25)]  # fmt: skip
    (folder / "p.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    key = tmp_path / "k.key"
    assert main(["keygen", "--out", str(key)]) == 0
    summary = tmp_path / "summary.json"
    args = ["load", str(folder), "--mapping", str(folder / "sources.yaml"), "--key-file", str(key)]
    args += ["--store", str(tmp_path / "g.db"), "--summary-json", str(summary), "--estimate-m"]
    assert main(args) == 0, capsys.readouterr().err
    assert json.loads(summary.read_text(encoding="utf-8"))["resolution"]["m_estimated"] == 1
