"""Recovery: each consumer's position on its stream and the restores to journal
(services.runtime.messaging, services.runtime.audit), so a store restored from a backup catches
up from the stream and its audit journal says it was restored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from services.runtime.migrations import create_recovery_tables_v1, drop_recovery_tables_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_recovery_tables_v1()


def downgrade() -> None:
    drop_recovery_tables_v1()
