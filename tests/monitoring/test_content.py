"""Content handling: keyed digests, redacted previews, opt-in storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garrison.core.errors import ConfigurationError
from garrison.core.settings import load_settings
from garrison.monitoring.content import (
    ContentPolicy,
    EmptyOutcome,
    _unavailable_scanner,
    clean_text,
    content_policy_from_settings,
    default_scanner,
    scanner_for,
)
from garrison.monitoring.detectors.base import Direction, ScanContext


def test_digests_are_keyed() -> None:
    a = ContentPolicy(b"a" * 32)
    b = ContentPolicy(b"b" * 32)
    assert a.digest("hello") == ContentPolicy(b"a" * 32).digest("hello")
    assert a.digest("hello") != b.digest("hello")
    assert len(a.digest("hello")) == 64
    assert "a" * 32 not in repr(a)  # the key never shows in logs


def test_short_keys_and_silly_previews_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        ContentPolicy(b"short")
    with pytest.raises(ValueError, match="preview"):
        ContentPolicy(b"k" * 16, preview_chars=-1)


def test_preview_is_cut_with_an_ellipsis() -> None:
    policy = ContentPolicy(b"k" * 16, preview_chars=10)
    assert policy.preview("short") == "short"
    assert policy.preview("a much longer text") == "a much lo…"


def test_clean_text_replaces_what_no_store_accepts() -> None:
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean_text("x\ud800y") == "x\ufffdy"
    assert clean_text("fine ✓") == "fine ✓"
    assert ContentPolicy(b"k" * 16).digest("x\ud800y")  # hashable after cleaning


def test_policy_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_STORE_CONTENT", "true")
    monkeypatch.setenv("GARRISON_CONTENT_HMAC_KEY", "k" * 20)
    monkeypatch.setenv("GARRISON_CONTENT_PREVIEW_CHARS", "40")
    policy = content_policy_from_settings(load_settings())
    assert policy.store_content
    assert policy.hmac_key == b"k" * 20
    assert policy.preview_chars == 40
    monkeypatch.delenv("GARRISON_CONTENT_HMAC_KEY")
    monkeypatch.delenv("GARRISON_STORE_CONTENT")
    default = content_policy_from_settings(load_settings())
    assert not default.store_content
    assert len(default.hmac_key) == 32  # a random per-process key
    monkeypatch.setenv("GARRISON_STORE_CONTENT", "maybe")
    with pytest.raises(ConfigurationError, match="GARRISON_STORE_CONTENT is invalid"):
        load_settings()
    monkeypatch.setenv("GARRISON_STORE_CONTENT", "false")
    monkeypatch.setenv("GARRISON_CONTENT_HMAC_KEY", "short")
    with pytest.raises(
        ConfigurationError, match="GARRISON_CONTENT_HMAC_KEY is invalid: must be at least 16 bytes"
    ):
        load_settings()


def test_the_default_scanner_masks_pii_and_the_fallback_fails_closed() -> None:
    outcome = default_scanner()("mail me at carol@example.net", ScanContext())
    assert "carol@example.net" not in outcome.redacted
    empty = _unavailable_scanner("mail me at carol@example.net", ScanContext())
    assert empty.redacted == ""  # without detectors nothing unredacted is ever previewed
    assert isinstance(empty, EmptyOutcome)


def test_previews_are_one_line() -> None:
    policy = ContentPolicy(b"k" * 16, preview_chars=20)
    assert policy.preview("line one\nline two\r\n\x1b[31mred") == "line one line two […"


@given(st.text(max_size=400))
def test_previews_equal_the_per_character_definition(text: str) -> None:
    # The fast path (split first, then look for non-printables) must give exactly what the
    # definition gives: every non-printable character a space, runs of spaces one, then cut.
    policy = ContentPolicy(b"k" * 16, preview_chars=40)
    head = text[:160]
    flat = " ".join("".join(c if c.isprintable() else " " for c in head).split())
    expected = flat if len(flat) <= 40 else flat[:39] + "…"
    assert policy.preview(text) == expected


def test_a_bound_scanner_reads_the_organizations_switchboard_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from garrison.monitoring import detectors

    packaged = (Path(detectors.__file__).parents[2] / "content" / "detectors.yaml").read_text()
    (tmp_path / "detectors.yaml").write_text(
        packaged.replace(
            "  - id: DET-SECRETS\n    enabled: true", "  - id: DET-SECRETS\n    enabled: false"
        ),
        encoding="utf-8",
    )
    text = "my key is AKIAIOSFODNN7EXAMPLE and the secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    context = ScanContext(direction=Direction.INPUT)
    packaged_scanner = scanner_for(None)
    org_scanner = scanner_for(tmp_path)

    def no_settings() -> None:
        raise AssertionError("a bound scanner must not read the settings again")

    # Bound once: neither scanner resolves the settings or the file per text.
    monkeypatch.setattr("garrison.monitoring.detectors.pipeline.load_settings", no_settings)
    assert any(f.detector_id == "DET-SECRETS" for f in packaged_scanner(text, context).findings)
    assert not any(f.detector_id == "DET-SECRETS" for f in org_scanner(text, context).findings)
