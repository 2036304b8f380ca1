"""Cards of the earned model may have no total (暂无考核数据: nothing assessable in the period).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("scorecards", "card_history")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("total", existing_type=sa.Numeric(8, 2), nullable=True)


def downgrade() -> None:
    for table in _TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE total IS NULL"))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("total", existing_type=sa.Numeric(8, 2), nullable=False)
