"""API tokens: shown once, hashed at rest, scoped, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from garrison import audit
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.timeutil import utcnow
from garrison.identity import (
    Scope,
    authenticate_token,
    create_token,
    list_tokens,
    parse_duration,
    revoke_token,
)
from garrison.identity.tokens import split_token
from garrison.store import Store
from garrison.store.models.identity import ApiTokenRow


def _issue(store: Store, *scopes: Scope, org: str | None = None, expires: timedelta | None = None):  # type: ignore[no-untyped-def]
    with store.session() as session:
        return create_token(session, "ci", scopes, actor="user:root", org=org, expires_in=expires)


def test_the_secret_is_never_stored_and_authenticates(store: Store) -> None:
    issued = _issue(store, Scope.ANALYST, org="acme")
    with store.session() as session:
        row = session.scalars(select(ApiTokenRow)).one()
        assert issued.secret.split("_")[-1] not in (row.secret_hash, row.salt)
        assert issued.secret.startswith(f"gar_{row.prefix}_")
        principal = authenticate_token(session, issued.secret)
    assert principal is not None
    assert principal.actor == "token:ci" and principal.kind == "token" and principal.org == "acme"
    assert principal.scopes == {Scope.ANALYST, Scope.READ}


def test_two_tokens_with_the_same_secret_would_hash_differently(store: Store) -> None:
    _issue(store, Scope.READ)
    _issue(store, Scope.READ)
    with store.session() as session:
        salts = {r.salt for r in session.scalars(select(ApiTokenRow))}
    assert len(salts) == 2


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # wrong secret
        lambda s: "gar_000000000000_" + s.split("_", 2)[2],  # unknown prefix
        lambda s: s.replace("gar_", "xyz_"),  # not a Garrison token
        lambda s: "",
        lambda s: s + "x" * 200,  # absurdly long
    ],
)
def test_anything_but_the_exact_token_is_refused(store: Store, mangle) -> None:  # type: ignore[no-untyped-def]
    issued = _issue(store, Scope.ADMIN)
    with store.session() as session:
        assert authenticate_token(session, mangle(issued.secret)) is None


def test_expired_and_revoked_tokens_are_refused(store: Store) -> None:
    short = _issue(store, Scope.READ, expires=timedelta(minutes=5))
    with store.session() as session:
        assert authenticate_token(session, short.secret) is not None
        later = utcnow() + timedelta(minutes=6)
        assert authenticate_token(session, short.secret, now=later) is None
    with store.session() as session:
        revoked = revoke_token(session, short.token.prefix, actor="user:root")
        again = revoke_token(session, short.secret, actor="user:root")  # the whole token works too
    assert revoked.revoked_at == again.revoked_at
    with store.session() as session:
        assert authenticate_token(session, short.secret) is None
        (listed,) = list_tokens(session)
        actions = [e.action for e in audit.entries(session)]
    assert listed.status(utcnow()) == "revoked"
    assert actions == ["token.create", "token.revoke"]


def test_use_is_recorded_coarsely(store: Store) -> None:
    issued = _issue(store, Scope.INGEST)
    with store.session() as session:
        authenticate_token(session, issued.secret)
    with store.session() as session:
        (token,) = list_tokens(session)
    assert token.last_used_at is not None


def test_bad_requests_are_clear(store: Store) -> None:
    with store.session() as session, pytest.raises(GarrisonError, match="at least one scope"):
        create_token(session, "x", [], actor="a")
    with store.session() as session, pytest.raises(GarrisonError, match="name"):
        create_token(session, " ", [Scope.READ], actor="a")
    with store.session() as session, pytest.raises(NotFoundError, match="token list"):
        revoke_token(session, "ffffffffffff", actor="a")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2)),
     ("30m", timedelta(minutes=30)), ("never", None)],
)  # fmt: skip
def test_durations(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "d", "-1d", "1y", "0d", "1.5d"])
def test_bad_durations_name_the_fix(text: str) -> None:
    with pytest.raises(GarrisonError) as caught:
        parse_duration(text)
    assert caught.value.hint is not None and "90d" in caught.value.hint


def test_split_token() -> None:
    assert split_token("gar_0123456789ab_secret") == ("0123456789ab", "secret")
    assert split_token("gar_short_secret") is None
