"""Rule firings: what correlation and per-event rules matched, kept for explanation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_firings",
        sa.Column("firing_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("group", _json(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_ids", _json(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(256), nullable=True),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("session_id", sa.String(256), nullable=True),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("firing_id", name=op.f("pk_rule_firings")),
    )
    op.create_index("ix_rule_firings_org_fired", "rule_firings", ["org", "fired_at"], unique=False)
    op.create_index("ix_rule_firings_rule", "rule_firings", ["rule_id", "fired_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rule_firings_rule", table_name="rule_firings")
    op.drop_index("ix_rule_firings_org_fired", table_name="rule_firings")
    op.drop_table("rule_firings")
