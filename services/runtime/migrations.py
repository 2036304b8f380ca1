"""What every service's Alembic env.py and first migration share."""

import sqlalchemy as sa
from alembic import context, op

from services.runtime import audit, messaging


def run_migrations(service_metadata: sa.MetaData) -> None:
    """Body of a service's env.py: online migrations against the URL the runtime passed in.
    Autogenerate compares with the service's tables and the runtime's outbox, inbox and audit."""
    target_metadata = [service_metadata, messaging.metadata, audit.metadata]
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


_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def create_audit_table_v1() -> None:
    """The audit table and its append-only triggers, as of version 1, for every service's
    migrations. Frozen like the messaging tables: change it with a new function."""
    op.create_table(
        "audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("target", sa.String(1000), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for statement in _APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)


def drop_audit_table_v1() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.drop_table("audit_log")


def add_audit_keys_v2() -> None:
    """Version 2 of the audit table: each entry's key id and HMAC (entries before it keep none).
    Frozen like version 1."""
    op.add_column("audit_log", sa.Column("key_id", sa.String(16), nullable=True))
    op.add_column("audit_log", sa.Column("mac", sa.String(64), nullable=True))


def drop_audit_keys_v2() -> None:
    # SQLite drops a column in place (3.35+), keeping the append-only triggers.
    op.drop_column("audit_log", "mac")
    op.drop_column("audit_log", "key_id")


def create_recovery_tables_v1() -> None:
    """Version 1 of the consumers' positions (runtime.messaging) and the restores a service
    journals (runtime.audit). Frozen like the tables above."""
    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("processed_seq", sa.BigInteger(), nullable=False),
        sa.Column("floor_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("behind_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "restores",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("backup", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journaled_at", sa.DateTime(timezone=True), nullable=True),
    )


def drop_recovery_tables_v1() -> None:
    op.drop_table("restores")
    op.drop_table("consumer_positions")
