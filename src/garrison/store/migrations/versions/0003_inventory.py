"""Inventory: AI assets, their evidence, history, dependencies, sightings and discovery runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _asset_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["inventory_assets.id"],
        name=op.f(f"fk_{table}_{column}_inventory_assets"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "inventory_assets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("asset_type", sa.String(40), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("data_classification", sa.String(20), nullable=True),
        sa.Column("exposure", sa.String(20), nullable=False),
        sa.Column("model_provider", sa.String(200), nullable=True),
        sa.Column("model_name", sa.String(500), nullable=True),
        sa.Column("cloud_provider", sa.String(100), nullable=True),
        sa.Column("owner_team", sa.String(200), nullable=False),
        sa.Column("regulatory_scope", sa.String(300), nullable=False),
        sa.Column("compliance_status", sa.String(20), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        _time("stale_since", nullable=True),
        _time("registered_at"),
        _time("last_updated"),
        _time("last_seen"),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("provenance", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_assets")),
        sa.UniqueConstraint("org", "key_digest", name="uq_inventory_assets_org_key_digest"),
    )
    op.create_index("ix_inventory_assets_org_asset_type", "inventory_assets", ["org", "asset_type"])
    op.create_index("ix_inventory_assets_org_name", "inventory_assets", ["org", "name"])
    op.create_index(op.f("ix_inventory_assets_stale"), "inventory_assets", ["stale"])

    op.create_table(
        "inventory_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=True),
        _time("first_seen"),
        _time("last_seen"),
        _asset_fk("inventory_evidence", "asset_id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_evidence")),
    )
    op.create_index(op.f("ix_inventory_evidence_asset_id"), "inventory_evidence", ["asset_id"])

    op.create_table(
        "inventory_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(36), nullable=False),
        _time("at"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("changes", _json(), nullable=False),
        _asset_fk("inventory_history", "asset_id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_history")),
    )
    op.create_index(op.f("ix_inventory_history_asset_id"), "inventory_history", ["asset_id"])

    op.create_table(
        "inventory_dependencies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(36), nullable=False),
        sa.Column("target_ref", sa.String(1000), nullable=False),
        sa.Column("target_id", sa.String(36), nullable=True),
        sa.Column("relation", sa.String(40), nullable=False),
        sa.Column("declared_by", sa.String(100), nullable=False),
        _time("created_at"),
        _asset_fk("inventory_dependencies", "asset_id", "CASCADE"),
        _asset_fk("inventory_dependencies", "target_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_dependencies")),
    )
    for column in ("asset_id", "target_id"):
        op.create_index(
            op.f(f"ix_inventory_dependencies_{column}"), "inventory_dependencies", [column]
        )
    op.create_index(
        "ix_inventory_dependencies_org_target_ref", "inventory_dependencies", ["org", "target_ref"]
    )

    op.create_table(
        "inventory_sightings",
        sa.Column("asset_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        _time("first_seen"),
        _time("last_seen"),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("missing", sa.Boolean(), nullable=False),
        _asset_fk("inventory_sightings", "asset_id", "CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "source", "scope", name=op.f("pk_inventory_sightings")),
    )
    op.create_index(
        "ix_inventory_sightings_org_source_scope",
        "inventory_sightings",
        ["org", "source", "scope"],
    )

    op.create_table(
        "inventory_discovery_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("errors", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_discovery_runs")),
    )
    op.create_index(
        "ix_inventory_discovery_runs_org_source", "inventory_discovery_runs", ["org", "source"]
    )


def downgrade() -> None:
    op.drop_index("ix_inventory_discovery_runs_org_source", table_name="inventory_discovery_runs")
    op.drop_table("inventory_discovery_runs")
    op.drop_index("ix_inventory_sightings_org_source_scope", table_name="inventory_sightings")
    op.drop_table("inventory_sightings")
    op.drop_index("ix_inventory_dependencies_org_target_ref", table_name="inventory_dependencies")
    for column in ("target_id", "asset_id"):
        op.drop_index(
            op.f(f"ix_inventory_dependencies_{column}"), table_name="inventory_dependencies"
        )
    op.drop_table("inventory_dependencies")
    op.drop_index(op.f("ix_inventory_history_asset_id"), table_name="inventory_history")
    op.drop_table("inventory_history")
    op.drop_index(op.f("ix_inventory_evidence_asset_id"), table_name="inventory_evidence")
    op.drop_table("inventory_evidence")
    op.drop_index(op.f("ix_inventory_assets_stale"), table_name="inventory_assets")
    op.drop_index("ix_inventory_assets_org_name", table_name="inventory_assets")
    op.drop_index("ix_inventory_assets_org_asset_type", table_name="inventory_assets")
    op.drop_table("inventory_assets")
