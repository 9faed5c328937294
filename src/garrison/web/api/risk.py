"""``/api/v1/risk``: assess assets, the explanation of a score, the riskiest assets, history,
risk acceptance and open risk gaps, and the quantitative (FAIR-style) view.

The risk model and control library are the server's (``GARRISON_CONTENT_DIR``). The explanation
returned here is the same value object ``garrison risk show --explain`` renders.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from garrison.controls import ControlLibrary, get_library
from garrison.core.errors import GarrisonError
from garrison.core.settings import Settings
from garrison.inventory import AssetFilter, resolve_asset, search
from garrison.risk import (
    AcceptanceStatus,
    RiskConfig,
    RiskExplanation,
    accept,
    acceptances,
    assess_assets,
    history,
    load_risk_config,
    open_risk_gaps,
    quantify,
    top,
)
from garrison.risk.acceptance import Acceptance, GapKind, RiskGap
from garrison.risk.engine import preview, require_latest
from garrison.risk.models import AssessmentSummary
from garrison.risk.quant import QuantResult
from garrison.web.deps import StoreDep
from garrison.web.security import PrincipalDep, require_visible

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


def _content_dir(request: Request) -> Settings | None:
    settings = request.app.state.settings
    return settings if isinstance(settings, Settings) else None


def app_risk_config(request: Request) -> RiskConfig:
    settings = _content_dir(request)
    return load_risk_config(None if settings is None else settings.content_dir)


def app_library(request: Request) -> ControlLibrary:
    settings = _content_dir(request)
    return get_library(None if settings is None else settings.content_dir)


ConfigDep = Annotated[RiskConfig, Depends(app_risk_config)]
LibraryDep = Annotated[ControlLibrary, Depends(app_library)]


class AssessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: str | None = Field(default=None, description="Asset ID, name or source ID.")
    all: bool = Field(default=False, description="Assess every asset in the inventory.")


class AssessmentOut(BaseModel):
    summary: AssessmentSummary
    explanation: RiskExplanation | None = None


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    approver: str | None = Field(
        default=None,
        max_length=320,
        description="Ignored: the approver is the authenticated person making this request.",
    )
    owner: str | None = Field(
        default=None, max_length=320, description="Who accepts; default the asset's owner."
    )
    expires: date | datetime = Field(description="A date (end of day UTC) or a time with offset.")


class AcceptanceOut(BaseModel):
    id: int
    asset_id: str
    assessment_id: int
    level: str
    residual: float
    reason: str
    owner: str
    approver: str
    accepted_at: datetime
    expires_at: datetime
    status: AcceptanceStatus


class GapOut(BaseModel):
    asset_id: str
    asset_name: str
    level: str
    residual: float
    kind: GapKind
    acceptance_id: int | None
    expired_at: datetime | None
    message: str


def acceptance_out(a: Acceptance) -> AcceptanceOut:
    return AcceptanceOut(
        id=a.id,
        asset_id=a.asset_id,
        assessment_id=a.assessment_id,
        level=a.level,
        residual=a.residual,
        reason=a.reason,
        owner=a.owner,
        approver=a.approver,
        accepted_at=a.accepted_at,
        expires_at=a.expires_at,
        status=a.status,
    )


def gap_out(g: RiskGap) -> GapOut:
    return GapOut(
        asset_id=g.asset_id,
        asset_name=g.asset_name,
        level=g.level,
        residual=g.residual,
        kind=g.kind,
        acceptance_id=g.acceptance_id,
        expired_at=g.expired_at,
        message=g.message,
    )


@router.post("/assess", status_code=201)
def post_assess(
    body: AssessIn,
    store: StoreDep,
    config: ConfigDep,
    library: LibraryDep,
    principal: PrincipalDep,
) -> list[AssessmentSummary]:
    """Assess one asset or all of them; every assessment is stored with its inputs."""
    if (body.asset is None) == (not body.all):
        raise GarrisonError("give an asset or all=true (not both)")
    with store.session() as session:
        if body.all:
            own = None if principal.org is None else AssetFilter(org=principal.org)
            chosen = search(session) if own is None else search(session, own)
        else:
            chosen = [resolve_asset(session, body.asset or "")]
        for asset in chosen:
            require_visible(principal, asset.org, f"asset {asset.id!r}")
        done = assess_assets(session, chosen, config=config, library=library)
        return [a.summary() for a in done]


@router.get("/top")
def get_top(
    store: StoreDep, principal: PrincipalDep, limit: Annotated[int, Query(ge=1, le=1000)] = 10
) -> list[AssessmentSummary]:
    """The assets with the highest residual risk, by their latest assessment."""
    with store.session() as session:
        return [a.summary() for a in top(session, limit, org=principal.org)]


@router.get("/assets/{asset}")
def get_assessment(
    asset: str, store: StoreDep, principal: PrincipalDep, explain: Annotated[bool, Query()] = True
) -> AssessmentOut:
    """The asset's latest assessment, with its explanation (every factor, control, provider
    adjustment and recommendation)."""
    with store.session() as session:
        subject = resolve_asset(session, asset)
        require_visible(principal, subject.org, f"asset {asset!r}")
        found = require_latest(session, subject.id)
    return AssessmentOut(
        summary=found.summary(), explanation=found.explanation if explain else None
    )


@router.get("/assets/{asset}/history")
def get_history(asset: str, store: StoreDep, principal: PrincipalDep) -> list[AssessmentSummary]:
    """Every assessment of the asset, oldest first."""
    with store.session() as session:
        subject = resolve_asset(session, asset)
        require_visible(principal, subject.org, f"asset {asset!r}")
        return [a.summary() for a in history(session, subject.id)]


@router.post("/assets/{asset}/acceptances", status_code=201)
def post_acceptance(
    asset: str, body: AcceptIn, store: StoreDep, config: ConfigDep, principal: PrincipalDep
) -> AcceptanceOut:
    """Accept the asset's residual risk above appetite until an expiry; the approver is the
    authenticated caller, so the record names the real person."""
    with store.session() as session:
        found = resolve_asset(session, asset)
        require_visible(principal, found.org, f"asset {asset!r}")
        owner = body.owner or found.owner_email or found.owner_team
        if not owner:
            raise GarrisonError("the asset has no owner to accept its risk", hint="give owner")
        done = accept(
            session,
            found.id,
            reason=body.reason,
            owner=owner,
            approver=principal.actor,
            expires=body.expires,
            config=config,
        )
        return acceptance_out(done)


@router.get("/acceptances")
def get_acceptances(
    store: StoreDep,
    config: ConfigDep,
    principal: PrincipalDep,
    status: Annotated[AcceptanceStatus | None, Query()] = None,
    asset: Annotated[str | None, Query(max_length=2000)] = None,
) -> list[AcceptanceOut]:
    """Acceptances, newest first, with their status now (expired ones have reopened)."""
    with store.session() as session:
        asset_id = None if asset is None else resolve_asset(session, asset).id
        found = acceptances(session, config, asset_id=asset_id, status=status)
    return [acceptance_out(a) for a in found if principal.can_see(a.org)]


@router.get("/gaps")
def get_gaps(store: StoreDep, config: ConfigDep, principal: PrincipalDep) -> list[GapOut]:
    """Residual risks above appetite that no acceptance covers now."""
    with store.session() as session:
        found = open_risk_gaps(session, config)
    return [gap_out(g) for g in found if principal.can_see(g.org)]


@router.get("/assets/{asset}/quant")
def get_quant(
    asset: str,
    *,
    store: StoreDep,
    principal: PrincipalDep,
    config: ConfigDep,
    library: LibraryDep,
    simulations: Annotated[int | None, Query(ge=100, le=1_000_000)] = None,
    seed: Annotated[int | None, Query(ge=0)] = None,
) -> QuantResult:
    """FAIR-style Monte Carlo for the asset: annualized loss, percentiles, loss exceedance."""
    with store.session() as session:
        found = resolve_asset(session, asset)
        require_visible(principal, found.org, f"asset {asset!r}")
        inputs, explanation = preview(session, found, config=config, library=library)
    return quantify(found, explanation, inputs.controls, config, simulations=simulations, seed=seed)
