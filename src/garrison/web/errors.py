"""How errors leave the server: JSON for the API, a page for a person.

A ``GarrisonError`` is something the caller can fix, so it is answered with its message and hint,
never a traceback: 404 when the thing asked for does not exist, 503 when the database is
unavailable, 400 for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from garrison.core.errors import GarrisonError, NotFoundError, StoreError, UnknownCatalogIdError
from garrison.web.templating import render

API_PREFIXES = ("/api/", "/v1/", "/healthz", "/openapi.json")
"""Paths whose callers are programs; ``/v1/`` is where OTLP/HTTP exporters send by default."""


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    detail: str = ""


class PageNotFound(NotFoundError):
    """A page's subject does not exist; ``links`` are where the reader probably meant to go."""

    def __init__(self, message: str, *, hint: str | None = None, links: list[Link]) -> None:
        super().__init__(message, hint=hint)
        self.links = links


@dataclass(frozen=True)
class ErrorPage:
    status_code: int
    title: str
    message: str
    hint: str | None = None
    links: list[Link] = field(default_factory=list)


def status_for(exc: GarrisonError) -> int:
    if isinstance(exc, NotFoundError | UnknownCatalogIdError):
        return 404
    if isinstance(exc, StoreError):
        return 503
    return 400


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 503: "Unavailable"}


def render_error(
    request: Request, page: ErrorPage, headers: Mapping[str, str] | None = None
) -> Response:
    return render(
        request, "error.html", {"error": page}, status_code=page.status_code, headers=headers
    )


async def garrison_error_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GarrisonError):  # pragma: no cover - registered for GarrisonError only
        raise exc
    status = status_for(exc)
    if wants_json(request):
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)
    links = exc.links if isinstance(exc, PageNotFound) else []
    title = _TITLES.get(status, "Error")
    return render_error(request, ErrorPage(status, title, exc.message, exc.hint, links))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if wants_json(request) or exc.status_code < 400:
        return await http_exception_handler(request, exc)
    title = _TITLES.get(exc.status_code, "Error")
    message = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
    page = ErrorPage(exc.status_code, title, message, links=[Link("The catalog", "/catalog")])
    return render_error(request, page, exc.headers)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GarrisonError, garrison_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
