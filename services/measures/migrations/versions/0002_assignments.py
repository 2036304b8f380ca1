"""Units, catalogue versions, calendars, assignments, milestones, reviews, change requests,
achievements, the journal and the job locks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def _reference_tables() -> None:
    op.create_table(
        "peer_groups",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("peer_group", sa.String(40), nullable=True),
        sa.Column("is_office", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("imported_at", _TIME, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("year", "version", name="uq_catalogue_year_version"),
    )
    op.create_table(
        "calendars",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    revision_table = op.create_table(
        "reference_revision",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])


def _assignment_tables() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.String(64), nullable=False, unique=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("measure_code", sa.String(32), nullable=False),
        sa.Column("measure_root", sa.String(8), nullable=False, index=True),
        sa.Column("measure_type", sa.String(20), nullable=True, index=True),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("lead_unit", sa.String(40), nullable=False, index=True),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("target_code", sa.String(32), nullable=True),
        sa.Column("target_value", sa.Float(), nullable=True),
        sa.Column("recurrence", sa.String(40), nullable=True),
        sa.Column("rule", sa.String(200), nullable=True),
        sa.Column("roll", sa.String(16), nullable=True),
        sa.Column("reported_percent", sa.Float(), nullable=False),
        sa.Column("last_reported_at", _TIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "assignment_units",
        sa.Column("assignment_pk", sa.Integer(), sa.ForeignKey("assignments.id"), primary_key=True),
        sa.Column("unit", sa.String(40), primary_key=True, index=True),
        sa.Column("role", sa.String(8), nullable=False),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_pk",
            sa.Integer(),
            sa.ForeignKey("assignments.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("milestone_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False, index=True),
        sa.Column("original_due_date", sa.Date(), nullable=False),
        sa.Column("expected_percent", sa.Float(), nullable=False),
        sa.Column("percent_complete", sa.Float(), nullable=False),
        sa.Column("last_reported_at", _TIME, nullable=True),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.Column("missed_at", _TIME, nullable=True),
        sa.Column("reminded_offset", sa.Integer(), nullable=True),
        sa.Column("alert_on", sa.Date(), nullable=True, index=True),
        sa.UniqueConstraint("assignment_pk", "milestone_id", name="uq_milestone_assignment_key"),
    )


def _review_columns() -> None:
    with op.batch_alter_table("progress_reports") as batch:
        batch.add_column(sa.Column("assignment_pk", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("milestone_pk", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assignment_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("target_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("target_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("review_status", sa.String(16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("reviewed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("reviewed_at", _TIME, nullable=True))
        batch.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch.create_index("ix_progress_reports_assignment_pk", ["assignment_pk"])
        batch.create_index("ix_progress_reports_milestone_pk", ["milestone_pk"])


def _request_tables() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "assignment_pk",
            sa.Integer(),
            sa.ForeignKey("assignments.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("milestone_pk", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("milestone_id", sa.String(64), nullable=True),
        sa.Column("current_due_date", sa.Date(), nullable=True),
        sa.Column("proposed_due_date", sa.Date(), nullable=True),
        sa.Column("proposed_title", sa.String(200), nullable=True),
        sa.Column("proposed_target_value", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", _TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.create_table(
        "achievements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("achievement_id", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("measure_code", sa.String(32), nullable=False),
        sa.Column("recognised_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )


def _journal_and_locks() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(140), nullable=False),
        sa.Column("unit", sa.String(40), nullable=True, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_journal_entity", "journal", ["entity_type", "entity_id"])
    locks = op.create_table(
        "job_locks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
    )
    op.bulk_insert(locks, [{"name": "deadlines"}, {"name": "reference-seed"}])


def upgrade() -> None:
    _reference_tables()
    _assignment_tables()
    _review_columns()
    _request_tables()
    _journal_and_locks()


def downgrade() -> None:
    op.drop_table("job_locks")
    op.drop_table("journal")
    op.drop_table("achievements")
    op.drop_table("change_requests")
    with op.batch_alter_table("progress_reports") as batch:
        batch.drop_index("ix_progress_reports_milestone_pk")
        batch.drop_index("ix_progress_reports_assignment_pk")
        for column in (
            "review_reason",
            "reviewed_at",
            "reviewed_by",
            "review_status",
            "on_time",
            "target_value",
            "target_code",
            "assignment_id",
            "milestone_pk",
            "assignment_pk",
        ):
            batch.drop_column(column)
    op.drop_table("milestones")
    op.drop_table("assignment_units")
    op.drop_table("assignments")
    op.drop_table("reference_revision")
    op.drop_table("calendars")
    op.drop_table("catalogue_versions")
    op.drop_table("units")
    op.drop_table("peer_groups")
