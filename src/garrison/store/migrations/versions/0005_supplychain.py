"""Supply chain: findings (unsafe pickle imports, format mismatches, unpinned models) per asset.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplychain_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(36), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("module", sa.String(300), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplychain_findings")),
        sa.UniqueConstraint(
            "asset_id", "fingerprint", name=op.f("uq_supplychain_findings_asset_id")
        ),
    )
    op.create_index(
        "ix_supplychain_findings_asset_id", "supplychain_findings", ["asset_id"], unique=False
    )
    op.create_index(
        "ix_supplychain_findings_org_severity",
        "supplychain_findings",
        ["org", "severity"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_supplychain_findings_org_severity", table_name="supplychain_findings")
    op.drop_index("ix_supplychain_findings_asset_id", table_name="supplychain_findings")
    op.drop_table("supplychain_findings")
