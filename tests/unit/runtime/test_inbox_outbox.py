"""The inbox claim and the staged outbox write, each one INSERT … ON CONFLICT on SQLite."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from contracts.envelope import wrap
from contracts.measures import IntakeRejected
from contracts.reasons import Reason
from services.runtime.db import Database
from services.runtime.messaging import add_to_outbox, claim, metadata, outbox


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'runtime.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def test_claim_returns_only_ids_not_seen_by_that_consumer(db: Database) -> None:
    async with db.session() as session, session.begin():
        assert await claim(session, "a", ["1", "2"]) == {"1", "2"}
    async with db.session() as session, session.begin():
        assert await claim(session, "a", ["2", "3", "3"]) == {"3"}
        assert await claim(session, "b", ["2"]) == {"2"}
        assert await claim(session, "a", []) == set()


async def test_a_staged_event_already_in_the_outbox_is_not_written_twice(db: Database) -> None:
    rejection = IntakeRejected(
        command_id="c-1",
        command_type="ReportProgress",
        unit="360102",
        reference="r-1",
        reason=Reason.UNKNOWN_UNIT,
        message_zh="未知单位",
        message_en="unknown unit",
    )
    envelope = wrap(rejection, subject="360102", source="test", id="event-1")
    for _ in range(2):
        async with db.session() as session, session.begin():
            await add_to_outbox(session, envelope, "fivetype.test.360102")
    async with db.session() as session:
        ids = (await session.scalars(sa.select(outbox.c.message_id))).all()
    assert ids == ["event-1"]
