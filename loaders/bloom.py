"""Keyed Bloom-filter encodings of short strings (names) and their Dice similarity.

A string is split into padded q-grams (``"_jan_"`` -> ``_j ja an n_`` for q=2) and every q-gram
sets ``k`` bits of a filter of ``length`` bits. The bit positions of a q-gram come from a keyed
hash (HMAC-SHA-256 under the data holders' shared secret key, domain-separated per field), so
without the key nobody can tell which q-gram sets which bits, and the same q-gram sets different
bits in the first-name and the last-name filter. Two spellings of a name share most q-grams and
so most bits: the Dice coefficient of their filters approximates the Dice coefficient of their
q-gram sets (Schnell, Bachteler & Reiher 2009).

Hardening
---------
* **Keyed random hashing** instead of the classic double hashing ``h1 + i*h2``: every one of the
  ``k`` positions is an independent slice of an HMAC output. The attack of Niedermeyer et al.
  (2014) and Kroll & Steinmetzer (2015) reconstructs q-grams from the linear structure of double
  hashing; random hashing removes that structure (Niedermeyer et al. recommend it themselves).
* **XOR-folding** (Schnell, Borgs & Encheva 2016): the filter is cut into two halves that are
  XOR-ed into one filter of ``length / 2`` bits. A bit of the folded filter no longer belongs to
  one q-gram: the pattern-mining attacks that align frequent bit patterns with frequent q-grams
  (Christen et al. 2017/2018) lose their footing, while the Dice similarity of similar names stays
  high. Bits that two q-grams both set cancel out, which is part of the point.

Filters are held as Python ints (bit ``i`` of the int is bit ``i`` of the filter) so that
``(a & b).bit_count()`` is the fast population count; ``to_text``/``from_text`` write them as
URL-safe base64 of the fixed-length big-endian bytes.

References
----------
Schnell, R., Bachteler, T. & Reiher, J. (2009). Privacy-preserving record linkage using Bloom
filters. BMC Medical Informatics and Decision Making 9:41.
Schnell, R., Bachteler, T. & Reiher, J. (2011). A novel error-tolerant anonymous linking code.
German Record Linkage Center, WP-GRLC-2011-02 (the cryptographic long-term key, CLK).
Niedermeyer, F., Steinmetzer, S., Kroll, M. & Schnell, R. (2014). Cryptanalysis of basic Bloom
filters used for privacy preserving record linkage. Journal of Privacy and Confidentiality 6(2).
Schnell, R., Borgs, C. & Encheva, S.-I. (2016). XOR-folding for Bloom filter-based encryptions
for privacy-preserving record linkage. German Record Linkage Center, WP-GRLC-2016-03.

Examples
--------
>>> from loaders.pseudonymise import Pseudonymiser
>>> enc = BloomEncoder(Pseudonymiser(bytes(32)), length=1024, k=10)
>>> a, b, c = enc.encode("first", "jansen"), enc.encode("first", "janssen"), enc.encode("first", "pieters")
>>> dice(a, b) > 0.7 > dice(a, c)
True
>>> from_text(to_text(a, enc.bits), enc.bits) == a
True
"""

from __future__ import annotations

import base64
from functools import lru_cache

from loaders.pseudonymise import Pseudonymiser
from netanalysis.errors import ConfigError

__all__ = ["BloomEncoder", "dice", "from_text", "qgrams", "to_text", "xor_fold"]

_PAD = "_"


def qgrams(text: str, q: int = 2) -> list[str]:
    """The q-grams of ``text`` padded with one ``_`` on each side (empty text: none).

    >>> qgrams("jan")
    ['_j', 'ja', 'an', 'n_']
    """
    if not text:
        return []
    padded = f"{_PAD}{text}{_PAD}" if q > 1 else text
    return [padded[i : i + q] for i in range(len(padded) - q + 1)]


def dice(a: int, b: int) -> float:
    """Dice coefficient ``2|A & B| / (|A| + |B|)`` of two filters (0.0 when both are empty).

    >>> dice(0b1100, 0b0110)
    0.5
    """
    total = a.bit_count() + b.bit_count()
    return 2.0 * (a & b).bit_count() / total if total else 0.0


def xor_fold(bits: int, length: int) -> int:
    """XOR the upper half of a ``length``-bit filter onto its lower half (``length // 2`` bits).

    >>> bin(xor_fold(0b1010_0110, 8))
    '0b1100'
    """
    half = length // 2
    return (bits & ((1 << half) - 1)) ^ (bits >> half)


def to_text(bits: int, length: int) -> str:
    """A filter of ``length`` bits as URL-safe base64 (no padding); 0 becomes ``""``."""
    if not bits:
        return ""
    return base64.urlsafe_b64encode(bits.to_bytes(length // 8, "big")).rstrip(b"=").decode("ascii")


def from_text(text: str, length: int) -> int:
    """Inverse of ``to_text``; raises ValueError when the text is not a filter of that length."""
    if not text:
        return 0
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != length // 8:
        raise ValueError(f"filter has {len(raw) * 8} bits, expected {length}")
    return int.from_bytes(raw, "big")


class BloomEncoder:
    """Field-level Bloom-filter encoder with keyed random hashing and optional XOR-folding.

    Parameters
    ----------
    pseudonymiser : Pseudonymiser
        Holds the secret key; bit positions are slices of its keyed hashes, so the key itself is
        never handled here.
    length : int
        Filter length before folding, a power of two between 64 and 4096.
    k : int
        Bits set per q-gram.
    q : int
        q-gram length.
    fold : bool
        XOR-fold the filter to ``length // 2`` bits (the stored length is ``bits``).
    """

    def __init__(
        self, pseudonymiser: Pseudonymiser, length: int = 1024, k: int = 10, q: int = 2, fold: bool = True
    ) -> None:
        if length < 64 or length > 4096 or length & (length - 1):
            raise ConfigError(f"Bloom filter length must be a power of two from 64 to 4096, got {length}")
        if not 1 <= k <= 64:
            raise ConfigError(f"bits per q-gram (k) must be between 1 and 64, got {k}")
        if not 1 <= q <= 4:
            raise ConfigError(f"q-gram length must be between 1 and 4, got {q}")
        self.length, self.k, self.q, self.fold = length, k, q, fold
        self.bits = length // 2 if fold else length
        self._p = pseudonymiser
        self._positions = lru_cache(maxsize=1 << 16)(self._gram_bits)

    def _gram_bits(self, field: str, gram: str) -> int:
        # Each 32-hex keyed hash gives 128 bits; take 16-bit slices (modulo a power of two is
        # unbiased) until k positions are drawn. Positions may repeat, as in any Bloom filter.
        width = self.length.bit_length() - 1
        mask = (1 << width) - 1
        out = 0
        drawn = 0
        counter = 0
        while drawn < self.k:
            digest = int(self._p.hash("bloom", f"{field}\x1f{counter}\x1f{gram}"), 16)
            for _ in range(8):
                if drawn == self.k:
                    break
                out |= 1 << (digest & 0xFFFF & mask)
                digest >>= 16
                drawn += 1
            counter += 1
        return out

    def encode(self, field: str, text: str) -> int:
        """The filter of ``text`` as a value of ``field`` (0 for an empty text)."""
        bits = 0
        for gram in qgrams(text, self.q):
            bits |= self._positions(field, gram)
        if self.fold and bits:
            bits = xor_fold(bits, self.length)
        return bits
