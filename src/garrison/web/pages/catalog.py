"""``/catalog``: the frameworks, a framework's items, one item, and search.

Search works twice over: the form submits to ``/catalog?q=…`` and renders results on the server,
and with JavaScript HTMX fetches only the results fragment from ``/catalog/search`` as the
reader types.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from garrison.catalog import Catalog, CatalogItem, Framework
from garrison.core.errors import NotFoundError, UnknownCatalogIdError
from garrison.web import browse
from garrison.web.deps import CatalogDep
from garrison.web.errors import Link, PageNotFound
from garrison.web.pages import views
from garrison.web.templating import framework_url, item_url, render

router = APIRouter(prefix="/catalog", include_in_schema=False)


def _search_url(q: str, framework: str) -> str:
    params = {k: v for k, v in (("q", q), ("framework", framework)) if v}
    return f"/catalog?{urlencode(params)}" if params else "/catalog"


@router.get("")
def catalog_index(
    request: Request, catalog: CatalogDep, q: str = "", framework: str = ""
) -> Response:
    summaries = views.framework_summaries(catalog)
    search = views.run_search(catalog, q, framework)
    context = {
        "frameworks": summaries,
        "chart": views.framework_chart(summaries),
        "search": search,
        "total": sum(s.total for s in summaries),
    }
    return render(request, "catalog/index.html", context, status_code=400 if search.failed else 200)


@router.get("/search")
def search_fragment(
    request: Request,
    catalog: CatalogDep,
    q: str = "",
    framework: str = "",
    hx_request: Annotated[str | None, Header()] = None,
) -> Response:
    """The results fragment for HTMX; a plain visit goes to the full page for the same search."""
    search = views.run_search(catalog, q, framework)
    canonical = _search_url(search.q, search.framework)
    if hx_request != "true":
        return RedirectResponse(canonical, status_code=303)
    # Replace rather than push: typing must not add a history entry per keystroke.
    return render(
        request,
        "catalog/_search_results.html",
        {"search": search},
        headers={"HX-Replace-Url": canonical},
    )


@router.get("/item/{item_id:path}")
def item_page(request: Request, catalog: CatalogDep, item_id: str) -> Response:
    item = _item_or_404(catalog, item_id)
    if item.id != item_id:
        return RedirectResponse(item_url(item.id), status_code=302)
    context = {
        "item": item,
        "framework": catalog.framework(item.framework.value),
        "ancestors": list(reversed(catalog.ancestors(item.id))),
        "fields": views.field_rows(catalog, item),
        "children": catalog.children(item.id),
        "referenced_by": views.referenced_by(catalog, item),
    }
    return render(request, "catalog/item.html", context)


@router.get("/{key}")
def framework_page(
    request: Request, catalog: CatalogDep, key: str, kind: str | None = None
) -> Response:
    framework = _framework_or_404(catalog, key)
    chosen = browse.choose_kind(framework, kind)
    if framework.key.value != key:
        return RedirectResponse(framework_url(framework.key.value, kind), status_code=302)
    items = catalog.items(framework.key, chosen)
    context = {
        "framework": framework,
        "kind": chosen,
        "tabs": views.kind_tabs(catalog, framework, chosen),
        "items": items,
        # A column that would be empty for every row (tactics, mitigations) is left out.
        "has_parents": any(item.parent for item in items),
    }
    return render(request, "catalog/framework.html", context)


def _framework_or_404(catalog: Catalog, key: str) -> Framework:
    try:
        return catalog.framework(key)
    except NotFoundError as exc:
        links = [Link(f.name, framework_url(f.key.value), f.key.value) for f in catalog.frameworks]
        raise PageNotFound(exc.message, links=links) from None


def _item_or_404(catalog: Catalog, item_id: str) -> CatalogItem:
    try:
        return catalog.get(item_id)
    except UnknownCatalogIdError as exc:
        links = [Link(s, item_url(s), catalog.get(s).name) for s in exc.suggestions]
        links.append(Link(f"Search the catalog for {item_id!r}", _search_url(item_id, "")))
        hint = "did you mean one of these?" if exc.suggestions else None
        raise PageNotFound(exc.message, hint=hint, links=links) from None
