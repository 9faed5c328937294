"""The sign-in gate over a real server on loopback: every route, every role, CSRF, cookies,
tenancy, the actor on approvals, and the audit entry of each write."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import Browser, expect

from garrison import audit
from garrison.core.settings import load_settings
from garrison.identity import Principal, Scope, load_auth_settings, revoke_token
from garrison.inventory import AssetSpec, AssetType, register, search
from garrison.monitoring.events import SecurityEvent
from garrison.monitoring.ingest.pipeline import Submission
from garrison.risk import assess_assets
from garrison.store import Store
from garrison.web import create_app
from garrison.web.errors import API_PREFIXES
from garrison.web.security import (
    PUBLIC_PATHS,
    bind_submissions,
    required_scope,
    unprotected_routes,
)
from garrison.web.server import run_in_thread
from tests.web.auth import bearer, issue_token, signed_in_session
from tests.web.conftest import ClientFactory

EVENT = {
    "garrison.event.type": "llm.request",
    "timestamp": "2026-11-20T09:15:02Z",
    "user.id": "u-1",
    "garrison.content.text": "hello",
}
PASSWORD = "a long enough passphrase"


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


# --- the gate covers everything ----------------------------------------------------------------


def test_every_route_is_behind_the_gate(web_app: FastAPI) -> None:
    assert unprotected_routes(web_app) == []


def test_unauthenticated_requests_are_refused_everywhere_but_the_public_routes(
    web_app: FastAPI, anonymous_http: httpx.Client
) -> None:
    """Enumerates the app's routes, so a router someone adds later is checked too."""
    checked = 0
    for route in iter_route_contexts(web_app.routes):
        path = str(route.path)
        if not isinstance(route.original_route, APIRoute) or path in PUBLIC_PATHS:
            continue
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            answer = anonymous_http.request(method, _concrete(path), json={})
            checked += 1
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.json()["error"] == "authentication required"
            if method == "GET" and not path.startswith(API_PREFIXES):
                # A person's browser is sent to the sign-in page, and back afterwards.
                html = anonymous_http.get(_concrete(path), headers={"accept": "text/html"})
                assert html.status_code == 303, (path, html.status_code)
                assert html.headers["location"].startswith("/login?next=")
    assert checked > 40
    assert anonymous_http.get("/healthz").status_code == 200
    assert anonymous_http.get("/login").status_code == 200
    assert anonymous_http.get("/static/garrison.css").status_code == 200


def test_the_scope_policy() -> None:
    assert required_scope("GET", "/healthz") is None
    assert required_scope("GET", "/api/v1/anything-new") is Scope.READ
    assert required_scope("DELETE", "/api/v1/anything-new") is Scope.ADMIN
    assert required_scope("POST", "/api/v1/events") is Scope.INGEST
    assert required_scope("POST", "/api/v1/alerts/{id}/ack", "analyst") is Scope.ANALYST


# --- role x endpoint kind -----------------------------------------------------------------------


@pytest.fixture
def asset_id(site_store: Store) -> str:
    with site_store.session() as session:
        return register(
            session,
            AssetSpec(org="acme", name="support bot", asset_type=AssetType.LLM_APPLICATION),
            source="test",
        ).asset_id


KINDS = ("ingest", "read-api", "page", "analyst-write", "admin-write")
ALLOWED = {
    Scope.INGEST: {"ingest"},
    Scope.READ: {"read-api", "page"},
    Scope.ANALYST: {"read-api", "page", "analyst-write"},
    Scope.ADMIN: {"read-api", "page", "analyst-write", "admin-write"},
}


def _call(client: httpx.Client, kind: str, asset: str) -> list[httpx.Response]:
    if kind == "ingest":
        return [
            client.post("/api/v1/events", json=EVENT),
            client.post("/v1/logs", json={"resourceLogs": []}),
        ]
    if kind == "read-api":
        return [
            client.get("/api/v1/assets"),
            client.get("/api/v1/events"),
            client.get("/api/v1/risk/top"),
        ]
    if kind == "page":
        return [client.get("/assets"), client.get("/catalog")]
    if kind == "analyst-write":
        body = {"control_id": "CTRL-INPUT-FILTER", "state": "planned"}
        return [client.post(f"/api/v1/controls/assets/{asset}/states", json=body)]
    spec = {"org": "acme", "name": f"new {kind}", "asset_type": "llm_application"}
    return [
        client.post("/api/v1/assets", json=spec),
        client.patch(f"/api/v1/assets/{asset}", json={"changes": {"owner_team": "ml"}}),
    ]


@pytest.mark.parametrize("role", list(ALLOWED), ids=lambda s: s.value)
def test_each_role_against_each_kind_of_endpoint(
    role: Scope, client_for: ClientFactory, asset_id: str
) -> None:
    client = client_for(role)
    for kind in KINDS:
        for answer in _call(client, kind, asset_id):
            where = (role.value, kind, answer.request.method, answer.request.url.path)
            if kind in ALLOWED[role]:
                assert answer.status_code < 400, (*where, answer.status_code, answer.text)
            else:
                assert answer.status_code == 403, (*where, answer.status_code)


# --- tokens that no longer work -----------------------------------------------------------------


def test_expired_revoked_and_garbage_tokens_get_401(
    site_store: Store, anonymous_http: httpx.Client
) -> None:
    expired = issue_token(site_store, (Scope.ADMIN,), expires_in=timedelta(microseconds=1))
    revoked = issue_token(site_store, (Scope.ADMIN,))
    with site_store.session() as session:
        revoke_token(session, revoked, actor="test")
    for secret in (expired, revoked, "gar_000000000000_nope", "not-a-token"):
        answer = anonymous_http.get("/api/v1/assets", headers=bearer(secret))
        assert answer.status_code == 401, secret
    # A bad bearer is not rescued by a good cookie.
    cookie, _ = signed_in_session(site_store, Scope.ADMIN)
    anonymous_http.cookies.set("garrison_session", cookie)
    assert anonymous_http.get("/api/v1/assets").status_code == 200
    answer = anonymous_http.get("/api/v1/assets", headers=bearer(revoked))
    assert answer.status_code == 401


# --- sign-in, cookies, CSRF ---------------------------------------------------------------------


def _login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def alice(site_store: Store) -> str:
    from garrison.identity import add_user

    with site_store.session() as session:
        add_user(session, "alice", role=Scope.ANALYST, actor="test", password=PASSWORD)
    return "alice"


def test_sign_in_sets_a_safe_cookie_and_the_dashboard_opens(
    anonymous_http: httpx.Client, alice: str
) -> None:
    token = _login_form(anonymous_http)
    answer = anonymous_http.post(
        "/login",
        data={"username": alice, "password": PASSWORD, "csrf_token": token, "next": "/assets"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/assets"
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("garrison_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on loopback; see the forced-secure test
    page = anonymous_http.get("/assets")
    assert page.status_code == 200 and "Sign out" in page.text and "alice" in page.text


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong passphrase!!"), ("mallory", PASSWORD)]
)
def test_failed_sign_in_does_not_say_whether_the_user_exists(
    anonymous_http: httpx.Client, alice: str, username: str, password: str
) -> None:
    token = _login_form(anonymous_http)
    answer = anonymous_http.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 401
    assert "The username or password is wrong" in answer.text
    assert "garrison_session" not in answer.cookies


def test_sign_in_without_its_csrf_token_is_refused(
    anonymous_http: httpx.Client, alice: str
) -> None:
    _login_form(anonymous_http)
    answer = anonymous_http.post(
        "/login", data={"username": alice, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert "garrison_session" not in answer.cookies


def test_sign_in_never_redirects_off_site(anonymous_http: httpx.Client, alice: str) -> None:
    token = _login_form(anonymous_http)
    answer = anonymous_http.post(
        "/login",
        data={
            "username": alice,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert answer.headers["location"] == "/"


@pytest.fixture
def secure_site(web_store: Store) -> Iterator[str]:
    app = create_app(
        load_settings(database_url=web_store.url),
        store=web_store,
        auth_settings=load_auth_settings(cookie_secure=True, same_site="strict"),
    )
    with run_in_thread(app) as url:
        yield url


def test_cookie_is_secure_when_configured(secure_site: str, web_store: Store, alice: str) -> None:
    with httpx.Client(base_url=secure_site) as client:
        token = _login_form(client)
        # httpx (like a browser) keeps a Secure cookie off plain http: send it back by hand.
        answer = client.post(
            "/login",
            data={"username": alice, "password": PASSWORD, "csrf_token": token},
            headers={"cookie": f"garrison_login_csrf={token}"},
        )
    cookie = next(
        h for h in answer.headers.get_list("set-cookie") if h.startswith("garrison_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict"} <= flags


def test_cookie_writes_need_the_csrf_token(anonymous_http: httpx.Client, site_store: Store) -> None:
    cookie, csrf = signed_in_session(site_store, Scope.ADMIN, username="root")
    anonymous_http.cookies.set("garrison_session", cookie)
    spec = {"org": "acme", "name": "csrf probe", "asset_type": "llm_application"}
    missing = anonymous_http.post("/api/v1/assets", json=spec)
    wrong = anonymous_http.post("/api/v1/assets", json=spec, headers={"X-CSRF-Token": "nope"})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert "CSRF" in missing.json()["error"]
    right = anonymous_http.post("/api/v1/assets", json=spec, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201, right.text
    # A form post (sign-out) carries the token as a field; without it, it is refused.
    assert anonymous_http.post("/logout", data={}).status_code == 403
    assert anonymous_http.get("/api/v1/assets").status_code == 200
    out = anonymous_http.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    anonymous_http.cookies.set("garrison_session", cookie)
    assert anonymous_http.get("/api/v1/assets").status_code == 401


# --- the real person on approvals, and the audit trail of writes -------------------------------


def test_attestation_records_the_caller_not_the_body(
    site_store: Store, anonymous_http: httpx.Client, asset_id: str
) -> None:
    cookie, csrf = signed_in_session(site_store, Scope.ANALYST, username="carol")
    anonymous_http.cookies.set("garrison_session", cookie)
    answer = anonymous_http.post(
        f"/api/v1/controls/assets/{asset_id}/states",
        json={"control_id": "CTRL-INPUT-FILTER", "state": "planned", "actor": "ciso"},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["actor"] == "user:carol"
    with site_store.session() as session:
        trail = audit.entries(session)
    attest = [e for e in trail if e.action == "control.attest"]
    assert [e.actor for e in attest] == ["user:carol"]
    writes = [e for e in trail if e.action == "http.write"]
    assert writes[-1].actor == "user:carol"
    assert writes[-1].after == {
        "method": "POST",
        "path": f"/api/v1/controls/assets/{asset_id}/states",
        "status": 201,
    }


def test_token_writes_are_audited_and_ingest_is_not(
    site_store: Store, client_for: ClientFactory
) -> None:
    admin = client_for(Scope.ADMIN)
    sender = client_for(Scope.INGEST)
    spec = {"org": "acme", "name": "audited", "asset_type": "llm_application"}
    assert admin.post("/api/v1/assets", json=spec).status_code == 201
    assert sender.post("/api/v1/events", json=EVENT).status_code == 202
    with site_store.session() as session:
        trail = audit.entries(session)
        assert audit.verify(session).ok
    actions = [(e.action, e.target_id) for e in trail if e.actor.startswith("token:test-")]
    assert ("asset.created", actions[0][1]) in actions
    assert ("http.write", "POST /api/v1/assets") in actions
    assert not any("events" in target for _, target in actions)


# --- tenancy ------------------------------------------------------------------------------------


@pytest.fixture
def two_orgs(site_store: Store, client_for: ClientFactory) -> dict[str, str]:
    ids: dict[str, str] = {}
    with site_store.session() as session:
        for org in ("acme", "globex"):
            ids[org] = register(
                session,
                AssetSpec(org=org, name=f"{org} bot", asset_type=AssetType.LLM_APPLICATION),
                source="test",
            ).asset_id
        assess_assets(session, search(session))
    sender = client_for(Scope.INGEST)
    for org in ("acme", "globex"):
        event = {**EVENT, "garrison.org": org, "user.id": f"user-{org}"}
        assert sender.post("/api/v1/events", json=event).status_code == 202
    return ids


def test_an_org_scoped_reader_sees_only_its_org(
    client_for: ClientFactory, two_orgs: dict[str, str]
) -> None:
    acme = client_for(Scope.READ, org="acme")
    assets = acme.get("/api/v1/assets").json()
    assert {a["org"] for a in assets["items"]} == {"acme"}
    assert acme.get("/api/v1/assets", params={"org": "globex"}).status_code == 403
    assert acme.get(f"/api/v1/assets/{two_orgs['globex']}").status_code == 404
    assert acme.get(f"/api/v1/assets/{two_orgs['acme']}").status_code == 200
    events = acme.get("/api/v1/events").json()["events"]
    assert [e["event"]["garrison.org"] for e in events] == ["acme"]
    everyone = client_for(Scope.READ).get("/api/v1/events").json()["events"]
    globex_event = next(e for e in everyone if e["event"]["garrison.org"] == "globex")
    event_id = globex_event["event"]["garrison.event.id"]
    assert acme.get(f"/api/v1/events/{event_id}").status_code == 404
    assert {r["asset_id"] for r in acme.get("/api/v1/risk/top").json()} == {two_orgs["acme"]}
    assert acme.get(f"/api/v1/risk/assets/{two_orgs['globex']}").status_code == 404
    assert acme.get("/api/v1/controls/coverage").status_code == 403
    states = f"/api/v1/controls/assets/{two_orgs['globex']}/states"
    assert acme.get(states).status_code == 404


def test_pages_that_show_every_org_are_closed_to_an_org_scoped_credential(
    client_for: ClientFactory, two_orgs: dict[str, str]
) -> None:
    acme = client_for(Scope.READ, org="acme")
    for path in ("/assets", "/risk", f"/assets/{two_orgs['acme']}"):
        answer = acme.get(path)
        assert answer.status_code == 403, path
        assert "globex" not in answer.text
    assert client_for(Scope.READ).get("/assets").status_code == 200


def test_an_org_scoped_writer_cannot_write_another_org(
    client_for: ClientFactory, two_orgs: dict[str, str], site_store: Store
) -> None:
    admin = client_for(Scope.ADMIN, org="acme")
    spec = {"org": "globex", "name": "smuggled", "asset_type": "llm_application"}
    assert admin.post("/api/v1/assets", json=spec).status_code == 403
    patch = {"changes": {"owner_team": "mallory"}}
    assert admin.patch(f"/api/v1/assets/{two_orgs['globex']}", json=patch).status_code == 404
    analyst = client_for(Scope.ANALYST, org="acme")
    body = {"control_id": "CTRL-INPUT-FILTER", "state": "planned"}
    url = f"/api/v1/controls/assets/{two_orgs['globex']}/states"
    assert analyst.post(url, json=body).status_code == 404


def test_an_org_scoped_ingest_token_writes_only_its_org(
    client_for: ClientFactory, site_store: Store
) -> None:
    sender = client_for(Scope.INGEST, org="acme")
    refused = sender.post("/api/v1/events", json={**EVENT, "garrison.org": "globex"})
    assert refused.status_code == 422
    assert refused.json()["items"][0]["errors"][0]["field"] == "garrison.org"
    kept = sender.post("/api/v1/events", json={**EVENT, "user.id": "unlabelled"})
    assert kept.status_code == 202
    reader = client_for(Scope.READ)
    events = reader.get("/api/v1/events").json()["events"]
    assert [e["event"]["garrison.org"] for e in events] == ["acme"]


def test_bind_submissions_forces_or_refuses_the_org() -> None:
    scoped = Principal("token:t", "token", frozenset({Scope.INGEST}), org="acme")
    event = SecurityEvent.from_flat({**EVENT})
    items = [
        Submission(0, {**EVENT}),
        Submission(1, {**EVENT, "garrison.org": "globex"}),
        Submission(2, event),
        Submission(3, event.with_updates(org="globex")),
    ]
    bound = bind_submissions(items, scoped)
    assert bound[0].data["garrison.org"] == "acme"
    assert bound[1].error is not None and bound[1].data is None
    assert isinstance(bound[2].data, SecurityEvent) and bound[2].data.org == "acme"
    assert bound[3].error is not None
    unscoped = Principal("token:t", "token", frozenset({Scope.INGEST}))
    assert bind_submissions(items, unscoped) == items


@pytest.mark.browser
def test_a_person_signs_in_and_out_in_a_real_browser(
    browser: Browser, base_url: str, alice: str
) -> None:
    context = browser.new_context(base_url=base_url)
    tab = context.new_page()
    try:
        tab.goto("/assets")
        assert "/login" in tab.url  # sent to sign in first, and back afterwards
        tab.get_by_label("Username").fill(alice)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(f"{base_url}/assets")
        expect(tab.locator(".site-user__name")).to_have_text("alice")
        session = next(c for c in context.cookies() if c["name"] == "garrison_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        assert tab.evaluate("document.cookie").find("garrison_session") == -1
        tab.get_by_role("button", name="Sign out").click()
        tab.wait_for_url(f"{base_url}/login")
        tab.goto("/assets")
        assert "/login" in tab.url
    finally:
        context.close()
