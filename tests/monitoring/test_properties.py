"""Property tests: the event model and the OTLP mapping on arbitrary input.

Whatever a sender posts, the parsers either accept it or raise their one documented error, which
the API turns into a 4xx naming the problem; anything else would be a 500 and a lost batch.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.monitoring.events import (
    KNOWN_KEYS,
    EventCategory,
    EventType,
    EventValidationError,
    SecurityEvent,
)
from garrison.monitoring.ingest.decode import BodyError, decode_json_document, decode_json_lines
from garrison.monitoring.ingest.otlp import OtlpError, logs_to_submissions, traces_to_submissions
from garrison.web.api.otlp import convert_payload

PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON-like values as a decoder hands them over (no NaN: orjson refuses it before we see it).
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.one_of(st.sampled_from(sorted(KNOWN_KEYS)), st.text(max_size=30))
IDENTS = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40
)


@st.composite
def events(draw: st.DrawFn) -> SecurityEvent:
    extra = draw(
        st.dictionaries(
            st.from_regex(r"\A[a-z][a-z0-9_]{0,10}(\.[a-z][a-z0-9_]{0,10}){1,2}\Z"),
            st.one_of(st.text(max_size=30), st.integers(-1000, 1000), st.booleans()),
            max_size=3,
        ).filter(lambda d: not any(k.startswith("garrison.") or k in KNOWN_KEYS for k in d))
    )
    return SecurityEvent(
        event_type=draw(st.sampled_from(list(EventType))),
        category=draw(st.none() | st.sampled_from(list(EventCategory))),
        user_id=draw(st.none() | IDENTS),
        session_id=draw(st.none() | IDENTS),
        content=draw(st.none() | st.text(max_size=200)),
        input_tokens=draw(st.none() | st.integers(0, 10**9)),
        documents=draw(st.none() | st.lists(st.text(max_size=50), max_size=3)),
        attributes=extra,
    )


@PROPERTIES
@given(events())
def test_the_flat_form_round_trips(event: SecurityEvent) -> None:
    flat = event.to_flat()
    assert SecurityEvent.from_flat(flat) == event
    # And through JSON bytes, as a sender and the store see it.
    assert SecurityEvent.from_flat(orjson.loads(orjson.dumps(flat))) == event


@PROPERTIES
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=8))
def test_from_flat_accepts_or_raises_its_validation_error(data: dict[str, Any]) -> None:
    refusal: EventValidationError | None = None
    try:
        event = SecurityEvent.from_flat(data)
    except EventValidationError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.errors, "a refusal names at least one key"
    else:
        assert SecurityEvent.from_flat(event.to_flat()) == event


@PROPERTIES
@given(JSON_VALUES.filter(lambda value: not isinstance(value, dict)))
def test_from_flat_refuses_anything_that_is_not_an_object(data: Any) -> None:
    with pytest.raises(EventValidationError, match="JSON object"):
        SecurityEvent.from_flat(data)


def _otlp_payloads(container: str, scopes: str, items: str) -> st.SearchStrategy[Any]:
    attribute = st.fixed_dictionaries(
        {
            "key": st.one_of(
                st.sampled_from(["gen_ai.operation.name", "gen_ai.system"]), st.text(max_size=20)
            )
        },
        optional={"value": JSON_VALUES},
    )
    item = st.fixed_dictionaries(
        {},
        optional={
            "attributes": st.one_of(st.lists(attribute, max_size=4), JSON_VALUES),
            "startTimeUnixNano": st.one_of(st.integers(), st.text(max_size=20)),
            "endTimeUnixNano": st.one_of(st.integers(), st.text(max_size=20)),
            "timeUnixNano": st.one_of(st.integers(), st.text(max_size=20)),
            "traceId": st.text(max_size=40),
            "spanId": st.text(max_size=20),
            "name": st.text(max_size=20),
            "body": JSON_VALUES,
            "events": JSON_VALUES,
        },
    )
    shaped = st.fixed_dictionaries(
        {
            container: st.lists(
                st.fixed_dictionaries(
                    {
                        scopes: st.lists(
                            st.fixed_dictionaries({items: st.lists(item, max_size=3)}), max_size=2
                        )
                    },
                    optional={"resource": JSON_VALUES},
                ),
                max_size=2,
            )
        }
    )
    return st.one_of(shaped, JSON_VALUES)


@PROPERTIES
@given(_otlp_payloads("resourceSpans", "scopeSpans", "spans"))
def test_the_otlp_receiver_maps_traces_or_raises_its_error(payload: Any) -> None:
    try:
        conversion = convert_payload(traces_to_submissions, payload)
    except OtlpError:
        return
    assert len(conversion.origins) == len(conversion.submissions)


@PROPERTIES
@given(_otlp_payloads("resourceLogs", "scopeLogs", "logRecords"))
def test_the_otlp_receiver_maps_logs_or_raises_its_error(payload: Any) -> None:
    try:
        conversion = convert_payload(logs_to_submissions, payload)
    except OtlpError:
        return
    assert len(conversion.origins) == len(conversion.submissions)


# Found by the properties above: a non-object resource and times outside the years a datetime
# can hold once escaped the mapping as ValueError/AttributeError/OverflowError.
MAPPING_REGRESSIONS = [
    {"resourceSpans": [{"resource": True, "scopeSpans": []}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": -(10**25)}]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": 10**30}]}]}]},
]


@pytest.mark.parametrize(
    "payload", MAPPING_REGRESSIONS, ids=["resource-not-object", "year-negative", "year-huge"]
)
def test_the_otlp_mapping_alone_raises_only_its_error(payload: Any) -> None:
    with contextlib.suppress(OtlpError):
        traces_to_submissions(payload)


@PROPERTIES
@given(st.binary(max_size=300) | JSON_VALUES.map(orjson.dumps))
def test_bodies_decode_or_raise_their_error(body: bytes) -> None:
    try:
        items = decode_json_document(body)
    except BodyError:
        pass
    else:
        assert [item.index for item in items] == list(range(len(items)))
    lines = decode_json_lines(body)
    assert [item.index for item in lines] == list(range(len(lines)))
