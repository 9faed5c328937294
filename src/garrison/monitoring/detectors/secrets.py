"""Credentials in any text: cloud keys, vendor tokens, private keys, connection strings."""

from __future__ import annotations

from garrison.monitoring.detectors.base import Category, detector_registry
from garrison.monitoring.detectors.pattern_detector import PatternDetector


class SecretsDetector(PatternDetector):
    id = "DET-SECRETS"
    pattern_detector_id = "DET-SECRETS"
    version = "1.0.0"
    description = (
        "AWS, GCP and Azure keys, GitHub / GitLab / Slack / Stripe / OpenAI / Anthropic / "
        "Hugging Face tokens, JWTs, PEM private keys, passwords and connection strings; redacted"
    )
    categories = (Category.SECRET,)
    owasp = ("LLM02:2025",)
    atlas = ("AML.T0055", "AML.T0057")


detector_registry.register(SecretsDetector.id, SecretsDetector)
