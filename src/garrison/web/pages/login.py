"""``/login`` and ``/logout``: signing people in to the dashboard with a local account.

The sign-in form carries a CSRF token bound to a short-lived cookie (double submit), because
before sign-in there is no session to bind it to; that stops another site from signing a victim
in to the attacker's account. A failed sign-in says the same thing whether or not the user exists.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from garrison import audit
from garrison.identity import end_session, start_session, verify_login
from garrison.store import Store
from garrison.web.deps import StoreDep
from garrison.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    auth_settings,
    optional_principal,
)
from garrison.web.templating import render

router = APIRouter(include_in_schema=False)

FAILED = "The username or password is wrong, or the account is disabled."
LOGIN_CSRF_SECONDS = 3600


def safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link must never bounce a person to another site."""
    text = (target or "").strip()
    if not text.startswith("/") or text.startswith("//") or "\\" in text or "\n" in text:
        return "/"
    return text


def cookie_secure(request: Request) -> bool:
    forced = auth_settings(request).cookie_secure
    return forced if forced is not None else request.url.scheme == "https"


def _form(request: Request, next_url: str, *, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "auth/login.html",
        {"next_url": next_url, "login_csrf": token, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_SECONDS,
        httponly=True,
        secure=cookie_secure(request),
        samesite="strict",
        path="/login",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if optional_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, safe_next(next), error=None, status=200)


def _sign_in(store: Store, username: str, password: str, lifetime: timedelta) -> str | None:
    with store.session() as session:
        user = verify_login(session, username, password)
        if user is None:
            return None
        started = start_session(session, user.id, lifetime=lifetime)
        audit.record(session, f"user:{user.username}", "session.start", "user", user.username)
        return started.session_id


@router.post("/login")
async def login(
    request: Request,
    store: StoreDep,
    *,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        message = "The sign-in form expired. Please try again."
        return _form(request, target, error=message, status=403)
    lifetime = timedelta(hours=auth_settings(request).session_hours)
    session_id = await run_in_threadpool(_sign_in, store, username, password, lifetime)
    if session_id is None:
        return _form(request, target, error=FAILED, status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=cookie_secure(request),
        samesite=auth_settings(request).same_site,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _sign_out(store: Store, session_id: str, actor: str) -> None:
    with store.session() as session:
        end_session(session, session_id)
        audit.record(session, actor, "session.end", "user", actor.removeprefix("user:"))


@router.post("/logout")
async def logout(request: Request, store: StoreDep) -> Response:
    principal = optional_principal(request)
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and principal is not None:
        await run_in_threadpool(_sign_out, store, session_id, principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
