"""Monitoring: security events and detector findings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "monitoring_events",
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=True),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("session_id", sa.String(256), nullable=True),
        sa.Column("asset_id", sa.String(256), nullable=True),
        sa.Column("correlation_id", sa.String(256), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_monitoring_events")),
    )
    for column in ("timestamp", "event_type", "category", "session_id", "asset_id"):
        op.create_index(
            op.f(f"ix_monitoring_events_{column}"), "monitoring_events", [column], unique=False
        )
    op.create_index(
        op.f("ix_monitoring_events_correlation_id"),
        "monitoring_events",
        ["correlation_id"],
        unique=False,
    )
    op.create_index(
        "ix_monitoring_events_org_timestamp",
        "monitoring_events",
        ["org", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_monitoring_events_user_timestamp",
        "monitoring_events",
        ["user_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "monitoring_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("detector_id", sa.String(256), nullable=False),
        sa.Column("detector_version", sa.String(32), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("owasp", _json(), nullable=False),
        sa.Column("atlas", _json(), nullable=False),
        sa.Column("spans", _json(), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("explanation", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["monitoring_events.event_id"],
            name=op.f("fk_monitoring_findings_event_id_monitoring_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_findings")),
    )
    for column in ("event_id", "detector_id", "category"):
        op.create_index(
            op.f(f"ix_monitoring_findings_{column}"), "monitoring_findings", [column], unique=False
        )


def downgrade() -> None:
    for column in ("event_id", "detector_id", "category"):
        op.drop_index(op.f(f"ix_monitoring_findings_{column}"), table_name="monitoring_findings")
    op.drop_table("monitoring_findings")
    for name in (
        "ix_monitoring_events_user_timestamp",
        "ix_monitoring_events_org_timestamp",
        "ix_monitoring_events_correlation_id",
        "ix_monitoring_events_asset_id",
        "ix_monitoring_events_session_id",
        "ix_monitoring_events_category",
        "ix_monitoring_events_event_type",
        "ix_monitoring_events_timestamp",
    ):
        op.drop_index(name, table_name="monitoring_events")
    op.drop_table("monitoring_events")
