"""API tokens: a random secret shown once, stored as a salted hash, found by a public prefix.

A token reads ``gar_<prefix>_<secret>``. The prefix is the lookup key (and what ``token list``
shows); the secret is 256 random bits. Because the secret is that strong there is no dictionary to
guess from, so a salted SHA-256 is as safe as a slow password hash here, and it keeps every API
call cheap: an argon2 check per request would turn the login cost into a denial-of-service lever.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison import audit
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import utcnow
from garrison.identity.principal import Principal
from garrison.identity.scopes import Scope, expand
from garrison.store.models.identity import ApiTokenRow

TOKEN_PREFIX = "gar_"  # noqa: S105 - a marker that makes leaked tokens findable, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so reads do not turn into writes."""


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    org: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": [s.value for s in self.scopes],
            "org": self.org,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "last_used_at": None if self.last_used_at is None else self.last_used_at.isoformat(),
            "status": self.status(now),
        }


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str
    """The whole token string; it exists only in this value, never in the store."""


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(Scope(s) for s in row.scopes),
        org=row.org,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _audit_view(token: ApiToken) -> dict[str, object]:
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": [s.value for s in token.scopes],
        "org": token.org,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def create_token(
    session: Session,
    name: str,
    scopes: Iterable[Scope],
    *,
    actor: str,
    org: str | None = None,
    expires_in: timedelta | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token; the returned secret is the only copy there will ever be."""
    name = name.strip()
    if not name or len(name) > 200:
        raise GarrisonError("a token needs a name of 1 to 200 characters", hint="--name ci-ingest")
    chosen = tuple(sorted(set(scopes), key=lambda s: s.value))
    if not chosen:
        raise GarrisonError("a token needs at least one scope", hint="--scope ingest")
    if expires_in is not None and expires_in <= timedelta(0):
        raise GarrisonError("the expiry must be in the future", hint="--expires 90d")
    now = utcnow() if now is None else now
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    row = ApiTokenRow(
        name=name,
        prefix=prefix,
        salt=salt,
        secret_hash=_hash(salt, secret),
        scopes=[s.value for s in chosen],
        org=org,
        created_by=actor,
        created_at=now,
        expires_at=None if expires_in is None else now + expires_in,
    )
    session.add(row)
    session.flush()
    token = _token(row)
    audit.record(session, actor, "token.create", "api_token", prefix, None, _audit_view(token))
    return IssuedToken(token, f"{TOKEN_PREFIX}{prefix}_{secret}")


def list_tokens(session: Session) -> list[ApiToken]:
    return [_token(r) for r in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]


def revoke_token(
    session: Session, prefix: str, *, actor: str, now: datetime | None = None
) -> ApiToken:
    """Revoke the token with ``prefix`` (idempotent: revoking twice keeps the first time)."""
    key = prefix.removeprefix(TOKEN_PREFIX).split("_", 1)[0]
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.prefix == key)).one_or_none()
    if row is None:
        raise NotFoundError(
            f"no API token with prefix {key!r}", hint="see the prefixes with `garrison token list`"
        )
    if row.revoked_at is None:
        before = _audit_view(_token(row))
        row.revoked_at = utcnow() if now is None else now
        session.flush()
        audit.record(
            session, actor, "token.revoke", "api_token", key, before, _audit_view(_token(row))
        )
    return _token(row)


def split_token(presented: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed token string, else None."""
    if not presented.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = presented.removeprefix(TOKEN_PREFIX).partition("_")
    if len(prefix) != 12 or not secret or len(secret) > 128:
        return None
    return prefix, secret


def authenticate_token(
    session: Session, presented: str, *, now: datetime | None = None
) -> Principal | None:
    """The principal of a valid, unexpired, unrevoked token; None for anything else.

    The reason for a refusal is not returned: a caller probing tokens learns nothing.
    """
    parts = split_token(presented)
    if parts is None:
        return None
    prefix, secret = parts
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.prefix == prefix)).one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(row.salt, secret)):
        return None
    now = utcnow() if now is None else now
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(
        actor=f"token:{row.name}",
        kind="token",
        scopes=expand(Scope(s) for s in row.scopes),
        org=row.org,
        name=row.name,
    )


def parse_duration(text: str) -> timedelta | None:
    """``90d``, ``12h``, ``30m``, ``2w`` or ``never``; refuses anything else with the fix."""
    value = text.strip().lower()
    if value in ("never", "none", "0"):
        return None
    units = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
    units["w"] = timedelta(weeks=1)
    number, unit = value[:-1], value[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise GarrisonError(
            f"cannot read the duration {text!r}", hint="write e.g. 90d, 12h, 2w, or never"
        )
    return int(number) * units[unit]
