"""Bytes to submissions: JSON documents and JSON lines, with a reason for every item that fails.

Decoding is strict: invalid UTF-8, lone surrogates and non-standard JSON (NaN, comments) are
refused by orjson, and the error names the line and column so the sender can find it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from garrison.monitoring.events import FieldError
from garrison.monitoring.ingest.pipeline import Submission

MAX_BATCH_ITEMS = 10_000
OVERSIZED = b"\x00oversized"
"""Stands in for a line too long to read; it is reported as an error, never parsed."""
JSON_TYPES = frozenset({"application/json"})
JSON_LINES_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines",
        "application/x-jsonlines",
    }
)


class BodyError(ValueError):
    """The body as a whole cannot be read (not JSON, wrong top-level type)."""


def _reason(exc: orjson.JSONDecodeError) -> str:
    return f"not valid JSON: {exc}"


def decode_json_document(body: bytes) -> list[Submission]:
    """A JSON object (one event) or array (a batch) as submissions."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(_reason(exc)) from None
    if isinstance(data, dict):
        return [Submission(0, data)]
    if isinstance(data, list):
        over = FieldError("", f"a batch holds at most {MAX_BATCH_ITEMS} events; send the rest next")
        return [
            Submission(i, item) if i < MAX_BATCH_ITEMS else Submission(i, error=over)
            for i, item in enumerate(data)
        ]
    raise BodyError("the body must be a JSON object (one event) or an array of events")


def decode_line(raw: bytes, index: int, line: int) -> Submission:
    if raw == OVERSIZED:
        return Submission(
            index, error=FieldError("", "the line is too long to be one event"), line=line
        )
    try:
        return Submission(index, orjson.loads(raw), line=line)
    except orjson.JSONDecodeError as exc:
        return Submission(index, error=FieldError("", _reason(exc)), line=line)


def iter_json_lines(
    lines: Iterable[bytes], *, first_line: int = 1, first_index: int = 0
) -> Iterator[Submission]:
    """One submission per non-blank line; blank lines are skipped but still counted."""
    index = first_index
    for number, raw in enumerate(lines, start=first_line):
        stripped = raw.strip()
        if not stripped:
            continue
        yield decode_line(stripped, index, number)
        index += 1


def decode_json_lines(body: bytes) -> list[Submission]:
    items = list(iter_json_lines(body.split(b"\n")))
    over = FieldError("", f"a batch holds at most {MAX_BATCH_ITEMS} events; send the rest next")
    return [
        item if item.index < MAX_BATCH_ITEMS else Submission(item.index, error=over, line=item.line)
        for item in items
    ]


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
