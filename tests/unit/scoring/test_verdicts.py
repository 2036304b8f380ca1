"""Recording the office's verdicts (一票否决, 降等): refused for an unknown unit or a rubric without
grades, idempotent by verdict id, refused when the id is reused for another decision; the card's
grade follows at the next recompute."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from contracts.scoring import VerdictRecorded
from services.runtime import messaging
from services.runtime.db import Database
from services.scoring.adapters import repository
from services.scoring.adapters.tables import metadata
from services.scoring.domain.facts import to_facts
from services.scoring.domain.rubric import Rubric, parse_rubric
from services.scoring.handlers import recompute, verdicts
from services.scoring.handlers.periods import UnknownUnit
from services.scoring.handlers.rulebook import RuleBook, store_activation
from tests.unit.scoring.events import (
    EARNED_2026,
    RUBRIC_2026,
    assignment,
    at,
    progress,
    unit_registered,
)

NOW = datetime(2026, 12, 2, tzinfo=UTC)
UNIT = "360102"


def verdict(kind: str = "veto", reason: str = "发生重大安全生产责任事故") -> VerdictRecorded:
    return VerdictRecorded(
        verdict_id="V-1",
        unit=UNIT,
        period="2026",
        kind=kind,
        reason=reason,
        document="洪五型办〔2026〕9号",
        decided_by="office",
        decided_on=date(2026, 12, 1),
        recorded_at=NOW,
    )


async def store(directory: Path, rubric: Rubric) -> tuple[Database, RuleBook]:
    db = Database(f"sqlite:///{directory / 'scoring.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(messaging.metadata.create_all)
    async with db.session() as session, session.begin():
        await store_activation(session, rubric, "test", NOW, "office")
        due = date(2026, 3, 10)
        work = [
            unit_registered(UNIT, "东湖区", "county"),
            assignment(UNIT, "A1", "innovative", {"m1": due}),
            progress(UNIT, "r1", at(due), milestone_id="m1", due=due, completed=True),
        ]
        await recompute.record(session, work, NOW)
    return db, RuleBook(office="office")


@pytest.fixture
async def earned(tmp_path: Path) -> AsyncIterator[tuple[Database, RuleBook]]:
    db, book = await store(tmp_path, parse_rubric(EARNED_2026, "2026.yaml"))
    yield db, book
    await db.dispose()


async def year_grade(db: Database, book: RuleBook) -> str | None:
    recomputer = recompute.Recomputer(db, book, lambda: NOW, lambda: None)
    while (await recomputer.run_once())[0]:
        pass
    async with db.session() as session:
        card = (await repository.stored_card(session, UNIT, "2026")).card  # type: ignore[union-attr]
    return card["grade"]


async def test_a_veto_is_recorded_once_and_the_grade_follows(
    earned: tuple[Database, RuleBook],
) -> None:
    db, book = earned
    assert await year_grade(db, book) == "excellent"
    for _ in range(2):  # the same decision again changes nothing
        async with db.session() as session, session.begin():
            assert await verdicts.record(session, book, verdict(), NOW) == verdict()
    async with db.session() as session:
        published = await session.scalar(
            sa.select(sa.func.count())
            .select_from(messaging.outbox)
            .where(messaging.outbox.c.subject.like("%verdict_recorded%"))
        )
    assert published == 1
    assert await year_grade(db, book) == "poor"


async def test_refusals_change_nothing(earned: tuple[Database, RuleBook], tmp_path: Path) -> None:
    db, book = earned
    async with db.session() as session, session.begin():
        await verdicts.record(session, book, verdict(), NOW)
    with pytest.raises(verdicts.VerdictConflict):
        async with db.session() as session, session.begin():
            await verdicts.record(session, book, verdict("downgrade"), NOW)
    with pytest.raises(UnknownUnit):
        async with db.session() as session, session.begin():
            await verdicts.record(
                session, book, verdict().model_copy(update={"unit": "360199"}), NOW
            )
    deduction_db, deduction_book = await store(tmp_path / "old", parse_rubric(RUBRIC_2026, "x"))
    with pytest.raises(verdicts.NoGrades):
        async with deduction_db.session() as session, session.begin():
            await verdicts.record(session, deduction_book, verdict(), NOW)
    await deduction_db.dispose()
    async with db.session() as session:
        facts = await repository.unit_facts(session, UNIT)
    assert [f.data["kind"] for f in facts if f.kind == "verdict"] == ["veto"]


def test_the_fact_of_a_verdict_carries_its_document() -> None:
    from contracts.envelope import wrap

    [fact] = to_facts(wrap(verdict(), subject=UNIT, source="s", id="v", time=NOW))
    assert fact.data["document"] == "洪五型办〔2026〕9号"
