"""``GET /metrics`` over a real server: ingest moves the counters that Prometheus scrapes."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

BLOCK = {
    "garrison.event.type": "guardrail.evaluation",
    "garrison.category": "guardrail_block",
    "garrison.guardrail.layer": "input-classifier",
    "garrison.guardrail.action": "block",
    "timestamp": "2026-11-20T09:15:02Z",
    "user.id": "u-metrics",
}


def _samples(http: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_ingest_counts_events_blocks_and_rejects(http: httpx.Client) -> None:
    before = _samples(http)
    body = [BLOCK, {**BLOCK, "timestamp": "2026-11-20T09:16:02Z"}, {**BLOCK, "timestamp": "naive"}]
    response = http.post("/api/v1/events", json=body)
    assert response.status_code == 422, response.text  # partly rejected: the good ones kept
    after = _samples(http)

    events = (
        "garrison_events_total",
        {"event_type": "guardrail.evaluation", "category": "guardrail_block"},
    )
    assert _value(after, events[0], **events[1]) - _value(before, events[0], **events[1]) == 2
    blocks = ("garrison_guardrail_blocks_total", {"layer": "input-classifier"})
    assert _value(after, blocks[0], **blocks[1]) - _value(before, blocks[0], **blocks[1]) == 2
    rejected = ("garrison_events_rejected_total", {"source": "http", "reason": "invalid"})
    assert (
        _value(after, rejected[0], **rejected[1]) - _value(before, rejected[0], **rejected[1]) == 1
    )
    assert _value(after, "garrison_pipeline_latency_seconds_count", stage="ingest") > _value(
        before, "garrison_pipeline_latency_seconds_count", stage="ingest"
    )


def test_a_resent_event_counts_as_a_duplicate_not_an_event(http: httpx.Client) -> None:
    event = {**BLOCK, "garrison.event.id": "0193a5b0-0000-7000-8000-00000000abcd"}
    http.post("/api/v1/events", json=[event])
    before = _samples(http)
    http.post("/api/v1/events", json=[event])
    after = _samples(http)
    key = ("garrison_events_rejected_total", {"source": "http", "reason": "duplicate"})
    assert _value(after, key[0], **key[1]) - _value(before, key[0], **key[1]) == 1
    events = (
        "garrison_events_total",
        {"event_type": "guardrail.evaluation", "category": "guardrail_block"},
    )
    assert _value(after, events[0], **events[1]) == _value(before, events[0], **events[1])
