"""``scan``: normalise once, run every enabled detector, decide, and redact.

The switchboard (``content/detectors.yaml``, overridable through ``GARRISON_CONTENT_DIR``) says
which detectors run and at which score each category flags or blocks. Detectors are the classes in
``detector_registry``: the built-in ones are imported here, in one place, and any plugin (the
trained classifier, third-party entry points) registered under the same registry is picked up.

Every scan feeds the Prometheus metrics in ``garrison.monitoring.metrics``: each finding counts in
``DETECTOR_FINDINGS`` (by detector, category and verdict), and per-detector latency goes to
``DETECTOR_LATENCY`` for one scan in ``LATENCY_SAMPLE_EVERY``. A histogram ``observe`` costs
~1-2 µs, which for every detector of every message would be a sizeable share of a ~100 µs scan;
a deterministic 1-in-N sample keeps the distribution's shape at a fraction of the cost (the
histogram's ``_count`` is therefore scans / N).
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from time import perf_counter
from typing import Literal

from prometheus_client import Counter, Histogram
from pydantic import Field, ValidationInfo, field_validator, model_validator

from garrison.core.content import ContentModel, content_file, load_content_file
from garrison.core.settings import load_settings
from garrison.monitoring import metrics
from garrison.monitoring.detectors.base import (
    Category,
    Detector,
    Direction,
    Finding,
    ScanContext,
    Verdict,
    detector_registry,
)
from garrison.monitoring.detectors.engine import EngineName, PatternEngine, get_engine
from garrison.monitoring.detectors.normalise import NormalisedText, decode_bytes, normalise
from garrison.monitoring.detectors.pattern_detector import ENGINE_CACHE_KEY

CONFIG_FILE = "detectors.yaml"
BUILTIN_MODULES = (
    "garrison.monitoring.detectors.injection",
    "garrison.monitoring.detectors.secrets",
    "garrison.monitoring.detectors.pii",
    "garrison.monitoring.detectors.leakage",
    "garrison.monitoring.detectors.exfiltration",
    "garrison.monitoring.detectors.unsafe_output",
    "garrison.monitoring.detectors.obfuscation",
)
OPTIONAL_MODULES = ("garrison.monitoring.detectors.classifier",)
"""Built by a separate work stream; imported when present so that it registers itself."""
DEFAULT_PREVIEW_LIMIT = 200
LATENCY_SAMPLE_EVERY = 8
"""One scan in this many records its per-detector latencies (see the module docstring)."""


# --- the switchboard ----------------------------------------------------------------------------


class Thresholds(ContentModel):
    flag: float = Field(ge=0.0, le=1.0)
    block: float | None = Field(default=None, ge=0.0, le=1.0)
    """None: this category never blocks on its own."""

    @model_validator(mode="after")
    def _block_above_flag(self) -> Thresholds:
        if self.block is not None and self.block < self.flag:
            raise ValueError(f"block ({self.block}) must not be below flag ({self.flag})")
        return self


class DetectorSwitch(ContentModel):
    id: str
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        known: frozenset[str] | None = (info.context or {}).get("known_detectors")
        if known is not None and value not in known:
            listed = ", ".join(sorted(known))
            raise ValueError(f"no detector {value!r} is registered (registered: {listed})")
        return value


class DetectorsConfig(ContentModel):
    engine: Literal["auto", "hyperscan", "re2"] = "auto"
    enable_unlisted: bool = True
    redact_min_score: float = Field(default=0.25, ge=0.0, le=1.0)
    detectors: list[DetectorSwitch] = Field(default_factory=list)
    thresholds: dict[Category, Thresholds] = Field(default_factory=dict)

    def enabled(self, detector_id: str) -> bool:
        for switch in self.detectors:
            if switch.id == detector_id:
                return switch.enabled
        return self.enable_unlisted

    def verdict_for(self, finding: Finding) -> Verdict:
        limits = self.thresholds.get(finding.category)
        if limits is None:
            return Verdict.ALLOW
        if limits.block is not None and finding.score >= limits.block:
            return Verdict.BLOCK
        return Verdict.FLAG if finding.score >= limits.flag else Verdict.ALLOW

    def engine_name(self) -> EngineName | None:
        return None if self.engine == "auto" else self.engine


@lru_cache(maxsize=1)
def load_builtin_detectors() -> None:
    """Import every detector module once; each registers its class in ``detector_registry``."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for module in OPTIONAL_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def load_config(path: Path | None = None) -> DetectorsConfig:
    """The switchboard at ``path``, or the organization's / packaged ``detectors.yaml``.

    Without ``path`` this reads the settings from the environment on every call; a long-lived
    caller (the server, a CLI command scanning many texts) binds ``config_for`` once instead.
    """
    if path is not None:
        load_builtin_detectors()
        return _load_config(path)
    return config_for(load_settings().content_dir)


def config_for(content_dir: Path | None) -> DetectorsConfig:
    """The organization's ``detectors.yaml`` in ``content_dir``, or the packaged one."""
    load_builtin_detectors()
    return _load_config(content_file(CONFIG_FILE, content_dir))


@lru_cache(maxsize=8)
def _load_config(path: Path) -> DetectorsConfig:
    known = frozenset(detector_registry.names())
    return load_content_file(DetectorsConfig, path, context={"known_detectors": known})


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    findings: tuple[Finding, ...]
    redacted: str
    """The text with every redacting span masked and invisible characters removed."""
    max_scores: Mapping[Category, float]
    timings: Mapping[str, float]
    """Seconds per detector, plus ``normalise`` and ``total``."""
    views: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = field(default=(), repr=False)
    """The verdict each finding earned, parallel to ``findings``."""


# --- the pipeline -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _instance(detector_class: type[Detector]) -> Detector:
    return detector_class()


def active_detectors(config: DetectorsConfig, context: ScanContext) -> list[Detector]:
    load_builtin_detectors()
    # Cached per configuration object and direction (the registry's size invalidates the entry
    # when a plugin registers later); the stored config is compared by identity, not by id().
    key = (id(config), context.direction, len(detector_registry.names()))
    cached = _ACTIVE.get(key)
    if cached is not None and cached[0] is config:
        return list(cached[1])
    chosen = tuple(
        _instance(detector_class)
        for detector_id, detector_class in detector_registry.items()
        if config.enabled(detector_id) and context.direction in detector_class.directions
    )
    if len(_ACTIVE) >= _ACTIVE_LIMIT:
        _ACTIVE.clear()
    _ACTIVE[key] = (config, chosen)
    return list(chosen)


_ACTIVE: dict[tuple[int, Direction, int], tuple[DetectorsConfig, tuple[Detector, ...]]] = {}
_ACTIVE_LIMIT = 64


def scan(
    text: str | bytes,
    context: ScanContext,
    *,
    config: DetectorsConfig | None = None,
    engine: PatternEngine | None = None,
) -> ScanResult:
    """Scan one message in the direction ``context.direction`` and decide."""
    started = perf_counter()
    settings = config or load_config()
    invalid = False
    if isinstance(text, bytes):
        text, invalid = decode_bytes(text)
    normalised = normalise(text, invalid_utf8=invalid)
    normalised.cache[ENGINE_CACHE_KEY] = engine or get_engine(settings.engine_name())
    timings: dict[str, float] = {"normalise": perf_counter() - started}
    findings: list[Finding] = []
    for detector in active_detectors(settings, context):
        began = perf_counter()
        findings.extend(detector.scan(normalised, context))
        timings[detector.id] = perf_counter() - began
    findings.sort(key=lambda finding: finding.score, reverse=True)
    verdicts = tuple(settings.verdict_for(finding) for finding in findings)
    max_scores: dict[Category, float] = {}
    for finding in findings:
        max_scores[finding.category] = max(max_scores.get(finding.category, 0.0), finding.score)
    redacted = redact(normalised, findings, min_score=settings.redact_min_score)
    timings["total"] = perf_counter() - started
    _record_metrics(timings, findings, verdicts)
    return ScanResult(
        verdict=_combine(verdicts),
        findings=tuple(findings),
        redacted=redacted,
        max_scores=max_scores,
        timings=timings,
        views=tuple(view.name for view in normalised.views),
        verdicts=verdicts,
    )


_ORDER = {Verdict.ALLOW: 0, Verdict.FLAG: 1, Verdict.BLOCK: 2}


# --- metrics ------------------------------------------------------------------------------------

_SCANS = itertools.count()
_LATENCY_CHILDREN: dict[str, Histogram] = {}
_FINDING_CHILDREN: dict[tuple[str, str, str], Counter] = {}
_NOT_DETECTORS = frozenset({"normalise", "total"})


def _record_metrics(
    timings: Mapping[str, float], findings: Sequence[Finding], verdicts: Sequence[Verdict]
) -> None:
    """Count every finding; observe per-detector latency for one scan in N. ``labels()`` costs
    as much as ``observe()``, so the labelled children are kept."""
    for finding, verdict in zip(findings, verdicts, strict=True):
        key = (finding.detector_id, finding.category.value, verdict.value)
        counter = _FINDING_CHILDREN.get(key)
        if counter is None:
            counter = _FINDING_CHILDREN[key] = metrics.DETECTOR_FINDINGS.labels(*key)
        counter.inc()
    if next(_SCANS) % LATENCY_SAMPLE_EVERY:
        return
    for name, seconds in timings.items():
        if name in _NOT_DETECTORS:
            continue
        histogram = _LATENCY_CHILDREN.get(name)
        if histogram is None:
            histogram = _LATENCY_CHILDREN[name] = metrics.DETECTOR_LATENCY.labels(name)
        histogram.observe(seconds)


def _combine(verdicts: Sequence[Verdict]) -> Verdict:
    return max(verdicts, key=_ORDER.__getitem__, default=Verdict.ALLOW)


# --- redaction ----------------------------------------------------------------------------------


def _mask(finding: Finding) -> str:
    label = str(finding.explanation.get("redaction_label") or finding.detector_id.lower())
    return f"[REDACTED:{finding.category.value}:{label}]"


def redact(normalised: NormalisedText, findings: Sequence[Finding], *, min_score: float) -> str:
    """``stripped`` (the original without invisible characters) with redacting spans masked.

    Spans found in a decoded view mask the whole encoded run they came from. When Unicode NFKC
    changed the text in a way no per-character alignment explains, the normalised text is masked
    instead: a secret is never left visible because offsets disagree.
    """
    ranges: list[tuple[int, int, str]] = []
    for finding in findings:
        if not finding.redact or finding.score < min_score:
            continue
        mask = _mask(finding)
        for span in finding.spans:
            start, end = normalised.origin_of(span.view, span.start, span.end)
            ranges.append((start, end, mask))
    if not ranges:
        return normalised.stripped
    base, mapped = normalised.stripped, []
    for start, end, mask in ranges:
        located = normalised.stripped_range(start, end)
        if located is None:
            base, mapped = normalised.text, ranges
            break
        mapped.append((located[0], located[1], mask))
    return _apply_masks(base, mapped)


def _apply_masks(base: str, ranges: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    cursor = 0
    for start, end, mask in sorted(ranges):
        if end <= cursor and start < cursor:
            continue  # inside a range already masked
        pieces.append(base[cursor : max(start, cursor)])
        pieces.append(mask)
        cursor = max(cursor, end)
    pieces.append(base[cursor:])
    return "".join(pieces)


def redacted_preview(
    text: str | bytes,
    context: ScanContext,
    limit: int = DEFAULT_PREVIEW_LIMIT,
    *,
    config: DetectorsConfig | None = None,
) -> str:
    """A short, single-line, masked preview of ``text`` that is safe to store and show.

    The whole text is scanned before it is cut, so a secret that straddles the cut is masked too.
    Control characters become spaces. The result is plain text: escape it when rendering HTML.
    """
    redacted = scan(text, context, config=config).redacted
    flat = "".join(ch if ch.isprintable() else " " for ch in redacted[: limit * 4])
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"
