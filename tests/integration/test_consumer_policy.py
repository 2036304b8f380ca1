"""The acknowledgement policy on a real nats-server: failures are retried with a delay, then
dead-lettered with a reason, and never hold back the healthy messages beside them."""

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import nats
import sqlalchemy as sa
from nats.js.api import ConsumerConfig
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import Envelope, wrap
from contracts.measures import ProgressReported
from services.runtime.messaging import processed
from services.runtime.service import ServiceRuntime
from tests.conftest import Databases, eventually_async
from tests.integration.runtime_probe import probe, running
from tests.reliability.faults import Proxy

UNIT = "360102"
T = TypeVar("T")


def event(report_id: str) -> bytes:
    data = ProgressReported(
        report_id=report_id,
        unit=UNIT,
        unit_name="东湖区",
        measure_code="M07",
        measure_title="t",
        percent_complete=1,
        reported_at=datetime(2026, 11, 1, tzinfo=UTC),
        reporter="r",
    )
    return wrap(data, subject=UNIT, source="test").to_json()


async def dead_letters(url: str, consumer: str) -> list[nats.aio.msg.Msg]:
    connection = await nats.connect(url)
    js = connection.jetstream()
    subscription = await js.pull_subscribe(
        subjects.dead_letter(consumer),
        durable=None,
        stream=streams.DEAD_LETTERS.name,
        config=ConsumerConfig(),
    )
    try:
        return await subscription.fetch(100, timeout=1)
    except TimeoutError:  # nats-py's own, or asyncio's from a slow reply on a busy machine
        return []
    finally:
        await connection.close()


async def test_failures_retry_then_dead_letter_without_blocking(
    nats: object, databases: Databases
) -> None:
    url = nats.url  # type: ignore[attr-defined]
    runtime = probe(url, databases.url("probe"))
    attempts: Counter[str] = Counter()

    async def handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
        for envelope in batch:
            attempts[envelope.data.report_id] += 1
            if envelope.data.report_id == "broken":
                raise RuntimeError("a bug in the handler")
            if envelope.data.report_id == "flaky" and attempts["flaky"] < 3:
                raise ConnectionError("database blipped")

    runtime.bus.consume(
        ProgressReported,
        subjects.event("ProgressReported"),
        streams.EVENTS,
        "probe-progress",
        handler,
    )
    async with running(runtime):
        await eventually_async(_connected(runtime))
        client = await _client(url)
        ids = {}
        for report_id in ("ok-1", "broken", "flaky", "ok-2"):
            payload = event(report_id)
            ids[report_id] = json.loads(payload)["id"]
            await client.publish(subjects.event("ProgressReported", UNIT), payload)
        dead = await eventually_async(lambda: dead_letters(url, "probe-progress"))
        processed = await eventually_async(lambda: _processed(runtime, 3))
        await client.close()

    assert sorted(processed) == sorted(ids[r] for r in ("ok-1", "ok-2", "flaky"))
    assert len(dead) == 1 and json.loads(dead[0].data)["data"]["report_id"] == "broken"
    assert dead[0].headers["Fivetype-Reason"] == "retries_exhausted"
    assert "a bug in the handler" in dead[0].headers["Fivetype-Detail"]
    # Each attempt of a failing batch is retried alone: 1 batch try + (max_deliver) alone tries.
    assert attempts["broken"] <= 1 + 3


def _connected(runtime: ServiceRuntime) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return runtime.bus.connected

    return check


async def _processed(runtime: ServiceRuntime, expected: int) -> list[str]:
    """Ids the consumer committed as processed, once there are `expected` of them."""
    async with runtime.db.session() as session:
        ids = list(await session.scalars(sa.select(processed.c.message_id)))
    return ids if len(ids) >= expected else []


async def _client(url: str) -> nats.js.JetStreamContext:
    connection = await nats.connect(url)
    js = connection.jetstream()
    js.close = connection.close  # type: ignore[attr-defined]
    return js


async def test_a_database_outage_spends_no_attempts(
    nats: object, postgres: str, tmp_path: Path
) -> None:
    """While the database is unreachable the consumer waits for it instead of retrying on its
    schedule: healthy messages are processed when it returns, none is dead-lettered."""
    url = nats.url  # type: ignore[attr-defined]
    server = make_url(postgres)
    proxy = Proxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    databases = Databases("postgres", tmp_path, postgres)
    direct = make_url(databases.url("probe"))
    runtime = probe(url, direct.set(port=proxy.port).render_as_string(hide_password=False))

    async def handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
        pass  # the inbox records each message in the same transaction

    runtime.bus.consume(
        ProgressReported, subjects.event("ProgressReported"), streams.EVENTS, "probe-db", handler
    )
    try:
        async with running(runtime):
            await eventually_async(_connected(runtime))
            client = await _client(url)
            await proxy.cut()
            for report_id in ("during-1", "during-2"):
                await client.publish(subjects.event("ProgressReported", UNIT), event(report_id))
            await asyncio.sleep(2.0)  # ten times the whole retry schedule of 3 attempts
            await proxy.restore()
            assert len(await eventually_async(lambda: _processed(runtime, 2))) == 2
            await client.close()
        assert await dead_letters(url, "probe-db") == []
    finally:
        await proxy.stop()
        databases.drop_all()
