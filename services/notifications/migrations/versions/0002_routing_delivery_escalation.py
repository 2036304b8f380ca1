"""Recipients, routing rules, notifications, the delivery queue and log, escalation cases and the
unit replica; default recipients (the office, the city leaders) and default routing rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ALL_CHANNELS = ["inbox", "email", "webhook"]
INBOX = ["inbox"]

# Defaults an administrator edits over the API; see docs/notifications.md.
DEFAULT_RULES = [
    (
        "default-progress-reported",
        "进展报送告知五型办",
        "progress_reported",
        None,
        ["office"],
        INBOX,
    ),
    (
        "default-progress-accepted",
        "进展审核通过告知单位",
        "progress_accepted",
        None,
        ["unit_contact"],
        INBOX,
    ),
    (
        "default-progress-returned",
        "进展退回告知单位",
        "progress_returned",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-deadline-approaching",
        "到期提醒",
        "deadline_approaching",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-deadline-missed",
        "逾期催办",
        "deadline_missed",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-supervision-order",
        "督办",
        "supervision_order",
        None,
        ["unit_head", "office"],
        ALL_CHANNELS,
    ),
    ("default-public-notice", "通报", "public_notice", None, ["leaders", "office"], ALL_CHANNELS),
    (
        "default-finding-raised",
        "督查问题告知单位",
        "finding_raised",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-finding-raised-serious",
        "较重及以上问题告知单位负责人和五型办",
        "finding_raised",
        "serious",
        ["unit_head", "office"],
        ALL_CHANNELS,
    ),
    (
        "default-rectification-submitted",
        "整改提交告知五型办",
        "rectification_submitted",
        None,
        ["office"],
        INBOX,
    ),
    (
        "default-rectification-returned",
        "整改退回告知单位",
        "rectification_returned",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-rectification-closed",
        "整改销号告知单位",
        "rectification_closed",
        None,
        ["unit_contact"],
        INBOX,
    ),
    (
        "default-rectification-reopened",
        "整改重新打开告知单位",
        "rectification_reopened",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-suggestion-filed",
        "监督员建议交办",
        "suggestion_filed",
        None,
        ["unit_contact"],
        ALL_CHANNELS,
    ),
    (
        "default-suggestion-answered",
        "监督员建议答复告知五型办",
        "suggestion_answered",
        None,
        ["office"],
        INBOX,
    ),
]
DEFAULT_RECIPIENTS = [("office", "office", "市“五型”办"), ("leaders", "leader", "市领导")]


def _created(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _moment(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def _create_reference_tables() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("peer_group", sa.String(40), nullable=True, index=True),
        sa.Column("peer_group_name_zh", sa.String(200), nullable=True),
        sa.Column("peer_group_name_en", sa.String(200), nullable=True),
        sa.Column("is_office", sa.Boolean(), nullable=False),
        _created("updated_at"),
    )
    op.create_table(
        "recipients",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False, index=True),
        sa.Column("unit", sa.String(40), nullable=True, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(2048), nullable=True),
        sa.Column("webhook_secret", sa.String(256), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _created("created_at"),
        _created("updated_at"),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False, index=True),
        sa.Column("unit", sa.String(40), nullable=True),
        sa.Column("peer_group", sa.String(40), nullable=True),
        sa.Column("min_severity", sa.String(16), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _created("created_at"),
        _created("updated_at"),
    )


def _create_delivery_tables() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("topic", sa.String(40), nullable=False, index=True),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("source_event_id", sa.String(128), nullable=False),
        sa.Column("case_key", sa.String(36), nullable=True, index=True),
        sa.Column("title_zh", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        _created("created_at"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(36), nullable=False, unique=True),
        sa.Column("notification_id", sa.String(36), nullable=False, index=True),
        sa.Column("recipient", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _moment("next_attempt_at"),
        _moment("lease_until"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("digest_id", sa.String(36), nullable=True),
        _created("created_at"),
        _created("updated_at"),
        _moment("delivered_at"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_id", sa.Integer(), nullable=False, index=True),
        sa.Column("number", sa.Integer(), nullable=False),
        _created("started_at"),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    with op.batch_alter_table("inbox_messages") as batch:
        batch.add_column(sa.Column("notification_id", sa.String(36), nullable=True))
        batch.create_index("ix_inbox_messages_notification_id", ["notification_id"])


def _create_escalation_tables() -> None:
    op.create_table(
        "escalation_cases",
        sa.Column("key", sa.String(36), primary_key=True),
        sa.Column("item_type", sa.String(24), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("milestone_id", sa.String(64), nullable=True),
        sa.Column("ref_type", sa.String(24), nullable=False),
        sa.Column("ref", sa.String(160), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("measure_code", sa.String(32), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("source_event_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("level_on", sa.Date(), nullable=False),
        sa.Column("notice_on", sa.Date(), nullable=False),
        sa.Column("supervision_on", sa.Date(), nullable=True),
        sa.Column("public_notice_on", sa.Date(), nullable=True),
        _created("opened_at"),
        _moment("acknowledged_at"),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        _moment("closed_at"),
        sa.Column("closed_by", sa.String(128), nullable=True),
    )
    op.create_index("ix_escalation_cases_ref", "escalation_cases", ["ref_type", "ref", "unit"])
    op.create_table(
        "item_closures",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("ref_type", sa.String(24), nullable=False),
        sa.Column("ref", sa.String(160), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settles_due_date", sa.Date(), nullable=True),
    )
    op.create_index("ix_item_closures_ref", "item_closures", ["ref_type", "ref", "unit"])


def _seed() -> None:
    now = datetime.now(UTC)
    recipients = sa.table(
        "recipients",
        *(
            sa.column(name)
            for name in ("code", "role", "unit", "name", "language", "digest", "active")
        ),
        sa.column("emails", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        recipients,
        [
            {
                "code": code,
                "role": role,
                "unit": None,
                "name": name,
                "language": "zh",
                "emails": [],
                "digest": False,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for code, role, name in DEFAULT_RECIPIENTS
        ],
    )
    rules = sa.table(
        "routing_rules",
        *(sa.column(name) for name in ("id", "description", "topic", "min_severity", "enabled")),
        sa.column("targets", sa.JSON()),
        sa.column("channels", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        rules,
        [
            {
                "id": rule_id,
                "description": description,
                "topic": topic,
                "min_severity": severity,
                "targets": targets,
                "channels": channels,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
            for rule_id, description, topic, severity, targets, channels in DEFAULT_RULES
        ],
    )


def upgrade() -> None:
    _create_reference_tables()
    _create_delivery_tables()
    _create_escalation_tables()
    _seed()


def downgrade() -> None:
    for name in ("item_closures", "escalation_cases", "delivery_attempts", "deliveries"):
        op.drop_table(name)
    with op.batch_alter_table("inbox_messages") as batch:
        batch.drop_index("ix_inbox_messages_notification_id")
        batch.drop_column("notification_id")
    for name in ("notifications", "routing_rules", "recipients", "units"):
        op.drop_table(name)
