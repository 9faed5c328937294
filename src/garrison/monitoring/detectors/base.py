"""The one interface every content detector implements, and the values it returns.

A detector looks at one piece of text (a prompt, a retrieved document, a model output) after the
shared normalisation step, and returns findings. Each finding carries a calibrated score (a
probability in [0, 1]), the framework items it maps to, where in the text it was seen, and an
explanation, so that a verdict can always say why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from garrison.core.plugins import PluginRegistry


class Direction(StrEnum):
    """Where the text sits in the conversation."""

    INPUT = "input"
    """Typed by the user (direct)."""
    RETRIEVED = "retrieved"
    """Pulled in by the application: RAG documents, tool results, web pages (indirect)."""
    OUTPUT = "output"
    """Written by the model."""


class Category(StrEnum):
    PROMPT_INJECTION = "prompt_injection"
    JAILBREAK = "jailbreak"
    SECRET = "secret"  # noqa: S105 - a category name, not a credential
    PII = "pii"
    SYSTEM_PROMPT_LEAK = "system_prompt_leak"
    EXFILTRATION = "exfiltration"
    UNSAFE_OUTPUT = "unsafe_output"
    """HTML / JavaScript / other active content in a model output."""
    OBFUSCATION = "obfuscation"
    """Invisible or tag characters, homoglyphs, encoded payloads: evasion in itself."""


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Verdict(StrEnum):
    ALLOW = "allow"
    FLAG = "flag"
    BLOCK = "block"


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of the view ``view`` (``"text"`` is the normalised text itself;
    decoded views are named by their decoder, e.g. ``"base64@120"``)."""

    start: int
    end: int
    view: str = "text"


@dataclass(frozen=True)
class Finding:
    detector_id: str
    detector_version: str
    category: Category
    score: float
    """Calibrated probability that the finding is real, in [0, 1]."""
    severity: Severity
    message: str
    owasp: tuple[str, ...] = ()
    """Catalog IDs, e.g. ``("LLM01:2025",)``."""
    atlas: tuple[str, ...] = ()
    """Catalog IDs, e.g. ``("AML.T0051.000",)``."""
    spans: tuple[Span, ...] = ()
    redact: bool = False
    """True when the matched text must be masked wherever it is stored or shown."""
    explanation: Mapping[str, Any] = field(default_factory=dict)
    """Why: pattern or feature names, the decoded view, the overlap ratio. Never the secret."""


@dataclass(frozen=True)
class ScanContext:
    """What a detector may know about the deployment besides the text."""

    direction: Direction = Direction.INPUT
    asset_id: str | None = None
    system_prompt: str | None = None
    """The app's registered system prompt, for leakage by overlap."""
    canaries: tuple[str, ...] = ()
    """Canary tokens planted in the system prompt; seeing one in an output is a leak."""
    allowed_domains: tuple[str, ...] = ()
    """Domains an output may link to or embed images from."""


class Detector(ABC):
    """One detector. Subclasses set the class attributes and implement ``scan``.

    ``scan`` gets the normalised text with its decoded views (see ``normalise``) and must run in
    time linear in the text's length: no backtracking regular expressions on untrusted text.
    """

    id: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    categories: ClassVar[tuple[Category, ...]]
    directions: ClassVar[tuple[Direction, ...]] = tuple(Direction)
    owasp: ClassVar[tuple[str, ...]] = ()
    atlas: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def scan(self, text: Any, context: ScanContext) -> Sequence[Finding]:
        """Findings for ``text`` (a ``NormalisedText``), best evidence first."""


detector_registry: PluginRegistry[type[Detector]] = PluginRegistry("detectors")
"""Detector classes by ID; third-party detectors register through ``garrison.detectors``."""
