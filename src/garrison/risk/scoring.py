"""Scoring: pure functions from an asset, its controls and the risk model to an explanation.

No database, no clock: ``as_of`` is an input. The store, the CLI and the web call ``explain``.

How a score is built:

* each dimension scores 0-100 from the asset's attributes (tables in ``risk.yaml``), plus bounded
  adjustments from other pillars' providers; inherent = Σ score x weight;
* operational controls reduce each dimension: controls of one category overlap, so they combine
  as ``1 - Π(1 - wᵢ)`` and are scaled by the category's maximum; the categories acting on a
  dimension combine the same way, and the result is capped below 1 so no asset is risk-free;
* residual = Σ score x weight x (1 - effectiveness of that dimension); the level is taken from the
  rounded residual that is shown, so the two never disagree.

One core computes every number: ``explanation_document`` works on plain values (the asset as its
JSON document, controls as ``PlainControl`` tuples, the model as ``ScoringTables``) and returns the
explanation as JSON-ready data. ``explain`` validates that document into a ``RiskExplanation``; a
bulk run (``engine.assess_bulk``) stores it as it is, without building ~40 pydantic objects per
asset. The per-dimension functions below (``score_data_sensitivity`` …) are thin wrappers for
callers holding an ``AssetSpec``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from garrison.controls.models import ControlCategory
from garrison.inventory.models import AssetSpec, ToolPermission
from garrison.risk.config import Dimension, RiskConfig
from garrison.risk.models import (
    AppliedAdjustment,
    CategoryEffect,
    ControlInput,
    ProviderOutput,
    RiskExplanation,
)
from garrison.risk.tables import ScoringTables

Scored = tuple[str, tuple[str, ...], float]
"""(observed value, how the score was built, score)."""

AssetDocument = Mapping[str, Any]
"""An asset as JSON-ready data: ``AssetSpec.model_dump(mode="json")`` or a stored snapshot."""

Document = dict[str, Any]

_DIMENSIONS = tuple(Dimension)
_OPERATIONAL = "operational"


class PlainControl(NamedTuple):
    """A ``ControlInput`` as plain values (enum fields as their strings)."""

    id: str
    name: str
    type: str
    category: str
    weight: float
    state: str | None
    owasp: tuple[str, ...]

    @classmethod
    def of(cls, control: ControlInput) -> PlainControl:
        return cls(
            control.id,
            control.name,
            control.type.value,
            control.category.value,
            control.weight,
            control.state,
            control.owasp,
        )

    def document(self) -> Document:
        """As ``ControlInput.model_dump(mode="json")``."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "category": self.category,
            "weight": self.weight,
            "state": self.state,
            "owasp": list(self.owasp),
        }

    def row(self) -> list[Any]:
        """As stored in a bulk run's inputs: the values in ``CONTROL_ROW`` order."""
        return [self.id, self.name, self.type, self.category, self.weight, self.state, self.owasp]


PlainAdjustment = tuple[str, float, str, tuple[str, ...]]
"""(dimension, requested points, explanation, refs)."""
PlainProvider = tuple[str, tuple[PlainAdjustment, ...]]
"""(provider name, its adjustments)."""


def plain_providers(outputs: Iterable[ProviderOutput]) -> tuple[PlainProvider, ...]:
    return tuple(
        (
            output.provider,
            tuple((a.dimension.value, a.points, a.explanation, a.refs) for a in output.adjustments),
        )
        for output in outputs
    )


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


# --- the six dimensions, on plain values ----------------------------------------------------------


def _data_sensitivity(asset: AssetDocument, t: ScoringTables) -> Scored:
    value = asset.get("data_classification")
    if value is None:
        return "unclassified", (f"unclassified: {t.unclassified:g}",), t.unclassified
    score = t.classification_scores[value]
    return value, (f"{value}: {score:g}",), score


def _deployment_exposure(asset: AssetDocument, t: ScoringTables) -> Scored:
    exposure = asset.get("exposure") or "unknown"
    environment = asset.get("environment") or "unknown"
    score = t.exposure_scores[exposure][environment]
    value = f"exposure={exposure}, environment={environment}"
    return value, (f"{exposure} x {environment}: {score:g}",), score


def _review_age(reviewed: date | str | None, as_of: date) -> int | None:
    if reviewed is None:
        return None
    day = reviewed if isinstance(reviewed, date) else date.fromisoformat(reviewed)
    # A review dated after as_of (clock skew) counts as fresh rather than negative age.
    return max(0, (as_of - day).days)


def _model_provenance(asset: AssetDocument, t: ScoringTables, as_of: date) -> Scored:
    provider = (asset.get("model_provider") or "").strip().lower()
    self_hosted = bool(asset.get("is_self_hosted", False))
    if self_hosted:
        # Checked first: a self-hosted copy of a major provider's open weights is the
        # organization's own posture, not the provider's (the seed scored it as the provider).
        base = t.self_hosted
        basis = [f"self-hosted: {base:g}"]
    else:
        grouped = t.provider_group.get(provider)
        if grouped is not None:
            base = grouped[1]
            basis = [f"provider {provider} ({grouped[0]}): {base:g}"]
        else:
            base = t.other_provider
            basis = [f"provider {provider or 'unknown'} (other): {base:g}"]
    age = _review_age(asset.get("last_security_review"), as_of)
    if age is None:
        base += t.review_missing
        basis.append(f"no security review: {t.review_missing:+g}")
    elif age > t.review_stale_after_days:
        base += t.review_stale
        basis.append(f"review {age} days old (> {t.review_stale_after_days}): {t.review_stale:+g}")
    else:
        basis.append(f"review {age} days old: +0")
    value = f"provider={provider or 'unknown'}, self_hosted={self_hosted}, " + (
        "review=none" if age is None else f"review_age_days={age}"
    )
    return value, tuple(basis), _clamp(base)


def _regulatory_impact(asset: AssetDocument, t: ScoringTables) -> Scored:
    scopes = asset.get("regulatory_scope") or ()
    if not scopes:
        return "none", (f"no regulatory scope: {t.no_scope:g}",), t.no_scope
    scored = sorted(((t.scope_scores[s], s) for s in scopes), key=lambda p: (-p[0], p[1]))
    top, top_name = scored[0]
    extra = (len(scored) - 1) * t.additional_scope
    basis = [f"highest scope {top_name}: {top:g}"]
    if extra:
        basis.append(f"{len(scored) - 1} more scope(s): {extra:+g}")
    return ", ".join(scopes), tuple(basis), _clamp(top + extra)


def _permission_points(asset: AssetDocument, t: ScoringTables) -> list[tuple[str, float]]:
    unattended: set[str] = set()
    approved: set[str] = set()
    for tool in asset.get("tools") or ():
        (approved if tool.get("requires_approval") else unattended).update(
            tool.get("permissions") or ()
        )
    if not unattended and not approved:
        return []
    points = []
    for permission, full in t.permission_points:
        if permission in unattended:
            points.append((permission, full))
        elif permission in approved:
            points.append((permission, full * t.approval_factor))
    return points


def _capability_risk(asset: AssetDocument, t: ScoringTables) -> Scored:
    asset_type = asset["asset_type"]
    base = t.asset_type_scores[asset_type]
    basis = [f"asset type {asset_type}: {base:g}"]
    total = base
    for permission, points in _permission_points(asset, t):
        if points:
            basis.append(f"tool permission {permission}: {points:+g}")
            total += points
    value = f"type={asset_type}, tools={len(asset.get('tools') or ())}"
    return value, tuple(basis), _clamp(total)


def _host_matches(url: str, hosts: Iterable[str]) -> str | None:
    # Compare the parsed host, not a substring: "evil.example/huggingface.co" is not Hugging Face.
    if not url:
        return None
    candidate = url if "://" in url else f"https://{url}"
    try:
        host = (urlsplit(candidate).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    for known in hosts:
        if host == known or host.endswith(f".{known}"):
            return known
    return None


def _supply_chain(asset: AssetDocument, t: ScoringTables) -> Scored:
    total = t.supply_base
    basis = [f"base: {t.supply_base:g}"]
    sbom = bool(asset.get("sbom_available", False))
    if sbom:
        total += t.sbom_available
        basis.append(f"SBOM available: {t.sbom_available:+g}")
    licence = (asset.get("license_type") or "").strip().lower()
    if licence and licence not in t.unknown_licenses:
        total += t.known_license
        basis.append(f"licence {licence}: {t.known_license:+g}")
    matched = _host_matches(asset.get("source_url") or "", t.untrusted_hosts)
    if matched is not None:
        total += t.untrusted_points
        basis.append(f"source on {matched}: {t.untrusted_points:+g}")
    value = f"sbom={sbom}, licence={licence or 'unknown'}, source={matched or '-'}"
    return value, tuple(basis), _clamp(total)


def _dimension_scores(asset: AssetDocument, t: ScoringTables, as_of: date) -> tuple[Scored, ...]:
    """In ``Dimension`` order."""
    return (
        _data_sensitivity(asset, t),
        _deployment_exposure(asset, t),
        _model_provenance(asset, t, as_of),
        _regulatory_impact(asset, t),
        _capability_risk(asset, t),
        _supply_chain(asset, t),
    )


def scoring_facts(asset: AssetDocument) -> tuple[object, ...]:
    """Every attribute the six dimension functions above read, and nothing else: assets with
    equal facts score identically on one day, so a bulk run scores each combination once. Keep
    it next to those functions: a new attribute read there must be added here (a property test
    checks that assets with equal facts get equal explanations)."""
    tools = asset.get("tools") or ()
    return (
        asset.get("data_classification"),
        asset.get("exposure"),
        asset.get("environment"),
        asset.get("model_provider"),
        bool(asset.get("is_self_hosted", False)),
        asset.get("last_security_review"),
        tuple(asset.get("regulatory_scope") or ()),
        asset["asset_type"],
        tuple(
            (bool(tool.get("requires_approval")), tuple(tool.get("permissions") or ()))
            for tool in tools
        ),
        bool(asset.get("sbom_available", False)),
        asset.get("license_type"),
        asset.get("source_url"),
    )


# --- the same, for callers holding an AssetSpec ---------------------------------------------------


def _document(asset: AssetSpec) -> Document:
    return asset.model_dump(mode="json")


def score_data_sensitivity(asset: AssetSpec, config: RiskConfig) -> Scored:
    return _data_sensitivity(_document(asset), config.tables())


def score_deployment_exposure(asset: AssetSpec, config: RiskConfig) -> Scored:
    return _deployment_exposure(_document(asset), config.tables())


def review_age_days(asset: AssetSpec, as_of: date) -> int | None:
    return _review_age(asset.last_security_review, as_of)


def score_model_provenance(asset: AssetSpec, config: RiskConfig, as_of: date) -> Scored:
    return _model_provenance(_document(asset), config.tables(), as_of)


def score_regulatory_impact(asset: AssetSpec, config: RiskConfig) -> Scored:
    return _regulatory_impact(_document(asset), config.tables())


def permission_points(asset: AssetSpec, config: RiskConfig) -> list[tuple[ToolPermission, float]]:
    """Each distinct tool permission with the points it adds: full when some tool grants it
    without human approval, reduced when every tool granting it requires approval."""
    return [
        (ToolPermission(p), points)
        for p, points in _permission_points(_document(asset), config.tables())
    ]


def score_capability_risk(asset: AssetSpec, config: RiskConfig) -> Scored:
    return _capability_risk(_document(asset), config.tables())


def score_supply_chain(asset: AssetSpec, config: RiskConfig) -> Scored:
    return _supply_chain(_document(asset), config.tables())


def dimension_scores(asset: AssetSpec, config: RiskConfig, as_of: date) -> dict[Dimension, Scored]:
    scored = _dimension_scores(_document(asset), config.tables(), as_of)
    return dict(zip(_DIMENSIONS, scored, strict=True))


# --- controls -------------------------------------------------------------------------------------


def noisy_or(values: Iterable[float]) -> float:
    """``1 - Π(1 - v)``: overlapping safeguards, each catching part of what the others miss."""
    remaining = 1.0
    for value in values:
        remaining *= 1.0 - value
    return 1.0 - remaining


class CategoryRow(NamedTuple):
    category: str
    maximum: float
    controls: tuple[str, ...]
    combined: float
    effect: float
    dimensions: tuple[str, ...]


def _category_rows(controls: Iterable[PlainControl], t: ScoringTables) -> list[CategoryRow]:
    """The operational controls grouped by category, categories in name order."""
    by_category: dict[str, list[PlainControl]] = {}
    for control in controls:
        if control.state == _OPERATIONAL:
            by_category.setdefault(control.category, []).append(control)
    rows = []
    for category in sorted(by_category):
        members = sorted(by_category[category], key=lambda c: c.id)
        table = t.categories[category]
        combined = noisy_or(c.weight for c in members)
        rows.append(
            CategoryRow(
                category,
                table.maximum,
                tuple(c.id for c in members),
                combined,
                table.maximum * combined,
                table.dimensions,
            )
        )
    return rows


def _raw_effectiveness(
    effects: Sequence[tuple[float, tuple[str, ...]]], dimensions: Sequence[str]
) -> tuple[float, ...]:
    """Per dimension, the uncapped combination of the category effects acting on it."""
    return tuple(noisy_or(effect for effect, dims in effects if d in dims) for d in dimensions)


def category_effects(
    controls: Sequence[ControlInput], config: RiskConfig
) -> dict[ControlCategory, CategoryEffect]:
    rows = _category_rows(map(PlainControl.of, controls), config.tables())
    return {
        ControlCategory(row.category): CategoryEffect.model_validate(_category_document(row))
        for row in rows
    }


def dimension_effectiveness(
    effects: Mapping[ControlCategory, CategoryEffect], cap: float
) -> dict[Dimension, tuple[float, bool]]:
    """Per dimension: (capped effectiveness, whether the cap applied)."""
    names = tuple(d.value for d in _DIMENSIONS)
    raw = _raw_effectiveness(
        [(e.effect, tuple(d.value for d in e.dimensions)) for e in effects.values()], names
    )
    return {d: (min(cap, r), r > cap) for d, r in zip(_DIMENSIONS, raw, strict=True)}


def _category_document(row: CategoryRow) -> Document:
    return {
        "category": row.category,
        "maximum": row.maximum,
        "controls": list(row.controls),
        "combined": row.combined,
        "effect": row.effect,
        "dimensions": list(row.dimensions),
    }


@lru_cache(maxsize=16384)
def _control_effect(control: PlainControl, dimensions: tuple[str, ...]) -> Document:
    # Shared between assets (a bulk run would otherwise build the same few thousand documents per
    # run); callers never modify it.
    return {
        "id": control.id,
        "name": control.name,
        "type": control.type,
        "category": control.category,
        "state": control.state,
        "weight": control.weight,
        "counts": control.state == _OPERATIONAL,
        "dimensions": list(dimensions),
    }


class ControlPart(NamedTuple):
    """Everything that depends on the controls alone: shared by assets of one type whose
    controls are in the same states."""

    categories: list[Document]
    effects: dict[str, tuple[float, float]]
    """Category to (combined weight, effect)."""
    raw: tuple[float, ...]
    effectiveness: tuple[float, ...]
    capped: tuple[bool, ...]
    controls: list[Document]
    missing: list[str]
    candidates: tuple[PlainControl, ...]
    """The controls that are not operational: what the recommendations choose from."""
    pairs: tuple[tuple[str, float], ...]
    """The distinct (category, weight) among the candidates: candidates sharing one change the
    score identically, so each pair is evaluated once per asset."""
    pair_of: tuple[int, ...]
    """Each candidate's index in ``pairs``."""
    deltas: tuple[tuple[tuple[int, float], ...], ...]
    """Per pair, (dimension index, change of that dimension's capped effectiveness) for each
    dimension the pair's category reduces: the residual falls by Σ weighted x change."""


def control_part(controls: Sequence[PlainControl], t: ScoringTables) -> ControlPart:
    """``controls`` sorted by ID."""
    rows = _category_rows(controls, t)
    raw = _raw_effectiveness([(r.effect, r.dimensions) for r in rows], t.dimensions)
    cap = t.cap
    candidates = tuple(c for c in controls if c.state != _OPERATIONAL)
    index: dict[tuple[str, float], int] = {}
    for c in candidates:
        index.setdefault((c.category, c.weight), len(index))
    effects = {r.category: (r.combined, r.effect) for r in rows}
    return ControlPart(
        categories=[_category_document(r) for r in rows],
        effects=effects,
        raw=raw,
        effectiveness=tuple(min(cap, r) for r in raw),
        capped=tuple(r > cap for r in raw),
        controls=[
            _control_effect(c, t.categories[c.category].dimensions)
            for c in controls
            if c.state is not None
        ],
        missing=[c.id for c in controls if c.state is None],
        candidates=candidates,
        pairs=tuple(index),
        pair_of=tuple(index[c.category, c.weight] for c in candidates),
        deltas=tuple(_deltas(category, weight, effects, raw, t) for category, weight in index),
    )


def _deltas(
    category: str,
    weight: float,
    effects: Mapping[str, tuple[float, float]],
    raw: Sequence[float],
    t: ScoringTables,
) -> tuple[tuple[int, float], ...]:
    """What making one more control of ``category`` with ``weight`` operational changes in each
    dimension's capped effectiveness (nothing when the category already removes everything)."""
    combined, old = effects.get(category, (0.0, 0.0))
    if old >= 1.0:
        return ()
    table = t.categories[category]
    new = table.maximum * noisy_or((combined, weight))
    cap = t.cap
    found = []
    for d in table.dimensions:
        i = t.dimensions.index(d)
        changed = 1.0 - (1.0 - raw[i]) * (1.0 - new) / (1.0 - old)
        found.append((i, min(cap, changed) - min(cap, raw[i])))
    return tuple(found)


# --- adjustments from providers -------------------------------------------------------------------


def _adjustments(providers: Sequence[PlainProvider], t: ScoringTables) -> dict[str, list[Document]]:
    applied: dict[str, list[Document]] = {}
    totals: dict[str, float] = {}
    for name, adjustments in providers:
        for dimension, requested, explanation, refs in adjustments:
            points = _clamp(requested, -t.max_points, t.max_points)
            before = totals.get(dimension, 0.0)
            after = _clamp(before + points, -t.max_total, t.max_total)
            totals[dimension] = after
            applied.setdefault(dimension, []).append(
                {
                    "provider": name,
                    "requested": requested,
                    "applied": after - before,
                    "explanation": explanation,
                    "refs": list(refs),
                }
            )
    return applied


def apply_adjustments(
    outputs: Sequence[ProviderOutput], config: RiskConfig
) -> dict[Dimension, list[AppliedAdjustment]]:
    """Clip each adjustment to ``max_points`` and each dimension's total to ``max_total``, in
    provider order, so no other pillar can dominate the score."""
    applied = _adjustments(plain_providers(outputs), config.tables())
    return {
        Dimension(d): [AppliedAdjustment.model_validate(a) for a in found]
        for d, found in applied.items()
    }


# --- the whole ------------------------------------------------------------------------------------


def _recommendations(
    part: ControlPart, weighted: Sequence[float], current: float, t: ScoringTables
) -> list[Document]:
    if not part.candidates:
        return []
    reductions = []
    for deltas in part.deltas:
        after = current
        for i, delta in deltas:
            after -= weighted[i] * delta
        reductions.append((current - after, after))
    # Largest reduction first, ties by control ID (candidates are in ID order and the sort is
    # stable); only changes that lower the residual.
    pair_of = part.pair_of
    lowered = [n for n, pair in enumerate(pair_of) if reductions[pair][0] > 1e-12]
    if not lowered:
        return []
    order = [-reductions[pair][0] for pair in pair_of]
    ranked = sorted(lowered, key=order.__getitem__)
    total = math.fsum(weighted)
    shares = {d: (w / total if total else 0.0) for d, w in zip(t.dimensions, weighted, strict=True)}
    found = []
    for n in ranked[: t.recommendation_limit]:
        control = part.candidates[n]
        reduction, after = reductions[part.pair_of[n]]
        dims = t.categories[control.category].dimensions
        top = max(dims, key=lambda d: shares[d])
        found.append(
            {
                "control_id": control.id,
                "name": control.name,
                "type": control.type,
                "category": control.category,
                "state": control.state or "missing",
                "dimensions": list(dims),
                "expected_reduction": reduction,
                "expected_residual": after,
                "owasp": list(control.owasp),
                "reason": (
                    f"{'make operational' if control.state else 'deploy'} this "
                    f"{control.category} control: it reduces {', '.join(dims)} "
                    f"({top} is {shares[top] * 100:.1f} % of inherent risk)"
                ),
            }
        )
    return found


def explanation_document(
    asset: AssetDocument,
    controls: Sequence[PlainControl] | ControlPart,
    tables: ScoringTables,
    *,
    as_of: date,
    asset_id: str,
    providers: Sequence[PlainProvider] = (),
) -> Document:
    """The explanation of one score as JSON-ready data (``RiskExplanation``'s fields).

    ``controls`` are the applicable controls with their states, or their ``control_part`` when
    the caller shares it between assets."""
    t = tables
    part = (
        controls
        if isinstance(controls, ControlPart)
        else control_part(sorted(controls, key=lambda c: c.id), t)
    )
    scored = _dimension_scores(asset, t, as_of)
    adjustments = _adjustments(providers, t) if providers else {}
    finals = []
    weighted = []
    for dimension, (_, _, base), weight in zip(t.dimensions, scored, t.weights, strict=True):
        moved = adjustments.get(dimension)
        final = _clamp(base + math.fsum(a["applied"] for a in moved)) if moved else _clamp(base)
        finals.append(final)
        weighted.append(final * weight)
    inherent = math.fsum(weighted)
    effectiveness = part.effectiveness
    residual = math.fsum(w * (1.0 - e) for w, e in zip(weighted, effectiveness, strict=True))

    factors = [
        {
            "dimension": dimension,
            "value": value,
            "basis": basis,
            "base_score": base,
            "adjustments": adjustments.get(dimension, []),
            "score": final,
            "weight": weight,
            "weighted": points,
            "share": (points / inherent * 100.0) if inherent else 0.0,
            "effectiveness": eff,
            "capped": capped,
            "residual": points * (1.0 - eff),
        }
        for dimension, (value, basis, base), final, weight, points, eff, capped in zip(
            t.dimensions,
            scored,
            finals,
            t.weights,
            weighted,
            effectiveness,
            part.capped,
            strict=True,
        )
    ]
    shown_residual = round(residual, t.precision)
    level = t.level_for(shown_residual)
    return {
        "asset_id": asset_id,
        "asset_name": asset["name"],
        "asset_type": asset["asset_type"],
        "as_of": as_of.isoformat(),
        "inherent": round(inherent, t.precision),
        "residual": shown_residual,
        "effectiveness": (1.0 - residual / inherent) if inherent else 0.0,
        "level": level.name,
        "within_appetite": level.within_appetite,
        "cap": t.cap,
        "factors": factors,
        "categories": part.categories,
        "controls": part.controls,
        "missing": part.missing,
        "recommendations": _recommendations(part, weighted, residual, t),
        "providers": [name for name, _ in providers],
        "config_digest": t.digest,
        "precision": t.precision,
    }


def explain(
    asset: AssetSpec,
    controls: Sequence[ControlInput],
    config: RiskConfig,
    *,
    as_of: date,
    asset_id: str,
    providers: Sequence[ProviderOutput] = (),
) -> RiskExplanation:
    """Score ``asset`` (its applicable ``controls`` and the providers' outputs) under ``config``."""
    document = explanation_document(
        _document(asset),
        [PlainControl.of(c) for c in controls],
        config.tables(),
        as_of=as_of,
        asset_id=asset_id,
        providers=plain_providers(providers),
    )
    return RiskExplanation.model_validate(document)


def rounded_shares(shares: Sequence[float], digits: int = 2) -> list[float]:
    """Round percentages so that, as printed, they still add up to exactly 100 (largest
    remainder), whenever the unrounded ones do."""
    if not shares or not math.isclose(math.fsum(shares), 100.0, abs_tol=1e-6):
        return [round(s, digits) for s in shares]
    unit = 10**digits
    scaled = [s * unit for s in shares]
    floors = [math.floor(v) for v in scaled]
    missing = 100 * unit - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: (floors[i] - scaled[i], i))
    for i in order[: max(0, missing)]:
        floors[i] += 1
    return [f / unit for f in floors]
