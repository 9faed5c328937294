"""Risk: model versions by digest, assessments with their inputs, and risk acceptances.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "risk_configs",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", _json(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_risk_configs")),
    )
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(200), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inherent", sa.Float(), nullable=False),
        sa.Column("residual", sa.Float(), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("inputs", _json(), nullable=False),
        sa.Column("explanation", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_digest"],
            ["risk_configs.digest"],
            name=op.f("fk_risk_assessments_config_digest_risk_configs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    op.create_index(
        "ix_risk_assessments_asset_assessed", "risk_assessments", ["asset_id", "id"], unique=False
    )
    op.create_table(
        "risk_acceptances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(200), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("residual", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("approver", sa.String(320), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_acceptances_assessment_id_risk_assessments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_acceptances")),
    )
    op.create_index(
        "ix_risk_acceptances_asset", "risk_acceptances", ["asset_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_risk_acceptances_asset", table_name="risk_acceptances")
    op.drop_table("risk_acceptances")
    op.drop_index("ix_risk_assessments_asset_assessed", table_name="risk_assessments")
    op.drop_table("risk_assessments")
    op.drop_table("risk_configs")
