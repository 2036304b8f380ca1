"""Reminders (提醒) before a supervisor's suggestion and a 12345 工单 are due, on a real nats-server
and a real database (SQLite and PostgreSQL): the inspections watcher, swept by two instances at
once and again, stages one DeadlineApproaching per item and offset and none once the item is
answered or closed; its outbox relay publishes them, and the notifications service (in-process)
sends the unit's contact a 提醒 that gives the 限办日期, for a 工单 with its time and the hours
left. A 提醒 that arrives after the answer is dropped."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa

from contracts import streams
from contracts.envelope import fact_id
from contracts.inspections import RequestClosed, RequestReceived
from contracts.measures import DeadlineApproaching, DeadlineItem
from services.inspections.bootstrap import MIGRATIONS
from services.inspections.domain.supervision import (
    AnswerSuggestion,
    EnterSupervisor,
    FileSuggestion,
)
from services.inspections.handlers import deadlines, public_requests, supervision
from services.inspections.handlers.context import Context
from services.runtime.db import Database, migrate
from services.runtime.messaging import OutboxRelay, outbox
from services.runtime.workdays import PROGRAMME_TZ
from tests.conftest import Databases, eventually_async, start_nats
from tests.integration.test_inspections_watcher import Clock, concurrently, write
from tests.integration.test_notifications_support import (
    OffsetClock,
    publish,
    serving,
    settings,
    unit,
)
from tests.unit.inspections.support import CHANNEL, OFFICE, REFERENCE, unit_actor

UNIT = "360102"
CONTACT = f"{UNIT}:contact"
SUGGESTION_DUE = date(2026, 3, 6)
APPROACHING = "notifications-deadline-approaching"


def china(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in China Standard Time."""
    return datetime.combine(date(2026, 3, day), time(hour, minute), PROGRAMME_TZ).astimezone(UTC)


# Received at 09:00 on 2 March, due at 18:00 on 4 March: a limit of 57 hours, half of it left at
# 13:30 on 3 March, a fifth of it (11.4 hours) at 06:36 on 4 March.
REQUEST_DUE = china(4, 18)


@dataclass
class World:
    url: str
    db: Database
    ctx: Context
    clock: Clock
    api: httpx.AsyncClient
    nats_url: str
    relay: OutboxRelay

    async def sweep(self) -> None:
        """Two watchers at once, then one more pass."""
        await concurrently(self.url, lambda instance: deadlines.sweep(instance, self.ctx), 2)
        await deadlines.sweep(self.db, self.ctx)

    async def staged(self) -> list[str]:
        async with self.db.session() as session:
            rows = await session.execute(
                sa.select(outbox.c.message_id).where(
                    outbox.c.message_type == DeadlineApproaching.NAME
                )
            )
        return sorted(rows.scalars())

    async def delivered(self, durable: str) -> None:
        """Relay the outbox to the bus and wait until notifications has taken it all in."""
        while (await self.relay.publish_pending())[0]:
            pass
        await eventually_async(lambda: self.caught_up(durable))

    async def caught_up(self, durable: str) -> bool:
        connection = await nats.connect(self.nats_url)
        try:
            info = await connection.jetstream().consumer_info(streams.EVENTS.name, durable)
        finally:
            await connection.close()
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def inbox(self) -> list[dict[str, Any]]:
        response = await self.api.get(
            f"/v1/inbox/{CONTACT}", params={"kind": "deadline_approaching", "limit": 50}
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture
async def world(databases: Databases, tmp_path: Path) -> AsyncIterator[World]:
    server = start_nats(tmp_path)
    url = databases.url("inspections")
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    clock = Clock(china(2, 9))
    ctx = Context(REFERENCE, clock, timedelta(minutes=5), 30)
    db = Database(url)
    connection = await nats.connect(server.url)
    relay = OutboxRelay(
        db,
        connection.jetstream,
        service="inspections",
        batch_size=100,
        poll_seconds=1,
        retention=timedelta(days=1),
    )
    config = settings(server.url, databases.url("notifications"))
    try:
        async with serving(config, OffsetClock(china(2, 9))) as (_service, api):
            await publish(server.url, unit(UNIT, "东湖区", "county"))
            await eventually_async(lambda: _contact_known(api))
            yield World(url, db, ctx, clock, api, server.url, relay)
    finally:
        await connection.close()
        await db.dispose()
        server.stop()


async def _contact_known(api: httpx.AsyncClient) -> bool:
    return (await api.get(f"/v1/recipients/{CONTACT}")).status_code == 200


async def seed(world: World) -> None:
    """S-1 and S-2 due on 6 March, R-1 and R-2 due at 18:00 on 4 March; S-2 answered and R-2
    closed that same afternoon, before any reminder."""
    ctx = world.ctx
    roster = EnterSupervisor(
        supervisor_id="SV-1",
        actor=OFFICE,
        name="陈静",
        category="npc_deputy",
        term_starts_on=date(2026, 1, 1),
        term_ends_on=date(2027, 12, 31),
    )
    await write(world.db, lambda s: supervision.enter_supervisor(s, roster, ctx))
    for n in (1, 2):
        filed = FileSuggestion(
            suggestion_id=f"S-{n}",
            actor=OFFICE,
            supervisor_id="SV-1",
            unit=UNIT,
            title=f"关于增设公交站点的建议{n}",
            content="内容",
            due_date=SUGGESTION_DUE,
        )
        await write(world.db, lambda s, f=filed: supervision.file_suggestion(s, f, ctx))
        received = RequestReceived(
            channel="hotline_12345",
            title=f"夜间施工噪音扰民{n}",
            received_at=china(2, 9),
            due_at=REQUEST_DUE,
        )
        await write(
            world.db,
            lambda s, n=n, step=received: public_requests.record_step(
                s, f"R-{n}", UNIT, step, CHANNEL, ctx, "http"
            ),
        )
    world.clock.now = china(2, 15)
    await finish(world, 2)


async def finish(world: World, n: int) -> None:
    """Answer S-n and close R-n now."""
    ctx = world.ctx
    answer = AnswerSuggestion(actor=unit_actor(UNIT), answer="已增设站点", evidence=[])
    await write(world.db, lambda s: supervision.answer_suggestion(s, f"S-{n}", answer, ctx))
    closed = RequestClosed(closed_at=world.clock.now)
    await write(
        world.db,
        lambda s: public_requests.record_step(s, f"R-{n}", UNIT, closed, CHANNEL, ctx, "http"),
    )


def suggestion_reminder(n: int, offset_days: int) -> str:
    return fact_id(DeadlineApproaching.NAME, "suggestion", f"S-{n}", SUGGESTION_DUE, offset_days)


def request_reminder(n: int, percent: int) -> str:
    due_at = REQUEST_DUE.isoformat()
    return fact_id(DeadlineApproaching.NAME, "public_request", f"R-{n}", due_at, f"{percent}%")


async def test_one_reminder_per_offset_until_answered_or_closed_and_the_notice_gives_the_limit(
    world: World,
) -> None:
    await seed(world)
    world.clock.now = china(3, 9)  # S-1: 3 days left; R-1: 33 of its 57 hours left
    await world.sweep()
    expected = [suggestion_reminder(1, 3)]
    assert await world.staged() == expected

    world.clock.now = china(3, 14)  # 28 hours left, under half of its time limit
    await world.sweep()
    expected = sorted([*expected, request_reminder(1, 50)])
    assert await world.staged() == expected

    await world.delivered(APPROACHING)
    notices = {n["title"]: n["body"] for n in await world.inbox()}
    assert notices == {
        "【提醒】东湖区：监督员建议答复“关于增设公交站点的建议1”限办日期2026年3月6日": (
            "东湖区：您单位承担的监督员建议答复“关于增设公交站点的建议1”限办日期为2026年3月6日，"
            "距限办日期还有3天，请抓紧办理，按时办结并报送。"
        ),
        "【提醒】东湖区：诉求工单“夜间施工噪音扰民1”限办日期2026年3月4日 18:00": (
            "东湖区：您单位承担的诉求工单“夜间施工噪音扰民1”限办日期为2026年3月4日 18:00，"
            "距限办时间还有1天4小时，请抓紧办理，按时办结并报送。"
        ),
    }

    world.clock.now = china(4, 8)  # R-1: 10 hours left, under a fifth; S-1: still 3 days' offset
    await world.sweep()
    expected = sorted([*expected, request_reminder(1, 20)])
    assert await world.staged() == expected
    await world.delivered(APPROACHING)
    bodies = [n["body"] for n in await world.inbox()]
    assert len(bodies) == 3 and any("距限办时间还有10小时，" in body for body in bodies)

    # Answered and closed: no reminder at the next offset (S-1's last day), none for S-2, R-2.
    world.clock.now = china(4, 9)
    await finish(world, 1)
    world.clock.now = china(5, 9)
    await world.sweep()
    assert await world.staged() == expected
    await world.delivered("notifications-suggestion-answered")

    # A reminder that reaches notifications after the answer (another producer, a slow relay):
    # dropped, since the answer completed that deadline.
    late = DeadlineApproaching(
        item_type=DeadlineItem.SUGGESTION,
        item_id="S-1",
        unit=UNIT,
        title="关于增设公交站点的建议1",
        due_date=SUGGESTION_DUE,
        offset_days=1,
        days_left=1,
        detected_at=china(5, 9),
    )
    await publish(world.nats_url, late, id=suggestion_reminder(1, 1))
    await eventually_async(lambda: world.caught_up(APPROACHING))
    assert len(await world.inbox()) == 3
