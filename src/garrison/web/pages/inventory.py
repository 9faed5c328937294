"""``/assets``: the AI asset inventory, filtered, and one asset with everything known about it.

The filter form submits to ``/assets?…`` and the server renders the table; with JavaScript HTMX
fetches only the results fragment from ``/assets/results`` as the filters change. Everything is
read through the inventory's, the risk pillar's and the supply chain's public functions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.core.errors import NotFoundError
from garrison.inventory import (
    AIAsset,
    AssetDetail,
    AssetFilter,
    AssetType,
    Dependency,
    Environment,
    Exposure,
    get_asset,
    get_asset_detail,
    search,
)
from garrison.risk import Assessment, latest, risk_levels
from garrison.store import Store
from garrison.supplychain.records import list_findings
from garrison.web.deps import StoreDep
from garrison.web.errors import Link, PageNotFound
from garrison.web.pages import charts
from garrison.web.templating import RISK_LEVELS, asset_url, external_url, render

router = APIRouter(prefix="/assets", include_in_schema=False)

E = TypeVar("E", bound=StrEnum)

PAGE_LIMIT = 500
MAX_TEXT = 200
STALE_CHOICES = {"": None, "yes": True, "no": False}

_HIDDEN = frozenset(
    {"id", "name", "description", "natural_key", "provenance", "depends_on", "stale_sources"}
)


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The form's values as given (to refill the form) and the filter they make."""

    type: str = ""
    env: str = ""
    exposure: str = ""
    stale: str = ""
    risk: str = ""
    q: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any((self.type, self.env, self.exposure, self.stale, self.risk, self.q))

    def query(self) -> str:
        pairs = (
            ("type", self.type),
            ("env", self.env),
            ("exposure", self.exposure),
            ("stale", self.stale),
            ("risk", self.risk),
            ("q", self.q),
        )
        return urlencode([(k, v) for k, v in pairs if v])

    def url(self) -> str:
        query = self.query()
        return f"/assets?{query}" if query else "/assets"


def _choice(kind: type[E], value: str, name: str, errors: list[str]) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        errors.append(f"{value!r} is not a known {name}.")
        return None


def parse_filters(
    *, type: str, env: str, exposure: str, stale: str, risk: str, q: str
) -> tuple[Filters, AssetFilter]:
    """The filter for the form's values; unknown values are reported, never raised."""
    errors: list[str] = []
    chosen_type = _choice(AssetType, type.strip(), "asset type", errors)
    chosen_env = _choice(Environment, env.strip(), "environment", errors)
    chosen_exposure = _choice(Exposure, exposure.strip(), "exposure", errors)
    stale_value = stale.strip()
    if stale_value not in STALE_CHOICES:
        errors.append(f"{stale_value!r} is not a stale filter: use yes or no.")
        stale_value = ""
    level = risk.strip().lower()
    if level and level not in RISK_LEVELS:
        errors.append(f"{risk!r} is not a risk level.")
        level = ""
    text = q.strip()
    if len(text) > MAX_TEXT:
        errors.append(f"Search text is limited to {MAX_TEXT} characters.")
        text = text[:MAX_TEXT]
    form = Filters(
        type=chosen_type.value if chosen_type else "",
        env=chosen_env.value if chosen_env else "",
        exposure=chosen_exposure.value if chosen_exposure else "",
        stale=stale_value,
        risk=level,
        q=text,
        errors=errors,
    )
    query = AssetFilter(
        asset_types=(chosen_type,) if chosen_type else (),
        environments=(chosen_env,) if chosen_env else (),
        exposures=(chosen_exposure,) if chosen_exposure else (),
        stale=STALE_CHOICES[stale_value],
        risk_levels=(level,) if level else (),
        text=text or None,
        limit=PAGE_LIMIT + 1,
    )
    return form, query


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetRow:
    asset: AIAsset
    level: str | None


@dataclass(frozen=True)
class Results:
    filters: Filters
    rows: list[AssetRow]
    truncated: bool


def run_search(store: Store, filters: Filters, query: AssetFilter) -> Results:
    if filters.errors:
        return Results(filters, [], False)
    with store.session() as session:
        levels = risk_levels(session)
        found = search(session, query, risk=levels)
    rows = [AssetRow(a, levels.get(a.id)) for a in found[:PAGE_LIMIT]]
    return Results(filters, rows, len(found) > PAGE_LIMIT)


def type_chart(store: Store) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """Assets per type across the whole inventory, most first; each bar filters the table."""
    with store.session() as session:
        counts = Counter(a.asset_type.value for a in search(session))
    ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    chart = charts.horizontal_bars(
        [kind.replace("_", " ") for kind, _ in ordered],
        [count for _, count in ordered],
        [Filters(type=kind).url() for kind, _ in ordered],
        "assets",
    )
    return chart, ordered


def _form_choices() -> dict[str, list[str]]:
    return {
        "type": [t.value for t in AssetType],
        "env": [e.value for e in Environment],
        "exposure": [e.value for e in Exposure],
        "risk": list(RISK_LEVELS),
    }


@router.get("")
def assets_index(
    *,
    request: Request,
    store: StoreDep,
    type: str = "",
    env: str = "",
    exposure: str = "",
    stale: str = "",
    risk: str = "",
    q: str = "",
) -> Response:
    filters, query = parse_filters(
        type=type, env=env, exposure=exposure, stale=stale, risk=risk, q=q
    )
    results = run_search(store, filters, query)
    chart, counts = type_chart(store)
    context = {
        "results": results,
        "choices": _form_choices(),
        "chart": chart,
        "counts": counts,
        "total": sum(count for _, count in counts),
    }
    status = 400 if filters.errors else 200
    return render(request, "assets/index.html", context, status_code=status)


@router.get("/results")
def results_fragment(
    *,
    request: Request,
    store: StoreDep,
    type: str = "",
    env: str = "",
    exposure: str = "",
    stale: str = "",
    risk: str = "",
    q: str = "",
    hx_request: Annotated[str | None, Header()] = None,
) -> Response:
    """The table fragment for HTMX; a plain visit goes to the full page with the same filters."""
    filters, query = parse_filters(
        type=type, env=env, exposure=exposure, stale=stale, risk=risk, q=q
    )
    if hx_request != "true":
        return RedirectResponse(filters.url(), status_code=303)
    results = run_search(store, filters, query)
    # Replace rather than push: changing a filter must not add a history entry each time.
    return render(
        request,
        "assets/_results.html",
        {"results": results},
        headers={"HX-Replace-Url": filters.url()},
    )


# --- one asset --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    label: str
    value: str
    href: str | None = None
    source: str = ""
    confidence: str = ""


@dataclass(frozen=True)
class DependencyLink:
    relation: str
    label: str
    href: str | None
    declared_by: str


def _text(value: Any) -> str:
    text: str
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M UTC")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, StrEnum):
        text = value.value
    elif isinstance(value, BaseModel):
        # Tools, namespaces and key references are named by their name (or reference).
        named = getattr(value, "name", None) or getattr(value, "reference", None)
        text = str(value if named is None else named)
    elif isinstance(value, tuple | list):
        text = ", ".join(_text(v) for v in value)
    else:
        text = str(value)
    return text


def attributes(asset: AIAsset) -> list[Attribute]:
    """Every attribute that has a value, with where the inventory learned it."""
    rows: list[Attribute] = []
    for name in type(asset).model_fields:
        value = getattr(asset, name)
        if name in _HIDDEN or value is None or value in ("", ()):
            continue
        claim = asset.provenance.get(name)
        href = external_url(value) if name in ("source_url", "api_endpoint") else None
        rows.append(
            Attribute(
                label=name.replace("_", " ").capitalize(),
                value=_text(value),
                href=href,
                source="" if claim is None else claim.source,
                confidence="" if claim is None else claim.confidence.value,
            )
        )
    return rows


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for asset_id in ids:
        try:
            names[asset_id] = get_asset(session, asset_id).name
        except NotFoundError:
            names[asset_id] = asset_id
    return names


def dependency_links(
    session: Session, detail: AssetDetail
) -> tuple[list[DependencyLink], list[DependencyLink]]:
    """What the asset uses (upstream) and what uses it (downstream), linked where resolved."""
    downstream_ids = {d.asset_id for d in detail.downstream}
    upstream_ids = {d.target_id for d in detail.upstream if d.target_id is not None}
    names = _names(session, downstream_ids | upstream_ids)

    def up(d: Dependency) -> DependencyLink:
        if d.target_id is None:
            return DependencyLink(d.relation.value, d.target_ref, None, d.declared_by)
        return DependencyLink(
            d.relation.value, names[d.target_id], asset_url(d.target_id), d.declared_by
        )

    def down(d: Dependency) -> DependencyLink:
        return DependencyLink(
            d.relation.value, names[d.asset_id], asset_url(d.asset_id), d.declared_by
        )

    return [up(d) for d in detail.upstream], [down(d) for d in detail.downstream]


def _asset_or_404(session: Session, asset_id: str) -> AssetDetail:
    try:
        return get_asset_detail(session, asset_id)
    except NotFoundError as exc:
        links = [
            Link("All assets", "/assets"),
            Link(f"Search the inventory for {asset_id!r}", Filters(q=asset_id[:MAX_TEXT]).url()),
        ]
        raise PageNotFound(exc.message, hint=exc.hint, links=links) from None


@router.get("/{asset_id}")
def asset_page(request: Request, store: StoreDep, asset_id: str) -> Response:
    with store.session() as session:
        detail = _asset_or_404(session, asset_id)
        upstream, downstream = dependency_links(session, detail)
        assessment: Assessment | None = latest(session, detail.asset.id)
        findings = list_findings(session, asset_id=detail.asset.id)
    context = {
        "asset": detail.asset,
        "detail": detail,
        "attributes": attributes(detail.asset),
        "upstream": upstream,
        "downstream": downstream,
        "assessment": assessment,
        "findings": findings,
    }
    return render(request, "assets/detail.html", context)
