"""Authentication, authorization, CSRF and tenancy for every request: fail closed.

``install(app)`` puts one dependency in front of every route the app has or will get, so a
router added later is protected without doing anything. The rules:

- public: ``/healthz``, the sign-in page and its POST, ``/static``;
- everything else needs a principal, from ``Authorization: Bearer <token>`` or the session cookie;
- the scope a route needs is, in order: its own declaration
  (``openapi_extra={"x-garrison-scope": "analyst"}``), the table ``ROUTE_SCOPES`` below, else
  ``read`` for GET/HEAD and ``admin`` for any other method;
- a credential limited to one organization only reaches API routes (which filter by
  organization) and pages that declare ``openapi_extra=TENANT_AWARE``;
- a cookie-authenticated write must echo the session's CSRF token (header ``X-CSRF-Token`` or form
  field ``csrf_token``); a token-authenticated call needs none, since browsers never attach
  bearer tokens on their own.

Programs get 401 JSON with ``WWW-Authenticate``; people get redirected to ``/login``; a principal
without the scope gets 403.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, MutableMapping
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from garrison import audit
from garrison.identity import AuthSettings, Principal, Scope, authenticate_token, resolve_session
from garrison.identity.scopes import parse_scope
from garrison.monitoring.events import DEFAULT_ORG, FieldError, SecurityEvent
from garrison.monitoring.ingest.pipeline import Submission
from garrison.store import Store
from garrison.web.deps import app_store
from garrison.web.errors import API_PREFIXES, ErrorPage, Link, render_error, wants_json
from garrison.web.templating import templates

log = logging.getLogger(__name__)

SESSION_COOKIE = "garrison_session"
LOGIN_CSRF_COOKIE = "garrison_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SCOPE_KEY = "x-garrison-scope"
TENANT_AWARE_KEY = "x-garrison-tenant-aware"
TENANT_AWARE = {TENANT_AWARE_KEY: True}
"""``openapi_extra`` of a page that filters what it shows by the principal's organization."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC_PATHS = frozenset({"/healthz", "/login"})
"""Route paths (templates) that answer without a principal."""

ROUTE_SCOPES: dict[tuple[str, str], Scope] = {
    ("POST", "/api/v1/events"): Scope.INGEST,
    ("POST", "/v1/traces"): Scope.INGEST,
    ("POST", "/v1/logs"): Scope.INGEST,
    ("POST", "/api/v1/controls/assets/{asset_id}/states"): Scope.ANALYST,
    ("POST", "/api/v1/risk/assets/{asset}/acceptances"): Scope.ANALYST,
    ("POST", "/api/v1/risk/assess"): Scope.ANALYST,
    ("POST", "/logout"): Scope.READ,
}
"""Routes whose scope differs from the method default; a route may also declare its own."""


class AuthRequired(Exception):
    """No valid credential: 401 for programs, a redirect to the sign-in page for people."""


class CsrfRejected(Exception):
    """A cookie-authenticated write without the session's CSRF token."""


def required_scope(method: str, path: str, declared: object = None) -> Scope | None:
    """The scope a request needs; None for a public route. Pure, so the policy is testable."""
    if path in PUBLIC_PATHS:
        return None
    if isinstance(declared, str):
        return parse_scope(declared)
    chosen = ROUTE_SCOPES.get((method.upper(), path))
    if chosen is not None:
        return chosen
    return Scope.READ if method.upper() in SAFE_METHODS else Scope.ADMIN


def auth_settings(request: Request) -> AuthSettings:
    chosen = getattr(request.app.state, "auth_settings", None)
    if not isinstance(chosen, AuthSettings):  # pragma: no cover - install() always sets it
        raise RuntimeError("the app has no auth settings; build it with garrison.web.create_app")
    return chosen


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _resolve(
    store: Store, token: str | None, cookie: str | None, idle: timedelta
) -> Principal | None:
    with store.session() as session:
        if token is not None:
            return authenticate_token(session, token)
        if cookie:
            return resolve_session(session, cookie, idle=idle)
    return None


def authenticate(request: Request) -> Principal | None:
    """The request's principal, or None. A bearer header, when present, is the only credential
    looked at: a bad token is not rescued by a cookie."""
    token = bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if token is None and not cookie:
        return None
    settings = auth_settings(request)
    return _resolve(app_store(request), token, cookie, timedelta(minutes=settings.idle_minutes))


async def _presented_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def authorize(
    request: Request, principal: Annotated[Principal | None, Depends(authenticate)]
) -> None:
    """The app-wide gate; see the module docstring for the rules."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    declared = (route.openapi_extra or {}).get(SCOPE_KEY) if isinstance(route, APIRoute) else None
    needed = required_scope(request.method, path, declared)
    request.state.route_path = path
    if principal is not None:
        request.state.principal = principal
    if needed is None:
        return
    if principal is None:
        raise AuthRequired
    if not principal.allows(needed):
        raise HTTPException(
            403,
            f"{principal.actor} lacks the {needed.value!r} scope this needs",
        )
    if principal.org is not None and not _tenant_aware(route, path):
        # Fail closed: a page that aggregates every organization must not be shown to a
        # credential of one, until the page declares that it filters by organization.
        raise HTTPException(
            403,
            f"this page shows every organization; {principal.actor} is limited to "
            f"{principal.org!r} (use the API, which filters by organization)",
        )
    if principal.by_cookie and request.method.upper() not in SAFE_METHODS:
        presented = await _presented_csrf(request)
        if not hmac.compare_digest(presented.encode(), (principal.session_csrf or "").encode()):
            raise CsrfRejected


def _tenant_aware(route: object, path: str) -> bool:
    """API routes filter by organization; a page must say so with ``TENANT_AWARE``."""
    if path.startswith(API_PREFIXES) or path in ("/logout", "/openapi.json"):
        return True
    extra = route.openapi_extra if isinstance(route, APIRoute) else None
    return bool((extra or {}).get(TENANT_AWARE_KEY))


def current_principal(request: Request) -> Principal:
    """The authenticated principal (routes behind the gate always have one)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise AuthRequired
    return principal


def optional_principal(request: Request) -> Principal | None:
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


PrincipalDep = Annotated[Principal, Depends(current_principal)]


# --- tenancy -------------------------------------------------------------------------------


def scoped_org(principal: Principal, requested: str | None) -> str | None:
    """The org filter to apply: the principal's own when scoped; refuses asking for another."""
    if principal.org is None:
        return requested
    if requested is not None and requested != principal.org:
        raise HTTPException(403, f"{principal.actor} is limited to organization {principal.org!r}")
    return principal.org


def require_visible(principal: Principal, org: str | None, what: str) -> None:
    """404 (not 403) for another org's record, so its existence is not disclosed."""
    if not principal.can_see(org):
        raise HTTPException(404, f"no {what}")


def bind_submissions(submissions: Iterable[Submission], principal: Principal) -> list[Submission]:
    """Events an org-scoped credential sends are forced into its org; naming another is refused."""
    org = principal.org
    if org is None:
        return list(submissions)
    return [_bind(item, org) for item in submissions]


def _bind(item: Submission, org: str) -> Submission:
    refusal = FieldError("garrison.org", f"this credential may only send events for {org!r}")
    data: Any = item.data
    if isinstance(data, dict):
        named = data.get("garrison.org")
        if named is not None and named != org:
            return Submission(item.index, None, refusal, item.line)
        return Submission(item.index, {**data, "garrison.org": org}, item.error, item.line)
    if isinstance(data, SecurityEvent):
        # An event that names no org carries the default one; only a different name is refused.
        if data.org not in (org, DEFAULT_ORG):
            return Submission(item.index, None, refusal, item.line)
        return Submission(item.index, data.with_updates(org=org), item.error, item.line)
    return item


# --- answers -------------------------------------------------------------------------------


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def is_browser(request: Request) -> bool:
    """A person's browser (it asks for HTML) rather than a program on a non-API path."""
    return not wants_json(request) and "text/html" in request.headers.get("accept", "")


async def auth_required_handler(request: Request, exc: Exception) -> Response:
    if not is_browser(request):
        return JSONResponse(
            {
                "error": "authentication required",
                "hint": "send Authorization: Bearer <token> "
                "(create one with `garrison token create`)",
            },
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="garrison"'},
        )
    if request.method.upper() in SAFE_METHODS:
        return _login_redirect(request)
    page = ErrorPage(401, "Sign in", "Sign in to do this.", links=[Link("Sign in", "/login")])
    return render_error(request, page)


async def csrf_handler(request: Request, exc: Exception) -> Response:
    message = "the CSRF token is missing or wrong"
    hint = "reload the page and submit the form again; programs send the X-CSRF-Token header"
    if wants_json(request):
        return JSONResponse({"error": message, "hint": hint}, status_code=403)
    return render_error(request, ErrorPage(403, "Refused", message.capitalize() + ".", hint))


# --- audit of writes -----------------------------------------------------------------------


class WriteAuditMiddleware:
    """Records every authenticated write request (who, method, path, status) in the audit trail.

    Ingest calls are left out: events are data, not changes to the program, and one audit append
    per event batch would serialise all ingest on the chain head. Pillar functions record the
    before/after of what they change; this entry ties the change to the credential that asked.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        # Shared by every copy of the scope further in, so the gate's principal is seen here.
        state: dict[str, Any] = scope.setdefault("state", {})

        async def record_then_send(message: Message) -> None:
            # Recorded before the answer leaves: a client that saw the answer finds the entry.
            if message["type"] == "http.response.start":
                await self._record(scope, state, int(message["status"]))
            await send(message)

        await self.app(scope, receive, record_then_send)

    async def _record(self, scope: AsgiScope, state: MutableMapping[str, Any], code: int) -> None:
        principal = state.get("principal")
        route = str(state.get("route_path") or scope.get("path", ""))
        if not isinstance(principal, Principal) or _is_ingest(scope["method"], route):
            return
        app = scope.get("app")
        store = getattr(getattr(app, "state", None), "store", None)
        if not isinstance(store, Store):
            return
        view = {"method": scope["method"], "path": str(scope.get("path", "")), "status": code}
        try:
            await run_in_threadpool(_record_write, store, principal, route, view)
        except Exception:  # an audit failure must be loud in the log but not lose the response
            log.exception("could not record the write request in the audit trail")


def _is_ingest(method: str, path: str) -> bool:
    return ROUTE_SCOPES.get((method.upper(), path)) == Scope.INGEST


def _record_write(store: Store, principal: Principal, route: str, view: dict[str, Any]) -> None:
    with store.session() as session:
        audit.record(
            session, principal.actor, "http.write", "route", f"{view['method']} {route}",
            None, view, org=principal.org,
        )  # fmt: skip


# --- wiring --------------------------------------------------------------------------------


def signed_in(request: Request) -> Principal | None:
    """For templates: the principal of the page's request, if any."""
    return optional_principal(request)


def csrf_token(request: Request) -> str:
    """For templates: the session's CSRF token to put in forms (empty when signed out)."""
    principal = optional_principal(request)
    return "" if principal is None or principal.session_csrf is None else principal.session_csrf


def install(app: FastAPI, settings: AuthSettings) -> None:
    """Gate every route of ``app``, present and future. Call before including routers."""
    app.state.auth_settings = settings
    app.router.dependencies.append(Depends(authorize))
    app.add_exception_handler(AuthRequired, auth_required_handler)
    app.add_exception_handler(CsrfRejected, csrf_handler)
    app.add_middleware(WriteAuditMiddleware)
    _gate_openapi(app)


def _gate_openapi(app: FastAPI) -> None:
    # FastAPI serves its schema through a plain route that no dependency reaches; replace it with
    # an APIRoute so the API's map is not handed to anonymous callers.
    url = app.openapi_url
    if url is None:
        return
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != url]

    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_api_route(url, openapi_document, include_in_schema=False, methods=["GET"])


def unprotected_routes(app: FastAPI) -> list[str]:
    """Routes the gate does not cover (an API route without ``authorize`` among its
    dependencies, or any other kind of route but the static files); a test keeps this empty."""
    found: list[str] = []
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        if isinstance(context.original_route, APIRoute):
            dependant = context.dependant
            calls = {d.call for d in dependant.dependencies} if dependant is not None else set()
            if authorize not in calls:
                found.append(path)
        elif path != "/static":
            found.append(path)
    return found


templates.env.globals.update(signed_in=signed_in, csrf_token=csrf_token)
