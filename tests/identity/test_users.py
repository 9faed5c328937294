"""Local users, passwords and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from garrison import audit
from garrison.core.errors import GarrisonError
from garrison.core.timeutil import utcnow
from garrison.identity import (
    Scope,
    add_user,
    disable_user,
    list_users,
    resolve_session,
    set_password,
    start_session,
    verify_login,
)
from garrison.identity.scopes import expand, parse_role
from garrison.store import Store
from garrison.store.models.identity import SessionRow, UserRow

PASSWORD = "correct horse battery staple"
IDLE = timedelta(minutes=30)


def _alice(store: Store, role: Scope = Scope.ANALYST, org: str | None = None) -> int:
    with store.session() as session:
        return add_user(
            session, "Alice", role=role, actor="cli:root", password=PASSWORD, org=org
        ).id


def test_password_is_an_argon2id_hash_and_signs_in(store: Store) -> None:
    _alice(store)
    with store.session() as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
        assert stored is not None and stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        user = verify_login(session, "alice", PASSWORD)
    assert user is not None and user.username == "alice"
    principal = user.principal()
    assert principal.actor == "user:alice" and principal.scopes == {Scope.ANALYST, Scope.READ}


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password here"), ("nobody", PASSWORD), ("alice", "x" * 5000)],
)
def test_failed_sign_ins_look_the_same(store: Store, username: str, password: str) -> None:
    _alice(store)
    with store.session() as session:
        assert verify_login(session, username, password) is None


def test_disabled_user_cannot_sign_in_and_loses_sessions(store: Store) -> None:
    user_id = _alice(store)
    with store.session() as session:
        started = start_session(session, user_id, lifetime=timedelta(hours=1))
    with store.session() as session:
        assert resolve_session(session, started.session_id, idle=IDLE) is not None
        disable_user(session, "alice", actor="cli:root")
    with store.session() as session:
        assert verify_login(session, "alice", PASSWORD) is None
        assert resolve_session(session, started.session_id, idle=IDLE) is None
        assert session.scalars(select(SessionRow)).first() is None
        (listed,) = list_users(session)
    assert listed.disabled


def test_new_password_ends_sessions_and_is_audited(store: Store) -> None:
    user_id = _alice(store)
    with store.session() as session:
        started = start_session(session, user_id, lifetime=timedelta(hours=1))
        set_password(session, "alice", "another long passphrase", actor="cli:root")
    with store.session() as session:
        assert resolve_session(session, started.session_id, idle=IDLE) is None
        assert verify_login(session, "alice", "another long passphrase") is not None
        trail = audit.entries(session)
    assert [e.action for e in trail] == ["user.create", "user.password"]
    assert "argon2" not in audit.canonical_json([e.as_dict() for e in trail])


def test_sessions_expire_and_idle_out(store: Store) -> None:
    user_id = _alice(store, org="acme")
    now = utcnow()
    with store.session() as session:
        started = start_session(session, user_id, lifetime=timedelta(hours=2), now=now)
    with store.session() as session:
        principal = resolve_session(session, started.session_id, idle=IDLE, now=now)
        assert principal is not None
        assert principal.session_csrf == started.csrf_token and principal.org == "acme"
        stored = session.scalars(select(SessionRow.id_hash)).one()
        assert stored != started.session_id
    idle_later = now + IDLE + timedelta(seconds=1)
    with store.session() as session:
        assert resolve_session(session, started.session_id, idle=IDLE, now=idle_later) is None
    with store.session() as session:
        fresh = start_session(session, user_id, lifetime=timedelta(hours=1), now=now)
    past_expiry = now + timedelta(hours=1, seconds=1)
    with store.session() as session:
        assert (
            resolve_session(session, fresh.session_id, idle=timedelta(days=1), now=past_expiry)
            is None
        )


def test_bad_users_are_refused_with_the_fix(store: Store) -> None:
    _alice(store)
    with store.session() as session, pytest.raises(GarrisonError, match="exists"):
        add_user(session, "alice", role="read", actor="x", password=PASSWORD)
    with store.session() as session, pytest.raises(GarrisonError, match="shorter"):
        add_user(session, "bob", role="read", actor="x", password="short")
    with store.session() as session, pytest.raises(GarrisonError, match="not a valid username"):
        add_user(session, "<script>", role="read", actor="x", password=PASSWORD)
    with pytest.raises(GarrisonError, match="API tokens"):
        parse_role("ingest")


def test_roles_nest_and_ingest_stands_apart() -> None:
    assert expand([Scope.ADMIN]) == {Scope.ADMIN, Scope.ANALYST, Scope.READ}
    assert Scope.INGEST not in expand([Scope.ADMIN])
    assert expand([Scope.INGEST]) == {Scope.INGEST}
