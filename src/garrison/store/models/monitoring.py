"""Security events and their detector findings, as stored.

An event row keeps its full flat form in ``attributes`` (the unit Sigma rules read) and copies the
fields people filter on into indexed columns. Findings are also rows of their own so that "all
LLM01 findings this week" is one indexed query, not a scan of every event's JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base

# JSONB on PostgreSQL (indexable, compact); plain JSON text on SQLite.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class EventRow(Base):
    __tablename__ = "monitoring_events"
    __table_args__ = (
        Index("ix_monitoring_events_org_timestamp", "org", "timestamp"),
        Index("ix_monitoring_events_user_timestamp", "user_id", "timestamp"),
    )

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    org: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime]
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str | None] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str | None] = mapped_column(String(8))
    user_id: Mapped[str | None] = mapped_column(String(256))
    session_id: Mapped[str | None] = mapped_column(String(256), index=True)
    asset_id: Mapped[str | None] = mapped_column(String(256), index=True)
    correlation_id: Mapped[str | None] = mapped_column(String(256), index=True)
    source: Mapped[str] = mapped_column(String(16))
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc)


class FindingRow(Base):
    __tablename__ = "monitoring_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("monitoring_events.event_id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    detector_id: Mapped[str] = mapped_column(String(256), index=True)
    detector_version: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    owasp: Mapped[list[str]] = mapped_column(JsonDoc)
    atlas: Mapped[list[str]] = mapped_column(JsonDoc)
    spans: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)
    target: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    explanation: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
