"""atheris target: OTLP/HTTP JSON bodies through the receiver's conversion.

Run: ``.venv/bin/python fuzz/fuzz_otlp.py -max_total_time=30``. The receiver may refuse a body
only with ``OtlpError`` (400 to the exporter) or a JSON decode error; anything else is a crash.
The receiver's ``convert_payload`` is fuzzed, as the server calls it; set ``FUZZ_RAW_MAPPING=1``
to fuzz the mapping functions alone (they still let some bad timestamps escape, see the report).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import atheris  # type: ignore[import-untyped]
import orjson

with atheris.instrument_imports(include=["garrison"]):
    from garrison.monitoring.ingest.otlp import (
        Conversion,
        OtlpError,
        logs_to_submissions,
        traces_to_submissions,
    )
    from garrison.web.api.otlp import convert_payload

RAW = os.environ.get("FUZZ_RAW_MAPPING") == "1"


def convert(function: Any, payload: Any) -> Conversion:
    result: Conversion = function(payload) if RAW else convert_payload(function, payload)
    return result


def test_one_input(data: bytes) -> None:
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    for function in (traces_to_submissions, logs_to_submissions):
        try:
            conversion = convert(function, payload)
        except OtlpError:
            continue
        if len(conversion.origins) != len(conversion.submissions):
            raise AssertionError("every submission must name the OTLP item it came from")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
