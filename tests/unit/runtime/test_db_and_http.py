import math
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from services.runtime.db import Database, UtcDateTime, async_url, sync_url
from services.runtime.http import language
from tests.conftest import Databases


def test_drivers_are_chosen_from_plain_urls() -> None:
    assert async_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert sync_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert async_url("sqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
    assert sync_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://h/db")


async def test_sqlite_runs_on_the_event_loops_thread(tmp_path: Path) -> None:
    threads = threading.active_count()
    db = Database(f"sqlite:///{tmp_path / 'inline.db'}")
    try:
        async with db.session() as session, session.begin():
            await session.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            await session.execute(sa.text("INSERT INTO t VALUES (1, 'a'), (2, 'b')"))
        # A failed statement raises SQLAlchemy's error and rolls back what its transaction did.
        with pytest.raises(IntegrityError):
            async with db.session() as session, session.begin():
                await session.execute(sa.text("INSERT INTO t VALUES (3, 'c')"))
                await session.execute(sa.text("INSERT INTO t VALUES (1, 'again')"))
        async with db.session() as session:
            rows = (await session.execute(sa.text("SELECT id, v FROM t ORDER BY id"))).all()
            streamed = [r.id async for r in await session.stream(sa.text("SELECT id FROM t"))]
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
        assert streamed == [1, 2]
        # SQLAlchemy sets an isolation level through aiosqlite's queue to its thread.
        async with db.engine.connect() as connection:
            serial = await connection.execution_options(isolation_level="SERIALIZABLE")
            assert (await serial.execute(sa.text("SELECT count(*) FROM t"))).scalar() == 2
        assert threading.active_count() == threads  # no thread per connection
        assert await db.ping()
    finally:
        await db.dispose()


async def test_json_columns_read_back_what_was_written(databases: Databases) -> None:
    """Read with orjson, falling back to the standard library for what only it reads: integers
    beyond 64 bits, and the NaN json.dumps writes (SQLite keeps it; PostgreSQL refuses it)."""
    table = sa.Table(
        "documents",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("data", sa.JSON),
    )
    written: list[dict[str, object]] = [
        {"title": "整改台账", "due": "2026-03-31", "score": 12.5, "done": True, "tags": ["a"]},
        {"big": 2**70, "none": None},
    ]
    if databases.backend == "sqlite":
        written.append({"value": float("nan")})
    db = Database(databases.url("json"))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            rows = [{"id": i, "data": data} for i, data in enumerate(written)]
            await connection.execute(table.insert(), rows)
            query = sa.select(table.c.data).order_by(table.c.id)
            read = [row.data for row in await connection.execute(query)]
    finally:
        await db.dispose()
    assert read[:2] == written[:2]
    if databases.backend == "sqlite":
        assert math.isnan(read[2]["value"])


def test_datetimes_are_stored_as_utc_and_naive_ones_refused() -> None:
    column = UtcDateTime()
    dialect = sa.create_engine("sqlite://").dialect
    beijing = datetime(2026, 11, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    stored = column.process_bind_param(beijing, dialect)
    assert stored == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    assert column.process_result_value(stored.replace(tzinfo=None), dialect) == stored
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 11, 1), dialect)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "zh"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("en-US,en;q=0.8", "en"),
        ("fr, en;q=0.5", "en"),
        ("fr", "zh"),
    ],
)
def test_chinese_unless_english_is_preferred(header: str, expected: str) -> None:
    scope = {"type": "http", "headers": [(b"accept-language", header.encode())]}
    assert language(Request(scope)) == expected


def test_credentials_never_reach_the_logs() -> None:
    from services.runtime.settings import without_credentials

    assert without_credentials("nats://fivetype:s3cret@nats:4222") == "nats://***@nats:4222"
    assert without_credentials("nats://token@nats:4222") == "nats://***@nats:4222"
    assert without_credentials("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
