"""Sealing content with AES-256-GCM, the key settings, and secrets read from files."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from garrison.core.crypto import ContentCipher, SealError, cipher_from_settings, key_id, parse_key
from garrison.core.errors import ConfigurationError
from garrison.core.settings import describe_settings, load_settings

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_a_key_is_read_from_hex_or_urlsafe_base64() -> None:
    assert parse_key(KEY.hex()) == KEY
    assert parse_key(base64.urlsafe_b64encode(KEY).decode()) == KEY
    assert parse_key(base64.urlsafe_b64encode(KEY).decode().rstrip("=")) == KEY


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("short", "bytes"),
        ("!!!not base64!!!", "neither"),
        (base64.b64encode(b"x" * 16).decode(), "16"),
    ],
)
def test_a_bad_key_is_refused_saying_why(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        parse_key(text)


def test_sealed_content_opens_only_for_its_row_and_key() -> None:
    cipher = ContentCipher(KEY)
    sealed = cipher.seal(b"ignore previous instructions", bound_to="event-1")
    assert sealed.startswith(f"gcm1.{key_id(KEY)}.")
    assert b"ignore" not in sealed.encode()
    assert cipher.open(sealed, bound_to="event-1") == b"ignore previous instructions"
    # A fresh nonce every time: equal texts do not give equal ciphertexts.
    assert cipher.seal(b"same", bound_to="e") != cipher.seal(b"same", bound_to="e")
    with pytest.raises(SealError, match="integrity"):
        cipher.open(sealed, bound_to="event-2")
    with pytest.raises(SealError, match="not configured"):
        ContentCipher(OTHER).open(sealed, bound_to="event-1")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError, match="integrity"):
        cipher.open(tampered, bound_to="event-1")
    with pytest.raises(SealError, match="sealed form"):
        cipher.open("plain text", bound_to="event-1")


def test_a_rotated_key_still_opens_old_rows() -> None:
    old = ContentCipher(KEY).seal(b"before rotation", bound_to="e")
    rotated = ContentCipher(OTHER, previous=(KEY,))
    assert rotated.open(old, bound_to="e") == b"before rotation"
    assert rotated.seal(b"after", bound_to="e").split(".")[1] == key_id(OTHER)


def test_storing_content_without_a_key_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="GARRISON_CONTENT_ENCRYPTION_KEY") as caught:
        cipher_from_settings(load_settings(store_content=True))
    assert "ALLOW_PLAINTEXT_CONTENT" in str(caught.value)
    lab = load_settings(store_content=True, allow_plaintext_content=True)
    assert cipher_from_settings(lab) is None
    settings = load_settings(store_content=True, content_encryption_key=KEY.hex())
    cipher = cipher_from_settings(settings)
    assert cipher is not None and cipher.key == KEY


def test_a_malformed_key_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="GARRISON_CONTENT_ENCRYPTION_KEY is invalid"):
        load_settings(content_encryption_key="tooshort")
    with pytest.raises(ConfigurationError, match="key 2"):
        load_settings(content_encryption_previous_keys=f"{KEY.hex()},nope")


def test_secrets_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = secrets.token_hex(32)
    key_file = tmp_path / "enc.key"
    key_file.write_text(key + "\n")
    monkeypatch.setenv("GARRISON_CONTENT_ENCRYPTION_KEY_FILE", str(key_file))
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "garrison_content_hmac_key").write_text("h" * 32)
    monkeypatch.setenv("GARRISON_SECRETS_DIR", str(folder))
    settings = load_settings()
    assert settings.content_encryption_key is not None
    assert settings.content_encryption_key.get_secret_value() == key
    assert settings.content_hmac_key is not None
    assert settings.content_hmac_key.get_secret_value() == "h" * 32
    rows = {row.name: row for row in describe_settings(settings)}
    assert rows["content_encryption_key"].source == "file"
    assert rows["content_hmac_key"].source == "secrets dir"
    assert all(key not in row.value and "h" * 32 not in row.value for row in rows.values())


def test_a_missing_secret_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GARRISON_CONTENT_HMAC_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigurationError, match="GARRISON_CONTENT_HMAC_KEY_FILE"):
        load_settings()
    monkeypatch.setenv("GARRISON_SECRETS_DIR", str(tmp_path / "nope"))
    with pytest.raises(ConfigurationError, match="GARRISON_SECRETS_DIR"):
        load_settings()
