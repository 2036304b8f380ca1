"""Findings and their rectification ledger, the journal, public requests and their indicator
periods, supervisors with their terms and suggestions, and missed deadlines seen on the bus.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_findings()
    _create_journal()
    _create_public_requests()
    _create_supervision()
    op.create_table(
        "missed_deadlines",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("item_type", sa.String(24), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("measure_code", sa.String(32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("detected_at", _utc(), nullable=False),
    )


def _create_findings() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "inspection_pk",
            sa.Integer(),
            sa.ForeignKey("inspections.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("measure_code", sa.String(32), nullable=True),
        sa.Column("measure_type", sa.String(16), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("clues", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("raised_at", _utc(), nullable=False),
        sa.Column("submission_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("last_submitted_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("deadline_missed_for", sa.Date(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
    )
    op.create_index("ix_findings_state_due_date", "findings", ["state", "due_date"])
    op.create_table(
        "finding_clues",
        sa.Column("finding_pk", sa.Integer(), sa.ForeignKey("findings.id"), primary_key=True),
        sa.Column("kind", sa.String(24), primary_key=True),
        sa.Column("ref", sa.String(64), primary_key=True),
    )
    op.create_index("ix_finding_clues_kind_ref", "finding_clues", ["kind", "ref"])
    op.create_table(
        "rectification_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "finding_pk", sa.Integer(), sa.ForeignKey("findings.id"), nullable=False, index=True
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("submitted_at", _utc(), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
    )


def _create_journal() -> None:
    op.create_table(
        "journal",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("entity_type", sa.String(24), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(40), nullable=True, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_unit", sa.String(40), nullable=True),
        sa.Column("at", _utc(), nullable=False, index=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=True),
    )
    op.create_index("ix_journal_entity", "journal", ["entity_type", "entity_id"])


def _create_public_requests() -> None:
    op.create_table(
        "public_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("received_at", _utc(), nullable=False, index=True),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("first_due_at", _utc(), nullable=False),
        sa.Column("repeat_of", sa.String(64), nullable=True),
        sa.Column("first_closed_at", _utc(), nullable=True),
        sa.Column("last_step_at", _utc(), nullable=False),
        sa.Column("rated_since_closure", sa.Boolean(), nullable=False),
        sa.Column("latest_rating", sa.Integer(), nullable=True),
        sa.Column("closure_count", sa.Integer(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("missed_due_at", _utc(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("received_via", sa.String(8), nullable=False),
    )
    op.create_index("ix_public_requests_state_due_at", "public_requests", ["state", "due_at"])
    op.create_table(
        "public_request_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_pk",
            sa.Integer(),
            sa.ForeignKey("public_requests.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.UniqueConstraint("request_pk", "fingerprint", name="uq_public_request_steps_content"),
    )
    op.create_table(
        "indicator_periods",
        sa.Column("unit", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("published_changes", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("published_at", _utc(), nullable=True),
    )


def _create_supervision() -> None:
    op.create_table(
        "supervisors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("supervisor_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("affiliation", sa.String(200), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("entered_at", _utc(), nullable=False),
    )
    op.create_table(
        "supervisor_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "supervisor_pk",
            sa.Integer(),
            sa.ForeignKey("supervisors.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "supervisor_pk",
            sa.Integer(),
            sa.ForeignKey("supervisors.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("filed_at", _utc(), nullable=False),
        sa.Column("answer_count", sa.Integer(), nullable=False),
        sa.Column("last_answer", sa.Text(), nullable=True),
        sa.Column("last_answer_evidence", sa.JSON(), nullable=False),
        sa.Column("last_answered_at", _utc(), nullable=True),
        sa.Column("answered_on_time", sa.Boolean(), nullable=True),
        sa.Column("feedback_satisfied", sa.Boolean(), nullable=True),
        sa.Column("feedback_comment", sa.Text(), nullable=True),
        sa.Column("deadline_missed_for", sa.Date(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.create_index("ix_suggestions_state_due_date", "suggestions", ["state", "due_date"])


def downgrade() -> None:
    for table in (
        "missed_deadlines",
        "suggestions",
        "supervisor_terms",
        "supervisors",
        "indicator_periods",
        "public_request_steps",
        "public_requests",
        "journal",
        "rectification_submissions",
        "finding_clues",
        "findings",
    ):
        op.drop_table(table)
