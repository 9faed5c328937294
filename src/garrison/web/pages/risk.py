"""``/risk``: the riskiest assets, and why one asset scores what it does.

Read through the risk pillar's public functions (``top``, ``latest``); the explanation shown is
the same value object ``garrison risk show --explain`` and the JSON API return.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from garrison.core.errors import NotFoundError
from garrison.inventory import AIAsset, get_asset
from garrison.risk import Assessment, latest, top
from garrison.web.deps import StoreDep
from garrison.web.errors import Link, PageNotFound
from garrison.web.pages import charts
from garrison.web.templating import asset_url, render, risk_url

router = APIRouter(prefix="/risk", include_in_schema=False)

CHART_ASSETS = 15
MAX_ROWS = 200


@router.get("")
def risk_index(
    request: Request,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 50,
) -> Response:
    with store.session() as session:
        ranked = top(session, limit)
    charted = ranked[:CHART_ASSETS]
    chart = charts.inherent_vs_residual(
        [a.explanation.asset_name for a in charted],
        [a.explanation.inherent for a in charted],
        [a.explanation.residual for a in charted],
        [risk_url(a.asset_id) for a in charted],
    )
    levels: dict[str, int] = {}
    for assessment in ranked:
        levels[assessment.level] = levels.get(assessment.level, 0) + 1
    context = {
        "ranked": ranked,
        "chart": chart,
        "charted": len(charted),
        "limit": limit,
        "levels": levels,
    }
    return render(request, "risk/index.html", context)


def _require(
    asset_id: str, asset: AIAsset | None, assessment: Assessment | None
) -> tuple[AIAsset, Assessment]:
    if asset is None:
        raise PageNotFound(
            f"no asset has the ID {asset_id!r}",
            links=[Link("The riskiest assets", "/risk"), Link("All assets", "/assets")],
        )
    if assessment is None:
        raise PageNotFound(
            f"{asset.name} has not been assessed yet",
            hint="run `garrison risk assess --all`, then reload this page",
            links=[Link(asset.name, asset_url(asset.id)), Link("The riskiest assets", "/risk")],
        )
    return asset, assessment


@router.get("/{asset_id}")
def explanation_page(request: Request, store: StoreDep, asset_id: str) -> Response:
    with store.session() as session:
        try:
            asset: AIAsset | None = get_asset(session, asset_id)
        except NotFoundError:
            asset = None
        assessment = None if asset is None else latest(session, asset.id)
    found, assessed = _require(asset_id, asset, assessment)
    context = {
        "asset": found,
        "assessment": assessed,
        "e": assessed.explanation,
        "factors": sorted(assessed.explanation.factors, key=lambda f: -f.share),
    }
    return render(request, "risk/detail.html", context)
