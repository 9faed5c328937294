"""Persistence of security events and their findings: the only code that touches their tables.

Saving is idempotent on ``event_id``: an event already stored is left as it is and reported as a
duplicate, so clients may retry, files may be re-read and OTLP batches re-sent without counting
anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from garrison.core.timeutil import ensure_utc, utcnow
from garrison.monitoring.events import EventFinding, IngestSource, SecurityEvent
from garrison.store.models.monitoring import EventRow, FindingRow

EVENTS: Table = EventRow.__table__  # type: ignore[assignment]
FINDINGS: Table = FindingRow.__table__  # type: ignore[assignment]
MAX_LIST_LIMIT = 10_000


@dataclass(frozen=True)
class StoredEvent:
    event: SecurityEvent
    source: IngestSource
    received_at: datetime


@dataclass(frozen=True)
class EventFilter:
    """Conditions that all hold; ``None`` means "any"."""

    org: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    category: str | None = None
    event_type: str | None = None
    asset_id: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        for column, value in (
            (EventRow.org, self.org),
            (EventRow.user_id, self.user_id),
            (EventRow.session_id, self.session_id),
            (EventRow.category, self.category),
            (EventRow.event_type, self.event_type),
            (EventRow.asset_id, self.asset_id),
            (EventRow.correlation_id, self.correlation_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(EventRow.timestamp >= ensure_utc(self.since))
        if self.until is not None:
            query = query.where(EventRow.timestamp < ensure_utc(self.until))
        return query


def event_row(
    event: SecurityEvent, *, source: IngestSource, received_at: datetime
) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "org": event.org,
        "timestamp": event.timestamp,
        "received_at": received_at,
        "event_type": str(event.event_type),
        "category": None if event.category is None else str(event.category),
        "severity": str(event.severity),
        "verdict": None if event.verdict is None else str(event.verdict),
        "user_id": event.user_id,
        "session_id": event.session_id,
        "asset_id": event.asset_id,
        "correlation_id": event.correlation_id,
        "source": str(source),
        "attributes": event.to_flat(mode="json"),
    }


def finding_rows(event: SecurityEvent) -> list[dict[str, Any]]:
    return [
        {
            "event_id": event.event_id,
            "ordinal": i,
            "detector_id": f.detector_id,
            "detector_version": f.detector_version,
            "category": f.category,
            "score": f.score,
            "severity": str(f.severity),
            "owasp": list(f.owasp),
            "atlas": list(f.atlas),
            "spans": [s.model_dump() for s in f.spans],
            "target": f.target,
            "message": f.message,
            "explanation": f.explanation,
        }
        for i, f in enumerate(event.findings)
    ]


def insert_events(
    session: Session,
    events: Sequence[SecurityEvent],
    *,
    source: IngestSource,
    received_at: datetime | None = None,
) -> set[str]:
    """Insert the events not stored yet, with their findings; returns the IDs inserted.

    The caller owns the transaction: nothing is committed here.
    """
    when = received_at if received_at is not None else utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    by_id: dict[str, SecurityEvent] = {}
    for event in events:
        by_id.setdefault(event.event_id, event)
    unique = list(by_id.values())
    if not unique:
        return set()
    # One cached statement run with many parameter sets: SQLAlchemy batches it into multi-row
    # INSERTs itself ("insertmanyvalues"), without compiling a new statement per batch.
    connection = session.connection()
    statement = (
        insert(EVENTS)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(EVENTS.c.event_id)
    )
    rows = [event_row(e, source=source, received_at=when) for e in unique]
    inserted = set(connection.execute(statement, rows).scalars())
    findings = [row for e in unique if e.event_id in inserted for row in finding_rows(e)]
    if findings:
        connection.execute(insert(FINDINGS), findings)
    return inserted


def save_events(
    session: Session, events: Iterable[SecurityEvent], *, source: IngestSource = IngestSource.SDK
) -> int:
    """Store ``events``; returns how many were new (duplicates by ``event_id`` are skipped)."""
    return len(insert_events(session, list(events), source=source))


def _stored(row: EventRow) -> StoredEvent:
    return StoredEvent(
        event=SecurityEvent.from_flat(row.attributes),
        source=IngestSource(row.source),
        received_at=row.received_at,
    )


def get_event(session: Session, event_id: str) -> StoredEvent | None:
    row = session.get(EventRow, event_id)
    return None if row is None else _stored(row)


def list_events(
    session: Session,
    filters: EventFilter | None = None,
    *,
    limit: int = 100,
    oldest_first: bool = False,
) -> list[StoredEvent]:
    """Events matching ``filters``, newest first unless ``oldest_first``."""
    query = (filters or EventFilter()).apply(select(EventRow))
    order = (
        (EventRow.timestamp.asc(), EventRow.event_id.asc())
        if oldest_first
        else (EventRow.timestamp.desc(), EventRow.event_id.desc())
    )
    query = query.order_by(*order).limit(max(0, min(limit, MAX_LIST_LIMIT)))
    return [_stored(row) for row in session.scalars(query)]


def count_events(session: Session, filters: EventFilter | None = None) -> int:
    query = (filters or EventFilter()).apply(select(func.count()).select_from(EventRow))
    return int(session.scalar(query) or 0)


def count_events_by(
    session: Session,
    column: Literal["category", "event_type", "severity", "source"],
    filters: EventFilter | None = None,
) -> dict[str, int]:
    """How many events per value of ``column`` (events without a category count under "")."""
    field = getattr(EventRow, column)
    query = (filters or EventFilter()).apply(select(field, func.count()).select_from(EventRow))
    return {
        ("" if value is None else str(value)): int(n)
        for value, n in session.execute(query.group_by(field))
    }


def list_findings(session: Session, event_id: str) -> list[EventFinding]:
    rows = session.scalars(
        select(FindingRow).where(FindingRow.event_id == event_id).order_by(FindingRow.ordinal)
    )
    return [
        EventFinding.model_validate(
            {
                "detector_id": r.detector_id,
                "detector_version": r.detector_version,
                "category": r.category,
                "score": r.score,
                "severity": r.severity,
                "owasp": r.owasp,
                "atlas": r.atlas,
                "spans": r.spans,
                "target": r.target,
                "message": r.message,
                "explanation": r.explanation,
            }
        )
        for r in rows
    ]
