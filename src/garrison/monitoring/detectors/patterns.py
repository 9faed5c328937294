"""Detection patterns as data: one YAML file per pattern detector under ``data/patterns/``.

Each pattern has a stable ID, the detector and category it belongs to, an expression in the common
subset of Hyperscan and RE2 syntax (no backreferences, no lookaround), and a calibrated score: the
precision measured for it on the development data (``benchmarks/detectors/calibrate_patterns.py``
prints the counts), or a stated prior where the data has no examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from garrison.core.content import ContentModel, load_content_file
from garrison.core.errors import ContentError
from garrison.monitoring.detectors.base import Category, Direction, Severity
from garrison.monitoring.detectors.validators import VALIDATORS

MAX_EXPRESSION_LENGTH = 2000
_PROSE_CATEGORIES = frozenset({Category.PROMPT_INJECTION, Category.JAILBREAK})
_FORBIDDEN_SYNTAX = ("(?=", "(?!", "(?<=", "(?<!", "(?>", "\\1", "\\2", "\\3")


class Pattern(ContentModel):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    category: Category
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION_LENGTH)
    description: str
    caseless: bool = True
    multiline: bool = False
    """``^`` and ``$`` match at line breaks (delimiter injection at the start of a line)."""
    score: float = Field(ge=0.0, le=1.0)
    """Calibrated probability that a match is a true positive."""
    evidence: str = ""
    """Where the score comes from: measured counts on the dataset, or the prior and why."""
    severity: Severity = Severity.MEDIUM
    directions: tuple[Direction, ...] = tuple(Direction)
    views: tuple[str, ...] = ()
    """View kinds this pattern reads (``text``, ``nfkc``, ``base64``, …); empty means all."""
    redact: bool = False
    label: str = ""
    """Name used in the redaction mask, e.g. ``aws_access_key``."""
    validator: str | None = None
    """Name of a function in ``validators.VALIDATORS`` that confirms a candidate match."""
    all_spans: bool = False
    """Report every occurrence (needed for redaction), not only the first."""

    @field_validator("expression")
    @classmethod
    def _linear_syntax_only(cls, value: str) -> str:
        for token in _FORBIDDEN_SYNTAX:
            if token in value:
                raise ValueError(
                    f"{token!r} is not supported: patterns must run in linear time "
                    "(no lookaround, no backreferences)"
                )
        return value

    @field_validator("validator")
    @classmethod
    def _validator_exists(cls, value: str | None) -> str | None:
        if value is not None and value not in VALIDATORS:
            raise ValueError(f"unknown validator {value!r}; known: {', '.join(sorted(VALIDATORS))}")
        return value

    @model_validator(mode="after")
    def _redaction_needs_label(self) -> Pattern:
        if self.redact and not self.label:
            raise ValueError("a redacting pattern needs a label for its mask")
        if self.redact and not self.all_spans:
            raise ValueError("a redacting pattern must report all spans (all_spans: true)")
        return self

    def reads(self, kind: str) -> bool:
        if self.views:
            return kind in self.views
        # ROT13 turns any word into another plausible-looking token: only phrase patterns (whose
        # matches are sentences, not identifiers) may trust it.
        return kind != "rot13" or self.category in _PROSE_CATEGORIES

    @property
    def is_unicode(self) -> bool:
        return not self.expression.isascii()


class PatternFile(ContentModel):
    detector: str
    patterns: list[Pattern]


@cache
def patterns_dir() -> Path:
    return Path(str(files("garrison.monitoring.detectors") / "data" / "patterns"))


def load_pattern_file(path: Path) -> PatternFile:
    return load_content_file(PatternFile, path)


@cache
def all_patterns() -> tuple[Pattern, ...]:
    """Every packaged pattern, in a stable order; IDs are unique across files."""
    return tuple(check_unique(_load_all(patterns_dir())))


def patterns_for(detector_id: str) -> tuple[Pattern, ...]:
    return tuple(p for p in all_patterns() if p.id in _ids_by_detector().get(detector_id, ()))


@cache
def _ids_by_detector() -> dict[str, frozenset[str]]:
    result: dict[str, frozenset[str]] = {}
    for path in sorted(patterns_dir().glob("*.yaml")):
        loaded = load_pattern_file(path)
        result[loaded.detector] = frozenset(p.id for p in loaded.patterns)
    return result


def _load_all(folder: Path) -> list[Pattern]:
    found: list[Pattern] = []
    for path in sorted(folder.glob("*.yaml")):
        found.extend(load_pattern_file(path).patterns)
    return found


def check_unique(patterns: Sequence[Pattern]) -> Sequence[Pattern]:
    seen: set[str] = set()
    for pattern in patterns:
        if pattern.id in seen:
            raise ContentError(f"pattern ID {pattern.id!r} is defined twice", path=patterns_dir())
        seen.add(pattern.id)
    return patterns
