"""Event persistence on SQLite and PostgreSQL: idempotent saves, filters, counts, migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from garrison.monitoring.events import EventCategory, EventType, IngestSource, SecurityEvent
from garrison.monitoring.store import (
    EventFilter,
    count_events,
    count_events_by,
    get_event,
    list_events,
    save_events,
)
from garrison.store import Store
from garrison.store.models import Base
from garrison.store.schema import alembic_config

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _event(i: int, **fields: object) -> SecurityEvent:
    return SecurityEvent.model_validate(
        {"event_type": EventType.LLM_REQUEST, "timestamp": T0 + timedelta(minutes=i), **fields}
    )


def test_save_is_idempotent_and_events_come_back_equal(store: Store) -> None:
    events = [_event(i, user_id=f"u-{i % 2}") for i in range(5)]
    with store.session() as session:
        assert save_events(session, events) == 5
    with store.session() as session:
        assert save_events(session, [*events, _event(9)]) == 1
    with store.session() as session:
        stored = get_event(session, events[2].event_id)
        assert stored is not None
        assert stored.event == events[2]
        assert stored.source is IngestSource.SDK
        assert stored.event.timestamp.tzinfo is not None
        assert get_event(session, "missing") is None


def test_filters_order_and_counts(store: Store) -> None:
    events = [
        _event(0, user_id="u-1", session_id="s-1", category=EventCategory.PII_DETECTED),
        _event(1, user_id="u-1", session_id="s-2", asset_id="a-1", correlation_id="c-1"),
        _event(
            2, user_id="u-2", event_type=EventType.AUTH_FAILURE, category=EventCategory.AUTH_FAILURE
        ),
        _event(3, user_id="u-2", org="acme"),
    ]
    with store.session() as session:
        save_events(session, events, source=IngestSource.HTTP)
    with store.session() as session:
        newest_first = [s.event.event_id for s in list_events(session)]
        assert newest_first == [e.event_id for e in reversed(events)]
        assert len(list_events(session, limit=2)) == 2
        assert count_events(session, EventFilter(user_id="u-1")) == 2
        assert count_events(session, EventFilter(session_id="s-2", asset_id="a-1")) == 1
        assert count_events(session, EventFilter(correlation_id="c-1")) == 1
        assert count_events(session, EventFilter(org="acme")) == 1
        assert count_events(session, EventFilter(since=T0 + timedelta(minutes=2))) == 2
        assert count_events(session, EventFilter(until=T0 + timedelta(minutes=1))) == 1
        assert count_events(session, EventFilter(event_type="auth.failure")) == 1
        assert count_events_by(session, "category") == {"pii_detected": 1, "auth_failure": 1, "": 2}
        assert count_events_by(session, "source") == {"http": 4}


def test_the_migration_matches_the_models_and_downgrades(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    names = set(inspect(store.engine).get_table_names())
    assert {"monitoring_events", "monitoring_findings"} <= names
    command.downgrade(alembic_config(store.engine), "0001")
    assert "monitoring_events" not in set(inspect(store.engine).get_table_names())
    command.upgrade(alembic_config(store.engine), "head")
    assert "monitoring_findings" in set(inspect(store.engine).get_table_names())


def test_large_batches_with_duplicates_inside(store: Store) -> None:
    events = [_event(i % 1500, user_id=f"u-{i}") for i in range(2500)]
    with store.session() as session:
        assert save_events(session, events) == 2500
    with store.session() as session:
        assert save_events(session, [*reversed(events), _event(9999), events[0]]) == 1
        assert count_events(session) == 2501
