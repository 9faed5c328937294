"""Sigma detections compiled to predicates: each supported modifier, on matching and other events."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sigma.rule import SigmaRule

from garrison.monitoring.events import EventFinding, EventType, SecurityEvent
from garrison.monitoring.rules.predicate import (
    UnsupportedSigma,
    compile_condition,
    required_fields,
    required_values,
)


def _compile(detection: str) -> Any:
    rule = SigmaRule.from_yaml(
        "title: t\nlogsource: {product: genai}\ndetection:\n" + detection + "\n"
    )
    tree = rule.detection.parsed_condition[0].parse()
    return compile_condition(tree), tree


def _event(**changes: Any) -> SecurityEvent:
    base: dict[str, Any] = {
        "event_type": EventType.LLM_REQUEST,
        "timestamp": datetime(2026, 11, 1, tzinfo=UTC),
        "user_id": "u-1",
    }
    return SecurityEvent(**{**base, **changes})


CASES = [
    ("  s: {garrison.content.text|contains: SECRET}\n  condition: s", "a secret here", "nothing"),
    (
        "  s: {garrison.content.text|startswith: ignore}\n  condition: s",
        "Ignore this",
        "do not ignore",
    ),
    ("  s: {garrison.content.text|endswith: '!!'}\n  condition: s", "now!!", "!! first"),
    ("  s: {garrison.content.text: 'a*c?e'}\n  condition: s", "abbbcde", "abbbcdde"),
    ("  s: {garrison.content.text|cased: Admin}\n  condition: s", "Admin", "admin"),
    (
        "  s: {garrison.content.text|contains|all: [alpha, beta]}\n  condition: s",
        "beta then alpha",
        "only alpha",
    ),
    ("  s: {garrison.content.text|re: '^a+b$'}\n  condition: s", "aaab", "aaabb"),
    (
        "  s: {garrison.content.text|re|i: 'SYSTEM\\s+prompt'}\n  condition: s",
        "system  Prompt",
        "sys prompt",
    ),
]


@pytest.mark.parametrize(("detection", "hit", "miss"), CASES)
def test_string_modifiers(detection: str, hit: str, miss: str) -> None:
    predicate, _ = _compile(detection)
    assert predicate(_event(content=hit))
    assert not predicate(_event(content=miss))
    assert not predicate(_event())  # a missing field never matches a value


def test_numbers_null_exists_and_lists() -> None:
    gte, _ = _compile("  s: {gen_ai.usage.input_tokens|gte: 100}\n  condition: s")
    assert gte(_event(input_tokens=100)) and not gte(_event(input_tokens=99))
    cost, _ = _compile("  s: {garrison.usage.cost|gt: 0.5}\n  condition: s")
    assert cost(_event(cost=Decimal("0.75"))) and not cost(_event(cost=Decimal("0.25")))
    null, _ = _compile("  s: {session.id: null}\n  condition: s")
    assert null(_event()) and not null(_event(session_id="s"))
    exists, _ = _compile("  s: {session.id|exists: true}\n  condition: s")
    assert exists(_event(session_id="s")) and not exists(_event())
    listed, _ = _compile("  s: {garrison.finding.categories: pii}\n  condition: s")
    finding = EventFinding(detector_id="pii", category="pii", score=0.9)
    assert listed(_event(findings=[finding])) and not listed(_event())
    extra, _ = _compile("  s: {http.route: /chat}\n  condition: s")
    assert extra(_event(attributes={"http.route": "/chat"}))


def test_not_and_one_of() -> None:
    predicate, tree = _compile(
        "  a: {garrison.event.type: llm.request}\n"
        "  b: {user.id: u-2}\n"
        "  f_1: {session.id: s-1}\n"
        "  condition: a and not b and 1 of f_*"
    )
    assert predicate(_event(session_id="s-1"))
    assert not predicate(_event(session_id="s-1", user_id="u-2"))
    assert not predicate(_event(session_id="s-2"))
    assert required_values(tree, "garrison.event.type") == frozenset({"llm.request"})
    assert required_fields(tree) >= {"garrison.event.type", "session.id"}


def test_unsupported_modifier_and_keywords_are_refused() -> None:
    with pytest.raises(UnsupportedSigma, match="SigmaCIDRExpression"):
        _compile("  s: {client.address|cidr: 10.0.0.0/8}\n  condition: s")
    with pytest.raises(UnsupportedSigma, match="keyword search"):
        _compile("  keywords: [evil]\n  condition: keywords")


def test_hostile_text_is_matched_in_linear_time() -> None:
    # (a+)+$ backtracks exponentially in Python's re; re2 answers at once.
    predicate, _ = _compile("  s: {garrison.content.text|re: '(a+)+$'}\n  condition: s")
    started = time.perf_counter()
    assert not predicate(_event(content="a" * 50_000 + "!"))
    assert time.perf_counter() - started < 1.0
    assert predicate(_event(content="a" * 10))


def test_regex_and_wildcards_match_characters_not_bytes() -> None:
    # re2 is handed UTF-8 bytes: a single-character wildcard must still take one character
    # (two bytes here), and case folding must still work past ASCII.
    single, _ = _compile("  s: {garrison.content.text: 'caf?'}\n  condition: s")
    assert single(_event(content="café"))
    assert not single(_event(content="cafée"))
    folded, _ = _compile("  s: {garrison.content.text|re|i: 'ÉTÉ'}\n  condition: s")
    assert folded(_event(content="un été chaud"))
    assert not folded(_event(content="un ete chaud"))
