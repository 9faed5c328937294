"""The FastAPI application: JSON API, dashboard pages and static files over one store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from garrison import __version__
from garrison.catalog import Catalog, get_catalog
from garrison.core.settings import Settings, load_settings
from garrison.identity import AuthSettings, load_auth_settings
from garrison.store import Store, open_store
from garrison.web import assets, live, security
from garrison.web.api import alerts as alerts_api
from garrison.web.api import assets as assets_api
from garrison.web.api import catalog as catalog_api
from garrison.web.api import controls as controls_api
from garrison.web.api import events as events_api
from garrison.web.api import health
from garrison.web.api import metrics as metrics_api
from garrison.web.api import otlp as otlp_api
from garrison.web.api import risk as risk_api
from garrison.web.errors import register_error_handlers
from garrison.web.hardening import install_hardening
from garrison.web.pages import alerts as alerts_pages
from garrison.web.pages import catalog as catalog_pages
from garrison.web.pages import controls as controls_pages
from garrison.web.pages import home
from garrison.web.pages import inventory as inventory_pages
from garrison.web.pages import login as login_pages
from garrison.web.pages import risk as risk_pages

DESCRIPTION = (
    "Garrison's JSON API. Catalog IDs are path segments and must be percent-encoded "
    '(`GOVERN 1.1` is `GOVERN%201.1`). Errors are `{"error": …, "hint": …}`.'
)


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    catalog: Catalog | None = None,
    auth_settings: AuthSettings | None = None,
) -> FastAPI:
    """The app for ``settings``; it opens (and upgrades) the store at startup unless given one.

    A store passed in belongs to the caller, who disposes it; one the app opened is disposed
    at shutdown.
    """
    chosen = settings if settings is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is not None:
            async with live.running(app, store, chosen):
                yield
            return
        # Opening may run migrations: keep that off the event loop.
        opened = await run_in_threadpool(open_store, chosen.database_url)
        app.state.store = opened
        try:
            async with live.running(app, opened, chosen):
                yield
        finally:
            app.state.store = None
            await run_in_threadpool(opened.dispose)

    # Swagger UI and ReDoc load their code from a CDN; the document itself is at /openapi.json.
    app = FastAPI(
        title="Garrison",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = chosen
    app.state.store = store
    app.state.catalog = catalog if catalog is not None else get_catalog()
    register_error_handlers(app)
    # identity: every route included below is behind the sign-in gate (fail closed)
    security.install(app, auth_settings if auth_settings is not None else load_auth_settings())
    app.include_router(login_pages.router)
    for router in (health.router, catalog_api.router, home.router, catalog_pages.router):
        app.include_router(router)
    for router in (inventory_pages.router, risk_pages.router, controls_pages.router):
        app.include_router(router)
    app.include_router(events_api.router)
    app.include_router(controls_api.router)
    app.include_router(otlp_api.router)
    app.include_router(assets_api.router)
    app.include_router(risk_api.router)
    app.include_router(alerts_api.router)
    app.include_router(alerts_pages.router)
    app.include_router(metrics_api.router)
    app.include_router(assets.router)
    app.mount("/static", assets.static_files(), name="static")
    # hardening: body limits, timeouts, security headers, content encryption (hardening issue)
    install_hardening(app, chosen)
    return app
