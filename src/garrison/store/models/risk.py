"""Risk assessments, the risk-model versions they used, and risk acceptances.

An assessment row keeps the inputs it was computed from (asset snapshot, control states, provider
outputs) and the explanation it produced, so a score can be explained and recomputed long after
the asset, its controls or the library changed. The model (``risk.yaml`` as validated) is stored
once per digest in ``risk_configs`` rather than copied into every row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base

Json = JSON().with_variant(JSONB(), "postgresql")


class RiskConfigRow(Base):
    __tablename__ = "risk_configs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    first_used_at: Mapped[datetime] = mapped_column()


class RiskAssessmentRow(Base):
    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_asset_assessed", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(String(200))
    assessed_at: Mapped[datetime] = mapped_column()
    inherent: Mapped[float] = mapped_column(Float)
    residual: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(32))
    config_digest: Mapped[str] = mapped_column(
        String(64), ForeignKey("risk_configs.digest", ondelete="RESTRICT")
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(Json)
    explanation: Mapped[dict[str, Any]] = mapped_column(Json)


class RiskAcceptanceRow(Base):
    __tablename__ = "risk_acceptances"
    __table_args__ = (Index("ix_risk_acceptances_asset", "asset_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(String(200))
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="RESTRICT")
    )
    level: Mapped[str] = mapped_column(String(32))
    residual: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(320))
    approver: Mapped[str] = mapped_column(String(320))
    accepted_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
