"""Prompt and response text: what is kept, what is hashed, what is shown.

Raw content is personal data and often secret. A deployment keeps it only when it opts in
(``ContentPolicy.store_content``); otherwise an event keeps a keyed HMAC-SHA256 digest (equal texts
can still be matched across events, but a digest cannot be reversed by hashing guesses without the
key) and a short preview in which the detectors have masked secrets and PII.

The detectors are reached through the ``Scanner`` protocol so that ingest can be tested, and can
run, without knowing the detector pipeline's internals; ``default_scanner`` binds the real one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from garrison.core.settings import Settings
from garrison.monitoring.detectors.base import Finding, ScanContext, Verdict

log = logging.getLogger(__name__)

DEFAULT_PREVIEW_CHARS = 160
MIN_KEY_BYTES = 16
REPLACEMENT = "\ufffd"


class ScanOutcome(Protocol):
    """What a scan returns: the shape of ``garrison.monitoring.detectors.ScanResult``."""

    @property
    def findings(self) -> Sequence[Finding]: ...

    @property
    def verdict(self) -> Verdict: ...

    @property
    def redacted(self) -> str: ...


class Scanner(Protocol):
    def __call__(self, text: str, context: ScanContext, /) -> ScanOutcome: ...


@dataclass(frozen=True)
class EmptyOutcome:
    """The answer of a scanner that cannot look: no findings, and nothing safe to preview."""

    findings: Sequence[Finding] = ()
    verdict: Verdict = Verdict.ALLOW
    redacted: str = ""


def _unavailable_scanner(text: str, context: ScanContext, /) -> ScanOutcome:
    return EmptyOutcome()


def _detector_scanner(text: str, context: ScanContext, /) -> ScanOutcome:
    from garrison.monitoring import detectors

    outcome: ScanOutcome = detectors.scan(text, context)
    return outcome


@lru_cache(maxsize=1)
def default_scanner() -> Scanner:
    """The detector pipeline, or a scanner that finds nothing when it is not installed.

    Without detectors no text can be redacted, so previews are left empty rather than risk
    showing a secret: the fallback fails closed.
    """
    try:
        from garrison.monitoring import detectors
    except ImportError:  # pragma: no cover - the package always ships its detectors
        detectors = None  # type: ignore[assignment]
    if detectors is None or not callable(getattr(detectors, "scan", None)):
        log.warning("garrison.monitoring.detectors.scan is unavailable: events are not scanned")
        return _unavailable_scanner
    return _detector_scanner


def scanner_for(content_dir: Path | None) -> Scanner:
    """The detector pipeline bound to the organization's ``detectors.yaml`` in ``content_dir``,
    read once: the server and bulk ingest scan thousands of texts a second, and resolving the
    settings and the file per text cost more than the detectors themselves."""
    if default_scanner() is not _detector_scanner:
        return default_scanner()
    from garrison.monitoring import detectors

    config = detectors.config_for(content_dir)

    def scan(text: str, context: ScanContext, /) -> ScanOutcome:
        outcome: ScanOutcome = detectors.scan(text, context, config=config)
        return outcome

    return scan


def clean_text(text: str) -> str:
    """``text`` with what no store accepts replaced: NUL (PostgreSQL refuses it) and unpaired
    surrogates (not encodable as UTF-8, so neither hashable nor storable)."""
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join(REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


@dataclass(frozen=True)
class ContentPolicy:
    """How a deployment treats raw content. Built from settings by the caller."""

    hmac_key: bytes = field(repr=False)
    store_content: bool = False
    preview_chars: int = DEFAULT_PREVIEW_CHARS

    def __post_init__(self) -> None:
        if len(self.hmac_key) < MIN_KEY_BYTES:
            raise ValueError(f"the content HMAC key must be at least {MIN_KEY_BYTES} bytes")
        if not 0 <= self.preview_chars <= 4_000:
            raise ValueError("the preview length must be between 0 and 4000 characters")

    def digest(self, text: str) -> str:
        """Keyed HMAC-SHA256 of ``text`` (UTF-8), as 64 hex digits."""
        return hmac.new(self.hmac_key, clean_text(text).encode("utf-8"), hashlib.sha256).hexdigest()

    def preview(self, redacted: str) -> str:
        """The start of already-redacted text on one line, cut with an ellipsis.

        Control characters and runs of whitespace become single spaces, so a preview cannot
        forge extra lines in a log viewer or a terminal table.
        """
        head = redacted[: self.preview_chars * 4]
        flat = " ".join(head.split())
        if not flat.isprintable():
            # Rare (zero-width and other format characters): the per-character pass only then.
            flat = " ".join("".join(c if c.isprintable() else " " for c in flat).split())
        if len(flat) <= self.preview_chars:
            return flat
        return flat[: max(0, self.preview_chars - 1)] + "…"

    @classmethod
    def ephemeral(cls, *, store_content: bool = False) -> ContentPolicy:
        """A policy with a random key: digests are comparable only within this process."""
        return cls(hmac_key=secrets.token_bytes(32), store_content=store_content)


def content_policy_from_settings(settings: Settings) -> ContentPolicy:
    """The deployment's content policy. Build it once per process: without a configured key
    the digests use a random one, comparable only within this process."""
    if settings.content_hmac_key is None:
        log.warning("GARRISON_CONTENT_HMAC_KEY is not set: content digests use a random key")
        key = secrets.token_bytes(32)
    else:
        key = settings.content_hmac_key.get_secret_value().encode("utf-8")
    return ContentPolicy(
        key, store_content=settings.store_content, preview_chars=settings.content_preview_chars
    )
