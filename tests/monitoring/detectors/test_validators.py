from __future__ import annotations

import pytest

from garrison.monitoring.detectors.validators import (
    VALIDATORS,
    dni_valid,
    iban_valid,
    luhn_valid,
    nino_valid,
    nir_valid,
    ssn_valid,
)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("79927398710", False),
        ("", False),
        ("12a4", False),
    ],
)
def test_luhn(number: str, expected: bool) -> None:
    assert luhn_valid(number) is expected


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89370400440532013000", True),
        ("FR1420041010050500013M02606", True),
        ("GB82 WEST 1234 5698 7654 33", False),
        ("DE8937040044053201300", False),  # German IBANs are 22 characters
        ("XX00", False),
    ],
)
def test_iban_mod97_and_length(iban: str, expected: bool) -> None:
    assert iban_valid(iban) is expected


@pytest.mark.parametrize(
    ("ssn", "expected"),
    [
        ("536-22-1234", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("912-12-3456", False),
        ("536-00-1234", False),
        ("536-22-0000", False),
        ("078-05-1120", False),
    ],
)
def test_ssn_area_group_serial(ssn: str, expected: bool) -> None:
    assert ssn_valid(ssn) is expected


def test_uk_nino_prefixes() -> None:
    assert nino_valid("AB 12 34 56 C")
    assert not nino_valid("GB 12 34 56 C")


def test_spanish_dni_and_nie_check_letter() -> None:
    assert dni_valid("12345678Z")
    assert not dni_valid("12345678A")
    assert dni_valid("X1234567L")


def test_french_nir_key() -> None:
    assert nir_valid("1 85 05 78 006 084 91")
    assert nir_valid("2 55 08 14 168 025 38")
    assert not nir_valid("1 85 05 78 006 084 90")


def test_pem_validator_extends_to_the_end_line() -> None:
    text = "x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y"
    start = text.index("-----BEGIN")
    checked = VALIDATORS["pem_block"](text, start, start + 31)
    assert checked.ok
    assert text[checked.start : checked.end].endswith("END RSA PRIVATE KEY-----")


@pytest.mark.parametrize(
    "value",
    ["password = os.environ['PW']", "password: ********", "api_key = <your-key-here>"],
)
def test_assignment_placeholders_are_rejected(value: str) -> None:
    assert not VALIDATORS["assignment_value"](value, 0, len(value)).ok
