"""Pseudonymise identifying values with a keyed hash (HMAC-SHA-256).

Every identifying value (name, birth date, phone, plate, IBAN, document number, case number,
premises name) becomes ``HMAC-SHA-256(key, kind + "\\x1f" + value)``, hex, first 32 characters.
The ``kind`` prefix separates the domains: the same string as a phone number and as a plate gives
two unrelated pseudonyms. Two regions that use the same key file get the same pseudonyms, so their
data links without exchanging names; without the key a pseudonym cannot be reversed or recomputed.

The key is 32 random bytes, stored as hex in a file that only its owner can read
(``netanalysis keygen --out FILE``). It never enters the graph: a Source node may record the
key's *fingerprint* (a hash of the key) so that loads made with different keys can be told apart.

Examples
--------
>>> p = Pseudonymiser(bytes(32))
>>> len(p.hash("phone", "+31612345678"))
32
>>> p.hash("phone", "+31612345678") == p.hash("plate", "+31612345678")
False
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import secrets
import stat
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from netanalysis.errors import ConfigError

__all__ = ["ENV_KEY_FILE", "KEY_BYTES", "Pseudonymiser", "key_from_env", "keygen", "load_key"]

ENV_KEY_FILE = "NETANALYSIS_KEY_FILE"
KEY_BYTES = 32
# Shorter keys are refused: a guessable key would let anyone recompute pseudonyms from names.
_MIN_KEY_BYTES = 16
# A random 16-byte key has about 3.8 bits of entropy per byte as counted here (never below 3 in
# 100,000 draws), a 32-byte one about 4.8; below 2.5 the key is a pattern (zeros, one repeated
# byte, a short repeated word), not a secret.
_MIN_BITS_PER_BYTE = 2.5
_log = logging.getLogger(__name__)
_HOWTO = "create one with `netanalysis keygen --out FILE` and pass it with --key-file or NETANALYSIS_KEY_FILE"


class Pseudonymiser:
    """Keyed hashing of identifying values, domain-separated per kind of identifier.

    Parameters
    ----------
    key : bytes
        The secret key (at least 16 bytes; ``keygen`` makes 32).
    """

    __slots__ = ("_inner", "_key", "_outer", "fingerprint", "key_file")

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ConfigError(f"the pseudonymisation key is shorter than {_MIN_KEY_BYTES} bytes; {_HOWTO}")
        self._key = bytes(key)
        # HMAC's two keyed SHA-256 states (RFC 2104), kept so that ``hash_many`` only copies them.
        block = (hashlib.sha256(self._key).digest() if len(self._key) > 64 else self._key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        # A fingerprint identifies the key without revealing it (one-way, and domain-separated from
        # every pseudonym because it is not an HMAC under the key).
        digest = hashlib.sha256(b"netanalysis-key-fingerprint\x1f" + self._key)
        self.fingerprint: str = digest.hexdigest()[:12]
        # The file it was read from (``load_key``), so that no output of a load can overwrite it.
        self.key_file: Path | None = None

    def hash(self, kind: str, value: str) -> str:
        """Return the pseudonym of ``value`` as an identifier of ``kind`` (32 hex characters).

        Parameters
        ----------
        kind : str
            The identifier kind, e.g. ``"phone"``, ``"plate"``, ``"person"``.
        value : str
            The normalised clear value (see ``loaders.records`` for the forms).
        """
        # HMAC from the two keyed states set up once (RFC 2104): half the CPU of ``hmac.new``,
        # which sets them up again for every value; ``hmac.digest`` was no faster here.
        inner = self._inner.copy()
        inner.update(f"{kind}\x1f{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]

    def hash_many(self, kind: str, values: Iterable[str]) -> list[str]:
        """The pseudonyms of many values of one kind: ``[hash(kind, v) for v in values]``, about
        twice as fast (the keyed HMAC states are copied instead of set up for every value), for a
        search that tries many spellings (``netanalysis.find``).

        >>> import hashlib, hmac
        >>> p = Pseudonymiser(bytes(range(32)))
        >>> p.hash_many("person", ["a", "b"]) == [p.hash("person", "a"), p.hash("person", "b")]
        True
        >>> key = bytes(range(32))
        >>> p.hash("person", "a") == hmac.new(key, b"person\x1fa", hashlib.sha256).hexdigest()[:32]
        True
        """
        inner, outer = self._inner.copy(), self._outer
        inner.update(f"{kind}\x1f".encode())
        out = []
        for value in values:
            i = inner.copy()
            i.update(value.encode())
            o = outer.copy()
            o.update(i.digest())
            out.append(o.hexdigest()[:32])
        return out

    def __repr__(self) -> str:  # never show the key, e.g. in a traceback or a notebook
        return f"Pseudonymiser(fingerprint={self.fingerprint!r})"


def keygen(path: str | os.PathLike[str]) -> Path:
    """Write a new random 32-byte key (hex) to ``path``, readable by its owner only (0600).

    Refuses to overwrite an existing file: replacing a key changes every pseudonym, so data loaded
    with the old key would no longer link with new loads.

    Parameters
    ----------
    path : path-like
        Where to write the key file; its folder must exist.

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path).expanduser()
    if target.exists():
        raise ConfigError(
            f"key file {target} already exists; it is not overwritten because a new key changes "
            "every pseudonym (choose another path or delete the old file yourself)"
        )
    if not target.parent.is_dir():
        raise ConfigError(f"folder {target.parent} does not exist; create it first or choose another path")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create key file {target}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    # O_CREAT's mode is filtered by the umask; make sure the file is 0600 whatever the umask.
    os.chmod(target, 0o600)
    return target


def key_from_env(
    key_file: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Pseudonymiser:
    """The key from ``key_file``, else from the file named by ``NETANALYSIS_KEY_FILE``.

    The one place where the key's environment variable is read: the command line and the
    notebooks call it; the library takes a key (or a key file) as an argument.

    Parameters
    ----------
    key_file : path-like or None
        The key file; when None or empty the environment variable is used.
    environ : mapping or None
        The environment to read (default ``os.environ``).

    Returns
    -------
    Pseudonymiser
        Ready to hash with the key.

    Raises
    ------
    ConfigError
        No key given anywhere, or what ``load_key`` refuses.
    """
    env = os.environ if environ is None else environ
    if key_file is None or str(key_file) == "":
        key_file = env.get(ENV_KEY_FILE) or None
    return load_key(key_file)


def load_key(key_file: str | os.PathLike[str] | None = None) -> Pseudonymiser:
    """Read the key from ``key_file`` (``key_from_env`` also looks at ``NETANALYSIS_KEY_FILE``).

    Parameters
    ----------
    key_file : path-like or None
        The key file; None means no key was given (a ConfigError that says how to make one).

    Returns
    -------
    Pseudonymiser
        Ready to hash with the key.

    Raises
    ------
    ConfigError
        No key given, the file is missing or unreadable, it does not hold a hex key, or the key is
        obviously weak (all zeros, one repeated byte, a short repeated pattern). A key file that
        others may read (looser than 0600) is used, with a warning on the ``loaders.pseudonymise``
        logger.
    """
    if key_file is None or str(key_file) == "":
        raise ConfigError(f"no pseudonymisation key given; {_HOWTO}")
    path = Path(key_file).expanduser()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError(f"key file {path} does not exist; {_HOWTO}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not a hex text file"
        raise ConfigError(f"cannot read key file {path}: {reason}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"key file {path} does not hold a hex key; {_HOWTO}") from None
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigError(f"key file {path} holds a key shorter than {_MIN_KEY_BYTES} bytes; {_HOWTO}")
    _check_key_file(path, key)
    pseudonymiser = Pseudonymiser(key)
    pseudonymiser.key_file = path
    return pseudonymiser


def _bits_per_byte(key: bytes) -> float:
    """Shannon entropy of the key's byte values, in bits per byte."""
    counts = Counter(key)
    return -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())


def _check_key_file(path: Path, key: bytes) -> None:
    """Refuse an obviously weak key; warn when others may read the key file.

    A guessable key lets anyone recompute pseudonyms from names; a readable key file lets every
    user of the machine do so.
    """
    if _bits_per_byte(key) < _MIN_BITS_PER_BYTE:
        raise ConfigError(
            f"key file {path} holds an obviously weak key (a repeated pattern, not random bytes); {_HOWTO}"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        _log.warning(
            "key file %s can be read by others (mode %04o); make it private with `chmod 600 %s`",
            path,
            mode,
            path,
        )
