"""Alerting: alerts, silences, notification groups and the delivery outbox.

Group rows keep when each routed group was last notified and what it contained, so the
group_interval and repeat_interval timers survive a restart. The outbox keeps every notification
until a channel accepted it (or it ran out of attempts and became a dead letter); channel secrets
are never stored here, only the receiver that names them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base

Json = JSON().with_variant(JSONB(), "postgresql")


class AlertRow(Base):
    __tablename__ = "alerting_alerts"
    __table_args__ = (Index("ix_alerting_alerts_org_fingerprint", "org", "fingerprint", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(Json)
    annotations: Mapped[dict[str, Any]] = mapped_column(Json)
    firing_ids: Mapped[list[Any]] = mapped_column(Json)
    event_ids: Mapped[list[Any]] = mapped_column(Json)
    firing_count: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column()
    first_received_at: Mapped[datetime] = mapped_column()
    last_received_at: Mapped[datetime] = mapped_column()
    resolve_timeout_s: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(320), nullable=True)


class SilenceRow(Base):
    __tablename__ = "alerting_silences"
    __table_args__ = (Index("ix_alerting_silences_org_ends", "org", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    matchers: Mapped[list[Any]] = mapped_column(Json)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    expired_by: Mapped[str | None] = mapped_column(String(320), nullable=True)


class NotificationGroupRow(Base):
    __tablename__ = "alerting_groups"
    __table_args__ = (UniqueConstraint("org", "key_digest", name="uq_alerting_groups_org_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    key_digest: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(Text)
    route_path: Mapped[str] = mapped_column(String(200))
    receiver: Mapped[str] = mapped_column(String(100))
    group_labels: Mapped[dict[str, Any]] = mapped_column(Json)
    first_seen_at: Mapped[datetime] = mapped_column()
    last_sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    sent_alert_ids: Mapped[list[Any]] = mapped_column(Json)
    notifications: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    __tablename__ = "alerting_outbox"
    __table_args__ = (
        Index("ix_alerting_outbox_state_next", "state", "next_attempt_at"),
        UniqueConstraint("idempotency_key", name="uq_alerting_outbox_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    receiver: Mapped[str] = mapped_column(String(100))
    channel_index: Mapped[int] = mapped_column(Integer)
    channel_type: Mapped[str] = mapped_column(String(50))
    group_key: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column()
    next_attempt_at: Mapped[datetime] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
