"""Keyed hashes: stable, domain-separated, key-dependent; key files made and read safely."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.pseudonymise import ENV_KEY_FILE, Pseudonymiser, key_from_env, keygen, load_key
from netanalysis.errors import ConfigError

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_hash_is_hmac_sha256_hex_32_with_kind_prefix() -> None:
    p = Pseudonymiser(KEY_A)
    expected = hmac.new(KEY_A, b"phone\x1f+31612345678", hashlib.sha256).hexdigest()[:32]
    assert p.hash("phone", "+31612345678") == expected
    assert len(expected) == 32
    assert all(c in "0123456789abcdef" for c in expected)


def test_domains_are_separated() -> None:
    p = Pseudonymiser(KEY_A)
    assert p.hash("phone", "12-ABC-3") != p.hash("plate", "12-ABC-3")


def test_same_key_same_pseudonym_other_key_other_pseudonym() -> None:
    # Two regions with the same key link; a different key gives unrelated pseudonyms.
    assert Pseudonymiser(KEY_A).hash("iban", "NL91ABNA0417164300") == Pseudonymiser(bytes(KEY_A)).hash(
        "iban", "NL91ABNA0417164300"
    )
    assert Pseudonymiser(KEY_A).hash("iban", "NL91ABNA0417164300") != Pseudonymiser(KEY_B).hash(
        "iban", "NL91ABNA0417164300"
    )


@given(st.text(max_size=40), st.text(max_size=40))
def test_distinct_values_distinct_pseudonyms(a: str, b: str) -> None:
    p = Pseudonymiser(KEY_A)
    assert (p.hash("name", a) == p.hash("name", b)) == (a == b)


def test_repr_and_fingerprint_do_not_reveal_the_key() -> None:
    p = Pseudonymiser(KEY_A)
    assert KEY_A.hex() not in repr(p)
    assert KEY_A.hex()[:12] not in p.fingerprint
    assert p.fingerprint == Pseudonymiser(KEY_A).fingerprint != Pseudonymiser(KEY_B).fingerprint


def test_keygen_writes_private_hex_key_and_refuses_overwrite(tmp_path) -> None:
    path = keygen(tmp_path / "region.key")
    text = path.read_text().strip()
    assert len(bytes.fromhex(text)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ConfigError, match="already exists"):
        keygen(path)
    assert path.read_text().strip() == text
    other = keygen(tmp_path / "other.key")
    assert other.read_text() != text


def test_load_key_from_file_and_from_environment(tmp_path) -> None:
    path = keygen(tmp_path / "k")
    direct = load_key(path)
    via_env = key_from_env(None, environ={ENV_KEY_FILE: str(path)})
    assert direct.hash("person", "x") == via_env.hash("person", "x")


def test_missing_key_says_how_to_make_one(tmp_path) -> None:
    with pytest.raises(ConfigError, match="netanalysis keygen --out FILE"):
        key_from_env(None, environ={})
    with pytest.raises(ConfigError, match="does not exist.*keygen"):
        load_key(tmp_path / "nope.key")


@pytest.mark.parametrize("content", ["not hex at all", "abcd", ""])
def test_malformed_key_file_is_refused(tmp_path, content: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_key(path)


def test_keygen_into_missing_folder_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        keygen(tmp_path / "no" / "such" / "k.key")


@pytest.mark.parametrize(
    "key", [bytes(16), bytes(32), b"\xaa" * 32, bytes.fromhex("deadbeef" * 8), b"\x00\x01" * 16]
)
def test_obviously_weak_key_is_refused(tmp_path, key: bytes) -> None:
    path = tmp_path / "weak.key"
    path.write_text(key.hex() + "\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="obviously weak key"):
        load_key(path)


def test_key_readable_by_others_gives_a_warning(tmp_path, caplog) -> None:
    path = keygen(tmp_path / "k.key")
    with caplog.at_level("WARNING", logger="loaders.pseudonymise"):
        load_key(path)
    assert not caplog.records  # 0600: no word
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="loaders.pseudonymise"):
        load_key(path)
    (record,) = caplog.records
    assert "can be read by others (mode 0644)" in record.getMessage() and "chmod 600" in record.getMessage()
