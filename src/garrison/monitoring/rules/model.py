"""What every rule carries, whatever evaluates it: identity, severity, framework tags, tuning.

Tag convention (Sigma tags are lowercase ``namespace.value``):

* ``atlas.aml-t0051`` is ATLAS ``AML.T0051``; ``atlas.aml-t0051-000`` is ``AML.T0051.000``.
* ``owasp.llm01-2025`` is OWASP LLM ``LLM01:2025``; ``owasp.asi01`` is agentic ``ASI01``.

Every tag in those two namespaces must name a catalog item; other namespaces (``attack.*``,
``garrison.*``) are kept as they are. Garrison-specific rule settings are top-level keys of the
Sigma rule, which pySigma keeps as custom attributes and SIEM backends ignore:

* ``rule_id`` (``RULE-...``): the stable Garrison ID; a rule without one is a building block that
  correlations reference but that raises nothing on its own. (Sigma's ``id`` must be a UUID.)
* ``suppress`` (``10m``): after a firing for a group, further matches within this span extend
  that firing instead of raising a new one.
* ``lateness`` (``30s``): how far behind the newest event an event may arrive and still be placed
  in its window.
* ``max_keys``: the most groups the rule keeps in memory (least recently seen are evicted).
* ``suppress_by`` (per-event rules): the fields that make two matches "the same" for suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from garrison.catalog import get_catalog
from garrison.catalog.catalog import Catalog
from garrison.catalog.models import FrameworkKey
from garrison.monitoring.detectors.base import Severity

RULE_ID_PATTERN = r"^RULE-[A-Z0-9][A-Z0-9-]{1,62}$"

_LEVELS = {
    "informational": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


class EngineSettings(BaseModel):
    """Defaults a rule may override with its own custom attributes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suppress: timedelta = Field(default=timedelta(minutes=10))
    lateness: timedelta = Field(default=timedelta(seconds=30))
    max_keys: int = Field(default=100_000, ge=1)
    max_window_events: int = Field(default=10_000, ge=1)
    """Per group and rule: the newest events kept; an attack needs far fewer to be proven."""
    gauge_every: int = Field(default=10_000, ge=1)
    """Update the state gauges every this many events, not per event."""


@dataclass(frozen=True, slots=True)
class RuleMeta:
    rule_id: str
    title: str
    description: str
    severity: Severity
    atlas: tuple[str, ...]
    owasp: tuple[str, ...]
    kind: str
    """``event`` (per-event Sigma), a Sigma correlation type, or ``plugin:<name>``."""
    source: str
    """The file the rule was loaded from."""
    suppress: timedelta
    tags: tuple[str, ...] = ()


def severity_of(level: str | None) -> Severity:
    return _LEVELS.get((level or "medium").lower(), Severity.MEDIUM)


def parse_span(text: str) -> timedelta:
    """``30s``, ``10m``, ``1h``, ``2d`` as a timedelta; raises ValueError naming the fix."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = str(text).strip()
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise ValueError(f"{text!r} is not a time span; write a number and s, m, h or d (e.g. 10m)")
    return timedelta(seconds=int(value[:-1]) * units[value[-1]])


def tag_to_catalog_id(tag: str) -> tuple[FrameworkKey, str] | None:
    """The framework and catalog-style ID a Sigma tag names, or None for other namespaces."""
    namespace, _, value = tag.partition(".")
    if namespace == "atlas":
        return FrameworkKey.ATLAS, value.upper().replace("-", ".")
    if namespace == "owasp":
        head, sep, year = value.upper().rpartition("-")
        return FrameworkKey.OWASP_LLM, (f"{head}:{year}" if sep else year)
    return None


def resolve_tags(tags: list[str], catalog: Catalog | None = None) -> tuple[list[str], list[str]]:
    """Split and canonicalise ATLAS and OWASP tags; raises ValueError naming an unknown one."""
    cat = catalog or get_catalog()
    atlas: list[str] = []
    owasp: list[str] = []
    for tag in tags:
        parsed = tag_to_catalog_id(tag)
        if parsed is None:
            continue
        framework, wanted = parsed
        item = cat.find(wanted)
        if item is None:
            suggestions = cat.suggest(wanted)
            hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
            raise ValueError(f"tag {tag!r} names {wanted!r}, which is not in the catalog{hint}")
        if framework is FrameworkKey.ATLAS and item.framework is not FrameworkKey.ATLAS:
            raise ValueError(f"tag {tag!r}: {item.id} is not an ATLAS item")
        if framework is FrameworkKey.OWASP_LLM and item.framework not in (
            FrameworkKey.OWASP_LLM,
            FrameworkKey.OWASP_AGENTIC,
        ):
            raise ValueError(f"tag {tag!r}: {item.id} is not an OWASP LLM or agentic item")
        (atlas if framework is FrameworkKey.ATLAS else owasp).append(item.id)
    return list(dict.fromkeys(atlas)), list(dict.fromkeys(owasp))
