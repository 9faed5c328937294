"""Active content in model outputs: script, event handlers, javascript: URLs, frames."""

from __future__ import annotations

from garrison.monitoring.detectors.base import Category, Direction, detector_registry
from garrison.monitoring.detectors.pattern_detector import PatternDetector


class UnsafeOutputDetector(PatternDetector):
    id = "DET-UNSAFE-OUTPUT"
    pattern_detector_id = "DET-UNSAFE-OUTPUT"
    version = "1.0.0"
    description = (
        "HTML / JavaScript injection in outputs: <script>, inline event handlers, javascript: "
        "and data:text/html URLs, <iframe> / <object> / <embed>, meta refresh"
    )
    categories = (Category.UNSAFE_OUTPUT,)
    directions = (Direction.OUTPUT,)
    owasp = ("LLM05:2025",)
    atlas = ("AML.T0077", "AML.T0067")


detector_registry.register(UnsafeOutputDetector.id, UnsafeOutputDetector)
