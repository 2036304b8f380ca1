"""Two replicas of the scoring service each run the recompute job on one PostgreSQL store, so
they race for the same dirty units. Each takes a unit with an advisory lock and skips the units
the other holds: no run collides, the cards end as one replica alone leaves them, every card's
revisions run 1, 2, ... with no gap or repeat, and each revision is announced by exactly one
ScoreUpdated. The claim holds no row lock, so a consumer marking the unit meanwhile goes on.
(SQLite serves one process: no race there.)"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts.envelope import Envelope
from services.runtime import messaging
from services.runtime.db import Database
from services.scoring.adapters import repository
from services.scoring.adapters.tables import metadata
from services.scoring.domain.rubric import parse_rubric
from services.scoring.handlers import recompute
from services.scoring.handlers.rulebook import RuleBook, store_activation
from tests.conftest import Databases
from tests.unit.scoring.events import RUBRIC_2026, history

NOW = datetime(2026, 12, 1, tzinfo=UTC)
RUBRIC = parse_rubric(RUBRIC_2026, "2026.yaml")
UNITS = ["360102", "360103", "360104", "360111", "360112", "360113"]
EVENTS: list[Envelope[Any]] = [
    *history(UNITS[0]),
    *(event for unit in UNITS[1:] for event in history(unit)[1:]),
]


async def _store(url: str) -> tuple[Database, RuleBook]:
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(messaging.metadata.create_all)
    async with db.session() as session, session.begin():
        await store_activation(session, RUBRIC, "test", NOW, "office")
    return db, RuleBook(office="office")


def _recomputer(db: Database, book: RuleBook) -> recompute.Recomputer:
    return recompute.Recomputer(db, book, lambda: NOW, lambda: None)


async def _play(db: Database, book: RuleBook, replicas: int) -> list[BaseException]:
    """Record the events in three deliveries, settling the cards after each with `replicas`
    recompute jobs running at once; returns what any run raised."""
    jobs = [_recomputer(db, book) for _ in range(replicas)]
    raised: list[BaseException] = []
    third = len(EVENTS) // 3 + 1
    for start in range(0, len(EVENTS), third):
        async with db.session() as session, session.begin():
            await recompute.record(session, EVENTS[start : start + third], NOW)
        for _ in range(50):
            results = await asyncio.gather(*(j.run_once() for j in jobs), return_exceptions=True)
            raised += [r for r in results if isinstance(r, BaseException)]
            if all(isinstance(r, tuple) and r[0] == 0 for r in results):
                break
    return raised


async def _outcome(db: Database) -> dict[str, Any]:
    async with db.session() as session:
        cards = await session.execute(sa.text("SELECT unit, period, card FROM scorecards"))
        history = await session.execute(
            sa.text("SELECT unit, period, revision, digest FROM card_history ORDER BY 1, 2, 3")
        )
        announced = await session.execute(
            sa.text("SELECT count(*) FROM outbox WHERE message_type = 'ScoreUpdated'")
        )
        return {
            "cards": {(r.unit, r.period): r.card for r in cards},
            "history": [tuple(r) for r in history],
            "announced": announced.scalar_one(),
        }


async def test_two_racing_recompute_jobs_leave_what_one_leaves(
    postgres: str, tmp_path: Path
) -> None:
    databases = Databases("postgres", tmp_path, postgres)
    try:
        racing, racing_book = await _store(databases.url("scoring"))
        alone, alone_book = await _store(databases.url("scoring"))
        raised = await _play(racing, racing_book, replicas=2)
        assert await _play(alone, alone_book, replicas=1) == []
        assert raised == []
        raced, expected = await _outcome(racing), await _outcome(alone)
        assert raced == expected
        assert len(expected["cards"]) == len(UNITS) * 17
        revisions: dict[tuple[str, str], list[int]] = {}
        for unit, period, revision, _digest in raced["history"]:
            revisions.setdefault((unit, period), []).append(revision)
        assert all(found == list(range(1, len(found) + 1)) for found in revisions.values())
        assert raced["announced"] == len(raced["history"])
        await racing.dispose()
        await alone.dispose()
    finally:
        databases.drop_all()


async def test_a_claimed_unit_is_skipped_and_still_marked_without_waiting(
    postgres: str, tmp_path: Path
) -> None:
    databases = Databases("postgres", tmp_path, postgres)
    try:
        db, _book = await _store(databases.url("scoring"))
        async with db.session() as session, session.begin():
            await repository.mark_dirty(session, ["360102"])
        async with db.session() as holder, holder.begin():
            assert await repository.claim(holder, "360102")
            async with db.session() as other, other.begin():
                assert not await repository.claim(other, "360102")
            async with asyncio.timeout(5), db.session() as consumer, consumer.begin():
                await repository.mark_dirty(consumer, ["360102"])
        async with db.session() as session, session.begin():
            assert await repository.claim(session, "360102")
            assert await repository.dirty(session, 10) == [("360102", 2)]
        await db.dispose()
    finally:
        databases.drop_all()
