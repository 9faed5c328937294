"""Persistence of security events and their findings: the only code that touches their tables.

Saving is idempotent on ``event_id``: an event already stored is left as it is and reported as a
duplicate, so clients may retry, files may be re-read and OTLP batches re-sent without counting
anything twice.

Prompt content (text, documents, tool arguments, and their redacted previews) is sealed with
AES-256-GCM before it reaches the database whenever a content encryption key is configured: the
row holds one ``garrison.content.sealed`` value bound to the event id instead of the clear keys.
The cipher for a database is the one registered for its URL with ``use_content_encryption`` (the
web app does this), else the one the environment's settings describe (the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Select, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from garrison.core.crypto import ContentCipher, SealError, cipher_from_settings
from garrison.core.settings import load_settings
from garrison.core.timeutil import ensure_utc, utcnow
from garrison.monitoring.events import EventFinding, IngestSource, SecurityEvent
from garrison.store.models.monitoring import EventRow, FindingRow

EVENTS: Table = EventRow.__table__  # type: ignore[assignment]
FINDINGS: Table = FindingRow.__table__  # type: ignore[assignment]
MAX_LIST_LIMIT = 10_000
SEALED_KEY = "garrison.content.sealed"
CONTENT_KEYS = (
    "garrison.content.text",
    "garrison.content.documents",
    "garrison.tool.arguments",
    "garrison.content.preview",
    "garrison.content.documents.previews",
)
"""The flat keys holding prompt text. Previews are redacted excerpts but still prompt text, so
they are sealed too when a key is set; digests and lengths stay in clear for queries."""

_ciphers: dict[str, ContentCipher | None] = {}


def _url_key(url: str) -> str:
    return url.strip()


def use_content_encryption(database_url: str, cipher: ContentCipher | None) -> None:
    """Seal content stored in ``database_url`` with ``cipher`` (``None``: store it in clear)."""
    _ciphers[_url_key(database_url)] = cipher


def _cipher(session: Session) -> ContentCipher | None:
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    key = _url_key(url)
    if key in _ciphers:
        return _ciphers[key]
    # Read only when content is actually met, then remembered for this database.
    cipher = cipher_from_settings(load_settings())
    _ciphers[key] = cipher
    return cipher


def seal_attributes(
    attributes: dict[str, Any], *, event_id: str, cipher: ContentCipher | None
) -> dict[str, Any]:
    """``attributes`` with the content keys replaced by one sealed value (unchanged without
    content or cipher)."""
    content = {k: attributes[k] for k in CONTENT_KEYS if k in attributes}
    if not content or cipher is None:
        return attributes
    kept = {k: v for k, v in attributes.items() if k not in content}
    kept[SEALED_KEY] = cipher.seal(orjson.dumps(content), bound_to=event_id)
    return kept


def open_attributes(
    attributes: dict[str, Any], *, event_id: str, cipher: ContentCipher | None
) -> dict[str, Any]:
    """The clear attributes of a stored row; ``SealError`` when its content cannot be opened."""
    sealed = attributes.get(SEALED_KEY)
    if sealed is None:
        return attributes
    if cipher is None:
        raise SealError(
            f"event {event_id!r} has encrypted content and no key is configured",
            hint="set GARRISON_CONTENT_ENCRYPTION_KEY to the key it was stored with",
        )
    if not isinstance(sealed, str):
        raise SealError(f"event {event_id!r}: {SEALED_KEY} is not a sealed value")
    content = orjson.loads(cipher.open(sealed, bound_to=event_id))
    opened = {k: v for k, v in attributes.items() if k != SEALED_KEY}
    opened.update(content)
    return opened


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
    event: SecurityEvent,
    *,
    source: IngestSource,
    received_at: datetime,
    cipher: ContentCipher | None = None,
) -> dict[str, Any]:
    attributes = seal_attributes(event.to_flat(mode="json"), event_id=event.event_id, cipher=cipher)
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
        "attributes": attributes,
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
    has_content = any(
        e.content is not None
        or e.documents is not None
        or e.tool_arguments is not None
        or e.content_preview is not None
        or e.document_previews is not None
        for e in unique
    )
    cipher = _cipher(session) if has_content else None
    rows = [event_row(e, source=source, received_at=when, cipher=cipher) for e in unique]
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


def _stored(session: Session, row: EventRow) -> StoredEvent:
    attributes = row.attributes
    if SEALED_KEY in attributes:
        attributes = open_attributes(attributes, event_id=row.event_id, cipher=_cipher(session))
    return StoredEvent(
        event=SecurityEvent.from_flat(attributes),
        source=IngestSource(row.source),
        received_at=row.received_at,
    )


def get_event(session: Session, event_id: str) -> StoredEvent | None:
    row = session.get(EventRow, event_id)
    return None if row is None else _stored(session, row)


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
    return [_stored(session, row) for row in session.scalars(query)]


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
