"""Personal data: emails, phones, payment cards (Luhn), IBANs (mod 97), national IDs, IPs."""

from __future__ import annotations

from garrison.monitoring.detectors.base import Category, detector_registry
from garrison.monitoring.detectors.pattern_detector import PatternDetector


class PIIDetector(PatternDetector):
    id = "DET-PII"
    pattern_detector_id = "DET-PII"
    version = "1.0.0"
    description = (
        "Email addresses, phone numbers, payment cards (Luhn), IBANs (mod 97), US SSN, UK NINO, "
        "Spanish DNI/NIE, French NIR, IPv4 and IPv6 addresses; redacted"
    )
    categories = (Category.PII,)
    owasp = ("LLM02:2025",)
    atlas = ("AML.T0057",)


detector_registry.register(PIIDetector.id, PIIDetector)
