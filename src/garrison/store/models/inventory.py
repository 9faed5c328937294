"""The AI asset inventory, as stored.

An asset row keeps its full attribute set in ``attributes`` (JSON, the source of truth that
``garrison.inventory`` reads back) and copies the attributes people filter on into indexed
columns. The natural key is unique per organization through its SHA-256 (``key_digest``), because
a cloud ARN or file path can be longer than an index entry may be.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from garrison.store.models.base import Base

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class AssetRow(Base):
    __tablename__ = "inventory_assets"
    __table_args__ = (
        UniqueConstraint("org", "key_digest", name="uq_inventory_assets_org_key_digest"),
        Index("ix_inventory_assets_org_asset_type", "org", "asset_type"),
        Index("ix_inventory_assets_org_name", "org", "name"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org: Mapped[str] = mapped_column(String(64))
    natural_key: Mapped[str] = mapped_column(Text)
    key_digest: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(300))
    asset_type: Mapped[str] = mapped_column(String(40))
    environment: Mapped[str] = mapped_column(String(20))
    data_classification: Mapped[str | None] = mapped_column(String(20))
    exposure: Mapped[str] = mapped_column(String(20))
    model_provider: Mapped[str | None] = mapped_column(String(200))
    model_name: Mapped[str | None] = mapped_column(String(500))
    cloud_provider: Mapped[str | None] = mapped_column(String(100))
    owner_team: Mapped[str] = mapped_column(String(200))
    regulatory_scope: Mapped[str] = mapped_column(String(300))
    """Comma-delimited with a comma at each end (",gdpr,hipaa,") so LIKE finds one scope."""
    compliance_status: Mapped[str] = mapped_column(String(20))
    risk_score: Mapped[float | None] = mapped_column(Float)
    stale: Mapped[bool] = mapped_column(Boolean, index=True)
    stale_since: Mapped[datetime | None]
    registered_at: Mapped[datetime]
    last_updated: Mapped[datetime]
    last_seen: Mapped[datetime]
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonDoc)


class AssetEvidenceRow(Base):
    __tablename__ = "inventory_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("inventory_assets.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(16))
    attributes: Mapped[list[str]] = mapped_column(JsonDoc)
    detail: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class AssetHistoryRow(Base):
    __tablename__ = "inventory_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("inventory_assets.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(200))
    run_id: Mapped[str | None] = mapped_column(String(36))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)


class AssetDependencyRow(Base):
    __tablename__ = "inventory_dependencies"
    __table_args__ = (Index("ix_inventory_dependencies_org_target_ref", "org", "target_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(
        ForeignKey("inventory_assets.id", ondelete="CASCADE"), index=True
    )
    target_ref: Mapped[str] = mapped_column(String(1000))
    target_id: Mapped[str | None] = mapped_column(
        ForeignKey("inventory_assets.id", ondelete="SET NULL"), index=True
    )
    relation: Mapped[str] = mapped_column(String(40))
    declared_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class AssetSightingRow(Base):
    __tablename__ = "inventory_sightings"
    __table_args__ = (Index("ix_inventory_sightings_org_source_scope", "org", "source", "scope"),)

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("inventory_assets.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(500), primary_key=True)
    org: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    run_id: Mapped[str | None] = mapped_column(String(36))
    missing: Mapped[bool] = mapped_column(Boolean)


class DiscoveryRunRow(Base):
    __tablename__ = "inventory_discovery_runs"
    __table_args__ = (Index("ix_inventory_discovery_runs_org_source", "org", "source"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    complete: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, int]] = mapped_column(JsonDoc)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)
