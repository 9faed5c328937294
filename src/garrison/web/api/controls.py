"""``/api/v1/controls``: the control library, per-asset control state, and OWASP coverage.

The library is the one for the server's content folder (``GARRISON_CONTENT_DIR``). Attesting is
a POST of one attestation; history is never edited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from garrison.catalog import FrameworkKey
from garrison.controls import Control, ControlCategory, ControlLibrary, ControlType, get_library
from garrison.controls.assets import estate_coverage, lookup_asset
from garrison.controls.library import OWASP_FRAMEWORKS
from garrison.controls.state import Attestation, ControlState, attest, control_states, history
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.settings import Settings
from garrison.identity import Principal
from garrison.inventory import get_asset
from garrison.web.deps import StoreDep
from garrison.web.security import PrincipalDep, require_visible

router = APIRouter(prefix="/api/v1/controls", tags=["controls"])


def app_library(request: Request) -> ControlLibrary:
    settings = request.app.state.settings
    content_dir = settings.content_dir if isinstance(settings, Settings) else None
    return get_library(content_dir)


LibraryDep = Annotated[ControlLibrary, Depends(app_library)]


class MappingRef(BaseModel):
    id: str
    name: str


class ControlOut(BaseModel):
    """A control as in the library, plus where it was defined."""

    id: str
    name: str
    type: ControlType
    category: ControlCategory
    family: str | None
    applies_to: list[str]
    summary: str
    implementation: dict[str, Any]
    effectiveness: dict[str, Any]
    mappings: dict[str, list[MappingRef]] = Field(
        description="Framework items per field, with their catalog names."
    )
    implemented_by: list[dict[str, str]]
    source: str | None


class AttestationOut(BaseModel):
    asset_id: str
    control_id: str
    state: ControlState
    actor: str
    evidence: list[str]
    note: str
    attested_at: datetime
    recorded_at: datetime
    asset_type: str | None
    sequence: int


class AssetStates(BaseModel):
    asset_id: str
    asset_type: str
    states: list[AttestationOut]
    not_attested: list[str] = Field(description="Applicable controls with no attestation.")


class AttestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    control_id: str = Field(examples=["CTRL-INPUT-FILTER"])
    state: ControlState
    actor: str | None = Field(
        default=None,
        max_length=200,
        description="Ignored: the attestation records the authenticated person or token.",
    )
    evidence: list[str] = Field(default_factory=list, max_length=20)
    note: str = Field(default="", max_length=4000)
    at: datetime | None = Field(default=None, description="When the state held; default now.")
    asset_type: str | None = Field(
        default=None, description="Required only for an asset the inventory does not hold."
    )


def control_out(control: Control, library: ControlLibrary) -> ControlOut:
    catalog = library.catalog
    source = library.sources.get(control.id)
    return ControlOut(
        id=control.id,
        name=control.name,
        type=control.type,
        category=control.category,
        family=control.family,
        applies_to=list(control.applies_to),
        summary=control.summary,
        implementation=control.implementation.model_dump(mode="json"),
        effectiveness=control.effectiveness.model_dump(mode="json"),
        mappings={
            field: [
                MappingRef(id=i, name=catalog.get(i).name) for i in getattr(control.mappings, field)
            ]
            for field in type(control.mappings).model_fields
        },
        implemented_by=[i.model_dump(mode="json") for i in control.implemented_by],
        source=None if source is None else str(source),
    )


def attestation_out(a: Attestation) -> AttestationOut:
    return AttestationOut(
        asset_id=a.asset_id,
        control_id=a.control_id,
        state=a.state,
        actor=a.actor,
        evidence=list(a.evidence),
        note=a.note,
        attested_at=a.attested_at,
        recorded_at=a.recorded_at,
        asset_type=a.asset_type,
        sequence=a.sequence,
    )


def _check_org(session: Session, principal: Principal, asset_id: str) -> None:
    if principal.org is None:
        return
    try:
        org: str | None = get_asset(session, asset_id).org
    except NotFoundError:
        org = None
    require_visible(principal, org, f"asset {asset_id!r}")


@router.get("")
def list_controls(
    library: LibraryDep,
    type: Annotated[ControlType | None, Query()] = None,
    asset_type: Annotated[str | None, Query(max_length=64)] = None,
    maps_to: Annotated[
        str | None, Query(max_length=100, description="A catalog ID, e.g. LLM01 or AML.M0015.")
    ] = None,
    category: Annotated[ControlCategory | None, Query()] = None,
) -> list[ControlOut]:
    """Controls of the library, filtered by every parameter given."""
    if maps_to is not None:
        library.catalog.get(maps_to)
    chosen = library.filter(type=type, asset_type=asset_type, maps_to=maps_to, category=category)
    return [control_out(c, library) for c in chosen]


@router.get("/coverage")
def get_coverage(
    *,
    store: StoreDep,
    library: LibraryDep,
    principal: PrincipalDep,
    asset: Annotated[str | None, Query(max_length=200)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    framework: Annotated[
        FrameworkKey | None, Query(description="OWASP-LLM or OWASP-AGENTIC; default both.")
    ] = None,
) -> dict[str, Any]:
    """The coverage matrix (assets x OWASP items) with per-item gap lists."""
    if principal.org is not None:
        # The matrix spans every organization's assets; it has no org filter yet.
        raise HTTPException(403, "the estate coverage matrix needs an all-organizations credential")
    if framework is not None and framework not in OWASP_FRAMEWORKS:
        raise GarrisonError(
            f"coverage is computed for OWASP-LLM and OWASP-AGENTIC, not {framework}"
        )
    frameworks = OWASP_FRAMEWORKS if framework is None else (framework,)
    with store.session() as session:
        matrix, known = estate_coverage(session, library, frameworks, asset=asset, team=team)
    return {
        "frameworks": [f.value for f in frameworks],
        "scope": {"asset": asset, "team": team},
        **matrix.to_dict(),
        "untyped_assets": known.untyped,
    }


@router.get("/assets/{asset_id}/states")
def get_states(
    asset_id: str, store: StoreDep, library: LibraryDep, principal: PrincipalDep
) -> AssetStates:
    """The current state of each control attested on the asset."""
    with store.session() as session:
        scope = lookup_asset(session, asset_id)
        _check_org(session, principal, scope.asset_id)
        current = control_states(session, scope.asset_id)
    return AssetStates(
        asset_id=scope.asset_id,
        asset_type=scope.asset_type,
        states=[attestation_out(a) for a in current.values()],
        not_attested=[c.id for c in library.applicable(scope.asset_type) if c.id not in current],
    )


@router.post("/assets/{asset_id}/states", status_code=201)
def post_state(
    asset_id: str, body: AttestIn, store: StoreDep, library: LibraryDep, principal: PrincipalDep
) -> AttestationOut:
    """Attest a control's state on the asset; the attestation is appended to its history."""
    with store.session() as session:
        try:
            scope = lookup_asset(session, asset_id)
            resolved_id, asset_type = scope.asset_id, scope.asset_type
            _check_org(session, principal, resolved_id)
        except NotFoundError:
            if principal.org is not None:
                raise
            if body.asset_type is None:
                raise
            resolved_id, asset_type = asset_id, body.asset_type
        recorded = attest(
            session,
            resolved_id,
            body.control_id,
            body.state,
            principal.actor,
            body.evidence,
            body.note,
            body.at,
            asset_type=asset_type,
            library=library,
        )
    return attestation_out(recorded)


@router.get("/assets/{asset_id}/states/{control_id}/history")
def get_history(
    asset_id: str, control_id: str, store: StoreDep, principal: PrincipalDep
) -> list[AttestationOut]:
    """Every attestation of the control on the asset, oldest first."""
    with store.session() as session:
        try:
            resolved = lookup_asset(session, asset_id).asset_id
            _check_org(session, principal, resolved)
        except NotFoundError:
            if principal.org is not None:
                raise
            resolved = asset_id
        entries = history(session, resolved, control_id)
    return [attestation_out(a) for a in entries]


@router.get("/{control_id}")
def get_control(control_id: str, library: LibraryDep) -> ControlOut:
    """One control with its specification and named framework mappings."""
    return control_out(library.get(control_id), library)
