"""The period workflow: publicised and finalised results, and appeals with their decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "result_stages",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_table(
        "appeals",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("unit", sa.String(40), primary_key=True),
        sa.Column("appeal_id", sa.String(128), nullable=False),
        sa.Column("filed_at", MOMENT, nullable=False),
        sa.Column("filed", sa.JSON(), nullable=False),
        sa.Column("decided_at", MOMENT, nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("appeals")
    op.drop_table("result_stages")
