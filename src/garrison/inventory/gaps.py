"""The compliance gap report: named rules, thresholds as data, each finding with its reason.

The rules and their thresholds are content (``content/inventory/gap_rules.yaml``, overridable per
organization); each ``kind`` is one function below, ``(asset, rule, context) -> reason | None``,
testable alone. ``evaluate_gaps`` is pure; ``compliance_gap_report(session, …)`` reads the store.

The seed's six gap kinds and what was wrong with them:

``no_security_review``
    Kept as is (no review date at all); now limited to the types the rule lists.
``stale_review``
    The seed compared with the *local* ``date.today()`` and ignored a due date. Now: UTC today;
    a review exactly ``max_age_days`` old is still current, one day more is stale; an explicit
    ``review_due`` in the past is stale whatever the age; a stricter interval can apply per
    regulatory scope. (Future review dates are refused when an asset is registered.)
``missing_sbom``
    The seed flagged every self-hosted asset, prompt templates and API keys included. Now only
    the types where a bill of materials means something.
``unclassified_data``
    The seed flagged "INTERNAL with any regulatory scope": INTERNAL was its *default*, so it
    guessed that INTERNAL meant "never classified", flagged properly classified internal assets
    under SOX, missed unclassified assets without a scope, and counted the ``NONE`` scope as a
    scope. Now: unclassified means ``data_classification`` is unset, and an asset classified
    below the minimum its regulation requires (GDPR at least confidential, HIPAA regulated, …) is
    a gap of its own.
``no_owner``
    The seed accepted a whitespace-only team and ignored the contact. Now a blank team, or (by
    default) no contact email, is a gap, and the reason says which.
``public_exposure_high_sensitivity``
    The seed matched the free-text string ``"public"`` exactly and let an *unclassified* public
    asset through. Now exposure is an enum, unknown sensitivity counts as sensitive (by default),
    and the sensitivity of the data an asset reaches upstream counts: a public chat app over a
    confidential vector store exposes the store.

Two more the program needs: ``public_without_guardrail`` (a public LLM app, agent or endpoint
with no guardrail configuration anywhere upstream) and ``eu_high_risk_unassessed`` (an EU AI Act
high-risk system whose compliance status is not an accepted one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from garrison.catalog.crosswalk import CatalogRefs
from garrison.core.content import ContentModel, content_file, load_content_file
from garrison.core.timeutil import utcnow
from garrison.inventory.graph import build_graph, upstream
from garrison.inventory.models import (
    AIAsset,
    AssetType,
    ComplianceStatus,
    DataClassification,
    Dependency,
    Exposure,
    RegulatoryScope,
)
from garrison.inventory.query import AssetFilter
from garrison.inventory.registry import list_dependencies, search

GAP_RULES_FILE = "inventory/gap_rules.yaml"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class _Rule(ContentModel):
    id: Annotated[str, Field(pattern=r"^GAP-[A-Z0-9-]+$")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Severity
    enabled: bool = True
    asset_types: tuple[AssetType, ...] = ()
    """The types the rule applies to; empty means all."""
    frameworks: CatalogRefs = ()

    def applies_to(self, asset: AIAsset) -> bool:
        return not self.asset_types or asset.asset_type in self.asset_types


class NoSecurityReviewRule(_Rule):
    kind: Literal["no_security_review"]


class StaleReviewRule(_Rule):
    kind: Literal["stale_review"]
    max_age_days: Annotated[int, Field(ge=1, le=3650)]
    max_age_days_by_scope: dict[RegulatoryScope, Annotated[int, Field(ge=1, le=3650)]] = Field(
        default_factory=dict
    )


class MissingSbomRule(_Rule):
    kind: Literal["missing_sbom"]


class UnclassifiedDataRule(_Rule):
    kind: Literal["unclassified_data"]
    minimum_by_scope: dict[RegulatoryScope, DataClassification] = Field(default_factory=dict)


class NoOwnerRule(_Rule):
    kind: Literal["no_owner"]
    require_email: bool = True


class PublicSensitiveRule(_Rule):
    kind: Literal["public_exposure_high_sensitivity"]
    min_classification: DataClassification = DataClassification.CONFIDENTIAL
    unclassified_is_sensitive: bool = True
    include_upstream: bool = True


class PublicNoGuardrailRule(_Rule):
    kind: Literal["public_without_guardrail"]


class EuHighRiskRule(_Rule):
    kind: Literal["eu_high_risk_unassessed"]
    accepted_statuses: tuple[ComplianceStatus, ...] = (
        ComplianceStatus.COMPLIANT,
        ComplianceStatus.EXCEPTION,
    )


GapRule = Annotated[
    NoSecurityReviewRule
    | StaleReviewRule
    | MissingSbomRule
    | UnclassifiedDataRule
    | NoOwnerRule
    | PublicSensitiveRule
    | PublicNoGuardrailRule
    | EuHighRiskRule,
    Field(discriminator="kind"),
]


class GapRules(ContentModel):
    rules: tuple[GapRule, ...]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[_Rule, ...]) -> tuple[_Rule, ...]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id} is used twice")
            seen.add(rule.id)
        return rules


def load_gap_rules(content_dir: Path | None = None) -> GapRules:
    """The packaged rules, or the organization's copy from ``content_dir``."""
    return load_content_file(GapRules, content_file(GAP_RULES_FILE, content_dir))


# --- context --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapContext:
    """What a rule may look at besides the asset: the date (UTC) and the asset's upstream."""

    today: date
    upstream_of: Callable[[str], Sequence[AIAsset]] = lambda _asset_id: ()


def context_for(
    assets: Sequence[AIAsset], dependencies: Iterable[Dependency], today: date
) -> GapContext:
    graph = build_graph(assets, dependencies)
    by_id = {asset.id: asset for asset in assets}
    cache: dict[str, list[AIAsset]] = {}

    def upstream_of(asset_id: str) -> Sequence[AIAsset]:
        if asset_id not in cache:
            found = upstream(graph, asset_id) if asset_id in graph else set()
            cache[asset_id] = [by_id[n] for n in sorted(found) if n in by_id]
        return cache[asset_id]

    return GapContext(today=today, upstream_of=upstream_of)


# --- the rules ------------------------------------------------------------------------------------


def no_security_review(
    asset: AIAsset, rule: NoSecurityReviewRule, context: GapContext
) -> str | None:
    if asset.last_security_review is None:
        return "no security review recorded"
    return None


def stale_review(asset: AIAsset, rule: StaleReviewRule, context: GapContext) -> str | None:
    reviewed = asset.last_security_review
    if asset.review_due is not None and asset.review_due < context.today:
        return f"review was due on {asset.review_due.isoformat()}"
    if reviewed is None:
        return None  # no_security_review's finding, not this one's
    limits = [rule.max_age_days] + [
        days
        for scope, days in rule.max_age_days_by_scope.items()
        if scope in asset.regulatory_scope
    ]
    limit = min(limits)
    age = (context.today - reviewed).days
    if age > limit:
        return f"last reviewed {reviewed.isoformat()}, {age} days ago (limit {limit} days)"
    return None


def missing_sbom(asset: AIAsset, rule: MissingSbomRule, context: GapContext) -> str | None:
    if asset.is_self_hosted and not asset.sbom_available:
        return "self-hosted, and no SBOM is recorded"
    return None


def unclassified_data(
    asset: AIAsset, rule: UnclassifiedDataRule, context: GapContext
) -> str | None:
    level = asset.data_classification
    if level is None:
        return "data classification not set"
    required = [
        (minimum, scope)
        for scope, minimum in rule.minimum_by_scope.items()
        if scope in asset.regulatory_scope and level.rank < minimum.rank
    ]
    if required:
        minimum, scope = max(required, key=lambda pair: pair[0].rank)
        return f"classified {level.value}, but {scope.value} requires at least {minimum.value}"
    return None


def no_owner(asset: AIAsset, rule: NoOwnerRule, context: GapContext) -> str | None:
    missing = []
    if not asset.owner_team.strip():
        missing.append("owner team")
    if rule.require_email and not asset.owner_email:
        missing.append("owner email")
    return f"no {' and no '.join(missing)}" if missing else None


def public_exposure_high_sensitivity(
    asset: AIAsset, rule: PublicSensitiveRule, context: GapContext
) -> str | None:
    if asset.exposure is not Exposure.PUBLIC:
        return None
    own = asset.data_classification
    if own is None and rule.unclassified_is_sensitive:
        return "publicly reachable and its data is unclassified"
    if own is not None and own.rank >= rule.min_classification.rank:
        return f"publicly reachable with {own.value} data"
    if rule.include_upstream:
        for other in context.upstream_of(asset.id):
            level = other.data_classification
            if level is not None and level.rank >= rule.min_classification.rank:
                return (
                    f"publicly reachable and reaches {level.value} data upstream in "
                    f"{other.name!r} ({other.asset_type.value})"
                )
    return None


def public_without_guardrail(
    asset: AIAsset, rule: PublicNoGuardrailRule, context: GapContext
) -> str | None:
    if asset.exposure is not Exposure.PUBLIC:
        return None
    if any(a.asset_type is AssetType.GUARDRAIL_CONFIG for a in context.upstream_of(asset.id)):
        return None
    return "publicly reachable with no guardrail configuration among its dependencies"


def eu_high_risk_unassessed(
    asset: AIAsset, rule: EuHighRiskRule, context: GapContext
) -> str | None:
    if RegulatoryScope.EU_AI_ACT_HIGH_RISK not in asset.regulatory_scope:
        return None
    if asset.compliance_status in rule.accepted_statuses:
        return None
    return f"EU AI Act high-risk system with compliance status {asset.compliance_status.value}"


RuleFunction = Callable[[AIAsset, Any, GapContext], str | None]
RULE_FUNCTIONS: Mapping[str, RuleFunction] = {
    "no_security_review": no_security_review,
    "stale_review": stale_review,
    "missing_sbom": missing_sbom,
    "unclassified_data": unclassified_data,
    "no_owner": no_owner,
    "public_exposure_high_sensitivity": public_exposure_high_sensitivity,
    "public_without_guardrail": public_without_guardrail,
    "eu_high_risk_unassessed": eu_high_risk_unassessed,
}


# --- the report -----------------------------------------------------------------------------------


class Gap(BaseModel):
    rule_id: str
    kind: str
    severity: Severity
    asset_id: str
    asset_name: str
    org: str
    stale: bool
    reason: str


class RuleSummary(BaseModel):
    id: str
    kind: str
    title: str
    severity: Severity
    frameworks: list[str]
    count: int


class GapReport(BaseModel):
    as_of: date
    assets_checked: int
    rules: list[RuleSummary]
    gaps: list[Gap]
    by_kind: dict[str, list[str]]
    """The seed's shape: gap kind → asset IDs."""

    @property
    def has_gaps(self) -> bool:
        return bool(self.gaps)


def evaluate_gaps(
    assets: Sequence[AIAsset],
    dependencies: Iterable[Dependency],
    rules: GapRules,
    *,
    today: date,
) -> GapReport:
    context = context_for(assets, dependencies, today)
    active = [rule for rule in rules.rules if rule.enabled]
    gaps: list[Gap] = []
    for rule in active:
        check = RULE_FUNCTIONS[rule.kind]
        for asset in assets:
            if not rule.applies_to(asset):
                continue
            reason = check(asset, rule, context)
            if reason is not None:
                gaps.append(
                    Gap(
                        rule_id=rule.id,
                        kind=rule.kind,
                        severity=rule.severity,
                        asset_id=asset.id,
                        asset_name=asset.name,
                        org=asset.org,
                        stale=asset.stale,
                        reason=reason,
                    )
                )
    return GapReport(
        as_of=today,
        assets_checked=len(assets),
        rules=[
            RuleSummary(
                id=rule.id,
                kind=rule.kind,
                title=rule.title,
                severity=rule.severity,
                frameworks=list(rule.frameworks),
                count=sum(g.rule_id == rule.id for g in gaps),
            )
            for rule in active
        ],
        gaps=gaps,
        by_kind={rule.kind: [g.asset_id for g in gaps if g.rule_id == rule.id] for rule in active},
    )


def compliance_gap_report(
    session: Session,
    *,
    org: str | None = None,
    as_of: date | None = None,
    rules: GapRules | None = None,
    content_dir: Path | None = None,
) -> GapReport:
    """Evaluate the (enabled) gap rules over an organization's assets, or everyone's."""
    chosen = rules if rules is not None else load_gap_rules(content_dir)
    today = as_of if as_of is not None else utcnow().date()
    assets = search(session, AssetFilter(org=org))
    return evaluate_gaps(assets, list_dependencies(session, org=org), chosen, today=today)
