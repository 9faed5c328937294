"""Local users: argon2id password hashes, one role, an optional organization, disable not delete.

A disabled user keeps their row so that every approval they made still names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison import audit
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import utcnow
from garrison.identity.principal import Principal
from garrison.identity.scopes import Scope, expand, parse_role
from garrison.store.models.identity import UserRow

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
"""Long enough for any passphrase, short enough that hashing it is not a denial of service."""

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 check and the
# response time does not say whether the user exists.
_DUMMY_HASH = _hasher.hash("garrison-no-such-user")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Scope
    org: str | None
    disabled: bool
    created_at: datetime
    has_password: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "org": self.org,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
            "has_password": self.has_password,
        }

    def principal(self, session_csrf: str | None = None) -> Principal:
        return Principal(
            actor=f"user:{self.username}",
            kind="user",
            scopes=expand([self.role]),
            org=self.org,
            name=self.display_name or self.username,
            session_csrf=session_csrf,
        )


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Scope(row.role),
        org=row.org,
        disabled=row.disabled,
        created_at=row.created_at,
        has_password=row.password_hash is not None,
    )


def _audit_view(row: UserRow) -> dict[str, object]:
    # Never the hash: the trail is exported to auditors.
    return {"username": row.username, "role": row.role, "org": row.org, "disabled": row.disabled}


def check_username(username: str) -> str:
    name = username.strip().lower()
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_@")
    if not 1 <= len(name) <= 64 or not set(name) <= allowed:
        raise GarrisonError(
            f"{username!r} is not a valid username",
            hint="use 1-64 lower-case letters, digits, and . - _ @",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise GarrisonError(
            f"the password is shorter than {MIN_PASSWORD} characters",
            hint="use a passphrase of several words",
        )
    if len(password) > MAX_PASSWORD:
        raise GarrisonError(f"the password is longer than {MAX_PASSWORD} characters")
    return password


def _row(session: Session, username: str) -> UserRow:
    row = session.scalars(
        select(UserRow).where(UserRow.username == username.strip().lower())
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no user {username!r}", hint="see the users with `garrison user list`")
    return row


def add_user(
    session: Session,
    username: str,
    *,
    role: str | Scope,
    actor: str,
    password: str | None = None,
    org: str | None = None,
    display_name: str = "",
) -> User:
    """Create a local user; ``password`` None makes one who can sign in only through OIDC."""
    name = check_username(username)
    chosen = role if isinstance(role, Scope) else parse_role(role)
    if session.scalars(select(UserRow.id).where(UserRow.username == name)).first() is not None:
        raise GarrisonError(
            f"the user {name!r} exists", hint="change their password with `garrison user passwd`"
        )
    row = UserRow(
        username=name,
        display_name=display_name.strip()[:200],
        password_hash=None if password is None else _hasher.hash(check_password(password)),
        role=chosen.value,
        org=org,
        disabled=False,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "user.create", "user", name, None, _audit_view(row), org=org)
    return _user(row)


def list_users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def get_user(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    return None if row is None else _user(row)


def disable_user(session: Session, username: str, *, actor: str) -> User:
    """Disable a user and end their sessions; idempotent."""
    from garrison.identity.sessions import end_sessions_of

    row = _row(session, username)
    if not row.disabled:
        before = _audit_view(row)
        row.disabled = True
        row.updated_at = utcnow()
        session.flush()
        audit.record(
            session, actor, "user.disable", "user", row.username, before, _audit_view(row),
            org=row.org,
        )  # fmt: skip
    end_sessions_of(session, row.id)
    return _user(row)


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    """Replace the password and end every session the old one opened."""
    from garrison.identity.sessions import end_sessions_of

    row = _row(session, username)
    row.password_hash = _hasher.hash(check_password(password))
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor, "user.password", "user", row.username,
        {"password": "(previous)"}, {"password": "(changed)"}, org=row.org,
    )  # fmt: skip
    end_sessions_of(session, row.id)
    return _user(row)


def verify_login(session: Session, username: str, password: str) -> User | None:
    """The user when the username and password match an enabled user; None otherwise.

    Every refusal looks the same and costs the same, so the answer does not tell whether the
    user exists, is disabled, or mistyped.
    """
    if len(password) > MAX_PASSWORD or len(username) > 200:
        return None
    row = session.scalars(
        select(UserRow).where(UserRow.username == username.strip().lower())
    ).one_or_none()
    stored = _DUMMY_HASH if row is None or row.password_hash is None else row.password_hash
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.password_hash is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return _user(row)
