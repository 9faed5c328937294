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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from garrison.controls.models import ControlCategory, ControlType
from garrison.inventory.models import AssetSpec, ToolPermission
from garrison.risk.config import Dimension, RiskConfig
from garrison.risk.models import (
    AppliedAdjustment,
    CategoryEffect,
    ControlEffect,
    ControlInput,
    Factor,
    ProviderOutput,
    Recommendation,
    RiskExplanation,
)

_DIMENSIONS = tuple(Dimension)
"""Iterating the enum class is slow enough to show in a bulk run."""

Scored = tuple[str, tuple[str, ...], float]
"""(observed value, how the score was built, score)."""


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


# --- the six dimensions ---------------------------------------------------------------------------


def score_data_sensitivity(asset: AssetSpec, config: RiskConfig) -> Scored:
    table = config.dimensions.data_sensitivity
    if asset.data_classification is None:
        return "unclassified", (f"unclassified: {table.unclassified:g}",), table.unclassified
    value = asset.data_classification.value
    score = table.scores[asset.data_classification]
    return value, (f"{value}: {score:g}",), score


def score_deployment_exposure(asset: AssetSpec, config: RiskConfig) -> Scored:
    table = config.dimensions.deployment_exposure
    score = table.scores[asset.exposure][asset.environment]
    value = f"exposure={asset.exposure.value}, environment={asset.environment.value}"
    return value, (f"{asset.exposure.value} x {asset.environment.value}: {score:g}",), score


def review_age_days(asset: AssetSpec, as_of: date) -> int | None:
    if asset.last_security_review is None:
        return None
    # A review dated after as_of (clock skew) counts as fresh rather than negative age.
    return max(0, (as_of - asset.last_security_review).days)


def score_model_provenance(asset: AssetSpec, config: RiskConfig, as_of: date) -> Scored:
    table = config.dimensions.model_provenance
    provider = (asset.model_provider or "").strip().lower()
    basis: list[str] = []
    if asset.is_self_hosted:
        # Checked first: a self-hosted copy of a major provider's open weights is the
        # organization's own posture, not the provider's (the seed scored it as the provider).
        base = table.self_hosted
        basis.append(f"self-hosted: {base:g}")
    else:
        group = next(
            (name for name, g in table.provider_groups.items() if provider in g.providers), None
        )
        if group is not None:
            base = table.provider_groups[group].score
            basis.append(f"provider {provider} ({group}): {base:g}")
        else:
            base = table.other
            basis.append(f"provider {provider or 'unknown'} (other): {base:g}")
    age = review_age_days(asset, as_of)
    if age is None:
        base += table.review.missing
        basis.append(f"no security review: {table.review.missing:+g}")
    elif age > table.review.stale_after_days:
        base += table.review.stale
        basis.append(
            f"review {age} days old (> {table.review.stale_after_days}): {table.review.stale:+g}"
        )
    else:
        basis.append(f"review {age} days old: +0")
    value = f"provider={provider or 'unknown'}, self_hosted={asset.is_self_hosted}, " + (
        "review=none" if age is None else f"review_age_days={age}"
    )
    return value, tuple(basis), _clamp(base)


def score_regulatory_impact(asset: AssetSpec, config: RiskConfig) -> Scored:
    table = config.dimensions.regulatory_impact
    if not asset.regulatory_scope:
        return "none", (f"no regulatory scope: {table.none:g}",), table.none
    scored = sorted(
        ((table.scores[s], s.value) for s in asset.regulatory_scope), key=lambda p: (-p[0], p[1])
    )
    top, top_name = scored[0]
    extra = (len(scored) - 1) * table.additional_scope
    basis = [f"highest scope {top_name}: {top:g}"]
    if extra:
        basis.append(f"{len(scored) - 1} more scope(s): {extra:+g}")
    value = ", ".join(s.value for s in asset.regulatory_scope)
    return value, tuple(basis), _clamp(top + extra)


def permission_points(asset: AssetSpec, config: RiskConfig) -> list[tuple[ToolPermission, float]]:
    """Each distinct tool permission with the points it adds: full when some tool grants it
    without human approval, reduced when every tool granting it requires approval."""
    table = config.dimensions.capability_risk
    unattended: set[ToolPermission] = set()
    approved: set[ToolPermission] = set()
    for tool in asset.tools:
        (approved if tool.requires_approval else unattended).update(tool.permissions)
    points = []
    for permission in ToolPermission:
        if permission in unattended:
            points.append((permission, table.permissions[permission]))
        elif permission in approved:
            points.append((permission, table.permissions[permission] * table.approval_factor))
    return points


def score_capability_risk(asset: AssetSpec, config: RiskConfig) -> Scored:
    table = config.dimensions.capability_risk
    base = table.asset_types[asset.asset_type]
    basis = [f"asset type {asset.asset_type.value}: {base:g}"]
    total = base
    for permission, points in permission_points(asset, config):
        if points:
            basis.append(f"tool permission {permission.value}: {points:+g}")
            total += points
    value = f"type={asset.asset_type.value}, tools={len(asset.tools)}"
    return value, tuple(basis), _clamp(total)


def _host_matches(url: str, hosts: Iterable[str]) -> str | None:
    # Compare the parsed host, not a substring: "evil.example/huggingface.co" is not Hugging Face.
    candidate = url if "://" in url else f"https://{url}"
    try:
        host = (urlsplit(candidate).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    for known in hosts:
        if host == known or host.endswith(f".{known}"):
            return known
    return None


def score_supply_chain(asset: AssetSpec, config: RiskConfig) -> Scored:
    table = config.dimensions.supply_chain
    total = table.base
    basis = [f"base: {table.base:g}"]
    if asset.sbom_available:
        total += table.sbom_available
        basis.append(f"SBOM available: {table.sbom_available:+g}")
    licence = (asset.license_type or "").strip().lower()
    if licence and licence not in table.unknown_licenses:
        total += table.known_license
        basis.append(f"licence {licence}: {table.known_license:+g}")
    matched = _host_matches(asset.source_url or "", table.untrusted_sources.hosts)
    if matched is not None:
        total += table.untrusted_sources.points
        basis.append(f"source on {matched}: {table.untrusted_sources.points:+g}")
    value = f"sbom={asset.sbom_available}, licence={licence or 'unknown'}, source={matched or '-'}"
    return value, tuple(basis), _clamp(total)


def dimension_scores(asset: AssetSpec, config: RiskConfig, as_of: date) -> dict[Dimension, Scored]:
    return {
        Dimension.DATA_SENSITIVITY: score_data_sensitivity(asset, config),
        Dimension.DEPLOYMENT_EXPOSURE: score_deployment_exposure(asset, config),
        Dimension.MODEL_PROVENANCE: score_model_provenance(asset, config, as_of),
        Dimension.REGULATORY_IMPACT: score_regulatory_impact(asset, config),
        Dimension.CAPABILITY_RISK: score_capability_risk(asset, config),
        Dimension.SUPPLY_CHAIN: score_supply_chain(asset, config),
    }


# --- controls -------------------------------------------------------------------------------------


def noisy_or(values: Iterable[float]) -> float:
    """``1 - Π(1 - v)``: overlapping safeguards, each catching part of what the others miss."""
    remaining = 1.0
    for value in values:
        remaining *= 1.0 - value
    return 1.0 - remaining


def category_effects(
    controls: Sequence[ControlInput], config: RiskConfig
) -> dict[ControlCategory, CategoryEffect]:
    table = config.control_effectiveness.categories
    by_category: dict[ControlCategory, list[ControlInput]] = {}
    for control in controls:
        if control.operational:
            by_category.setdefault(control.category, []).append(control)
    effects = {}
    for category in sorted(by_category):
        members = sorted(by_category[category], key=lambda c: c.id)
        combined = noisy_or(c.weight for c in members)
        effects[category] = CategoryEffect(
            category=category,
            maximum=table[category].max,
            controls=tuple(c.id for c in members),
            combined=combined,
            effect=table[category].max * combined,
            dimensions=table[category].dimensions,
        )
    return effects


def dimension_effectiveness(
    effects: Mapping[ControlCategory, CategoryEffect], cap: float
) -> dict[Dimension, tuple[float, bool]]:
    """Per dimension: (capped effectiveness, whether the cap applied)."""
    result = {}
    for dimension in _DIMENSIONS:
        raw = noisy_or(e.effect for e in effects.values() if dimension in e.dimensions)
        result[dimension] = (min(cap, raw), raw > cap)
    return result


# --- adjustments from providers -------------------------------------------------------------------


def apply_adjustments(
    outputs: Sequence[ProviderOutput], config: RiskConfig
) -> dict[Dimension, list[AppliedAdjustment]]:
    """Clip each adjustment to ``max_points`` and each dimension's total to ``max_total``, in
    provider order, so no other pillar can dominate the score."""
    bounds = config.providers
    applied: dict[Dimension, list[AppliedAdjustment]] = {}
    totals: dict[Dimension, float] = {}
    for output in outputs:
        for adjustment in output.adjustments:
            points = _clamp(adjustment.points, -bounds.max_points, bounds.max_points)
            before = totals.get(adjustment.dimension, 0.0)
            after = _clamp(before + points, -bounds.max_total, bounds.max_total)
            totals[adjustment.dimension] = after
            applied.setdefault(adjustment.dimension, []).append(
                AppliedAdjustment(
                    provider=output.provider,
                    requested=adjustment.points,
                    applied=after - before,
                    explanation=adjustment.explanation,
                    refs=adjustment.refs,
                )
            )
    return applied


# --- the whole ------------------------------------------------------------------------------------


def _residual(
    weighted: Mapping[Dimension, float], effectiveness: Mapping[Dimension, tuple[float, bool]]
) -> float:
    return math.fsum(weighted[d] * (1.0 - effectiveness[d][0]) for d in _DIMENSIONS)


def _recommendations(
    controls: Sequence[ControlInput],
    effects: Mapping[ControlCategory, CategoryEffect],
    weighted: Mapping[Dimension, float],
    current: float,
    config: RiskConfig,
) -> tuple[Recommendation, ...]:
    cap = config.control_effectiveness.cap
    table = config.control_effectiveness.categories
    total = math.fsum(weighted.values())
    shares = {d: (weighted[d] / total if total else 0.0) for d in _DIMENSIONS}
    raw = {
        d: noisy_or(e.effect for e in effects.values() if d in e.dimensions) for d in _DIMENSIONS
    }
    # Controls of one category and weight change the score identically: compute each pair once.
    memo: dict[tuple[ControlCategory, float], float] = {}

    def residual_with(category: ControlCategory, weight: float) -> float:
        key = (category, weight)
        if key not in memo:
            existing = effects.get(category)
            old = 0.0 if existing is None else existing.effect
            combined = 0.0 if existing is None else existing.combined
            new = table[category].max * noisy_or((combined, weight))
            after = current
            if old < 1.0:
                for d in table[category].dimensions:
                    changed = 1.0 - (1.0 - raw[d]) * (1.0 - new) / (1.0 - old)
                    after -= weighted[d] * (min(cap, changed) - min(cap, raw[d]))
            memo[key] = after
        return memo[key]

    candidates = []
    for control in controls:
        if not control.operational:
            after = residual_with(control.category, control.weight)
            if current - after > 1e-12:
                candidates.append((current - after, control.id, after, control))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    found = []
    for reduction, _, after, control in candidates[: config.recommendations.limit]:
        dims = table[control.category].dimensions
        top = max(dims, key=lambda d: shares[d])
        found.append(
            Recommendation(
                control_id=control.id,
                name=control.name,
                type=control.type,
                category=control.category,
                state=control.state or "missing",
                dimensions=dims,
                expected_reduction=reduction,
                expected_residual=after,
                owasp=control.owasp,
                reason=(
                    f"{'make operational' if control.state else 'deploy'} this "
                    f"{control.category.value} control: it reduces "
                    f"{', '.join(d.value for d in dims)} "
                    f"({top.value} is {shares[top] * 100:.1f} % of inherent risk)"
                ),
            )
        )
    return tuple(found)


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
    controls = sorted(controls, key=lambda c: c.id)
    scored = dimension_scores(asset, config, as_of)
    adjustments = apply_adjustments(providers, config)
    weights = config.dimensions.weights()
    cap = config.control_effectiveness.cap
    effects = category_effects(controls, config)
    effectiveness = dimension_effectiveness(effects, cap)

    final: dict[Dimension, float] = {}
    weighted: dict[Dimension, float] = {}
    for dimension in _DIMENSIONS:
        base = scored[dimension][2]
        moved = math.fsum(a.applied for a in adjustments.get(dimension, ()))
        final[dimension] = _clamp(base + moved)
        weighted[dimension] = final[dimension] * weights[dimension]
    inherent = math.fsum(weighted.values())
    residual = _residual(weighted, effectiveness)

    factors = []
    for dimension in _DIMENSIONS:
        value, basis, base = scored[dimension]
        eff, capped = effectiveness[dimension]
        factors.append(
            Factor(
                dimension=dimension,
                value=value,
                basis=basis,
                base_score=base,
                adjustments=tuple(adjustments.get(dimension, ())),
                score=final[dimension],
                weight=weights[dimension],
                weighted=weighted[dimension],
                share=(weighted[dimension] / inherent * 100.0) if inherent else 0.0,
                effectiveness=eff,
                capped=capped,
                residual=weighted[dimension] * (1.0 - eff),
            )
        )

    table = config.control_effectiveness.categories
    control_effects = tuple(
        _control_effect(
            c.id, c.name, c.type, c.category, c.state, c.weight, table[c.category].dimensions
        )
        for c in controls
        if c.state is not None
    )
    shown_inherent = round(inherent, config.precision)
    shown_residual = round(residual, config.precision)
    level = config.level_for(shown_residual)
    return RiskExplanation(
        asset_id=asset_id,
        asset_name=asset.name,
        asset_type=asset.asset_type.value,
        as_of=as_of,
        inherent=shown_inherent,
        residual=shown_residual,
        effectiveness=(1.0 - residual / inherent) if inherent else 0.0,
        level=level.name,
        within_appetite=level.within_appetite,
        cap=cap,
        factors=tuple(factors),
        categories=tuple(effects.values()),
        controls=control_effects,
        missing=tuple(c.id for c in controls if c.state is None),
        recommendations=_recommendations(controls, effects, weighted, residual, config),
        providers=tuple(o.provider for o in providers),
        config_digest=config.digest(),
        precision=config.precision,
    )


@lru_cache(maxsize=8192)
def _control_effect(  # noqa: PLR0917 - the cache key is every field
    control_id: str,
    name: str,
    type_: ControlType,
    category: ControlCategory,
    state: str,
    weight: float,
    dimensions: tuple[Dimension, ...],
) -> ControlEffect:
    # Built unvalidated (every field comes from already-validated inputs) and shared: effects are
    # frozen, and a bulk run would otherwise build the same few thousand objects per asset.
    return ControlEffect.model_construct(
        id=control_id,
        name=name,
        type=type_,
        category=category,
        state=state,
        weight=weight,
        counts=state == "operational",
        dimensions=dimensions,
    )


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
