"""Default routing of the period workflow's events (scoring): the 公示 and the answer to an
appeal go to the unit's contact, an appeal to the office.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DEFAULT_RULES = [
    ("default-results-publicised", "考核结果公示告知单位", "results_publicised", ["unit_contact"]),
    ("default-appeal-filed", "单位申诉告知五型办", "appeal_filed", ["office"]),
    ("default-appeal-decided", "申诉复核结论告知单位", "appeal_decided", ["unit_contact"]),
]
RULES = sa.table(
    "routing_rules",
    *(sa.column(name) for name in ("id", "description", "topic", "min_severity", "enabled")),
    sa.column("targets", sa.JSON()),
    sa.column("channels", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    now = datetime.now(UTC)
    op.bulk_insert(
        RULES,
        [
            {
                "id": rule_id,
                "description": description,
                "topic": topic,
                "min_severity": None,
                "targets": targets,
                "channels": ["inbox", "email", "webhook"],
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
            for rule_id, description, topic, targets in DEFAULT_RULES
        ],
    )


def downgrade() -> None:
    op.execute(RULES.delete().where(RULES.c.id.in_([rule[0] for rule in DEFAULT_RULES])))
