"""Alerting: alerts, silences, notification groups and the notification outbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerting_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("annotations", _json(), nullable=False),
        sa.Column("firing_ids", _json(), nullable=False),
        sa.Column("event_ids", _json(), nullable=False),
        sa.Column("firing_count", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        _when("starts_at"),
        _when("first_received_at"),
        _when("last_received_at"),
        sa.Column("resolve_timeout_s", sa.Integer(), nullable=False),
        _when("ends_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(320), nullable=True),
        _when("acknowledged_at", nullable=True),
        sa.Column("resolved_by", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerting_alerts")),
    )
    op.create_index(
        "ix_alerting_alerts_org_fingerprint",
        "alerting_alerts",
        ["org", "fingerprint", "state"],
        unique=False,
    )
    op.create_table(
        "alerting_silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("matchers", _json(), nullable=False),
        _when("starts_at"),
        _when("ends_at"),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("created_at"),
        sa.Column("expired_by", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerting_silences")),
    )
    op.create_index(
        "ix_alerting_silences_org_ends", "alerting_silences", ["org", "ends_at"], unique=False
    )
    op.create_table(
        "alerting_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("route_path", sa.String(200), nullable=False),
        sa.Column("receiver", sa.String(100), nullable=False),
        sa.Column("group_labels", _json(), nullable=False),
        _when("first_seen_at"),
        _when("last_sent_at", nullable=True),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("sent_alert_ids", _json(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerting_groups")),
        sa.UniqueConstraint("org", "key_digest", name="uq_alerting_groups_org_key"),
    )
    op.create_table(
        "alerting_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("receiver", sa.String(100), nullable=False),
        sa.Column("channel_index", sa.Integer(), nullable=False),
        sa.Column("channel_type", sa.String(50), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("next_attempt_at"),
        _when("lease_until", nullable=True),
        sa.Column("lease_token", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerting_outbox")),
        sa.UniqueConstraint("idempotency_key", name="uq_alerting_outbox_idempotency_key"),
    )
    op.create_index(
        "ix_alerting_outbox_state_next",
        "alerting_outbox",
        ["state", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_alerting_outbox_state_next", table_name="alerting_outbox")
    op.drop_table("alerting_outbox")
    op.drop_table("alerting_groups")
    op.drop_index("ix_alerting_silences_org_ends", table_name="alerting_silences")
    op.drop_table("alerting_silences")
    op.drop_index("ix_alerting_alerts_org_fingerprint", table_name="alerting_alerts")
    op.drop_table("alerting_alerts")
