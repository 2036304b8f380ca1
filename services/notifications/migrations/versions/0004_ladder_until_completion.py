"""The ladder stops on completion only, and 通报 is a bulletin: signed cases climb again, cases at
the old per-item public notice level stay at 督办, a reminder to sign is recorded per case,
routing rules may choose deadline items by kind (verification deadlines are the office's own),
bulletins go to every unit and the leaders, and the office reads routine notices in its digest.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ALL_CHANNELS = ["inbox", "email", "webhook"]
UNIT_ITEMS = [
    "milestone",
    "obligation",
    "rectification",
    "rectification_plan",
    "public_request",
    "suggestion",
]
OFFICE_ITEMS = ["verification"]
# (id, description, topic, item types, targets)
NEW_RULES = [
    ("default-sign-reminder", "催办未签收提醒", "sign_reminder", UNIT_ITEMS, ["unit_contact"]),
    (
        "default-deadline-approaching-office",
        "验收到期提醒五型办",
        "deadline_approaching",
        OFFICE_ITEMS,
        ["office"],
    ),
    (
        "default-deadline-missed-office",
        "验收逾期催办五型办",
        "deadline_missed",
        OFFICE_ITEMS,
        ["office"],
    ),
    (
        "default-supervision-order-office",
        "验收逾期督办五型办",
        "supervision_order",
        OFFICE_ITEMS,
        ["office"],
    ),
]
UNIT_SIDE_RULES = (
    "default-deadline-approaching",
    "default-deadline-missed",
    "default-supervision-order",
)

rules = sa.table(
    "routing_rules",
    *(sa.column(name) for name in ("id", "description", "topic", "min_severity", "enabled")),
    sa.column("item_types", sa.JSON()),
    sa.column("targets", sa.JSON()),
    sa.column("channels", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("routing_rules") as batch:
        batch.add_column(sa.Column("item_types", sa.JSON(), nullable=True))
    with op.batch_alter_table("escalation_cases") as batch:
        batch.add_column(sa.Column("sign_reminded_on", sa.Date(), nullable=True))
        batch.drop_column("public_notice_on")
    op.execute("UPDATE escalation_cases SET status = 'open' WHERE status = 'acknowledged'")
    op.execute("UPDATE escalation_cases SET level = 2 WHERE level > 2")
    op.execute(rules.update().where(rules.c.id.in_(UNIT_SIDE_RULES)).values(item_types=UNIT_ITEMS))
    op.execute(
        rules.update()
        .where(rules.c.id == "default-public-notice")
        .values(targets=["all_units", "leaders", "office"])
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "id": rule_id,
                "description": description,
                "topic": topic,
                "min_severity": None,
                "item_types": items,
                "targets": targets,
                "channels": ALL_CHANNELS,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
            for rule_id, description, topic, items, targets in NEW_RULES
        ],
    )
    op.execute("UPDATE recipients SET digest = true WHERE code = 'office'")


def downgrade() -> None:
    op.execute("UPDATE recipients SET digest = false WHERE code = 'office'")
    op.execute(rules.delete().where(rules.c.id.in_([rule[0] for rule in NEW_RULES])))
    op.execute(
        rules.update()
        .where(rules.c.id == "default-public-notice")
        .values(targets=["leaders", "office"])
    )
    with op.batch_alter_table("escalation_cases") as batch:
        batch.drop_column("sign_reminded_on")
        batch.add_column(sa.Column("public_notice_on", sa.Date(), nullable=True))
    with op.batch_alter_table("routing_rules") as batch:
        batch.drop_column("item_types")
