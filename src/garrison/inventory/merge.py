"""Merging what a source says into what the registry holds: pure functions, no session.

The rule for one attribute, when a source re-reports an existing asset:

* only attributes the source set explicitly are considered (``AssetSpec.model_fields_set``);
* the attribute's confidence is the best of the evidence that covers it (evidence without an
  ``attributes`` list covers every attribute the spec sets; no evidence at all means the caller
  declares it, as a person or an import file does);
* an ``unresolved`` attribute is never applied: the evidence is kept, the value is not;
* a value replaces the current one when the same source set the current one, or the new
  confidence is at least the current one. So a heuristic guess from a code scan does not overwrite
  what a cloud API or a person declared, while the cloud API's next answer does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from garrison.inventory.models import (
    IDENTITY_ATTRIBUTES,
    AssetSpec,
    AttributeChange,
    AttributeSource,
    Confidence,
    Evidence,
)


def set_attributes(spec: AssetSpec) -> frozenset[str]:
    """The attributes ``spec`` sets explicitly (what a source actually observed)."""
    return frozenset(spec.model_fields_set) - {"depends_on"}


def attribute_confidence(spec: AssetSpec, evidence: Sequence[Evidence]) -> dict[str, Confidence]:
    """The confidence of each attribute ``spec`` sets, from the evidence that covers it."""
    explicit = set_attributes(spec)
    if not evidence:
        return dict.fromkeys(explicit, Confidence.DECLARED)
    if len(evidence) == 1 and not evidence[0].attributes:
        return dict.fromkeys(explicit, evidence[0].confidence)
    best: dict[str, Confidence] = {}
    for item in evidence:
        covered = item.attributes or tuple(explicit)
        for name in covered:
            if name in explicit and (name not in best or item.confidence.rank > best[name].rank):
                best[name] = item.confidence
    # An attribute the spec sets but no evidence mentions is as good as the spec's best evidence.
    fallback = max((e.confidence for e in evidence), key=lambda c: c.rank)
    return {name: best.get(name, fallback) for name in explicit}


class Claim(NamedTuple):
    """Who set an attribute's value, how surely, and when (ISO 8601 UTC): the stored form of
    ``models.AttributeSource``. A plain tuple, because merging runs for every attribute of every
    asset of a discovery run and the store keeps it as a JSON list as it is."""

    source: str
    confidence: str
    at: str

    def public(self) -> AttributeSource:
        return AttributeSource(
            source=self.source,
            confidence=Confidence(self.confidence),
            at=datetime.fromisoformat(self.at),
        )


_RANK = {level.value: level.rank for level in Confidence}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def wins(incoming: Claim, current: Claim | None) -> bool:
    """Whether a value from ``incoming`` replaces the value ``current`` set."""
    if incoming.confidence == Confidence.UNRESOLVED.value:
        return False
    if current is None or current.source == incoming.source:
        return True
    return _RANK[incoming.confidence] >= _RANK[current.confidence]


@dataclass
class MergePlan:
    """What re-registering a spec does to a stored asset."""

    attributes: dict[str, Any]
    provenance: dict[str, Claim]
    changes: list[AttributeChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def plan_create(
    spec: AssetSpec, source: str, confidence: Mapping[str, Confidence], at: datetime
) -> MergePlan:
    """A new asset takes every attribute of the spec (defaults included); provenance records the
    ones the source set."""
    attributes = spec.attributes()
    when = iso(at)
    provenance = {name: Claim(source, level.value, when) for name, level in confidence.items()}
    unresolved = [name for name, level in confidence.items() if level is Confidence.UNRESOLVED]
    for name in unresolved:
        # Keep the default rather than a value nobody could confirm.
        attributes[name] = AssetSpec.model_fields[name].get_default(call_default_factory=True)
        provenance.pop(name)
    if unresolved:
        attributes = AssetSpec.model_validate(attributes).attributes()
    return MergePlan(attributes=attributes, provenance=provenance)


def plan_update(
    current: Mapping[str, Any],
    provenance: Mapping[str, Claim],
    spec: AssetSpec,
    *,
    source: str,
    confidence: Mapping[str, Confidence],
    at: datetime,
) -> MergePlan:
    """Apply ``spec`` over ``current`` (JSON-form attributes) under the rule in the docstring."""
    incoming = spec.attributes()
    when = iso(at)
    attributes = dict(current)
    new_provenance = dict(provenance)
    changes: list[AttributeChange] = []
    for name in sorted(confidence):
        if name in IDENTITY_ATTRIBUTES:
            continue
        claim = Claim(source, confidence[name].value, when)
        held = provenance.get(name)
        if not wins(claim, held):
            continue
        old, new = current.get(name), incoming[name]
        if old != new:
            attributes[name] = new
            changes.append(AttributeChange(attribute=name, old=old, new=new))
        # ``at`` is when the holder set the value: a confirmation by the same holder keeps it.
        confirmed = (
            old == new
            and held is not None
            and (held.source, held.confidence) == (claim.source, claim.confidence)
        )
        if not confirmed:
            new_provenance[name] = claim
    return MergePlan(attributes=attributes, provenance=new_provenance, changes=changes)


def diff(
    old: Mapping[str, Any], new: Mapping[str, Any], names: Iterable[str]
) -> list[AttributeChange]:
    """The attributes among ``names`` whose JSON values differ."""
    return [
        AttributeChange(attribute=name, old=old.get(name), new=new.get(name))
        for name in sorted(names)
        if old.get(name) != new.get(name)
    ]
