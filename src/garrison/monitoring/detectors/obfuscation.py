"""Evasion in itself: invisible and tag characters, homoglyphs, encoded-run floods, bad UTF-8.

Normalisation undoes these tricks so that the other detectors see through them; this detector
reports that they were used at all, weighted by how rarely each has an innocent explanation
(a tag character never does; a zero-width joiner is part of many emoji).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    Finding,
    ScanContext,
    Severity,
    detector_registry,
)
from garrison.monitoring.detectors.normalise import NormalisedText


def invisible_score(kind: str, count: int) -> float:
    """Calibrated by judgement (no labelled data): how often this much of it is an attack."""
    if kind == "tag":
        return 0.95
    if kind == "bidi_control":
        return 0.7 if count >= 2 else 0.45
    if kind == "zero_width":
        return 0.75 if count >= 3 else 0.3
    if kind == "soft_hyphen":
        return 0.5 if count >= 5 else 0.2
    # Joiners and variation selectors: emoji and Indic scripts use them; only floods count.
    return 0.55 if count >= 50 else 0.05


def _severity(score: float) -> Severity:
    if score >= 0.9:
        return Severity.HIGH
    if score >= 0.6:
        return Severity.MEDIUM
    return Severity.LOW if score >= 0.3 else Severity.INFO


class ObfuscationDetector(Detector):
    id = "DET-OBFUSCATION"
    version = "1.0.0"
    description = (
        "Invisible, bidi and tag characters, mixed-script homoglyphs, floods of encoded runs and "
        "invalid UTF-8: the evasion techniques that normalisation undoes"
    )
    categories = (Category.OBFUSCATION,)
    owasp = ("LLM01:2025",)
    atlas = ("AML.T0068",)

    def scan(self, text: Any, context: ScanContext) -> Sequence[Finding]:
        normalised: NormalisedText = text
        findings = [
            self._finding(
                invisible_score(kind, count),
                f"{count} invisible character(s) of class {kind} removed",
                {"class": kind, "count": count},
            )
            for kind, count in normalised.invisible.items()
        ]
        tags = normalised.view("tags")
        if tags is not None:
            findings.append(
                self._finding(
                    0.95,
                    "ASCII smuggled in Unicode tag characters (decoded into the 'tags' view)",
                    {"decoded_chars": len(tags.text)},
                )
            )
        if normalised.mixed_script:
            findings.append(
                self._finding(
                    0.75,
                    "look-alike letters from another script mixed into Latin words",
                    {"mixed_places": normalised.mixed_script, "folded": normalised.folded},
                )
            )
        if normalised.views_truncated:
            findings.append(
                self._finding(
                    0.6,
                    "more encoded runs than the decoding budget; the rest were not unwrapped",
                    {"views": len(normalised.views)},
                )
            )
        if normalised.invalid_utf8:
            findings.append(
                self._finding(0.4, "input was not valid UTF-8 (decoded with replacement)", {})
            )
        findings.sort(key=lambda finding: finding.score, reverse=True)
        return findings

    def _finding(self, score: float, message: str, explanation: dict[str, Any]) -> Finding:
        return Finding(
            detector_id=self.id,
            detector_version=self.version,
            category=Category.OBFUSCATION,
            score=score,
            severity=_severity(score),
            message=message,
            owasp=self.owasp,
            atlas=self.atlas,
            explanation=explanation,
        )


detector_registry.register(ObfuscationDetector.id, ObfuscationDetector)
