"""Sealing stored prompt content with AES-256-GCM.

A sealed value is ``gcm1.<key id>.<urlsafe base64 of nonce + ciphertext>``. The key id (the first
8 hex digits of SHA-256 of the key) travels with the value so a row written under an old key is
recognised as such after a rotation, instead of failing as "corrupt". The associated data binds a
ciphertext to its row (the event id), so copying one row's sealed content into another row fails
to open rather than silently showing the wrong prompt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from garrison.core.errors import ConfigurationError, GarrisonError

if TYPE_CHECKING:
    from garrison.core.settings import Settings

SCHEME = "gcm1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_HELP = (
    "generate one with python -c 'import secrets, base64; "
    "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'"
)


class SealError(GarrisonError):
    """Sealed content cannot be opened: wrong key, unknown key id, or damaged value."""


def parse_key(text: str) -> bytes:
    """32 key bytes from 64 hex digits or urlsafe base64; ``ValueError`` says which form is wrong.

    Hex is tried first because 64 hex digits are also valid base64 (of 48 bytes), which would
    then be refused for its length with a misleading message.
    """
    raw = text.strip()
    if len(raw) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(raw)
        except ValueError:
            pass
    try:
        padded = raw + "=" * (-len(raw) % 4)
        key = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(
            f"is neither 64 hex digits nor urlsafe base64 of {KEY_BYTES} bytes; {KEY_HELP}"
        ) from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}; {KEY_HELP}")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@dataclass(frozen=True)
class ContentCipher:
    """Seals with ``key``; opens values sealed with ``key`` or any of ``previous`` (rotation)."""

    key: bytes
    previous: tuple[bytes, ...] = ()
    _by_id: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: Iterable[bytes] = (self.key, *self.previous)
        by_id: dict[str, AESGCM] = {}
        for key in keys:
            if len(key) != KEY_BYTES:
                raise ConfigurationError(
                    f"a content encryption key must be {KEY_BYTES} bytes, not {len(key)}",
                    hint=KEY_HELP,
                )
            by_id.setdefault(key_id(key), AESGCM(key))
        object.__setattr__(self, "_by_id", by_id)

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def seal(self, plaintext: bytes, *, bound_to: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._by_id[self.key_id].encrypt(nonce, plaintext, bound_to.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{SCHEME}.{self.key_id}.{body}"

    def open(self, value: str, *, bound_to: str) -> bytes:
        scheme, _, rest = value.partition(".")
        kid, _, body = rest.partition(".")
        if scheme != SCHEME or not kid or not body:
            raise SealError(
                f"stored content is not in the {SCHEME} sealed form",
                hint="the row was altered outside Garrison; restore it from a backup",
            )
        aead = self._by_id.get(kid)
        if aead is None:
            raise SealError(
                f"stored content of {bound_to!r} was sealed with key {kid}, which is not "
                f"configured (the current key is {self.key_id})",
                hint="set GARRISON_CONTENT_ENCRYPTION_KEY to that key, or list it in "
                "GARRISON_CONTENT_ENCRYPTION_PREVIOUS_KEYS; the stored data is unchanged",
            )
        try:
            blob = base64.urlsafe_b64decode(body.encode("ascii"))
            return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], bound_to.encode("utf-8"))
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError(
                f"stored content of {bound_to!r} fails its integrity check",
                hint="it was altered or moved from another row; the stored data is unchanged",
            ) from None


def cipher_from_settings(settings: Settings) -> ContentCipher | None:
    """The cipher ``settings`` describe, or ``None`` when no content encryption key is set.

    Keeping prompt content (``store_content``) without a key is refused here, so neither the
    server nor a CLI import ever writes prompts in clear unless the operator said so explicitly.
    """
    if settings.content_encryption_key is None:
        if settings.store_content and not settings.allow_plaintext_content:
            raise ConfigurationError(
                "GARRISON_STORE_CONTENT is on but GARRISON_CONTENT_ENCRYPTION_KEY is not set, "
                "so prompts would be stored in clear",
                hint=f"set the key ({KEY_HELP}); for a throwaway lab only, "
                "GARRISON_ALLOW_PLAINTEXT_CONTENT=true",
            )
        return None
    previous = settings.content_encryption_previous_keys
    older = () if previous is None else previous.get_secret_value().split(",")
    return ContentCipher(
        parse_key(settings.content_encryption_key.get_secret_value()),
        tuple(parse_key(k) for k in older if k.strip()),
    )
