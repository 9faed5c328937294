"""What a request handler needs from the running app, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from garrison.catalog import Catalog
from garrison.store import Store


def app_catalog(request: Request) -> Catalog:
    catalog = request.app.state.catalog
    if not isinstance(catalog, Catalog):  # pragma: no cover - create_app always sets it
        raise RuntimeError("the app has no catalog; build it with garrison.web.create_app")
    return catalog


def app_store(request: Request) -> Store:
    store = getattr(request.app.state, "store", None)
    if not isinstance(store, Store):
        raise RuntimeError("the store is not open: the app's lifespan has not run")
    return store


CatalogDep = Annotated[Catalog, Depends(app_catalog)]
StoreDep = Annotated[Store, Depends(app_store)]
