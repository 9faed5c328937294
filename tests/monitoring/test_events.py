"""The event model and its flat form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from garrison.monitoring.detectors.base import Category, Finding, Severity, Span
from garrison.monitoring.events import (
    DERIVED_KEYS,
    EventFinding,
    EventType,
    EventValidationError,
    SecurityEvent,
    derived_event_id,
    new_event_id,
)


def _finding() -> EventFinding:
    return EventFinding.from_finding(
        Finding(
            "d.pii",
            "2",
            Category.PII,
            0.8,
            Severity.MEDIUM,
            "email",
            owasp=("LLM02:2025",),
            atlas=("AML.T0057",),
            spans=(Span(1, 5),),
        ),
        target="garrison.content.text",
    )


def test_flat_form_uses_otel_and_garrison_keys_and_round_trips() -> None:
    event = SecurityEvent(
        event_type=EventType.USAGE,
        timestamp=datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        user_id="u-1",
        provider="openai",
        request_model="gpt-4o-mini",
        input_tokens=10,
        output_tokens=3,
        cost=Decimal("0.000123"),
        findings=[_finding()],
        attributes={"gen_ai.request.temperature": 0.2, "http.route": "/chat"},
    )
    flat = event.to_flat()
    assert flat["timestamp"] == "2026-03-01T12:00:00Z"  # stored in UTC
    assert flat["gen_ai.provider.name"] == "openai"
    assert flat["gen_ai.usage.input_tokens"] == 10
    assert flat["user.id"] == "u-1"
    assert flat["garrison.usage.cost"] == "0.000123"
    assert flat["garrison.org"] == "default"
    assert flat["gen_ai.request.temperature"] == 0.2
    assert flat["garrison.owasp.ids"] == ["LLM02:2025"]
    assert flat["garrison.atlas.ids"] == ["AML.T0057"]
    assert flat["garrison.finding.max_score"] == 0.8
    assert "attributes" not in flat
    assert all(k not in flat for k in ("session.id", "garrison.category"))  # unset: left out
    again = SecurityEvent.from_flat(flat)
    assert again == event
    assert isinstance(again.cost, Decimal)
    assert set(flat) | {"garrison.finding.categories"} >= DERIVED_KEYS


def test_python_mode_keeps_python_types() -> None:
    event = SecurityEvent(event_type=EventType.USAGE, cost=Decimal("1.5"))
    flat = event.to_flat(mode="python")
    assert flat["garrison.usage.cost"] == Decimal("1.5")
    assert flat["timestamp"].tzinfo is not None


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({}, "garrison.event.type", "Field required"),
        (
            {"garrison.event.type": "llm.request", "timestamp": "2026-01-01T00:00:00"},
            "timestamp",
            "no timezone",
        ),
        (
            {"garrison.event.type": "llm.request", "garrison.org": "Has Spaces"},
            "garrison.org",
            "not allowed",
        ),
        (
            {"garrison.event.type": "llm.request", "garrison.tool.argument": "x"},
            "garrison.tool.argument",
            "did you mean",
        ),
        (
            {"garrison.event.type": "llm.request", "gen_ai.usage.input_tokens": -1},
            "gen_ai.usage.input_tokens",
            "greater than",
        ),
        (
            {"garrison.event.type": "llm.request", "garrison.usage.cost": "free"},
            "garrison.usage.cost",
            "decimal",
        ),
        ({"garrison.event.type": "llm.request", "bad key!": 1}, "bad key!", "letters, digits"),
        ({"garrison.event.type": "llm.request", "x": [1] * 500}, "x", "at most 128"),
        ({"garrison.event.type": "llm.request", "x": None}, "x", "string, number"),
    ],
)
def test_bad_events_name_the_key_and_the_reason(
    data: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(EventValidationError) as excinfo:
        SecurityEvent.from_flat(data)
    assert any(e.field == field and words in e.reason for e in excinfo.value.errors), (
        excinfo.value.errors
    )


def test_a_non_object_is_refused() -> None:
    with pytest.raises(EventValidationError, match="JSON object"):
        SecurityEvent.from_flat([1, 2])  # type: ignore[arg-type]


def test_naive_datetimes_are_refused_in_python_too() -> None:
    with pytest.raises(Exception, match="timezone"):
        SecurityEvent(event_type=EventType.USAGE, timestamp=datetime(2026, 1, 1))


def test_event_ids_are_time_ordered_uuid7_and_derived_ids_are_stable() -> None:
    early = new_event_id(datetime(2026, 1, 1, tzinfo=UTC))
    late = new_event_id(datetime(2026, 1, 2, tzinfo=UTC))
    assert early < late
    assert early[14] == "7"  # version nibble
    now = datetime(2026, 5, 5, tzinfo=UTC)
    assert derived_event_id(now, "a", "b") == derived_event_id(now, "a", "b")
    assert derived_event_id(now, "a", "b") != derived_event_id(now, "ab")
    assert len({new_event_id() for _ in range(1000)}) == 1000


def test_events_are_immutable() -> None:
    event = SecurityEvent(event_type=EventType.USAGE)
    with pytest.raises(Exception, match="frozen"):
        event.user_id = "x"  # type: ignore[misc]


def test_the_total_content_of_one_event_is_bounded() -> None:
    with pytest.raises(EventValidationError, match="at most 2000000 in all"):
        SecurityEvent.from_flat(
            {"garrison.event.type": "retrieval", "garrison.content.documents": ["x" * 900_000] * 3}
        )
