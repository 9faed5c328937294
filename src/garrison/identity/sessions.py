"""Dashboard sessions: a random id in a cookie, only its hash in the store, with a CSRF token.

A stolen database cannot be replayed as cookies because only ``sha256(id)`` is kept. A session
ends at its absolute expiry or after the idle timeout, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from garrison.core.timeutil import utcnow
from garrison.identity.principal import Principal
from garrison.identity.users import get_user
from garrison.store.models.identity import SessionRow

TOUCH_RESOLUTION = timedelta(seconds=30)
"""``last_seen_at`` is refreshed at most this often."""


@dataclass(frozen=True)
class StartedSession:
    session_id: str
    """The cookie value; it exists only here and in the browser."""
    csrf_token: str
    expires_at: datetime


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(
    session: Session, user_id: int, *, lifetime: timedelta, now: datetime | None = None
) -> StartedSession:
    now = utcnow() if now is None else now
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        SessionRow(
            id_hash=_hash(session_id),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return StartedSession(session_id, csrf, now + lifetime)


def resolve_session(
    session: Session, session_id: str, *, idle: timedelta, now: datetime | None = None
) -> Principal | None:
    """The signed-in user's principal, or None when the session is unknown, over or disabled."""
    if not session_id or len(session_id) > 128:
        return None
    row = session.get(SessionRow, _hash(session_id))
    if row is None:
        return None
    now = utcnow() if now is None else now
    user = get_user(session, row.user_id)
    if row.expires_at <= now or now - row.last_seen_at > idle or user is None or user.disabled:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
    return user.principal(session_csrf=row.csrf_token)


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.id_hash == _hash(session_id)))


def end_sessions_of(session: Session, user_id: int) -> None:
    session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
