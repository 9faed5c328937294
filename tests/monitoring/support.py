"""A tiny, deterministic scanner for monitoring tests, independent of the real detectors.

It finds e-mail addresses (PII, redacted as ``[EMAIL]``), a canary token when the context
registers one, and treats the word ``BLOCKME`` as a prompt injection that blocks. Words are split
on whitespace: no regular expression touches the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from garrison.monitoring.content import ContentPolicy
from garrison.monitoring.detectors.base import (
    Category,
    Finding,
    ScanContext,
    Severity,
    Span,
    Verdict,
)

POLICY = ContentPolicy(b"test-key-0123456789abcdef", store_content=False)


@dataclass(frozen=True)
class Outcome:
    findings: Sequence[Finding]
    verdict: Verdict
    redacted: str


def _words(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = None
    for i, ch in enumerate(text):
        if ch.isspace():
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _is_email(word: str) -> bool:
    word = word.rstrip(".,;:!?")
    local, at, domain = word.partition("@")
    return bool(at and local and "." in domain and not domain.startswith("."))


def scan(text: str, context: ScanContext) -> Outcome:
    findings: list[Finding] = []
    redacted = text
    verdict = Verdict.ALLOW
    for start, end in reversed(_words(text)):
        word = text[start:end].rstrip(".,;:!?")
        stop = start + len(word)
        if _is_email(word):
            findings.append(
                Finding(
                    "test.email",
                    "1",
                    Category.PII,
                    0.9,
                    Severity.MEDIUM,
                    "e-mail address",
                    owasp=("LLM02:2025",),
                    spans=(Span(start, stop),),
                    redact=True,
                )
            )
            redacted = redacted[:start] + "[EMAIL]" + redacted[stop:]
            verdict = max(verdict, Verdict.FLAG, key=list(Verdict).index)
        elif word == "BLOCKME":
            findings.append(
                Finding(
                    "test.injection",
                    "1",
                    Category.PROMPT_INJECTION,
                    0.99,
                    Severity.HIGH,
                    "instruction override",
                    owasp=("LLM01:2025",),
                    atlas=("AML.T0051",),
                    spans=(Span(start, stop),),
                )
            )
            verdict = Verdict.BLOCK
        elif word in context.canaries:
            findings.append(
                Finding(
                    "test.canary",
                    "1",
                    Category.SYSTEM_PROMPT_LEAK,
                    1.0,
                    Severity.CRITICAL,
                    "canary token in output",
                    owasp=("LLM07:2025",),
                    spans=(Span(start, stop),),
                )
            )
            verdict = Verdict.BLOCK
    findings.reverse()
    return Outcome(findings, verdict, redacted)
