"""The rectification loop as offices run it: a finding's source and deadline category, its
整改方案 and the office's verification (验收) with their deadlines; 挂牌督办, 约谈 and 问责.

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

_UTC = sa.DateTime(timezone=True)


def _finding_columns() -> tuple[sa.Column[object], ...]:
    return (
        # Findings raised before sources and categories: 督查, 立行立改 (no plan stage).
        sa.Column("source", sa.String(24), nullable=False, server_default="supervision"),
        sa.Column(
            "rectification_category", sa.String(16), nullable=False, server_default="immediate"
        ),
        sa.Column("plan_due_date", sa.Date(), nullable=True),
        sa.Column("plan_missed_for", sa.Date(), nullable=True),
        sa.Column("plan_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("plan_filed_at", _UTC, nullable=True),
        sa.Column("plan_measures", sa.JSON(), nullable=True),
        sa.Column("plan_milestones", sa.JSON(), nullable=True),
        sa.Column("responsible_leader", sa.String(200), nullable=True),
        sa.Column("responsible_person", sa.String(200), nullable=True),
        sa.Column("verification_due_date", sa.Date(), nullable=True),
        sa.Column("verification_missed_for", sa.Date(), nullable=True),
        sa.Column("verification_opinion", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("site_review", sa.JSON(), nullable=True),
        sa.Column("reminded_for", sa.String(64), nullable=True),
    )


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        for column in _finding_columns():
            batch.add_column(column)
    with op.batch_alter_table("findings") as batch:
        for name in ("source", "rectification_category", "plan_count"):
            batch.alter_column(name, server_default=None)
    op.create_table(
        "supervision_listings",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("listing_id", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("item_type", sa.String(24), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document", sa.String(100), nullable=True),
        sa.Column("listed_by", sa.String(200), nullable=False),
        sa.Column("listed_at", _UTC, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("delisted_at", _UTC, nullable=True),
        sa.Column("delisted_by", sa.String(200), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Index("ix_supervision_listings_item", "item_type", "item_id"),
    )
    op.create_table(
        "interviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("interview_id", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("interviewer", sa.String(200), nullable=False),
        sa.Column("interviewees", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.create_table(
        "accountability_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("decision_id", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("persons", sa.JSON(), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document", sa.String(100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("item_type", sa.String(24), nullable=True),
        sa.Column("item_id", sa.String(64), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("accountability_decisions")
    op.drop_table("interviews")
    op.drop_table("supervision_listings")
    with op.batch_alter_table("findings") as batch:
        for column in reversed(_finding_columns()):
            batch.drop_column(column.name)
