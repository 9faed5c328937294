"""Per-asset control state: an append-only attestation log and the current state it implies.

``control_attestations`` is the history: rows are only ever inserted (the migration adds
database triggers that refuse UPDATE and DELETE, so an audit trail cannot be rewritten through SQL
either). ``control_states`` holds the latest attestation per (asset, control) so that the risk
engine reads 10,000 assets' states in one indexed query instead of ranking the whole log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.core.timeutil import utcnow
from garrison.store.models.base import Base

JsonList = JSON().with_variant(JSONB(), "postgresql")
STATES = ("planned", "implemented", "operational", "failed")
_STATE_CHECK = "state IN ('planned', 'implemented', 'operational', 'failed')"


class ControlAttestationRow(Base):
    __tablename__ = "control_attestations"
    __table_args__ = (
        CheckConstraint(_STATE_CHECK, name="state"),
        Index("ix_control_attestations_asset_control", "asset_id", "control_id", "attested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(String(200))
    control_id: Mapped[str] = mapped_column(String(64))
    asset_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[Any]] = mapped_column(JsonList, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    attested_at: Mapped[datetime] = mapped_column()
    """When the state held, as attested (may be earlier than recording)."""
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ControlStateRow(Base):
    __tablename__ = "control_states"
    __table_args__ = (CheckConstraint(_STATE_CHECK, name="state"),)

    asset_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    control_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[Any]] = mapped_column(JsonList, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    attested_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    attestation_id: Mapped[int] = mapped_column(
        ForeignKey("control_attestations.id", ondelete="RESTRICT")
    )
