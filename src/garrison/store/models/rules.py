"""Rule firings as stored: enough of each firing to answer "why did this fire?" later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base

Json = JSON().with_variant(JSONB(), "postgresql")


class RuleFiringRow(Base):
    __tablename__ = "rule_firings"
    __table_args__ = (
        Index("ix_rule_firings_org_fired", "org", "fired_at"),
        Index("ix_rule_firings_rule", "rule_id", "fired_at"),
    )

    firing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    org: Mapped[str] = mapped_column(String(64))
    group: Mapped[dict[str, Any]] = mapped_column(Json)
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    fired_at: Mapped[datetime] = mapped_column()
    event_ids: Mapped[list[str]] = mapped_column(Json)
    event_count: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[str | None] = mapped_column(String(256))
    user_id: Mapped[str | None] = mapped_column(String(256))
    session_id: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[dict[str, Any]] = mapped_column(Json)
    """``{"atlas": [...], "owasp": [...], "labels": {...}}``."""
    summary: Mapped[str] = mapped_column(Text)
