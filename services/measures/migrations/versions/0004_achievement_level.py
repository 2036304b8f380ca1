"""The level of a recognition (国家级, 省级, 市级), which scoring's bonuses are tiered by.

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


def upgrade() -> None:
    with op.batch_alter_table("achievements") as batch:
        batch.add_column(
            sa.Column("level", sa.String(16), nullable=False, server_default="national")
        )
    # the policy's titles (示范创建) are the city's unless the office said otherwise
    op.execute(sa.text("UPDATE achievements SET level = 'city' WHERE kind = 'demonstration_title'"))


def downgrade() -> None:
    with op.batch_alter_table("achievements") as batch:
        batch.drop_column("level")
