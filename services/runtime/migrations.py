"""What every service's Alembic env.py and first migration share."""

import sqlalchemy as sa
from alembic import context, op

from services.runtime import messaging


def run_migrations(service_metadata: sa.MetaData) -> None:
    """Body of a service's env.py: online migrations against the URL the runtime passed in.
    Autogenerate compares with the service's tables and the runtime's outbox and inbox."""
    target_metadata = [service_metadata, messaging.metadata]
    url = context.config.attributes["url"]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_messaging_tables_v1() -> None:
    """The outbox and inbox tables (runtime.messaging), as of version 1. Frozen: change them with
    a new function and a new migration, never by editing this one."""
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message_id", sa.String(128), nullable=False, unique=True),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "seq"])
    op.create_table(
        "processed_messages",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(128), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
