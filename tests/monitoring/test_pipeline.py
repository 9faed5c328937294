"""The ingest pipeline: per-item reports, content policy, findings, and nothing accepted lost."""

from __future__ import annotations

from typing import Any

import pytest

from garrison.monitoring.content import ContentPolicy
from garrison.monitoring.detectors.base import ScanContext
from garrison.monitoring.events import EventType, IngestSource, SecurityEvent
from garrison.monitoring.ingest import pipeline as pipeline_module
from garrison.monitoring.ingest.enrich import derive_category, prepare_event
from garrison.monitoring.ingest.pipeline import IngestPipeline, Submission
from garrison.monitoring.store import count_events, get_event, insert_events, list_findings
from garrison.store import Store
from tests.monitoring.support import POLICY, Outcome, scan


def _sub(i: int, **fields: Any) -> Submission:
    return Submission(
        i,
        {"garrison.event.type": "llm.request", "timestamp": f"2026-01-01T00:00:{i:02d}Z", **fields},
    )


def test_batches_keep_good_items_and_report_the_rest(store: Store) -> None:
    pipe = IngestPipeline(store, policy=POLICY, scanner=scan, chunk_size=2)
    report = pipe.ingest(
        [
            _sub(0, **{"garrison.content.text": "hi a@b.io"}),
            _sub(1, **{"garrison.event.type": "nope"}),
            _sub(2),
            _sub(0, **{"garrison.content.text": "hi a@b.io"}),  # the same submission again
            _sub(4, **{"garrison.event.id": "evt-1"}),
            _sub(5, **{"garrison.event.id": "evt-1"}),  # same ID, different body: first wins
        ],
        source=IngestSource.HTTP,
    )
    assert [i.status for i in report.items] == [
        "accepted",
        "rejected",
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
    ]
    assert report.as_dict(items=False) == {
        "received": 6,
        "accepted": 3,
        "duplicates": 2,
        "rejected": 1,
    }
    with store.session() as session:
        assert count_events(session) == 3
        first = report.items[0].event_id
        assert first is not None
        stored = get_event(session, first)
        assert stored is not None
        assert stored.source is IngestSource.HTTP
        findings = list_findings(session, first)
    assert [f.category for f in findings] == ["pii"]
    assert findings[0].owasp == ["LLM02:2025"]


def test_content_is_kept_only_when_the_deployment_opts_in(store: Store) -> None:
    keep = ContentPolicy(POLICY.hmac_key, store_content=True)
    pipe = IngestPipeline(store, policy=keep, scanner=scan)
    report = pipe.ingest(
        [_sub(0, **{"garrison.content.text": "to z@z.io \u0000", "garrison.tool.arguments": "{}"})],
        source=IngestSource.SDK,
    )
    with store.session() as session:
        stored = get_event(session, str(report.items[0].event_id))
    assert stored is not None
    assert stored.event.content == "to z@z.io \ufffd"  # NUL replaced: PostgreSQL refuses it
    assert stored.event.content_preview == "to [EMAIL] \ufffd"
    assert stored.event.tool_arguments == "{}"
    assert stored.event.tool_arguments_digest == keep.digest("{}")


def test_a_store_failure_is_isolated_to_its_item(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = insert_events

    def flaky(session: Any, events: list[SecurityEvent], **kwargs: Any) -> set[str]:
        if any(e.user_id == "poison" for e in events):
            from sqlalchemy.exc import OperationalError

            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real(session, events, **kwargs)

    monkeypatch.setattr(pipeline_module, "insert_events", flaky)  # the name the pipeline calls
    pipe = IngestPipeline(store, policy=POLICY, scanner=scan)
    report = pipe.ingest(
        [_sub(0), _sub(1, **{"user.id": "poison"}), _sub(2)], source=IngestSource.FILE
    )
    assert [i.status for i in report.items] == ["accepted", "rejected", "accepted"]
    assert "disk full" in report.items[1].errors[0].reason
    with store.session() as session:
        assert count_events(session) == 2


def test_a_crashing_detector_does_not_lose_the_event() -> None:
    def broken(text: str, context: ScanContext) -> Outcome:
        raise RuntimeError("detector bug")

    event = SecurityEvent(event_type=EventType.LLM_REQUEST, content="secret stuff")
    prepared = prepare_event(event, POLICY, broken)
    assert prepared.content is None
    assert prepared.content_digest == POLICY.digest("secret stuff")
    assert prepared.content_preview == ""  # nothing unredacted is shown


@pytest.mark.parametrize(
    ("fields", "category"),
    [
        (
            {"event_type": EventType.GUARDRAIL_EVALUATION, "guardrail_action": "block"},
            "guardrail_block",
        ),
        ({"event_type": EventType.GUARDRAIL_EVALUATION, "guardrail_action": "pass"}, None),
        (
            {"event_type": EventType.OUTPUT_FILTER_ACTION, "guardrail_action": "redact"},
            "output_filter_block",
        ),
        ({"event_type": EventType.RATE_LIMIT_HIT}, "rate_limit_hit"),
        ({"event_type": EventType.AUTH_FAILURE}, "auth_failure"),
        ({"event_type": EventType.TOOL_CALL, "tool_status": "denied"}, "tool_abuse_attempt"),
        (
            {"event_type": EventType.LLM_RESPONSE, "content": "CANARY-1 and q@w.io"},
            "system_prompt_leakage",
        ),
        ({"event_type": EventType.LLM_REQUEST, "content": "BLOCKME"}, "anomalous_pattern"),
        ({"event_type": EventType.LLM_REQUEST, "content": "hello"}, None),
    ],
)
def test_categories_are_derived_from_traffic_then_findings(
    fields: dict[str, Any], category: str | None
) -> None:
    def context(event: SecurityEvent, direction: Any) -> ScanContext:
        return ScanContext(direction=direction, canaries=("CANARY-1",))

    event = SecurityEvent.model_validate(fields)
    prepared = prepare_event(event, POLICY, scan, context)
    assert (prepared.category.value if prepared.category else None) == category
    assert derive_category(prepared) == prepared.category


def test_retrieved_documents_are_scanned_as_retrieved_text() -> None:
    seen: list[str] = []

    def spy(text: str, context: ScanContext) -> Outcome:
        seen.append(context.direction.value)
        return scan(text, context)

    event = SecurityEvent(event_type=EventType.RETRIEVAL, documents=["fine", "BLOCKME please"])
    prepared = prepare_event(event, POLICY, spy)
    assert seen == ["retrieved", "retrieved"]
    assert prepared.documents is None
    assert prepared.document_previews == ["fine", "BLOCKME please"]
    assert prepared.findings[0].target == "garrison.content.documents[1]"
    assert prepared.verdict is not None
    assert prepared.verdict.value == "block"


def test_the_observer_sees_each_stored_event_once(store: Store) -> None:
    seen: list[list[str]] = []
    pipe = IngestPipeline(
        store,
        policy=POLICY,
        scanner=scan,
        observer=lambda events: seen.append([e.event_id for e in events]),
    )
    pipe.ingest(
        [
            _sub(0, **{"garrison.event.id": "evt-a"}),
            _sub(1, **{"garrison.event.id": "evt-a"}),  # same ID in the same chunk
            _sub(2, **{"garrison.event.type": "nope"}),
            _sub(3, **{"garrison.event.id": "evt-b"}),
        ],
        source=IngestSource.HTTP,
    )
    pipe.ingest([_sub(4, **{"garrison.event.id": "evt-b"})], source=IngestSource.HTTP)
    # The duplicate, the rejected item and the re-sent evt-b reach no rule.
    assert seen == [["evt-a", "evt-b"]]


def test_a_failing_observer_loses_no_event(store: Store) -> None:
    def broken(events: Any) -> None:
        raise RuntimeError("rules down")

    pipe = IngestPipeline(store, policy=POLICY, scanner=scan, observer=broken)
    report = pipe.ingest([_sub(0, **{"garrison.event.id": "evt-c"})], source=IngestSource.HTTP)
    assert report.accepted == 1
    with store.session() as session:
        assert get_event(session, "evt-c") is not None
