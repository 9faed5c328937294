"""Content detectors: one normalisation, one compiled pattern pass, many detectors, one verdict.

``scan(text, context)`` is the entry point; see ``pipeline`` for the switchboard and redaction,
``normalise`` for what is undone before detectors run, and ``base`` for the detector contract.
"""

from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    Direction,
    Finding,
    ScanContext,
    Severity,
    Span,
    Verdict,
    detector_registry,
)
from garrison.monitoring.detectors.normalise import NormalisedText, View, normalise
from garrison.monitoring.detectors.pipeline import (
    DetectorsConfig,
    ScanResult,
    config_for,
    load_builtin_detectors,
    load_config,
    redacted_preview,
    scan,
)

__all__ = [
    "Category",
    "Detector",
    "DetectorsConfig",
    "Direction",
    "Finding",
    "NormalisedText",
    "ScanContext",
    "ScanResult",
    "Severity",
    "Span",
    "Verdict",
    "View",
    "config_for",
    "detector_registry",
    "load_builtin_detectors",
    "load_config",
    "normalise",
    "redacted_preview",
    "scan",
]
