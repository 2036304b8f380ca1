"""A store that comes back older than its durable consumer (restored from a backup, rolled back,
or lost and started empty) replays what it missed from the stream before resuming, through the
same handler and inbox: every message once, none twice, and it says so in its metrics."""

import json
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from nats import connect as connect_nats  # `nats` names the fixture
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import Envelope
from contracts.measures import ProgressReported
from services.runtime import catchup
from services.runtime.db import Database
from services.runtime.messaging import advance, positions
from services.runtime.service import ServiceRuntime
from tests.conftest import eventually_async
from tests.integration.runtime_probe import probe, running
from tests.integration.test_consumer_policy import UNIT, _connected, event


class Probe:
    """A probe service on SQLite whose one consumer counts what its handler was given."""

    def __init__(self, nats_url: str, path: Path, durable: str):
        self.nats_url, self.path, self.durable = nats_url, path, durable
        self.handled: Counter[str] = Counter()

    async def started(self, runtime: ServiceRuntime) -> None:
        await eventually_async(_connected(runtime), within=30)

    def runtime(self) -> ServiceRuntime:
        runtime = probe(self.nats_url, f"sqlite:///{self.path}", metrics_sample_seconds=0.2)

        async def handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
            self.handled.update(envelope.id for envelope in batch)

        subject = subjects.event("ProgressReported")
        runtime.bus.consume(ProgressReported, subject, streams.EVENTS, self.durable, handler)
        return runtime

    async def publish(self, names: list[str]) -> list[str]:
        connection = await connect_nats(self.nats_url)
        ids = []
        try:
            for name in names:
                payload = event(name)
                ids.append(json.loads(payload)["id"])
                await connection.jetstream().publish(
                    subjects.event("ProgressReported", UNIT), payload
                )
        finally:
            await connection.close()
        return ids

    async def acknowledged(self, count: int) -> bool:
        """Whether the durable consumer has acknowledged `count` messages and holds none."""
        connection = await connect_nats(self.nats_url)
        try:
            info = await connection.jetstream().consumer_info(streams.EVENTS.name, self.durable)
        finally:
            await connection.close()
        return info.num_ack_pending == 0 and (info.ack_floor.consumer_seq or 0) >= count

    def caught_up(self, through: int) -> bool:
        """Whether a catch-up is over, the store's position at `through` or beyond."""
        with sqlite3.connect(self.path) as connection:
            row = connection.execute(
                "SELECT processed_seq, behind_since FROM consumer_positions WHERE consumer = ?",
                (self.durable,),
            ).fetchone()
        return row is not None and row[0] >= through and row[1] is None

    def inbox(self) -> set[str]:
        with sqlite3.connect(self.path) as connection:
            try:
                rows = connection.execute(
                    "SELECT message_id FROM processed_messages WHERE consumer = ?", (self.durable,)
                )
            except sqlite3.OperationalError:  # not migrated yet
                return set()
            return {row[0] for row in rows}


def _recovered(durable: str) -> float:
    value = REGISTRY.get_sample_value(
        "fivetype_consumer_catch_up_messages_total",
        {"service": "probe", "consumer": durable, "outcome": "recovered"},
    )
    return value or 0.0


def _until(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def poll() -> bool:
        return check()

    return poll


def backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


def replace_with(path: Path, copy: Path | None) -> None:
    """Put `copy` in place of the SQLite database at `path`, or lose it (None)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if copy is not None:
        copy.replace(path)


async def test_a_store_restored_from_a_backup_replays_what_it_missed(
    nats: object, tmp_path: Path
) -> None:
    url = nats.url  # type: ignore[attr-defined]
    store = Probe(url, tmp_path / "probe.db", "probe-restored")
    async with running(store.runtime()) as runtime:
        await store.started(runtime)
        before = await store.publish([f"before-{n}" for n in range(5)])
        await eventually_async(lambda: store.acknowledged(5))
        await eventually_async(_until(lambda: len(store.inbox()) == 5))
        backup(store.path, tmp_path / "backup.db")
        after = await store.publish([f"after-{n}" for n in range(7)])
        await eventually_async(lambda: store.acknowledged(12))
    replace_with(store.path, tmp_path / "backup.db")
    assert store.inbox() == set(before)
    recovered = _recovered(store.durable)
    store.handled.clear()  # what the handler did before went back with the store

    async with running(store.runtime()):
        await eventually_async(_until(lambda: store.caught_up(12)), within=30)
        assert store.inbox() == set(before + after)
        later = await store.publish(["later"])
        await eventually_async(_until(lambda: store.inbox() == set(before + after + later)))
    assert _recovered(store.durable) - recovered == 7
    assert all(count == 1 for count in store.handled.values()), store.handled  # none twice
    assert set(store.handled) == set(after + later)
    assert store.caught_up(13)


async def test_a_store_lost_and_started_empty_replays_the_whole_stream(
    nats: object, tmp_path: Path
) -> None:
    url = nats.url  # type: ignore[attr-defined]
    store = Probe(url, tmp_path / "probe.db", "probe-lost")
    async with running(store.runtime()) as runtime:
        await store.started(runtime)
        sent = await store.publish([f"m-{n}" for n in range(4)])
        await eventually_async(lambda: store.acknowledged(4))
    replace_with(store.path, None)
    async with running(store.runtime()):
        await eventually_async(_until(lambda: store.inbox() == set(sent)), within=30)


async def test_a_gap_found_is_marked_before_it_is_replayed(nats: object, tmp_path: Path) -> None:
    """A store found behind (here: its position below the consumer's ack floor, as after a
    point-in-time recovery) is marked so, and a replay cut short starts again from its floor."""
    url = nats.url  # type: ignore[attr-defined]
    store = Probe(url, tmp_path / "probe.db", "probe-marked")
    async with running(store.runtime()) as runtime:
        await store.started(runtime)
        await store.publish([f"m-{n}" for n in range(3)])
        await eventually_async(lambda: store.acknowledged(3))
    database = Database(f"sqlite:///{store.path}")
    async with database.session() as session, session.begin():
        await session.execute(positions.update().values(processed_seq=1, floor_seq=1))
    connection = await connect_nats(url)
    try:
        js = connection.jetstream()
        gap = await catchup.find_gap(js, database, streams.EVENTS.name, store.durable)
        assert gap is not None and (gap.after, gap.through, gap.acknowledged) == (1, 3, 3)
        again = await catchup.find_gap(js, database, streams.EVENTS.name, store.durable)
        assert again is not None and again.after == 1  # still behind until caught up
        await catchup.record_floors(database, {store.durable: 3})  # never while behind
        async with database.session() as session, session.begin():
            assert await session.scalar(sa.select(positions.c.floor_seq)) == 1
            await advance(session, store.durable, 3)  # what the replay does
        await catchup.caught_up(database, store.durable)
        assert await catchup.find_gap(js, database, streams.EVENTS.name, store.durable) is None
        await catchup.record_floors(database, {store.durable: 3})
        async with database.session() as session:
            assert await session.scalar(sa.select(positions.c.floor_seq)) == 3
    finally:
        await connection.close()
        await database.dispose()
    assert runtime.bus.catching_up == []
