"""Progress reports, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
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
        "progress_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("measure_code", sa.String(32), nullable=False, index=True),
        sa.Column("milestone_id", sa.String(64), nullable=True),
        sa.Column("percent_complete", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("received_via", sa.String(8), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit", "report_id", name="uq_progress_unit_report"),
    )


def downgrade() -> None:
    op.drop_table("progress_reports")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
