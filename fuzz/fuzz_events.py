"""atheris target: request bodies through the event decoder and the event model.

Run: ``.venv/bin/python fuzz/fuzz_events.py -max_total_time=30`` (``make fuzz`` runs both
targets). Any exception other than the documented ``BodyError`` / ``EventValidationError`` is a
crash: atheris stops and writes the input to ``crash-*`` for a regression test.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["garrison"]):
    from garrison.monitoring.events import EventValidationError, SecurityEvent
    from garrison.monitoring.ingest.decode import BodyError, decode_json_document, decode_json_lines


def test_one_input(data: bytes) -> None:
    try:
        submissions = decode_json_document(data)
    except BodyError:
        submissions = []
    for item in [*submissions, *decode_json_lines(data)]:
        if item.error is not None:
            continue
        try:
            event = SecurityEvent.from_flat(item.data)
        except EventValidationError:
            continue
        # An accepted event must survive its own flat form (the store relies on it).
        if SecurityEvent.from_flat(event.to_flat()) != event:
            raise AssertionError(f"round trip changed the event: {event!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
