"""Shutdown stops taking messages, lets the batch in flight finish and ack, publishes what that
batch staged in the outbox, and returns within the grace period."""

import asyncio
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import Envelope, fact_id, wrap
from contracts.measures import ProgressReported
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.runtime.messaging import add_to_outbox, outbox, processed
from tests.conftest import Databases, eventually_async
from tests.integration.runtime_probe import probe

UNIT = "360102"


def event(report_id: str) -> bytes:
    return wrap(
        ProgressReported(
            report_id=report_id,
            unit=UNIT,
            unit_name="东湖区",
            measure_code="M07",
            measure_title="t",
            percent_complete=1,
            reported_at=datetime(2026, 11, 1, tzinfo=UTC),
            reporter="r",
        ),
        subject=UNIT,
        source="test",
    ).to_json()


async def test_in_flight_batch_finishes_and_outbox_drains(
    nats: NatsServer, databases: Databases
) -> None:
    database_url = databases.url("probe")
    runtime = probe(nats.url, database_url, shutdown_grace_seconds=6)
    started = asyncio.Event()

    async def slow_handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
        started.set()
        await asyncio.sleep(1.0)  # the work in flight when SIGTERM arrives
        for envelope in batch:
            echo = wrap(
                envelope.data, subject=UNIT, source="probe", id=fact_id("echo", envelope.id)
            )
            await add_to_outbox(session, echo, f"fivetype.events.echo.{UNIT}")

    runtime.bus.consume(
        ProgressReported,
        subjects.event("ProgressReported"),
        streams.EVENTS,
        "probe-progress",
        slow_handler,
    )
    lifespan = runtime.lifespan(FastAPI())
    await lifespan.__aenter__()
    await eventually_async(lambda: _true(runtime.bus.connected))
    js = runtime.bus.jetstream()
    assert js is not None
    await js.publish(subjects.event("ProgressReported", UNIT), event("in-flight"))
    await asyncio.wait_for(started.wait(), 10)

    begun = time.monotonic()
    await lifespan.__aexit__(None, None, None)  # what uvicorn does on SIGTERM
    took = time.monotonic() - begun

    check = probe(nats.url, database_url)
    async with check.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(processed)) == 1
        assert (
            await session.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
            == 0
        )
    await check.db.dispose()
    assert took < 6, f"shutdown took {took:.1f}s, beyond the grace period"

    import nats as nats_client

    connection = await nats_client.connect(nats.url)
    info = await connection.jetstream().consumer_info(streams.EVENTS.name, "probe-progress")
    echoed = await connection.jetstream().stream_info(
        streams.EVENTS.name, subjects_filter=f"fivetype.events.echo.{UNIT}"
    )
    await connection.close()
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    assert echoed.state.subjects == {f"fivetype.events.echo.{UNIT}": 1}


async def _true(value: bool) -> bool:
    return value


async def test_a_service_stopped_before_nats_was_reached_shuts_down_cleanly(
    databases: Databases,
) -> None:
    """Its consumers were registered but never started: shutdown still runs to the end."""
    runtime = probe(f"nats://127.0.0.1:{free_port()}", databases.url("probe"))

    async def handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
        pass

    runtime.bus.consume(
        ProgressReported, subjects.event("ProgressReported"), streams.EVENTS, "probe", handler
    )
    lifespan = runtime.lifespan(FastAPI())
    await lifespan.__aenter__()
    await asyncio.sleep(0.5)  # migrated, still trying to reach NATS
    await lifespan.__aexit__(None, None, None)  # raised ValueError from the consumers' zip
