"""``GET /healthz``: is this server able to answer, and which database and schema is it on."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from garrison import __version__
from garrison.store import Store
from garrison.store.schema import current_revision
from garrison.web.deps import StoreDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: str = Field(description="The store's backend: sqlite or postgresql.")
    schema_revision: str | None = Field(
        serialization_alias="schema", description="The Alembic revision the database is at."
    )
    error: str | None = Field(default=None, description="Why the database check failed.")


def _check(store: Store) -> Health:
    # Reading the schema revision is a real round trip, so a dead database fails here.
    try:
        revision = current_revision(store.engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Health(
            status="unavailable",
            version=__version__,
            database=store.backend,
            schema_revision=None,
            error=reason,
        )
    return Health(
        status="ok", version=__version__, database=store.backend, schema_revision=revision
    )


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
async def healthz(store: StoreDep) -> Health | JSONResponse:
    health = await run_in_threadpool(_check, store)
    if health.status != "ok":
        return JSONResponse(health.model_dump(mode="json", by_alias=True), status_code=503)
    return health
