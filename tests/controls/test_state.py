from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from garrison.controls.state import (
    AttestationError,
    ControlNotApplicableError,
    ControlState,
    attest,
    attested_assets,
    check_evidence,
    control_states,
    history,
    states_for_assets,
)
from garrison.core.errors import NotFoundError
from garrison.store import Store
from garrison.store.models.controls import ControlAttestationRow

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_attest_keeps_history_and_current_state(store: Store) -> None:
    with store.session() as session:
        attest(
            session,
            "bot-1",
            "CTRL-RATE-LIMIT",
            "planned",
            "alice",
            (),
            "",
            T0,
            asset_type="llm_application",
        )
        attest(
            session,
            "bot-1",
            "ctrl-rate-limit",
            ControlState.OPERATIONAL,
            "bob",
            ["https://ci.example.com/runs/812", "evidence/gateway-limits.json"],
            "burst test throttled at 60/min",
            T0 + timedelta(days=2),
        )
        attest(
            session,
            "bot-1",
            "CTRL-INPUT-FILTER",
            "failed",
            "soc",
            (),
            "bypassed",
            T0 + timedelta(days=1),
        )
    with store.session() as session:
        current = control_states(session, "bot-1")
        entries = history(session, "bot-1", "CTRL-RATE-LIMIT")
        everything = history(session, "bot-1")
    assert sorted(current) == ["CTRL-INPUT-FILTER", "CTRL-RATE-LIMIT"]
    rate = current["CTRL-RATE-LIMIT"]
    assert (rate.state, rate.actor, rate.attested_at) == (
        "operational",
        "bob",
        T0 + timedelta(days=2),
    )
    assert rate.evidence == ("https://ci.example.com/runs/812", "evidence/gateway-limits.json")
    assert rate.asset_type == "llm_application"  # learnt from the first attestation
    assert rate.attested_at.tzinfo is not None
    assert [(e.state, e.actor) for e in entries] == [("planned", "alice"), ("operational", "bob")]
    assert [e.control_id for e in everything] == [
        "CTRL-RATE-LIMIT",
        "CTRL-INPUT-FILTER",
        "CTRL-RATE-LIMIT",
    ]


def test_back_dated_attestation_enters_history_without_replacing_newer_state(store: Store) -> None:
    with store.session() as session:
        attest(session, "a", "CTRL-RATE-LIMIT", "operational", "alice", at=T0)
        attest(session, "a", "CTRL-RATE-LIMIT", "failed", "bob", at=T0 - timedelta(days=30))
    with store.session() as session:
        assert control_states(session, "a")["CTRL-RATE-LIMIT"].state is ControlState.OPERATIONAL
        assert [e.state for e in history(session, "a", "CTRL-RATE-LIMIT")] == [
            "failed",
            "operational",
        ]


def test_bulk_states_and_attested_assets(store: Store) -> None:
    with store.session() as session:
        attest(session, "a", "CTRL-RATE-LIMIT", "operational", "x", asset_type="api_endpoint")
        attest(session, "b", "CTRL-RATE-LIMIT", "planned", "x")
    with store.session() as session:
        assert set(states_for_assets(session)) == {"a", "b"}
        assert set(states_for_assets(session, ["b", "zzz"])) == {"b"}
        assert states_for_assets(session, []) == {}
        assert attested_assets(session) == {"a": "api_endpoint", "b": None}


def test_history_is_append_only_in_the_database(store: Store) -> None:
    with store.session() as session:
        attest(session, "a", "CTRL-RATE-LIMIT", "operational", "alice")
    for statement in (
        update(ControlAttestationRow).values(actor="mallory"),
        delete(ControlAttestationRow),
    ):
        with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
            session.execute(statement)
    with store.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT actor FROM control_attestations")).scalar() == "alice"
        )


def test_state_is_checked_in_the_database(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(
            ControlAttestationRow(
                asset_id="a",
                control_id="CTRL-X",
                state="great",
                actor="a",
                evidence=[],
                note="",
                attested_at=T0,
            )
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"control_id": "CTRL-NOPE"}, NotFoundError, "no control 'CTRL-NOPE'"),
        ({"state": "done"}, AttestationError, "unknown control state 'done'"),
        ({"actor": "  "}, AttestationError, "actor is empty"),
        ({"asset_id": ""}, AttestationError, "asset ID is empty"),
        ({"evidence": ["javascript:alert(1)"]}, AttestationError, "uses scheme 'javascript'"),
        ({"evidence": ["https:///nohost"]}, AttestationError, "has no host"),
        ({"at": datetime(2026, 1, 1)}, AttestationError, "has no timezone"),
        ({"at": datetime.now(UTC) + timedelta(days=1)}, AttestationError, "in the future"),
        ({"asset_type": "training_dataset"}, ControlNotApplicableError, "does not apply"),
    ],
)
def test_bad_attestations_are_refused_and_nothing_is_stored(
    store: Store, kwargs: dict[str, object], error: type[Exception], fragment: str
) -> None:
    arguments: dict[str, object] = {
        "asset_id": "a",
        "control_id": "CTRL-INPUT-FILTER",
        "state": "operational",
        "actor": "alice",
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=fragment), store.session() as session:
        attest(session, **arguments)  # type: ignore[arg-type]
    with store.session() as session:
        assert history(session, "a") == []


@pytest.mark.parametrize(
    "link",
    [
        "https://wiki.example.com/page?id=1",
        "http://10.0.0.5/report",
        "file:///srv/evidence/x.pdf",
        "evidence/run-12.json",
        "C:\\evidence\\x.pdf",
    ],
)
def test_evidence_links_accepted(link: str) -> None:
    assert check_evidence(f" {link} ") == link


@pytest.mark.parametrize("link", ["", "data:text/html,<script>", "vbscript:x", "a\nb", "x" * 2001])
def test_evidence_links_refused(link: str) -> None:
    with pytest.raises(AttestationError):
        check_evidence(link)
