"""Credentials for web tests: API tokens and signed-in sessions made straight in the store."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from garrison.identity import Scope, add_user, create_token, start_session
from garrison.store import Store


def issue_token(
    store: Store,
    scopes: Iterable[Scope] = (Scope.ADMIN,),
    *,
    org: str | None = None,
    expires_in: timedelta | None = None,
    name: str | None = None,
) -> str:
    with store.session() as session:
        issued = create_token(
            session,
            name or f"test-{secrets.token_hex(3)}",
            scopes,
            actor="test",
            org=org,
            expires_in=expires_in,
        )
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def signed_in_session(
    store: Store,
    role: Scope = Scope.ADMIN,
    *,
    org: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> tuple[str, str]:
    """A user and a live session for them: ``(session cookie value, csrf token)``."""
    with store.session() as session:
        user = add_user(
            session,
            username or f"user-{secrets.token_hex(3)}",
            role=role,
            actor="test",
            password=password,
            org=org,
        )
        started = start_session(session, user.id, lifetime=timedelta(hours=1))
    return started.session_id, started.csrf_token


def admin_headers(store: Store) -> dict[str, str]:
    """Headers of an all-organizations admin that may also send events (ingest is separate)."""
    return bearer(issue_token(store, (Scope.ADMIN, Scope.INGEST), name="test-admin"))
