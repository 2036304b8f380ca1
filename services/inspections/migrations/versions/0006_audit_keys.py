"""Audit entries authenticated: a key id and an HMAC per entry (services.runtime.audit).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from services.runtime.migrations import add_audit_keys_v2, drop_audit_keys_v2

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_audit_keys_v2()


def downgrade() -> None:
    drop_audit_keys_v2()
