"""The overdue watcher and the indicator publisher on a real database (SQLite and PostgreSQL):
several instances sweeping one database at once, and again after a restart, stage exactly one
DeadlineMissed per item and deadline, and exactly one indicators event per unit, month and
revision. Time is a controllable clock."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.inspections import RequestClosed, RequestReceived
from services.inspections.adapters.tables import JournalEntry
from services.inspections.bootstrap import MIGRATIONS
from services.inspections.domain.actors import Actor, Role
from services.inspections.domain.findings import (
    CloseRectification,
    RaiseFinding,
    ReopenRectification,
    SubmitRectification,
)
from services.inspections.domain.inspections import FileInspection
from services.inspections.domain.refusals import Refusal
from services.inspections.domain.supervision import EnterSupervisor, FileSuggestion
from services.inspections.handlers import (
    deadlines,
    findings,
    indicators,
    inspections,
    public_requests,
    supervision,
)
from services.inspections.handlers.context import Context
from services.runtime.db import Database, migrate
from services.runtime.messaging import outbox
from tests.conftest import Databases
from tests.unit.inspections.support import CHANNEL, INSPECTOR, OFFICE, REFERENCE

UNITS = ["360102", "360103", "dept-fgw"]
FINDINGS, REQUESTS, SUGGESTIONS = 24, 12, 6


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


World = tuple[str, Database, Context, Clock]


@pytest.fixture
async def world(databases: Databases) -> AsyncIterator[World]:
    """A migrated database, a connection to write to it, and a context with a settable clock."""
    url = databases.url("inspections")
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    clock = Clock(datetime(2026, 3, 2, 1, tzinfo=UTC))
    db = Database(url)
    yield url, db, Context(REFERENCE, clock, timedelta(minutes=5), 30), clock
    await db.dispose()


async def write(db: Database, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    async with db.session() as session, session.begin():
        outcome = await work(session)
    assert not isinstance(outcome, Refusal), outcome
    return outcome


async def seed(db: Database, ctx: Context) -> None:
    filing = FileInspection(
        inspection_id="I-1",
        actor=INSPECTOR,
        kind="comprehensive",
        method="scheduled",
        title="一季度综合督查",
        inspector="督查组",
        inspected_on=date(2026, 3, 1),
        target_units=UNITS,
    )
    await write(db, lambda s: inspections.file_inspection(s, filing, ctx))
    for n in range(FINDINGS):
        raised = RaiseFinding(
            finding_id=f"F-{n}",
            actor=INSPECTOR,
            unit=UNITS[n % 3],
            severity="general",
            category={"type": "service"},
            title=f"问题{n}",
            due_date=date(2026, 3, 5 + n % 10),
        )
        await write(db, lambda s, r=raised: findings.raise_finding(s, "I-1", r, ctx))
    for n in range(REQUESTS):
        step = RequestReceived(
            channel="hotline_12345",
            title=f"诉求{n}",
            received_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
            due_at=datetime(2026, 3, 4 + n % 5, 12, tzinfo=UTC),
        )
        await write(
            db,
            lambda s, n=n, step=step: public_requests.record_step(
                s, f"R-{n}", UNITS[n % 3], step, CHANNEL, ctx, "http"
            ),
        )
    roster = EnterSupervisor(
        supervisor_id="SV-1",
        actor=OFFICE,
        name="陈静",
        category="npc_deputy",
        term_starts_on=date(2026, 1, 1),
        term_ends_on=date(2027, 12, 31),
    )
    await write(db, lambda s: supervision.enter_supervisor(s, roster, ctx))
    for n in range(SUGGESTIONS):
        filed = FileSuggestion(
            suggestion_id=f"S-{n}",
            actor=OFFICE,
            supervisor_id="SV-1",
            unit=UNITS[n % 3],
            title=f"建议{n}",
            content="内容",
            due_date=date(2026, 3, 10),
        )
        await write(db, lambda s, f=filed: supervision.file_suggestion(s, f, ctx))


async def staged(db: Database, message_type: str) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(
            sa.select(outbox.c.message_id).where(outbox.c.message_type == message_type)
        )
        return sorted(rows.scalars())


async def concurrently(url: str, job: Callable[[Database], Awaitable[int]], instances: int) -> int:
    """Run `job` on several instances at once until a pass finds nothing left; returns how many
    events were staged in total. A pass that lost a write race on SQLite ("database is locked")
    fails as a periodic job would, and the next pass picks up what it left."""
    dbs = [Database(url) for _ in range(instances)]
    total = 0
    try:
        for _ in range(20):
            results = await asyncio.gather(*(job(db) for db in dbs), return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert all("locked" in str(f) for f in failures), failures
            total += sum(r for r in results if isinstance(r, int))
            if not failures and not any(results):
                return total
        raise AssertionError("the instances never became quiescent")
    finally:
        for db in dbs:
            await db.dispose()


async def test_deadline_missed_exactly_once_across_instances_and_restarts(
    world: World,
) -> None:
    url, db, ctx, clock = world
    await seed(db, ctx)
    assert (
        await concurrently(url, lambda instance: deadlines.sweep(instance, ctx), 3) == 0
    )  # nothing due yet

    clock.now = datetime(2026, 3, 20, 1, tzinfo=UTC)
    emitted = await concurrently(url, lambda instance: deadlines.sweep(instance, ctx), 3)
    expected = sorted(
        [
            fact_id("DeadlineMissed", "rectification", f"F-{n}", date(2026, 3, 5 + n % 10))
            for n in range(FINDINGS)
        ]
        + [
            fact_id("DeadlineMissed", "public_request", f"R-{n}", date(2026, 3, 4 + n % 5))
            for n in range(REQUESTS)
        ]
        + [
            fact_id("DeadlineMissed", "suggestion", f"S-{n}", date(2026, 3, 10))
            for n in range(SUGGESTIONS)
        ]
    )
    assert emitted == len(expected)
    assert await staged(db, "DeadlineMissed") == expected

    # A restart is a fresh instance on the same database: it finds nothing left to report.
    clock.now += timedelta(days=3)
    assert await concurrently(url, lambda instance: deadlines.sweep(instance, ctx), 2) == 0
    assert len(await staged(db, "DeadlineMissed")) == len(expected)

    async with db.session() as session:
        journaled = await session.scalar(
            sa.select(sa.func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.action == "deadline_missed")
        )
    assert journaled == len(expected)


async def test_a_new_deadline_can_be_missed_once_more(world: World) -> None:
    url, db, ctx, clock = world
    await seed(db, ctx)
    clock.now = datetime(2026, 3, 20, 1, tzinfo=UTC)
    await concurrently(url, lambda instance: deadlines.sweep(instance, ctx), 2)
    unit = Actor(role=Role.UNIT, id="u", name="联络员", unit="360102")
    evidence = [{"uri": "s3://e", "sha256": "c" * 64}]
    submit = SubmitRectification(actor=unit, summary="已整改", evidence=evidence)
    await write(db, lambda s: findings.change_rectification(s, "F-0", submit, ctx))
    close = CloseRectification(actor=INSPECTOR, opinion="整改到位", approved_by="市五型办主任")
    closed = await write(db, lambda s: findings.change_rectification(s, "F-0", close, ctx))
    assert closed.closed_on_time is False  # submitted on 20 March, due on 5 March
    reopen = ReopenRectification(actor=INSPECTOR, reason="反弹", due_date=date(2026, 3, 25))
    await write(db, lambda s: findings.change_rectification(s, "F-0", reopen, ctx))

    clock.now = datetime(2026, 3, 26, 1, tzinfo=UTC)
    assert await concurrently(url, lambda instance: deadlines.sweep(instance, ctx), 3) == 1
    again = fact_id("DeadlineMissed", "rectification", "F-0", date(2026, 3, 25))
    assert again in await staged(db, "DeadlineMissed")


async def test_indicators_are_published_once_per_revision(
    world: World,
) -> None:
    url, db, ctx, clock = world
    await seed(db, ctx)
    grace = timedelta(hours=24)
    clock.now = datetime(2026, 3, 31, 1, tzinfo=UTC)  # March has not ended
    assert (
        await concurrently(url, lambda instance: indicators.publish(instance, ctx, grace), 3) == 0
    )

    clock.now = datetime(2026, 4, 2, 1, tzinfo=UTC)  # March ended more than a day ago
    units = REFERENCE.ranked_units()
    assert await concurrently(
        url, lambda instance: indicators.publish(instance, ctx, grace), 3
    ) == len(units)
    first = await staged(db, "PublicServiceIndicators")
    assert first == sorted(fact_id("PublicServiceIndicators", u, "2026-03", 1) for u in units)

    # A late closure dated in March changes one unit's figures: revision 2 for that unit only.
    late = RequestClosed(closed_at=datetime(2026, 3, 31, 10, tzinfo=UTC))
    await write(
        db, lambda s: public_requests.record_step(s, "R-0", "360102", late, CHANNEL, ctx, "nats")
    )
    assert (
        await concurrently(url, lambda instance: indicators.publish(instance, ctx, grace), 3) == 1
    )
    second = await staged(db, "PublicServiceIndicators")
    assert sorted(set(second) - set(first)) == [
        fact_id("PublicServiceIndicators", "360102", "2026-03", 2)
    ]
    assert (
        await concurrently(url, lambda instance: indicators.publish(instance, ctx, grace), 2) == 0
    )
