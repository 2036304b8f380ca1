"""Inspections, their target units, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from services.runtime.migrations import create_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("inspection_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("inspector", sa.String(200), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False, index=True),
        sa.Column("target_units", sa.JSON(), nullable=False),
        sa.Column("measure_codes", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "inspection_targets",
        sa.Column("inspection_pk", sa.Integer(), sa.ForeignKey("inspections.id"), primary_key=True),
        sa.Column("unit", sa.String(40), primary_key=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("inspection_targets")
    op.drop_table("inspections")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
