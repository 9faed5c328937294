"""The shared body of every detector whose evidence is the pattern engine's matches."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from garrison.monitoring.detectors.base import Detector, Finding, ScanContext, Span
from garrison.monitoring.detectors.engine import PatternEngine, PatternMatch, get_engine
from garrison.monitoring.detectors.normalise import NormalisedText
from garrison.monitoring.detectors.patterns import Pattern, patterns_for
from garrison.monitoring.detectors.validators import VALIDATORS

ENGINE_CACHE_KEY = "engine"
"""``NormalisedText.cache`` key under which the pipeline puts the engine it chose."""


def engine_for(text: NormalisedText) -> PatternEngine:
    chosen: PatternEngine | None = text.cache.get(ENGINE_CACHE_KEY)
    return chosen if chosen is not None else get_engine()


@cache
def _pattern_ids(detector_id: str) -> frozenset[str]:
    return frozenset(p.id for p in patterns_for(detector_id))


def validated(normalised: NormalisedText, match: PatternMatch) -> tuple[list[Span], float]:
    """``validated_spans``, computed once per message: several detectors read the same matches
    (the exfiltration detector asks whether a URL holds a secret the secrets detector found)."""
    key = ("validated", id(match))
    cached: tuple[list[Span], float] | None = normalised.cache.get(key)
    if cached is None:
        cached = validated_spans(match)
        normalised.cache[key] = cached
    return cached


def validated_spans(match: PatternMatch) -> tuple[list[Span], float]:
    """The spans that pass the pattern's validator, and the best score weight among them."""
    pattern = match.pattern
    validator = VALIDATORS.get(pattern.validator) if pattern.validator else None
    spans: list[Span] = []
    weight = 0.0
    for start, end in match.spans:
        if validator is None:
            spans.append(Span(start, end, match.view))
            weight = 1.0
            continue
        checked = validator(match.text, start, end)
        if checked.ok:
            spans.append(Span(checked.start, checked.end, match.view))
            weight = max(weight, checked.weight)
    return spans, weight


class PatternDetector(Detector):
    """Findings from this detector's patterns: one per pattern, its spans across all views."""

    pattern_detector_id: ClassVar[str]

    def scan(self, text: Any, context: ScanContext) -> Sequence[Finding]:
        normalised: NormalisedText = text
        wanted = _pattern_ids(self.pattern_detector_id)
        grouped: dict[str, tuple[Pattern, list[Span], float, list[str]]] = {}
        for match in engine_for(normalised).match(normalised):
            pattern = match.pattern
            if pattern.id not in wanted or context.direction not in pattern.directions:
                continue
            spans, weight = validated(normalised, match)
            if not spans:
                continue
            entry = grouped.setdefault(pattern.id, (pattern, [], 0.0, []))
            entry[1].extend(spans)
            entry[3].append(match.view)
            grouped[pattern.id] = (pattern, entry[1], max(entry[2], weight), entry[3])
        findings = [self._finding(*entry) for entry in grouped.values()]
        findings.sort(key=lambda finding: finding.score, reverse=True)
        return findings

    def _finding(
        self, pattern: Pattern, spans: list[Span], weight: float, views: list[str]
    ) -> Finding:
        return Finding(
            detector_id=self.id,
            detector_version=self.version,
            category=pattern.category,
            score=round(pattern.score * weight, 4),
            severity=pattern.severity,
            message=pattern.description,
            owasp=self.owasp,
            atlas=self.atlas,
            spans=tuple(spans),
            redact=pattern.redact,
            explanation={
                "pattern": pattern.id,
                "views": sorted(set(views)),
                "occurrences": len(spans),
                "pattern_precision": pattern.score,
                "evidence": pattern.evidence,
                "redaction_label": pattern.label,
            },
        )
