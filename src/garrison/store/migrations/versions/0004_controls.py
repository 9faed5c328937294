"""Controls: the append-only attestation log and the current control state per asset.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE_CHECK = "state IN ('planned', 'implemented', 'operational', 'failed')"
_APPEND_ONLY_MESSAGE = "control_attestations is append-only"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("asset_id", sa.String(200), nullable=False),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("asset_type", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "control_attestations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *_common(),
        sa.CheckConstraint(_STATE_CHECK, name=op.f("ck_control_attestations_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_attestations")),
    )
    op.create_index(
        "ix_control_attestations_asset_control",
        "control_attestations",
        ["asset_id", "control_id", "attested_at"],
        unique=False,
    )
    op.create_table(
        "control_states",
        *_common(),
        sa.Column("attestation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(_STATE_CHECK, name=op.f("ck_control_states_state")),
        sa.ForeignKeyConstraint(
            ["attestation_id"],
            ["control_attestations.id"],
            name=op.f("fk_control_states_attestation_id_control_attestations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("asset_id", "control_id", name=op.f("pk_control_states")),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    # History that can be edited is not evidence: refuse UPDATE and DELETE in the database itself.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION control_attestations_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER control_attestations_append_only "
            "BEFORE UPDATE OR DELETE ON control_attestations "
            "FOR EACH ROW EXECUTE FUNCTION control_attestations_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER control_attestations_no_{action.lower()} "
            f"BEFORE {action} ON control_attestations "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
        )


def downgrade() -> None:
    op.drop_table("control_states")
    op.drop_index("ix_control_attestations_asset_control", table_name="control_attestations")
    op.drop_table("control_attestations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS control_attestations_append_only()")
