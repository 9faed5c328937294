"""Supply-chain findings on inventory assets, as stored.

``asset_id`` is the inventory's asset ID kept as a plain column (no foreign key into another
pillar's table): the inventory is reached through its public functions only. A finding is keyed by
its fingerprint per asset, so a re-scan moves ``last_seen`` and a finding no longer present gets
``resolved_at`` instead of being deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base


class SupplyChainFindingRow(Base):
    __tablename__ = "supplychain_findings"
    __table_args__ = (
        UniqueConstraint("asset_id", "fingerprint", name="uq_supplychain_findings_asset_id"),
        Index("ix_supplychain_findings_org_severity", "org", "severity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(String(36), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    member: Mapped[str] = mapped_column(Text)
    module: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
