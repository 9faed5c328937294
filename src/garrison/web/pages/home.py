"""``/``: the dashboard's front door."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    # The catalog is the only pillar with pages so far; a program overview replaces this later.
    return RedirectResponse("/catalog", status_code=302)
