"""Stored assessment JSON survives values orjson cannot write as numbers."""

from __future__ import annotations

from garrison.risk.engine import _dumps


def test_integers_past_64_bits_are_stored_as_digits() -> None:
    # Found by schemathesis: an imported asset with a 70-bit attribute failed risk assessment.
    value = {"attrs": {"size": 2**70, "ok": 5, "flag": True, "nested": [2**65, -(2**64)]}}
    assert _dumps(value) == (
        b'{"attrs":{"size":"1180591620717411303424","ok":5,"flag":true,'
        b'"nested":["36893488147419103232","-18446744073709551616"]}}'
    )
    assert _dumps({"n": 2**63}) == b'{"n":9223372036854775808}'
