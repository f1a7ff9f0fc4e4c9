"""Evaluation figures on hand-made truth and detection folders with known answers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netanalysis.cli import main
from netanalysis.errors import ConfigError
from netanalysis.evaluate import (
    adjusted_rand_index,
    evaluate,
    majority_match,
    match_moves,
    pairwise_precision_recall,
)


def brute_force_ari(a: list, b: list) -> float:
    """ARI as Hubert & Arabie define it, counting pairs one by one."""
    n = len(a)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    same_a = [a[i] == a[j] for i, j in pairs]
    same_b = [b[i] == b[j] for i, j in pairs]
    index = sum(x and y for x, y in zip(same_a, same_b, strict=True))
    expected = sum(same_a) * sum(same_b) / len(pairs)
    maximum = (sum(same_a) + sum(same_b)) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def test_ari_known_values():
    assert adjusted_rand_index([0, 0, 1, 1, 2], [1, 1, 0, 0, 5]) == 1.0
    # the textbook example: Hubert & Arabie style contingency with ARI 0.2424...
    a = [0, 0, 0, 1, 1, 1]
    b = [0, 0, 1, 1, 2, 2]
    assert adjusted_rand_index(a, b) == pytest.approx(0.24242424, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=2, max_size=25))
def test_ari_equals_pair_counting(pairs):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    assert adjusted_rand_index(a, b) == pytest.approx(brute_force_ari(a, b))
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_index(b, a))


def test_pairwise_precision_recall():
    truth = {("s", "1"): "p", ("s", "2"): "p", ("s", "3"): "p", ("s", "4"): "q"}
    assert pairwise_precision_recall(truth, {("s", "1"): 1, ("s", "2"): 1, ("s", "3"): 2, ("s", "4"): 3}) == (
        1.0,
        1 / 3,
    )
    assert pairwise_precision_recall(truth, {("s", "1"): 1, ("s", "2"): 1, ("s", "3"): 1, ("s", "4"): 1}) == (
        0.5,
        1.0,
    )


def test_majority_match_and_moves():
    assert majority_match({"r1": "G", "r2": "G", "r3": "H"}, {"r1": "T", "r2": "U", "r3": "U"}) == {
        "G": "T",
        "H": "U",
    }
    truth = [("p", "A", "B", "2023-01-10"), ("p", "B", "C", "2023-05-01"), ("q", "A", "B", "2023-01-10")]
    found = [("p", "A", "B", "2023-01-12"), ("p", "A", "B", "2023-01-13"), ("p", "B", "C", "2023-07-01")]
    assert match_moves(truth, found, tolerance_days=30) == 1
    assert match_moves(truth, found, tolerance_days=90) == 2


def write_csv(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture()
def folders(tmp_path):
    """Truth: groups T1 (x1, x2, cross-regional, victim w1) and T2 (y1, not cross-regional).
    Detection: resolves all rows right but puts y1 with x1/x2 and misses one move."""
    truth, det = tmp_path / "truth", tmp_path / "det"
    write_csv(
        truth / "mentions.csv",
        "source,row_id,true_person",
        ["pz,1,x1", "pz,2,x1", "pz,3,x2", "pz,4,y1", "pz,5,w1", "gs,9,w1", "pz,6,y9"],
    )
    write_csv(
        truth / "groups.csv",
        "true_person,group_id,role",
        ["x1,T1,suspect", "x2,T1,suspect", "w1,T1,victim", "y1,T2,suspect", "y9,T2,suspect"],
    )
    write_csv(
        truth / "group_facts.csv", "group_id,cross_regional,regions", ["T1,true,RE01|RE02", "T2,false,RE01"]
    )
    write_csv(
        truth / "movements.csv",
        "true_person,from_code,to_code,date,group_id",
        ["w1,GM0014,GM0363,2023-02-01,T1", "w1,GM0363,GM0599,2023-06-01,T1"],
    )
    write_csv(truth / "signals.csv", "source,row_id,group_id", ["gs,9,T1", "gs,10,", "gs,11,T2"])
    write_csv(
        det / "persons.csv",
        "person_id,source,row_id",
        ["P1,pz,1", "P1,pz,2", "P2,pz,3", "P3,pz,4", "V1,pz,5", "V1,gs,9", "P9,pz,6"],
    )
    write_csv(
        det / "groups.csv",
        "group_id,person_id,role,core,stability",
        [
            "G001,P1,suspect,True,1.0",
            "G001,P2,suspect,True,1.0",
            "G001,V1,victim,False,1.0",
            "G002,P3,suspect,True,1.0",
            "G002,P9,suspect,True,1.0",
        ],
    )
    write_csv(det / "group_summary.csv", "group_id,cross_regional", ["G001,True", "G002,True"])
    write_csv(
        det / "movements.csv",
        "group_id,person_id,from_code,to_code,date",
        ["G001,V1,GM0014,GM0363,2023-02-03"],
    )
    write_csv(
        det / "leads.csv",
        "signal_id,group_id,score,rank,evidence,via",
        ["gs:9,G001,1,1,person,1", "gs:10,G002,1,1,phone,1"],
    )
    return truth, det


def test_evaluate_figures(folders):
    result = evaluate(*folders)
    f = result.figures
    assert f["er_precision"] == 1.0 and f["er_recall"] == 1.0
    assert f["group_ari"] == 1.0
    assert f["cross_regional_precision"] == 0.5  # G002 flagged, T2 is not cross-regional
    assert f["cross_regional_recall"] == 1.0
    assert f["moves_recall"] == 0.5 and f["moves_precision"] == 1.0
    assert f["leads_precision"] == 0.5  # gs:10 belongs to no group
    assert f["leads_recall"] == 0.5
    assert result.counts["suspect_rows"] == 5


def test_evaluate_command_prints_and_writes_json(folders, tmp_path, capsys):
    truth, det = folders
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--truth", str(truth), "--detected", str(det), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "adjusted Rand index" in printed and "0.5000" in printed
    assert json.loads(out.read_text())["figures"]["group_ari"] == 1.0


def test_missing_file_is_a_config_error(folders, tmp_path, capsys):
    truth, det = folders
    (det / "leads.csv").unlink()
    with pytest.raises(ConfigError, match="leads.csv is missing"):
        evaluate(truth, det)
    assert main(["evaluate", "--truth", str(truth), "--detected", str(det)]) == 2
    assert "leads.csv is missing" in capsys.readouterr().err


def test_ari_drops_when_groups_are_shuffled():
    rng = random.Random(5)
    truth = [i // 5 for i in range(100)]
    shuffled = truth[:]
    rng.shuffle(shuffled)
    assert adjusted_rand_index(truth, shuffled) < 0.1
