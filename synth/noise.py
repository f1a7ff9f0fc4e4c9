"""Noise that real exports carry, scaled by one level (0.1 default, 0.3 high).

Every applied noise is recorded (``truth/noise.csv``: source, row_id, kind). Kinds:

spelling_variant      first or last name spelled differently (ij/y, ou/au, a dropped or doubled letter)
swapped_name          first and last name swapped
missing_birth_date    birth date left empty
wrong_birth_date      birth date with day and month swapped, or a year or a few days off
broken_column_count   a CSV row with one column too many or too few (Excel rows cannot break this way)
impossible_date       observation date that does not exist, e.g. 31-02-2023
unknown_municipality  a place name that is no municipality, alias or place
typo_municipality     the municipality name with one typing error
invalid_postcode      a registration's postcode that is not a full Dutch postcode (``1234``, ``0234 AB``,
                      ``1234SS``)
invalid_house_number  a house number that is not a positive whole number (``12a``, ``12-14``, ``0``)
invalid_kvk           a KvK number that is not eight digits (one digit lost or added, a letter O for 0)

In the two registers (population register, employment relations) an impossible date is written
into the start of the registration or job (there is no observation date). Notations that people
use (``1234 AB`` / ``1234ab``, a KvK number in groups or with dots, ``B.V.`` / ``BV`` / ``bv``)
are not noise and are not listed, as for phone numbers.

The first row of each victim stay and the rows that carry a planted shared identifier are
*protected*: they never get date, place or column noise, so the planted itinerary and the shared
identifiers stay readable. When ``level > 0`` every kind occurs at least once (the first eligible
row gets a kind not seen yet), so small samples still contain each kind. The rows that tie a group
planted to be found only through an address or agency are protected too.
"""

from __future__ import annotations

import random

__all__ = ["NOISE_KINDS", "NoiseModel"]

NOISE_KINDS: tuple[str, ...] = (
    "spelling_variant",
    "swapped_name",
    "missing_birth_date",
    "wrong_birth_date",
    "broken_column_count",
    "impossible_date",
    "unknown_municipality",
    "typo_municipality",
    "invalid_postcode",
    "invalid_house_number",
    "invalid_kvk",
)
# Probability per eligible row at level 1.0 (capped at 0.9).
_RATES = {
    "spelling_variant": 0.5,
    "swapped_name": 0.12,
    "missing_birth_date": 0.6,
    "wrong_birth_date": 0.15,
    "broken_column_count": 0.03,
    "impossible_date": 0.03,
    "unknown_municipality": 0.03,
    "typo_municipality": 0.08,
    "invalid_postcode": 0.03,
    "invalid_house_number": 0.04,
    "invalid_kvk": 0.03,
}
_ADDRESS_KINDS = ("invalid_postcode", "invalid_house_number")
_PERSON_KINDS = ("spelling_variant", "swapped_name", "missing_birth_date", "wrong_birth_date")
_EXCLUSIVE = {"wrong_birth_date": "missing_birth_date", "typo_municipality": "unknown_municipality"}


class NoiseModel:
    """Decides which noise kinds a row gets."""

    def __init__(self, rng: random.Random, level: float) -> None:
        self.rng = rng
        self.level = level
        self.rates = {k: min(0.9, v * level) for k, v in _RATES.items()}
        self.unseen = list(NOISE_KINDS) if level > 0 else []
        self.counts = dict.fromkeys(NOISE_KINDS, 0)
        # (person, csv_file, protected, address, organisation) -> eligible (kind, rate) pairs
        flags = (False, True)
        self._eligible_rates = {
            (a, b, c, d, e): [(k, self.rates[k]) for k in NOISE_KINDS if self._eligible(k, a, b, c, d, e)]
            for a in flags
            for b in flags
            for c in flags
            for d in flags
            for e in flags
        }

    def draw(
        self,
        *,
        person: bool,
        csv_file: bool,
        protected: bool,
        address: bool = False,
        organisation: bool = False,
    ) -> list[str]:
        """The noise kinds for one row (possibly none)."""
        if self.level <= 0:
            return []
        rnd = self.rng.random
        chosen: list[str] = []
        for kind, rate in self._eligible_rates[(person, csv_file, protected, address, organisation)]:
            if rnd() < rate and _EXCLUSIVE.get(kind) not in chosen:
                chosen.append(kind)
        for kind in self.unseen:
            if (
                kind not in chosen
                and self._eligible(kind, person, csv_file, protected, address, organisation)
                and _EXCLUSIVE.get(kind) not in chosen
            ):
                chosen.append(kind)
                break
        return chosen

    def record(self, kinds: list[str]) -> None:
        """Count applied kinds (after rendering confirmed them)."""
        for k in kinds:
            self.counts[k] += 1
            if k in self.unseen:
                self.unseen.remove(k)

    @staticmethod
    def _eligible(
        kind: str,
        person: bool,
        csv_file: bool,
        protected: bool,
        address: bool = False,
        organisation: bool = False,
    ) -> bool:
        if kind in _PERSON_KINDS:
            return person
        if protected:
            return False
        if kind in _ADDRESS_KINDS:
            return address
        if kind == "invalid_kvk":
            return organisation
        if kind == "broken_column_count":
            return csv_file
        return True
