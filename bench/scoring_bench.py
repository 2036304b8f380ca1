"""Scoring throughput, measured against a plain nats-py consume-and-ack loop in the same run.

    .venv/bin/python bench/scoring_bench.py [--live-events 200000] [--rebuild-events 1000000]
        [--unit-scale 250]   # 10,000 units instead of 40, for the memory target

1. baseline: a plain nats-py loop pulls the live workload in batches of 100 (the service's batch
   size) from a durable consumer and acks every message; nothing else.
2. live: the scoring service as its own process (`python -m services.scoring`, SQLite) consumes
   the same stream with its real consumers, inbox, fact store, recompute job and outbox; timed
   from the moment it is ready until every event is processed and every card is recomputed.
   For scale, the same stream through the service runtime's consumer with a handler that does
   nothing: the ceiling of any service built on the runtime.
3. as of: on the live run's store, the card the as-of route serves (`card_view`: a unit's year
   card as of mid-year, from the stored facts), under the rubric in force and under the
   archived 2026.1 as an appeal asks; the median of five.
4. rebuild: `python -m services.scoring.handlers.rebuild` replays a stream of --rebuild-events
   events into a fresh SQLite store and scores every unit; timed end to end, with its peak RSS.

Targets (issue 24): live >= 0.8 x the runtime's no-op consumer; as-of card of a unit-year
< 0.2 s; rebuild of 1,000,000 events <= 2 x the stream read alone; < 200 MB RSS.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import sqlalchemy as sa
from fastapi import FastAPI
from nats.js.api import ConsumerConfig
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring_workload as workload
from common import async_http_client, peak_rss_mb

from contracts import streams, subjects
from contracts.envelope import Envelope
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.runtime.bus import provision_streams
from services.runtime.db import Database, sync_url
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings
from services.scoring.adapters import repository, stream
from services.scoring.domain.facts import NORMALISERS
from services.scoring.domain.periods import Period
from services.scoring.domain.rubric import parse_rubric
from services.scoring.entrypoints import views
from services.scoring.entrypoints.bus import DURABLES
from services.scoring.handlers.rebuild import REPLAYED
from services.scoring.handlers.rulebook import DEFAULT_RUBRIC_DIR, RuleBook
from services.scoring.settings import MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


class _CeilingSettings(ServiceSettings):
    service_name = "bench-ceiling"


async def runtime_ceiling(url: str, count: int, directory: Path) -> float:
    """Events/s of the runtime's consumer (decode, inbox, spans, acks) with a no-op handler."""
    settings = _CeilingSettings(
        nats_url=url, database_url=f"sqlite:///{directory / 'ceiling.db'}", log_level="WARNING"
    )
    runtime = ServiceRuntime(settings, MIGRATIONS)

    async def nothing(_session: AsyncSession, _batch: list[Envelope[Any]]) -> None:
        return None

    names = [f"ceiling-{n}" for n in range(len(NORMALISERS))]
    for model, name in zip(NORMALISERS, names, strict=True):
        runtime.bus.consume(model, subjects.event(model.NAME), streams.EVENTS, name, nothing)
    async with runtime.lifespan(FastAPI()):
        while not runtime.bus.connected:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        js = runtime.bus.jetstream()
        assert js is not None
        through = await stream.last_sequence(js)
        while not await stream.caught_up(js, names, through):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        return count / (time.perf_counter() - started)


async def publish(url: str, count: int, units: list[workload.Unit] = workload.UNITS) -> float:
    connection = await nats.connect(url)
    js = connection.jetstream()
    await provision_streams(js, 1)
    started = time.perf_counter()
    pending = []
    for subject, payload, event_id in workload.events(count, of=units):
        pending.append(await js.publish_async(subject, payload, headers={"Nats-Msg-Id": event_id}))
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await connection.close()
    return count / (time.perf_counter() - started)


async def plain_loop(url: str, count: int) -> float:
    """Events/s of the simplest correct consumer: pull a batch, ack each message."""
    connection = await nats.connect(url)
    js = connection.jetstream()
    subscription = await js.pull_subscribe(
        "fivetype.events.>",
        durable="bench-plain",
        stream=streams.EVENTS.name,
        config=ConsumerConfig(ack_wait=60),
    )
    started, seen = time.perf_counter(), 0
    while seen < count:
        for message in await subscription.fetch(100, timeout=5):
            await message.ack()
            seen += 1
    rate = count / (time.perf_counter() - started)
    await connection.close()
    return rate


def _dirty(database_url: str) -> int:
    engine = sa.create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM dirty_units")).scalar_one())
    finally:
        engine.dispose()


async def settled(url: str, database_url: str) -> bool:
    """Whether scoring has processed every event in the stream and recomputed every card."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        through = await stream.last_sequence(js)
        return await stream.caught_up(js, DURABLES, through) and _dirty(database_url) == 0
    finally:
        await connection.close()


async def _wait_ready(port: int) -> None:
    async with async_http_client(f"http://127.0.0.1:{port}") as client:
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)


async def live(url: str, count: int, directory: Path) -> tuple[float, float]:
    """(events/s, peak RSS in MB) of the scoring service consuming `count` events; its store
    stays in `directory` as live.db."""
    database = directory / "live.db"
    port = free_port()
    prefix = "FIVETYPE_SCORING_"
    env = {
        **os.environ,
        f"{prefix}NATS_URL": url,
        f"{prefix}DATABASE_URL": f"sqlite:///{database}",
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}LOG_LEVEL": "WARNING",
        f"{prefix}LOG_FORMAT": "console",
    }
    log_path = directory / "live.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.scoring", cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        await asyncio.wait_for(_wait_ready(port), 60)
        started = time.perf_counter()
        # Completion is a state of JetStream and the database: poll both.
        while not await settled(url, f"sqlite:///{database}"):  # noqa: ASYNC110
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - started
        return count / elapsed, peak_rss_mb(process.pid)
    except BaseException:
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def as_of_card(database: Path, repeat: int = 5) -> tuple[int, float, float]:
    """(the unit's facts, seconds for its year card as of mid-year under the rubric in force,
    and under the archived 2026.1): what `GET /v1/units/{unit}/cards/2026?as_of=…` computes."""
    db = Database(f"sqlite:///{database}")
    archived = parse_rubric(
        (DEFAULT_RUBRIC_DIR / "archive" / "2026.1.yaml").read_text(encoding="utf-8"), "2026.1"
    )
    moment = datetime(workload.YEAR, 7, 1, tzinfo=UTC)
    unit = workload.UNITS[0][0]
    try:
        async with db.session() as session, session.begin():  # as if it had been in force
            await repository.add_rubric(
                session,
                archived.document(),
                year=archived.programme_year,
                version=archived.version,
                number=archived.number,
                sha256=archived.sha256,
                source="bench",
                activated_at=datetime(workload.YEAR, 1, 1, tzinfo=UTC),
            )
        book = RuleBook(office="office")
        async with db.session() as session:
            facts = len(await repository.unit_facts(session, unit))
        seconds = []
        for version in (None, archived.version):
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                async with db.session() as session:
                    await views.card_view(
                        session,
                        book,
                        unit,
                        Period.parse(str(workload.YEAR)),
                        today=moment.date(),
                        as_of=moment,
                        rubric_version=version,
                    )
                timings.append(time.perf_counter() - started)
            seconds.append(statistics.median(timings))
        return facts, seconds[0], seconds[1]
    finally:
        await db.dispose()


async def read_only(url: str) -> float:
    """Seconds the rebuild's stream reader takes alone (nothing decoded or stored): the part of
    a rebuild that no work on scoring can shorten."""
    connection = await nats.connect(url)
    started = time.perf_counter()
    async for _batch in stream.replay(connection, REPLAYED):
        pass
    elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed


def rebuild(url: str, directory: Path) -> tuple[str, float, float]:
    """(the rebuild's own report, wall seconds, peak RSS in MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.scoring.handlers.rebuild",
            "--database-url",
            f"sqlite:///{directory / 'rebuilt.db'}",
            "--nats-url",
            url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stdout is not None and process.stderr is not None
    output = process.stdout.read().decode()
    if status != 0:
        raise RuntimeError(f"rebuild failed: {process.stderr.read().decode()[-2000:]}")
    return output.strip(), elapsed, usage.ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--live-events", type=int, default=200_000)
    parser.add_argument("--rebuild-events", type=int, default=1_000_000)
    parser.add_argument(
        "--unit-scale", type=int, default=1, help="units of each peer group × this (250: 10,000)"
    )
    args = parser.parse_args()
    units = workload.units(args.unit_scale)
    workload.check()
    with tempfile.TemporaryDirectory(prefix="scoring-bench-") as scratch:
        directory = Path(scratch)
        live_server = NatsServer(directory / "nats-live", free_port())
        live_server.start()
        try:
            rate = await publish(live_server.url, args.live_events, units)
            print(f"published {args.live_events} events over {len(units):,} units at {rate:,.0f}/s")
            baseline = await plain_loop(live_server.url, args.live_events)
            print(f"baseline  plain nats-py pull+ack loop: {baseline:>9,.0f} events/s")
            scored, rss = await live(live_server.url, args.live_events, directory)
            print(
                f"live      scoring service:               {scored:>9,.0f} events/s "
                f"= {scored / baseline:.2f} x baseline, peak RSS {rss:.0f} MB (target < 200)"
            )
            ceiling = await runtime_ceiling(live_server.url, args.live_events, directory)
            print(
                f"ceiling   runtime consumer, no-op handler: {ceiling:>7,.0f} events/s "
                f"= {ceiling / baseline:.2f} x baseline (target >= 0.6); "
                f"live = {scored / ceiling:.2f} x ceiling "
                "(target >= 0.8)"
            )
            facts, in_force, archived = await as_of_card(directory / "live.db")
            print(
                f"as of     a unit-year card ({facts:,} facts): {in_force:.3f} s under the rubric "
                f"in force, {archived:.3f} s under 2026.1 (target < 0.2 s)"
            )
        finally:
            live_server.stop()
        rebuild_server = NatsServer(directory / "nats-rebuild", free_port())
        rebuild_server.start()
        try:
            rate = await publish(rebuild_server.url, args.rebuild_events, units)
            print(f"published {args.rebuild_events} events at {rate:,.0f}/s")
            reading = await read_only(rebuild_server.url)
            print(f"read      the stream alone, no processing: {reading:.1f} s")
            report, elapsed, rss = rebuild(rebuild_server.url, directory)
            print(
                f"rebuild   {args.rebuild_events} events: {elapsed:.1f} s wall "
                f"= {args.rebuild_events / elapsed:,.0f} events/s "
                f"= {elapsed / reading:.2f} x the stream read alone "
                f"(target <= 2), peak RSS {rss:.0f} MB (target < 200)"
            )
            print(f"          {report}")
        finally:
            rebuild_server.stop()


if __name__ == "__main__":
    asyncio.run(main())
