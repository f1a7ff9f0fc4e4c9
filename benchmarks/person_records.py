"""A person-record generator for the resolution benchmark, kept apart from the toolkit's ``synth``.

It imitates the outside generator of issue 15, not the toolkit's own world: four sources of plain
person lists, every field noised **independently** (so a true pair may carry two or three soft
disagreements at once), and names drawn with skewed, realistic frequencies so that namesakes exist.
Nothing in ``loaders`` is tuned on it: the seeds are split once and for all (see ``HELD_OUT``).

Per record and field, each with probability ``noise`` (0.10 by default):

* ``first_typo`` / ``last_typo``: one letter inserted, deleted, replaced or two swapped;
* ``birth_missing``: the birth date is empty;
* ``day_month``: day and month swapped (only where the swap is a valid, different date);
* ``name_swap``: first name and surname exchanged;
* ``particle``: a surname particle dropped or glued on ("van Dijk" -> "Dijk" / "Vandijk");
* ``nationality_missing``: the nationality is empty.

Names are syllable combinations (nobody in the data is a real person); a name's rank ``r`` is
drawn with weight ``1 / (r + offset)``, which gives the long tail and the few very common names of
real registers (the most common surname ~1 %, the most common first name ~2.5 %).

Usage::

    .venv/bin/python benchmarks/person_records.py --records 100000 --seed 101 --out /tmp/pr
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from bisect import bisect
from itertools import accumulate
from pathlib import Path

__all__ = ["HELD_OUT", "NOISE_KINDS", "TUNING", "generate"]

#: Seeds that may be looked at while developing the resolver (and its tests).
TUNING = (1, 2, 3)
#: Seeds that are only ever measured: every figure in benchmarks/RESULTS.md comes from these.
HELD_OUT = (101, 102, 103)
NOISE_KINDS = (
    "first_typo",
    "last_typo",
    "birth_missing",
    "day_month",
    "name_swap",
    "particle",
    "nationality_missing",
)
SOURCES = ("bron_a", "bron_b", "bron_c", "bron_d")
NATIONALITIES = ("NLD", "NLD", "NLD", "ROU", "BGR", "POL", "NGA", "HUN", "MAR", "VNM", "UKR")
PARTICLES = ("van", "de", "van der", "van den", "ter", "van de", "den")
_ONSETS = "b br d dr f g gr h j k kl kr l m n p pr r s st sl t tr v w z".split()
_VOWELS = "a e i o u aa ee oo ie ei ou ui".split()
_CODAS = "n r s k t l m rt nd  ".split(" ")
_ENDINGS_SUR = "en er ink ema stra man s sen ens ing hof berg veld dijk".split()
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# How many records one person has (1..4, each in a different source).
_COPIES = (0.35, 0.30, 0.20, 0.15)


def _syllable(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def _pool(rng: random.Random, size: int, surname: bool) -> list[str]:
    """``size`` distinct made-up names in rank order."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < size:
        parts = rng.choice((1, 2, 2)) if not surname else rng.choice((1, 1, 2))
        name = "".join(_syllable(rng) for _ in range(parts))
        if surname and (parts == 1 or rng.random() < 0.3):
            name += rng.choice(_ENDINGS_SUR)
        if len(name) < 3 or name in seen:
            continue
        seen.add(name)
        out.append(name.capitalize())
    return out


class _Zipf:
    def __init__(self, items: list[str], offset: float) -> None:
        self.items = items
        self.cum = list(accumulate(1.0 / (r + offset) for r in range(len(items))))

    def draw(self, rng: random.Random) -> str:
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 2:
        return name
    i = rng.randrange(len(name))
    op = rng.randrange(4)
    if op == 0:
        out = name[:i] + rng.choice(_LETTERS) + name[i:]
    elif op == 1 and len(name) > 2:
        out = name[:i] + name[i + 1 :]
    elif op == 2 and i < len(name) - 1:
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    else:
        out = name[:i] + rng.choice(_LETTERS.replace(name[i].lower(), "")) + name[i + 1 :]
    out = out.lower()
    return out.capitalize() if out != name.lower() else _typo(rng, name)


def generate(records: int, seed: int, out: Path, noise: float = 0.10) -> dict[str, int]:
    """Write ``sources.yaml``, ``sources/bron_*.csv`` and ``truth.csv`` into ``out``.

    Returns the number of records per source. ``truth.csv`` has ``source, row_id, true_person``
    and one 0/1 column per noise kind.
    """
    names = random.Random(0)  # the name pools are the same for every seed
    firsts = _Zipf(_pool(names, 3000, surname=False), offset=5)
    lasts = _Zipf(_pool(names, 20000, surname=True), offset=20)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sources").mkdir(exist_ok=True)
    rows: dict[str, list[list[str]]] = {s: [] for s in SOURCES}
    truth: list[list[str]] = []
    person = 0
    total = 0
    start = dt.date(1950, 1, 1).toordinal()
    span = dt.date(2006, 12, 31).toordinal() - start
    while total < records:
        person += 1
        first = firsts.draw(rng)
        last = lasts.draw(rng)
        particle = rng.choice(PARTICLES) if rng.random() < 0.15 else ""
        birth = dt.date.fromordinal(start + rng.randrange(span))
        nationality = rng.choice(NATIONALITIES)
        gender = rng.choice("MV")
        copies = 1 + bisect(list(accumulate(_COPIES)), rng.random())
        for source in rng.sample(SOURCES, min(copies, 4)):
            if total >= records:
                break
            total += 1
            flags = {k: rng.random() < noise for k in NOISE_KINDS}
            f, p, ln, b, nat = first, particle, last, birth, nationality
            if flags["first_typo"]:
                f = _typo(rng, f)
            if flags["last_typo"]:
                ln = _typo(rng, ln)
            if flags["particle"] and p:
                if rng.random() < 0.5:
                    p = ""
                else:
                    ln, p = (p.replace(" ", "") + ln.lower()).capitalize(), ""
            else:
                flags["particle"] = False
            if flags["day_month"]:
                try:
                    swapped = dt.date(b.year, b.day, b.month)
                except ValueError:
                    swapped = b
                flags["day_month"] = swapped != b
                b = swapped
            birth_text = "" if flags["birth_missing"] else b.strftime("%d-%m-%Y")
            if flags["name_swap"]:
                f, ln, p = (f"{p} {ln}".strip(), f, "")
            if flags["nationality_missing"]:
                nat = ""
            row_id = str(len(rows[source]) + 1)
            rows[source].append([row_id, f, p, ln, birth_text, nat, gender])
            truth.append([source, row_id, f"P{person}", *(str(int(flags[k])) for k in NOISE_KINDS)])
    header = ["id", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum", "nationaliteit", "geslacht"]
    for source, data in rows.items():
        with open(out / "sources" / f"{source}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(header)
            writer.writerows(data)
    with open(out / "truth.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "row_id", "true_person", *NOISE_KINDS])
        writer.writerows(truth)
    (out / "sources.yaml").write_text(_mapping(), encoding="utf-8")
    return {s: len(r) for s, r in rows.items()}


def _mapping() -> str:
    lines = ["version: 1", "sources:"]
    for source in SOURCES:
        lines += [
            f"- name: {source}",
            "  kind: victim_registration",
            f"  files: [sources/{source}.csv]",
            "  format: csv",
            "  encoding: utf-8",
            "  delimiter: ';'",
            "  legal_basis: Wpg art. 9",
            "  reliability: B2",
            "  date_formats: ['%d-%m-%Y']",
            "  columns:",
            "    id: row_id",
            "    voornaam: first_name",
            "    tussenvoegsel: name_particle",
            "    achternaam: last_name",
            "    geboortedatum: birth_date",
            "    nationaliteit: nationality",
            "    geslacht: gender",
            "  values:",
            "    gender: {M: m, V: f}",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=HELD_OUT[0])
    parser.add_argument("--noise", type=float, default=0.10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    counts = generate(args.records, args.seed, args.out, args.noise)
    print(f"wrote {sum(counts.values())} records to {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
