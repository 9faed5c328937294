"""Checks that confirm a pattern's candidate match, in Python, on the candidate only.

Each validator takes the view's text and the candidate span and returns a ``Verdict``: whether the
candidate is real, the span to report (a PEM block extends to its END line) and a score multiplier
(a private IP address is weaker evidence of personal data than a public one). Every validator reads
a bounded slice of text, so the cost per candidate is constant.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_PEM_BLOCK = 16_384


@dataclass(frozen=True)
class Checked:
    ok: bool
    start: int = 0
    end: int = 0
    weight: float = 1.0
    reason: str = ""


Validator = Callable[[str, int, int], Checked]


def digits_of(candidate: str) -> str:
    return "".join(ch for ch in candidate if ch.isdigit())


def luhn_valid(number: str) -> bool:
    """The Luhn mod-10 check used by payment cards (and Canadian SINs)."""
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


# Lengths from the SWIFT IBAN registry for the countries most often seen; others get 15-34.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(candidate: str) -> bool:
    """ISO 13616: country length, then the mod-97 check over the rearranged number."""
    iban = candidate.replace(" ", "").upper()
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    if not rearranged.isalnum():
        return False
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def ssn_valid(candidate: str) -> bool:
    """US SSN: area 001-899 except 666, group 01-99, serial 0001-9999; well-known fakes out."""
    number = digits_of(candidate)
    if len(number) != 9:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return False
    return number not in ("078051120", "219099999", "123456789")


_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def nino_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    return len(compact) == 9 and compact[:2] not in _NINO_BAD_PREFIXES


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_valid(candidate: str) -> bool:
    """Spanish DNI (8 digits) or NIE (X/Y/Z + 7 digits): check letter = number mod 23."""
    compact = candidate.replace("-", "").upper()
    body, letter = compact[:-1], compact[-1]
    if body[:1] in ("X", "Y", "Z"):
        body = str("XYZ".index(body[0])) + body[1:]
    if not body.isdigit() or len(body) != 8:
        return False
    return _DNI_LETTERS[int(body) % 23] == letter


def nir_valid(candidate: str) -> bool:
    """French NIR: the two-digit key is 97 - (number mod 97); Corsica's 2A/2B count as 19/18."""
    compact = candidate.replace(" ", "").upper()
    if len(compact) != 15:
        return False
    body, key = compact[:13], compact[13:]
    body = body.replace("2A", "19", 1) if body[5:7] == "2A" else body
    body = body.replace("2B", "18", 1) if body[5:7] == "2B" else body
    if not body.isdigit() or not key.isdigit():
        return False
    return 97 - int(body) % 97 == int(key)


_CARD_PREFIXES = ("4", "34", "37", "36", "38", "30", "35", "62", "65", "6011", "64")


def card_issuer_known(number: str) -> bool:
    if number.startswith(_CARD_PREFIXES):
        return True
    head = int(number[:4]) if len(number) >= 4 else 0
    return 5100 <= head <= 5599 or 2221 <= head <= 2720


# --- validators by name -----------------------------------------------------------------------


def _payment_card(text: str, start: int, end: int) -> Checked:
    number = digits_of(text[start:end])
    if not 13 <= len(number) <= 19 or len(set(number)) == 1:
        return Checked(False)
    if not luhn_valid(number) or not card_issuer_known(number):
        return Checked(False)
    return Checked(True, start, end)


def _iban(text: str, start: int, end: int) -> Checked:
    # The pattern may take a trailing word's letters; try shorter tails until the checksum holds.
    candidate = text[start:end]
    for cut in range(len(candidate), 14, -1):
        if candidate[cut - 1] != " " and iban_valid(candidate[:cut]):
            return Checked(True, start, start + cut)
    return Checked(False)


def _us_ssn(text: str, start: int, end: int) -> Checked:
    candidate = text[start:end]
    separators = {ch for ch in candidate if not ch.isdigit()}
    if len(separators) > 1:  # "123-45 6789" is not how anyone writes an SSN
        return Checked(False)
    return Checked(ssn_valid(candidate), start, end)


def _uk_nino(text: str, start: int, end: int) -> Checked:
    return Checked(nino_valid(text[start:end]), start, end)


def _es_dni(text: str, start: int, end: int) -> Checked:
    return Checked(dni_valid(text[start:end]), start, end)


def _fr_nir(text: str, start: int, end: int) -> Checked:
    return Checked(nir_valid(text[start:end]), start, end)


def _email(text: str, start: int, end: int) -> Checked:
    local, _, domain = text[start:end].rpartition("@")
    if not (1 <= len(local) <= 64 and 4 <= len(domain) <= 253) or ".." in domain:
        return Checked(False)
    if any(not 1 <= len(label) <= 63 for label in domain.split(".")):
        return Checked(False)
    weight = 0.5 if domain.lower().endswith(("example.com", "example.org", "example.net")) else 1.0
    return Checked(True, start, end, weight)


def _phone(text: str, start: int, end: int) -> Checked:
    count = len(digits_of(text[start:end]))
    return Checked(8 <= count <= 15, start, end)


def _nanp_phone(text: str, start: int, end: int) -> Checked:
    number = digits_of(text[start:end])
    ok = len(number) == 10 and number[0] in "23456789" and number[3] in "23456789"
    ok = ok and number[1:3] != "11" and number[3:6] != "555"
    return Checked(ok, start, end)


def _uk_phone(text: str, start: int, end: int) -> Checked:
    count = len(digits_of(text[start:end]))
    return Checked(count in (10, 11), start, end)


def _ipv4(text: str, start: int, end: int) -> Checked:
    try:
        address = ipaddress.IPv4Address(text[start:end])
    except ValueError:
        return Checked(False)
    if address.is_unspecified or address.is_loopback or address.is_multicast:
        return Checked(False)
    # A dotted quad right after "v" or "version" is a version number, not an address.
    before = text[max(0, start - 8) : start].lower()
    if before.endswith(("v", "version ", "version", "ver ")):
        return Checked(False)
    weight = 0.6 if address.is_private or address.is_reserved else 1.0
    return Checked(True, start, end, weight)


def _ipv6(text: str, start: int, end: int) -> Checked:
    candidate = text[start:end]
    if candidate.count(":") < 2 or sum(ch.isalnum() for ch in candidate) < 3:
        return Checked(False)
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return Checked(False)
    if address.is_loopback or address.is_unspecified:
        return Checked(False)
    return Checked(True, start, end, 0.6 if address.is_private else 1.0)


def _pem_block(text: str, start: int, end: int) -> Checked:
    """Extend an armour header to its END line so that redaction masks the whole key."""
    footer = text.find("-----END", end, end + MAX_PEM_BLOCK)
    if footer < 0:
        return Checked(True, start, min(len(text), end + MAX_PEM_BLOCK), reason="no END line")
    close = text.find("-----", footer + 8, footer + 80)
    stop = close + 5 if close >= 0 else footer + 8
    return Checked(True, start, stop)


_PLACEHOLDER_WORDS = (
    "example", "placeholder", "changeme", "your_", "your-", "<", "${", "{{", "%(", "os.environ",
    "getenv", "env(", "input(", "process.env", "xxxx", "****", "....", "redacted", "dummy",
    "sample", "secret_here", "password_here", "none", "null", "undefined", "true", "false",
)  # fmt: skip


def is_placeholder(value: str) -> bool:
    lowered = value.lower().strip("\"'`")
    if len(set(lowered)) <= 2:
        return True
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


def _assignment_value(text: str, start: int, end: int) -> Checked:
    candidate = text[start:end]
    # The value is what follows the first assignment operator.
    cut = min((i for i in (candidate.find("="), candidate.find(":")) if i >= 0), default=-1)
    value = candidate[cut + 1 :].strip(" \"'") if cut >= 0 else candidate.split()[-1]
    if is_placeholder(value):
        return Checked(False)
    if value.isalpha() and value.islower():
        # A plain lower-case word ("password: required") is prose, not a credential.
        return Checked(False)
    weight = 1.0 if any(ch.isdigit() for ch in value) or not value.isalpha() else 0.7
    return Checked(True, start, end, weight)


def _url_password(text: str, start: int, end: int) -> Checked:
    try:
        password = urlsplit(text[start:end]).password
    except ValueError:
        return Checked(False)
    if not password or is_placeholder(password) or password.startswith("$"):
        return Checked(False)
    return Checked(True, start, end)


VALIDATORS: dict[str, Validator] = {
    "payment_card": _payment_card,
    "iban": _iban,
    "us_ssn": _us_ssn,
    "uk_nino": _uk_nino,
    "es_dni": _es_dni,
    "fr_nir": _fr_nir,
    "email": _email,
    "phone": _phone,
    "nanp_phone": _nanp_phone,
    "uk_phone": _uk_phone,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "pem_block": _pem_block,
    "assignment_value": _assignment_value,
    "url_password": _url_password,
}
