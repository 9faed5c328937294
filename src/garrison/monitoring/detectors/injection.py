"""Prompt injection and jailbreak phrase families, in user input and retrieved documents."""

from __future__ import annotations

from garrison.monitoring.detectors.base import Category, Direction, detector_registry
from garrison.monitoring.detectors.pattern_detector import PatternDetector


class InjectionPatternDetector(PatternDetector):
    id = "DET-INJECTION-PATTERNS"
    pattern_detector_id = "DET-INJECTION-PATTERNS"
    version = "1.0.0"
    description = (
        "Instruction override, system-prompt extraction, persona jailbreaks, chat-template "
        "delimiters, instructions addressed to the model inside documents, multilingual basics"
    )
    categories = (Category.PROMPT_INJECTION, Category.JAILBREAK)
    directions = (Direction.INPUT, Direction.RETRIEVED)
    owasp = ("LLM01:2025", "LLM07:2025")
    atlas = ("AML.T0051.000", "AML.T0051.001", "AML.T0054", "AML.T0056")


detector_registry.register(InjectionPatternDetector.id, InjectionPatternDetector)
