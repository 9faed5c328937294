"""System-prompt leakage in outputs: planted canary tokens, and overlap with the registered prompt.

Overlap is measured as *containment*: the share of the system prompt's word 5-grams ("shingles")
that also occur in the output. Words are lower-cased letters and digits only, so markdown,
punctuation, line breaks and casing do not hide a verbatim leak, and a leak of part of the prompt
scores in proportion to the part. Every decoded view of the output is compared too (a prompt
leaked in base64 is still a leak).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    Direction,
    Finding,
    ScanContext,
    Severity,
    Span,
    detector_registry,
)
from garrison.monitoring.detectors.normalise import NormalisedText, normalise

SHINGLE = 5
MIN_CONTAINMENT = 0.05
"""Below this share of the prompt's shingles, no finding: common phrases overlap by chance."""
CALIBRATION_MIDPOINT = 0.2
CALIBRATION_SLOPE = 14.0
MIN_CANARY_LENGTH = 4
_ASCII_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}


@cache
def _alnum_table() -> NDArray[np.bool_]:
    """Which Basic Multilingual Plane code points are letters or digits."""
    return np.array([chr(code).isalnum() for code in range(0x10000)], dtype=np.bool_)


def words(text: str) -> list[str]:
    """Case-folded runs of letters and digits; everything else separates words.

    Vectorised rather than a regex's ``findall``: a model output can be megabytes long, and
    per-match Python overhead would dominate the scan.
    """
    folded = text.casefold()
    if folded.isascii():
        return folded.translate(_ASCII_SEPARATORS).split()
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    in_bmp = codes < 0x10000
    keep = np.zeros(codes.shape, dtype=np.bool_)
    keep[in_bmp] = _alnum_table()[codes[in_bmp]]
    spaced = np.where(keep, codes, np.uint32(32)).astype(np.uint32)
    return spaced.tobytes().decode("utf-32-le").split()


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def shared_shingles(
    prompt: frozenset[tuple[str, ...]], tokens: Sequence[str], size: int = SHINGLE
) -> int:
    """How many of the prompt's shingles occur in ``tokens``, without building the output's
    own shingle set (memory stays proportional to the prompt, not to a huge output)."""
    if len(tokens) < size:
        return int(tuple(tokens) in prompt) if tokens else 0
    starts = {shingle[0] for shingle in prompt}
    found: set[tuple[str, ...]] = set()
    for index in range(len(tokens) - size + 1):
        if tokens[index] in starts:
            candidate = tuple(tokens[index : index + size])
            if candidate in prompt:
                found.add(candidate)
    return len(found)


@lru_cache(maxsize=256)
def prompt_shingles(system_prompt: str) -> frozenset[tuple[str, ...]]:
    """The registered prompt's shingles, normalised like any text (cached: prompts repeat)."""
    return frozenset(shingles(words(normalise(system_prompt).text)))


def containment(prompt: frozenset[tuple[str, ...]], output_text: str) -> float:
    if not prompt:
        return 0.0
    return shared_shingles(prompt, words(output_text)) / len(prompt)


def leak_probability(ratio: float) -> float:
    """Containment mapped to a probability (logistic, midpoint 0.2): half the prompt's
    5-grams in an output is a leak beyond doubt; a few shared phrases are not."""
    return 1.0 / (1.0 + math.exp(-CALIBRATION_SLOPE * (ratio - CALIBRATION_MIDPOINT)))


class SystemPromptLeakDetector(Detector):
    id = "DET-PROMPT-LEAK"
    version = "1.0.0"
    description = (
        "Canary tokens from the system prompt in an output (any decoded view), and n-gram "
        "containment of the registered system prompt in the output"
    )
    categories = (Category.SYSTEM_PROMPT_LEAK,)
    directions = (Direction.OUTPUT,)
    owasp = ("LLM07:2025",)
    atlas = ("AML.T0056", "AML.T0057")

    def scan(self, text: Any, context: ScanContext) -> Sequence[Finding]:
        normalised: NormalisedText = text
        findings = [*self._canaries(normalised, context)]
        if context.system_prompt:
            overlap = self._overlap(normalised, context.system_prompt)
            if overlap is not None:
                findings.append(overlap)
        return findings

    def _canaries(self, normalised: NormalisedText, context: ScanContext) -> list[Finding]:
        findings = []
        for index, canary in enumerate(context.canaries):
            if len(canary) < MIN_CANARY_LENGTH:
                continue
            folded = normalise(canary).text
            for view, _, view_text in normalised.targets():
                at = view_text.find(folded)
                if at < 0:
                    continue
                findings.append(
                    Finding(
                        detector_id=self.id,
                        detector_version=self.version,
                        category=Category.SYSTEM_PROMPT_LEAK,
                        score=0.99,
                        severity=Severity.CRITICAL,
                        message="a canary token planted in the system prompt appears in the output",
                        owasp=self.owasp,
                        atlas=self.atlas,
                        spans=(Span(at, at + len(folded), view),),
                        explanation={"canary_index": index, "view": view},
                    )
                )
                break
        return findings

    def _overlap(self, normalised: NormalisedText, system_prompt: str) -> Finding | None:
        prompt = prompt_shingles(system_prompt)
        best, best_view = 0.0, "text"
        for view, kind, view_text in normalised.targets():
            if kind in ("rot13", "nfkc"):
                continue
            ratio = containment(prompt, view_text)
            if ratio > best:
                best, best_view = ratio, view
        if best < MIN_CONTAINMENT:
            return None
        score = round(leak_probability(best), 4)
        return Finding(
            detector_id=self.id,
            detector_version=self.version,
            category=Category.SYSTEM_PROMPT_LEAK,
            score=score,
            severity=Severity.HIGH if score >= 0.8 else Severity.MEDIUM,
            message=f"{best:.0%} of the system prompt's word {SHINGLE}-grams are in the output",
            owasp=self.owasp,
            atlas=self.atlas,
            explanation={
                "containment": round(best, 4),
                "shingle": SHINGLE,
                "prompt_shingles": len(prompt),
                "view": best_view,
            },
        )


detector_registry.register(SystemPromptLeakDetector.id, SystemPromptLeakDetector)
