"""Synthetic identifiers: phone numbers, Dutch licence plates, IBANs, case numbers, postcodes.

Identifiers are drawn without collisions: the n-th identifier of a kind is an affine permutation
of n over the whole number space (``(n * a + b) mod size`` with ``a`` coprime to ``size``), so two
people never share a number by accident and a shared identifier is always planted on purpose.
Each identifier is kept in one canonical form (E.164 phone, ``XX-999-X`` plate, compact IBAN) and
written per row in one of the notations people use (:func:`phone_notation`, :func:`plate_notation`,
:func:`iban_notation`).
"""

from __future__ import annotations

import random
from math import gcd

__all__ = [
    "BANKS",
    "IdentifierFactory",
    "iban_check_digits",
    "iban_notation",
    "kvk_notation",
    "phone_notation",
    "plate_notation",
    "postcode_notation",
]

BANKS: tuple[str, ...] = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ", "RBRB")
_PLATE_LETTERS = "BDFGHJKLNPRSTVXZ"  # letters used on current Dutch plates (no vowels, C, M, Q, W, Y)
# Postcode letters (F, I, O, Q, U and Y are not used in Dutch postcodes; S and A stay out so that
# SA, SD and SS never occur).
_PC_LETTERS = "BCDEGHJKLMNPRTVWXZ"
_FOREIGN = {
    # country calling code, mobile prefixes, subscriber digits
    "ROU": ("40", ("72", "73", "74", "75", "76", "77"), 7),
    "BGR": ("359", ("87", "88", "89"), 7),
    "POL": ("48", ("50", "51", "53", "60", "66", "69", "72", "78", "88"), 7),
    "HUN": ("36", ("20", "30", "70"), 7),
}


def _coprime_multiplier(rng: random.Random, size: int) -> int:
    while True:
        a = rng.randrange(size // 3, size - 1)
        if gcd(a, size) == 1:
            return a


class _Permutation:
    """n -> (n * a + b) mod size: a bijection, so the first `size` draws never repeat."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.size = size
        self.a = _coprime_multiplier(rng, size)
        self.b = rng.randrange(size)
        self.n = 0

    def next(self) -> int:
        value = (self.n * self.a + self.b) % self.size
        self.n += 1
        return value


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits (mod 97) for a country code and BBAN."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


class IdentifierFactory:
    """Draws unique identifiers for one generation run (deterministic for its random source)."""

    def __init__(self, rng: random.Random) -> None:
        self._nl_mobile = _Permutation(rng, 5 * 10**7)
        self._foreign = {k: _Permutation(rng, len(v[1]) * 10 ** v[2]) for k, v in _FOREIGN.items()}
        self._plate = _Permutation(rng, 2 * 16**3 * 1000)
        self._account = _Permutation(rng, 10**10)
        self._bank = rng
        self._case = 0
        self._inspection = 0
        # KvK numbers: 8 digits, first not 0; addresses: PC4 x two letters x house number.
        self._kvk = _Permutation(rng, 9 * 10**7)
        self._address = _Permutation(rng, 9000 * len(_PC_LETTERS) ** 2 * 300)

    def phone(self, nationality: str, rng: random.Random) -> str:
        """A mobile number in E.164 form; foreign nationals often keep a number from home."""
        if nationality in _FOREIGN and rng.random() < 0.4:
            cc, prefixes, width = _FOREIGN[nationality]
            v = self._foreign[nationality].next()
            prefix = prefixes[v // 10**width]
            return f"+{cc}{prefix}{v % 10**width:0{width}d}"
        v = self._nl_mobile.next()
        return f"+316{1 + v // 10**7}{v % 10**7:07d}"

    def plate(self) -> str:
        """A Dutch plate in sidecode 9 (``XX-999-X``) or 10 (``X-999-XX``)."""
        v = self._plate.next()
        half, v = divmod(v, 16**3 * 1000)
        num, letters = divmod(v, 16**3)
        a, rest = divmod(letters, 256)
        b, c = divmod(rest, 16)
        la, lb, lc = _PLATE_LETTERS[a], _PLATE_LETTERS[b], _PLATE_LETTERS[c]
        if half == 0:
            return f"{la}{lb}-{num:03d}-{lc}"
        return f"{la}-{num:03d}-{lb}{lc}"

    def iban(self, rng: random.Random) -> str:
        """A Dutch IBAN with valid check digits, compact form (``NL91ABNA0417164300``)."""
        bank = rng.choice(BANKS)
        bban = f"{bank}{self._account.next():010d}"
        return f"NL{iban_check_digits('NL', bban)}{bban}"

    def kvk(self) -> str:
        """A KvK (Chamber of Commerce) number: eight digits, never shared by accident."""
        return f"{10**7 + self._kvk.next():08d}"

    def address(self) -> tuple[str, int]:
        """A full Dutch postcode (``1234AB``, letters never SA, SD or SS) and a house number."""
        v = self._address.next()
        v, number = divmod(v, 300)
        v, b = divmod(v, len(_PC_LETTERS))
        pc4, a = divmod(v, len(_PC_LETTERS))
        return f"{1000 + pc4}{_PC_LETTERS[a]}{_PC_LETTERS[b]}", number + 1

    def case_number(self, unit: str, year: int) -> str:
        """A police case number like ``PL0700-2023000123`` (unit team, year, sequence)."""
        self._case += 1
        return f"PL{unit[2:]}00-{year}{self._case:06d}"

    def inspection_number(self, year: int) -> str:
        """An inspection number like ``NLA-2023-00042``."""
        self._inspection += 1
        return f"NLA-{year}-{self._inspection:06d}"


def phone_notation(rng: random.Random, e164: str) -> str:
    """The number as someone typed it: ``06-12345678``, ``+31 6 1234 5678``, ``0031612345678`` ..."""
    r = rng.randrange(10)
    if e164.startswith("+316"):
        sub = e164[4:]
        if r == 0:
            return "06" + sub
        if r == 1:
            return "06-" + sub
        if r == 2:
            return f"06 {sub[:4]} {sub[4:]}"
        if r == 3:
            return e164
        if r == 4:
            return f"+31 6 {sub}"
        if r == 5:
            return f"+31 (0)6 {sub[:4]} {sub[4:]}"
        if r == 6:
            return "0031" + e164[3:]
        if r == 7:
            return f"06 {sub[:2]} {sub[2:4]} {sub[4:6]} {sub[6:]}"
        return "06" + sub if r == 8 else f"(06) {sub}"
    if r < 4:
        return e164
    if r < 6:
        return "00" + e164[1:]
    body = e164[1:]
    cc = next(c for c in ("359", "40", "48", "36") if body.startswith(c))
    rest = body[len(cc) :]
    return f"+{cc} {rest[:3]} {rest[3:6]} {rest[6:]}".rstrip()


def postcode_notation(rng: random.Random, postcode: str) -> str:
    """The full postcode as written: ``1234 AB`` (usual), ``1234AB``, or in lower case."""
    r = rng.randrange(8)
    if r < 4:
        return f"{postcode[:4]} {postcode[4:]}"
    if r < 6:
        return postcode
    if r == 6:
        return postcode.lower()
    return f"{postcode[:4]} {postcode[4:].lower()}"


def kvk_notation(rng: random.Random, kvk: str) -> str:
    """The KvK number as typed: compact (usual), in two groups of four, or with dots."""
    r = rng.randrange(6)
    if r < 3:
        return kvk
    if r < 5:
        return f"{kvk[:4]} {kvk[4:]}"
    return f"{kvk[:2]}.{kvk[2:4]}.{kvk[4:6]}.{kvk[6:]}"


def plate_notation(rng: random.Random, plate: str) -> str:
    """The plate as written: with dashes (usual), without, with spaces, or in lower case."""
    r = rng.randrange(8)
    if r < 4:
        return plate
    if r < 6:
        return plate.replace("-", "")
    if r == 6:
        return plate.replace("-", " ")
    return plate.lower()


def iban_notation(rng: random.Random, iban: str) -> str:
    """The IBAN compact, in groups of four, or in lower case."""
    r = rng.randrange(6)
    if r < 3:
        return iban
    if r < 5:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban.lower()
