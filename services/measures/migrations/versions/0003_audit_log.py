"""The hash-chained, append-only audit trail (services.runtime.audit).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from services.runtime.migrations import create_audit_table_v1, drop_audit_table_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_table_v1()


def downgrade() -> None:
    drop_audit_table_v1()
