"""The outbox relay against a real nats-server and real databases: rows go out in order with
Nats-Msg-Id = event id, are marked sent only after the PubAck, a relay that crashed between
PubAck and marking does not duplicate, and rows wait (with attempts counted) while NATS is down."""

from datetime import UTC, datetime
from pathlib import Path

import nats
import sqlalchemy as sa
from nats.js.api import DeliverPolicy

from contracts import streams, subjects
from contracts.envelope import fact_id, wrap
from contracts.measures import ProgressReported
from fivetype.natsserver import NatsServer
from services.runtime.messaging import add_to_outbox, outbox
from services.runtime.service import ServiceRuntime
from tests.conftest import Databases, eventually_async
from tests.integration.runtime_probe import probe, running

UNIT = "360102"


def event(n: int) -> ProgressReported:
    return ProgressReported(
        report_id=f"r-{n}",
        unit=UNIT,
        unit_name="东湖区",
        measure_code="M07",
        measure_title="t",
        percent_complete=n,
        reported_at=datetime(2026, 11, 1, tzinfo=UTC),
        reporter="r",
    )


async def stage(runtime: ServiceRuntime, numbers: range) -> list[str]:
    ids = []
    async with runtime.db.session() as session, session.begin():
        for n in numbers:
            envelope = wrap(
                event(n), subject=UNIT, source="test", id=fact_id("ProgressReported", UNIT, n)
            )
            await add_to_outbox(session, envelope, subjects.event(envelope.type, UNIT))
            ids.append(envelope.id)
    return ids


async def published_ids(url: str) -> list[str]:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(streams.EVENTS.name)
        if not info.state.messages:
            return []
        subscription = await js.subscribe(
            f"{subjects.EVENTS}.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        return [
            (await subscription.next_msg(timeout=2)).headers["Nats-Msg-Id"]
            for _ in range(info.state.messages)
        ]
    finally:
        await connection.close()


async def unsent(runtime: ServiceRuntime) -> list[tuple[str, int]]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            sa.select(outbox.c.message_id, outbox.c.attempts)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.seq)
        )
        return [(row.message_id, row.attempts) for row in rows]


async def test_published_in_order_once_even_after_a_lost_mark(
    nats: NatsServer, databases: Databases
) -> None:
    runtime = probe(nats.url, databases.url("probe"))
    async with running(runtime):
        await eventually_async(_connected(runtime))
        ids = await stage(runtime, range(5))
        runtime.relay.notify()
        assert await eventually_async(lambda: _published(nats.url, 5)) == ids
        assert await unsent(runtime) == []

        # A relay that crashed after the PubAck but before marking would send them again.
        async with runtime.db.session() as session, session.begin():
            await session.execute(outbox.update().values(sent_at=None))
        runtime.relay.notify()
        await eventually_async(lambda: _none_unsent(runtime))
        assert await published_ids(nats.url) == ids  # JetStream dropped the duplicates


async def test_rows_wait_while_nats_is_down(
    nats: NatsServer, databases: Databases, tmp_path: Path
) -> None:
    runtime = probe(nats.url, databases.url("probe"))
    async with running(runtime):
        await eventually_async(_connected(runtime))
        nats.stop()
        ids = await stage(runtime, range(3))
        runtime.relay.notify()
        assert [i for i, _ in await unsent(runtime)] == ids
        nats.start()
        await eventually_async(lambda: _none_unsent(runtime), within=30)
        assert await published_ids(nats.url) == ids


def _connected(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return runtime.bus.connected

    return check


async def _published(url: str, count: int) -> list[str]:
    ids = await published_ids(url)
    return ids if len(ids) >= count else []


async def _none_unsent(runtime: ServiceRuntime) -> bool:
    return await unsent(runtime) == []
