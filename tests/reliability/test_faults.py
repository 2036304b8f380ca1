"""Fault injection: a steady load of progress reports (HTTP and NATS), inspections, findings and
public requests (HTTP and NATS) runs through the platform while one fault strikes; afterwards
every acknowledged input must have produced exactly one fact in each store and exactly one
effect in scores and notifications, and the live scorecards must equal an offline rebuild.

Sizes grow with FIVETYPE_RELIABILITY_SCALE (`make reliability`); at 1 the whole folder stays
within a few minutes on two cores."""

import asyncio
import random
import re
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from contracts import streams
from fivetype.natsserver import NatsServer
from fivetype.stack import SERVICES, Stack
from tests.conftest import Databases, eventually_async, scaled, start_nats, start_platform
from tests.reliability import faults
from tests.reliability.checker import (
    DuplicateCounter,
    Row,
    caught_up,
    compare_scores,
    memory_mb,
    scored_ids,
    settle,
    stored_messages,
)
from tests.reliability.conftest import SCALE, Report
from tests.reliability.load import Load, prepare

LOAD_SECONDS = 8 * SCALE
RATE = 6.0  # inputs per second
SETTLE_SECONDS = 90.0
BACKLOG = 2000  # events that pile up while scoring is down
Fault = Callable[[asyncio.Event], Coroutine[Any, Any, str]]  # returns what it did


async def drive(name: str, stack: Stack, fault: Fault, directory: Path, report: Report) -> Row:
    """Load the platform for LOAD_SECONDS while `fault` strikes, then check every input."""
    measures, inspections = stack.service("measures").url, stack.service("inspections").url
    await prepare(measures)
    dead_before = await stored_messages(stack.nats_url, streams.DEAD_LETTERS)
    rejected_before = await stored_messages(stack.nats_url, streams.REJECTIONS)
    load = Load(measures, inspections, stack.nats_url, RATE, label=re.sub(r"\W+", "-", name))
    duplicates = DuplicateCounter(stack)
    stop, sampled = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    sampler = asyncio.create_task(duplicates.run(sampled))
    striking = asyncio.create_task(fault(stop))
    loaded = asyncio.Event()  # the load goes on until the fault has run its course
    loading = asyncio.create_task(load.run(loaded))
    await asyncio.sleep(LOAD_SECONDS)
    stop.set()
    detail = await striking
    loaded.set()
    await loading
    row = Row(name, detail)
    await settle(stack, row, load.sent, scaled(SETTLE_SECONDS))
    await compare_scores(stack, row, directory, scaled(SETTLE_SECONDS))
    sampled.set()
    await sampler
    row.duplicates_suppressed = duplicates.total + sum(i.repeats for i in load.sent)
    row.dead_lettered = await stored_messages(stack.nats_url, streams.DEAD_LETTERS) - dead_before
    row.rejected = await stored_messages(stack.nats_url, streams.REJECTIONS) - rejected_before
    row.seconds = round(time.monotonic() - started, 1)
    report.add(row)
    return row


def assert_exact(row: Row) -> None:
    assert row.acknowledged > 0, row
    assert (row.lost, row.double_counted, row.cards_differing) == (0, 0, 0), row.problems[:20]


def sqlite(directory: Path) -> Databases:
    return Databases("sqlite", directory, None)


async def platform(directory: Path, nats_url: str, databases: Databases, **env: str) -> Stack:
    """The four services, started in a thread: the event loop keeps serving (the database
    proxy lives on it) while they migrate and connect."""
    extra = {
        f"FIVETYPE_{name.upper()}_{key}": value for name in SERVICES for key, value in env.items()
    }
    return await asyncio.to_thread(start_platform, directory, nats_url, databases, extra)


@dataclass
class Platform:
    nats: NatsServer
    stack: Stack
    directory: Path


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    """One platform on SQLite that the crash, shutdown, NATS and poison faults strike in turn
    (each judges its own inputs; scores are compared whole): it saves a start per fault."""
    directory = tmp_path_factory.mktemp("shared")
    server = start_nats(directory)
    stack = await platform(directory, server.url, sqlite(directory))
    yield Platform(server, stack, directory)
    await asyncio.to_thread(stack.stop, 5)
    server.stop()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_services_stopped_at_random_moments(
    how: signal.Signals, shared: Platform, report: Report
) -> None:
    """SIGKILL: a crash at any point. SIGTERM: a graceful shutdown under load, which must finish
    or give back what is in flight, drain the outbox and exit within the grace period."""
    rng = random.Random(9)
    row = await drive(
        f"{how.name} each service",
        shared.stack,
        lambda stop: faults.stop_services(shared.stack, rng, stop, how),
        shared.directory / how.name,
        report,
    )
    assert_exact(row)


async def test_nats_server_stopped_and_started(shared: Platform, report: Report) -> None:
    rng = random.Random(10)
    row = await drive(
        "nats-server restart",
        shared.stack,
        lambda stop: faults.restart_nats(shared.nats, rng, stop),
        shared.directory / "nats",
        report,
    )
    assert_exact(row)


async def test_poison_never_stalls_a_consumer(shared: Platform, report: Report) -> None:
    poison = faults.poison_messages(round(5 * SCALE), max_bytes=256 * 1024)
    row = await drive(
        "poison flood",
        shared.stack,
        lambda _stop: faults.flood(shared.stack.nats_url, poison),
        shared.directory / "poison",
        report,
    )
    assert_exact(row)
    # Unreadable poison is dead-lettered; a readable command is answered with a rejection.
    assert row.dead_lettered >= len(poison) // 2, row


async def test_a_consumer_behind_catches_up_in_bounded_memory(
    shared: Platform, report: Report
) -> None:
    """Scoring is down while a backlog builds up; started again it works through the backlog in
    batches under max_ack_pending, so its memory does not grow with the backlog."""
    stack, scoring = shared.stack, shared.stack.service("scoring")
    scoring.terminate()
    await asyncio.to_thread(scoring.wait, 10)
    backlog = await faults.publish_backlog(stack.nats_url, round(BACKLOG * SCALE))
    await faults.restart(scoring)
    assert scoring.process is not None
    ready_mb = memory_mb(scoring.process.pid, "VmRSS")
    began = time.monotonic()
    await eventually_async(
        lambda: caught_up(stack.nats_url, streams.EVENTS.name, "scoring-progress"), within=300
    )
    seconds = time.monotonic() - began
    growth_mb = memory_mb(scoring.process.pid, "VmHWM") - ready_mb
    assert backlog <= await scored_ids(stack)
    report.note(
        "backlog",
        {
            "events": len(backlog),
            "catch_up_seconds": round(seconds, 1),
            "rss_at_ready_mb": round(ready_mb, 1),
            "peak_growth_mb": round(growth_mb, 1),
        },
    )
    assert growth_mb < 150, f"scoring grew {growth_mb:.0f} MB working through {len(backlog)}"


async def test_stream_leader_killed_in_a_three_node_cluster(tmp_path: Path, report: Report) -> None:
    cluster = faults.NatsCluster(tmp_path / "cluster")
    await asyncio.to_thread(cluster.start)
    rng = random.Random(11)
    try:
        stack = await platform(tmp_path, cluster.url, sqlite(tmp_path), STREAM_REPLICAS="3")
        try:
            row = await drive(
                "cluster: stream leader killed",
                stack,
                lambda stop: faults.kill_stream_leader(cluster, streams.EVENTS.name, rng, stop),
                tmp_path,
                report,
            )
        finally:
            await asyncio.to_thread(stack.stop, 5)
    finally:
        await asyncio.to_thread(cluster.stop)
    assert_exact(row)


@pytest.mark.postgres
async def test_database_connections_cut_and_restored(
    postgres: str, tmp_path: Path, report: Report
) -> None:
    server = make_url(postgres)
    proxy = faults.Proxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    databases = faults.ProxiedDatabases(tmp_path, postgres, proxy)
    rng = random.Random(12)
    nats = start_nats(tmp_path)
    try:
        stack = await platform(tmp_path, nats.url, databases)
        try:
            row = await drive(
                "PostgreSQL connections cut",
                stack,
                lambda stop: faults.cut_database(proxy, rng, stop),
                tmp_path,
                report,
            )
        finally:
            await asyncio.to_thread(stack.stop, 5)
    finally:
        await proxy.stop()
        await asyncio.to_thread(databases.drop_all)
        nats.stop()
    assert_exact(row)
