"""``/api/v1/assets``: the AI asset inventory over HTTP.

``GET /`` lists with the same filters as ``garrison assets list``; ``GET /{id}`` returns one asset
with its dependencies, evidence, history and sightings; ``POST /`` registers (an upsert on the
natural key: 201 when created, 200 otherwise); ``PATCH /{id}`` edits attributes; ``POST /import``
registers many, validating each alone; ``GET /graph`` (JSON) and ``GET /graph.dot`` (Graphviz) give
the dependency graph; ``GET /gaps`` the compliance gap report.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, ValidationError

from garrison import audit
from garrison.inventory import (
    AIAsset,
    AssetDetail,
    AssetFilter,
    AssetSpec,
    AssetType,
    ComplianceStatus,
    Confidence,
    DataClassification,
    Environment,
    Evidence,
    Exposure,
    GapReport,
    GraphView,
    RegulatoryScope,
    compliance_gap_report,
    edit_asset,
    get_asset,
    get_asset_detail,
    load_graph,
    register,
    resolve_asset,
    search,
    to_dot,
    to_view,
)
from garrison.inventory.graph import AssetGraph, Direction, neighbourhood
from garrison.inventory.importing import DECLARED_SOURCE, ParsedRow, import_assets
from garrison.inventory.models import AttributeChange
from garrison.inventory.query import MAX_LIMIT
from garrison.inventory.registry import MANUAL_SOURCE, validation_message
from garrison.store import Store
from garrison.web.deps import StoreDep
from garrison.web.security import PrincipalDep, require_visible, scoped_org

router = APIRouter(prefix="/api/v1/assets", tags=["assets"])

MAX_IMPORT_ROWS = 50_000


class AssetList(BaseModel):
    count: int
    items: list[AIAsset]


class WriteResult(BaseModel):
    action: Literal["created", "updated", "unchanged"]
    changes: list[AttributeChange]
    asset: AIAsset


class AssetEdit(BaseModel):
    changes: dict[str, Any] = Field(
        description="Attribute name → new value (null clears). `depends_on` replaces the "
        "manually declared dependencies."
    )
    actor: str | None = Field(
        default=None,
        max_length=200,
        description="Ignored: the change is recorded as the authenticated caller.",
    )


class ImportRequest(BaseModel):
    assets: list[dict[str, Any]] = Field(max_length=MAX_IMPORT_ROWS)
    org: str | None = Field(default=None, description="Organization for rows that name none.")
    source: str = Field(default=DECLARED_SOURCE, min_length=1, max_length=100)
    complete: bool = Field(
        default=False, description="The list is the whole truth for its source: others go stale."
    )


class RejectedRow(BaseModel):
    item: int = Field(description="1-based position in `assets`.")
    error: str


class ImportResult(BaseModel):
    accepted: int
    created: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]
    run_id: str | None = None


@router.get("", response_model=AssetList, summary="List assets, filtered")
def list_assets(
    *,
    store: StoreDep,
    principal: PrincipalDep,
    org: str | None = None,
    asset_type: Annotated[list[AssetType] | None, Query(alias="type")] = None,
    env: Annotated[list[Environment] | None, Query()] = None,
    provider: Annotated[list[str] | None, Query()] = None,
    classification: Annotated[list[DataClassification] | None, Query()] = None,
    unclassified: bool = False,
    owner_team: str | None = None,
    scope: RegulatoryScope | None = None,
    exposure: Annotated[list[Exposure] | None, Query()] = None,
    stale: bool | None = None,
    status: Annotated[list[ComplianceStatus] | None, Query()] = None,
    unreviewed: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AssetList:
    filters = AssetFilter(
        org=scoped_org(principal, org),
        asset_types=tuple(asset_type or ()),
        environments=tuple(env or ()),
        providers=tuple(provider or ()),
        data_classifications=tuple(classification or ()),
        unclassified=unclassified,
        owner_team=owner_team,
        regulatory_scope=scope,
        exposures=tuple(exposure or ()),
        stale=stale,
        compliance_statuses=tuple(status or ()),
        unreviewed_only=unreviewed,
        text=q,
        limit=limit,
        offset=offset,
    )
    with store.session() as session:
        items = search(session, filters)
    return AssetList(count=len(items), items=items)


@router.get("/graph", response_model=GraphView, summary="The dependency graph (JSON)")
def graph_json(
    store: StoreDep,
    principal: PrincipalDep,
    asset: str | None = Query(default=None, description="Centre on this asset (ID or name)."),
    org: str | None = None,
    direction: Direction = "both",
) -> GraphView:
    chosen, root = _graph(store, asset, scoped_org(principal, org), direction)
    return to_view(chosen, root=root, direction=direction)


@router.get(
    "/graph.dot",
    response_class=PlainTextResponse,
    summary="The dependency graph as Graphviz DOT",
    responses={200: {"content": {"text/vnd.graphviz": {}}}},
)
def graph_dot(
    store: StoreDep,
    principal: PrincipalDep,
    asset: str | None = None,
    org: str | None = None,
    direction: Direction = "both",
) -> PlainTextResponse:
    chosen, root = _graph(store, asset, scoped_org(principal, org), direction)
    text = to_dot(chosen, highlight=() if root is None else (root,))
    return PlainTextResponse(text, media_type="text/vnd.graphviz")


def _graph(
    store: Store, asset: str | None, org: str | None, direction: Direction
) -> tuple[AssetGraph, str | None]:
    with store.session() as session:
        root = resolve_asset(session, asset, org=org) if asset is not None else None
        full = load_graph(session, org=org if root is None else root.org)
    if root is None:
        return full, None
    return neighbourhood(full, root.id, direction), root.id


@router.get("/gaps", response_model=GapReport, summary="The compliance gap report")
def gaps(
    request: Request,
    store: StoreDep,
    principal: PrincipalDep,
    org: str | None = None,
    as_of: date | None = None,
) -> GapReport:
    content_dir = getattr(request.app.state.settings, "content_dir", None)
    org = scoped_org(principal, org)
    with store.session() as session:
        return compliance_gap_report(session, org=org, as_of=as_of, content_dir=content_dir)


@router.post("/import", response_model=ImportResult, summary="Register many assets")
def import_many(body: ImportRequest, store: StoreDep, principal: PrincipalDep) -> ImportResult:
    rows: list[ParsedRow] = []
    default_org = scoped_org(principal, body.org)
    for index, given in enumerate(body.assets):
        values = given if default_org is None else {"org": default_org, **given}
        if not principal.can_see(values.get("org")):
            rows.append(ParsedRow(None, index, error=f"{principal.actor} may not write this org"))
            continue
        try:
            rows.append(ParsedRow(None, index, spec=AssetSpec.model_validate(values)))
        except ValidationError as exc:
            rows.append(ParsedRow(None, index, error=validation_message(exc)))
    with store.session() as session:
        report = import_assets(
            session, rows, path="api", source=body.source, complete=body.complete
        )
    return ImportResult(
        accepted=report.accepted,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=[RejectedRow(item=r.index + 1, error=r.error or "") for r in report.rejected],
        run_id=None if report.run is None else report.run.id,
    )


@router.get("/{asset_id}", response_model=AssetDetail, summary="One asset, with its history")
def get_one(asset_id: str, store: StoreDep, principal: PrincipalDep) -> AssetDetail:
    with store.session() as session:
        detail = get_asset_detail(session, asset_id)
    require_visible(principal, detail.asset.org, f"asset {asset_id!r}")
    return detail


@router.post(
    "",
    response_model=WriteResult,
    status_code=201,
    summary="Register an asset (upsert on its natural key)",
    responses={200: {"description": "The asset existed: updated or unchanged."}},
)
def create(
    spec: AssetSpec, store: StoreDep, response: Response, principal: PrincipalDep
) -> WriteResult:
    scoped_org(principal, spec.org)
    with store.session() as session:
        outcome = register(
            session,
            spec,
            source=MANUAL_SOURCE,
            evidence=[Evidence(location="api:POST /api/v1/assets", confidence=Confidence.DECLARED)],
            actor=principal.actor,
        )
        asset = get_asset(session, outcome.asset_id)
        if outcome.action != "unchanged":
            audit.record(
                session, principal.actor, f"asset.{outcome.action}", "asset", asset.id,
                None, [c.model_dump(mode="json") for c in outcome.changes], org=asset.org,
            )  # fmt: skip
    if outcome.action != "created":
        response.status_code = 200
    return WriteResult(action=outcome.action, changes=list(outcome.changes), asset=asset)


@router.patch("/{asset_id}", response_model=WriteResult, summary="Edit an asset's attributes")
def patch(asset_id: str, body: AssetEdit, store: StoreDep, principal: PrincipalDep) -> WriteResult:
    with store.session() as session:
        before = get_asset(session, asset_id)
        require_visible(principal, before.org, f"asset {asset_id!r}")
        outcome = edit_asset(session, asset_id, body.changes, principal.actor)
        asset = get_asset(session, asset_id)
        if outcome.action != "unchanged":
            audit.record(
                session, principal.actor, "asset.edit", "asset", asset.id,
                before.model_dump(mode="json"), asset.model_dump(mode="json"), org=asset.org,
            )  # fmt: skip
    return WriteResult(action=outcome.action, changes=list(outcome.changes), asset=asset)
