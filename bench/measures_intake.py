"""Intake throughput of the measures service against a plain nats-py consume-and-ack loop.

Both read the same number of identical ReportProgress envelopes published at once to JetStream on
the same nats-server, in the same run:

- baseline: a durable pull consumer that fetches batches and acks each message, nothing else;
- service: `python -m services.measures` as deployed, checking every report against the unit's
  assignments, storing it, staging ProgressReported in the outbox and publishing it.

Reported: messages/s of the baseline; reports/s accepted (acked by the intake consumer), stored
(rows committed) and published (ProgressReported PubAcked by JetStream), each measured from the
first report seen to the last.

    .venv/bin/python bench/measures_intake.py --reports 20000 --database sqlite
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import nats
import psycopg
import sqlalchemy as sa
from common import http_client, peak_rss_mb
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig

from contracts import streams, subjects
from contracts.envelope import wrap
from contracts.measures import ProgressReported, ReportProgress
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.runtime.db import sync_url

REPO = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2026-11-26T10:00:00+08:00")
UNITS = [
    *(f"3601{n:02d}" for n in (2, 3, 4, 11, 12, 13, 21, 23, 24)),
    "wanli",
    "nc-hitech",
    "nc-etdz",
    "nc-xiaolan",
    "nc-airport",
    *(f"dept-{d}" for d in ("fgw", "kjj", "gxj", "swj", "czj", "xzspj", "sjj", "mzj", "rsj")),
]
MILESTONES = ("m1", "m2", "m3", "m4")
POSTGRES = os.environ.get(
    "FIVETYPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Rates:
    accepted: float
    stored: float
    published: float
    peak_rss_mb: float  # the largest of the replicas


def payloads(count: int) -> list[tuple[str, bytes]]:
    found = []
    for n in range(count):
        unit = UNITS[n % len(UNITS)]
        report = ReportProgress(
            report_id=f"b-{n}",
            unit=unit,
            measure_code="M07",
            milestone_id=MILESTONES[n % len(MILESTONES)],
            percent_complete=n % 101,
            summary="政务服务事项网上可办率提升",
            reported_at=NOW - timedelta(minutes=n % 5000),
            reporter="oa",
        )
        envelope = wrap(report, subject=unit, source=f"unit/{unit}")
        found.append((subjects.intake(ReportProgress.NAME, unit), envelope.to_json()))
    return found


async def publish(url: str, messages: list[tuple[str, bytes]], prefix: str = "") -> None:
    connection = await nats.connect(url)
    js = connection.jetstream()
    for start in range(0, len(messages), 1000):
        futures = [
            await js.publish_async(prefix + subject, body)
            for subject, body in messages[start : start + 1000]
        ]
        await asyncio.gather(*futures)
    await connection.close()


@dataclass
class Baseline:
    """Plain nats-py over the same messages, in messages/s."""

    publish: float  # JetStream async publish
    fetch_ack: float  # pull fetch and ack each message: the ratios' denominator
    fetch_publish_ack: float  # the same, publishing one message per fetched one before acking


async def baseline(url: str, messages: list[tuple[str, bytes]], batch: int) -> Baseline:
    connection = await nats.connect(url)
    js = connection.jetstream()
    await js.add_stream(StreamConfig(name="BENCH_BASELINE", subjects=["bench.>"]))
    await js.add_stream(StreamConfig(name="BENCH_RELAYED", subjects=["relayed.>"]))
    started = time.perf_counter()
    await publish(url, messages, prefix="bench.")
    published = len(messages) / (time.perf_counter() - started)
    fetch_ack = await _pull(js, "baseline", len(messages), batch, relay=False)
    fetch_publish_ack = await _pull(js, "relay", len(messages), batch, relay=True)
    await connection.close()
    return Baseline(published, fetch_ack, fetch_publish_ack)


async def _pull(js: JetStreamContext, durable: str, count: int, batch: int, relay: bool) -> float:
    """Fetch-and-ack; with `relay`, each batch is first published onwards (async PubAcks): the
    bus work of an intake that announces every report, with nothing stored or checked."""
    subscription = await js.pull_subscribe(
        "bench.>", durable=durable, config=ConsumerConfig(ack_wait=30)
    )
    seen, started = 0, time.perf_counter()
    while seen < count:
        fetched = await subscription.fetch(batch, timeout=5)
        if relay:
            acks = [await js.publish_async("relayed." + m.subject, m.data) for m in fetched]
            await asyncio.gather(*acks)
        for message in fetched:
            await message.ack()
            seen += 1
    return seen / (time.perf_counter() - started)


def database(
    kind: str, directory: Path, service: str = "measures"
) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{directory / f'{service}.db'}", lambda: None
    name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return POSTGRES.rsplit("/", 1)[0] + "/" + name, drop


def start_service(
    directory: Path, nats_url: str, db_url: str, batch: int, service: str = "measures"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    prefix = f"FIVETYPE_{service.upper()}_"
    env = {
        **os.environ,
        f"{prefix}NATS_URL": nats_url,
        f"{prefix}DATABASE_URL": db_url,
        f"{prefix}DATA_DIR": str(directory),
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}CONSUMER_BATCH_SIZE": str(batch),
        f"{prefix}LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    if service == "measures":
        env[f"{prefix}FIXED_NOW"] = NOW.isoformat()
    log = (directory / f"{service}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{service}"], cwd=REPO, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with http_client(base) as client:
                if client.get("/readyz", timeout=1).status_code == 200:
                    return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {service} service did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def assign(base: str) -> None:
    with http_client(base) as client:
        for unit in UNITS:
            _assign(client, unit)


def _assign(client: httpx.Client, unit: str) -> None:
    response = client.post(
        "/v1/assignments",
        json={
            "assignment_id": f"bench-{unit}",
            "year": 2026,
            "measure_code": "M07",
            "lead_unit": unit,
            "start_on": "2026-01-01",
            "milestones": [
                {"milestone_id": m, "title": m, "due_date": f"2026-{3 * (i + 1):02d}-28"}
                for i, m in enumerate(MILESTONES)
            ],
            "created_by": "bench",
        },
    )
    response.raise_for_status()


async def count_accepted(js: JetStreamContext) -> int:
    info = await js.consumer_info(streams.INTAKE.name, "measures-intake")
    return info.ack_floor.stream_seq if info.ack_floor else 0


async def count_published(js: JetStreamContext) -> int:
    info = await js.stream_info(
        streams.EVENTS.name, subjects_filter=subjects.event(ProgressReported.NAME)
    )
    return sum((info.state.subjects or {}).values())


def rate(samples: list[tuple[float, int]], total: int) -> float:
    """Reports/s from the first sample above zero to the first sample at the total."""
    first = next((t, n) for t, n in samples if n > 0)
    last = next((t, n) for t, n in samples if n >= total)
    return (last[1] - first[1]) / (last[0] - first[0]) if last[0] > first[0] else float("inf")


async def watch(nats_url: str, db_url: str, total: int) -> dict[str, list[tuple[float, int]]]:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    engine = sa.create_engine(sync_url(db_url))
    probes: dict[str, Callable[[], Awaitable[int]]] = {
        "accepted": lambda: count_accepted(js),
        "stored": lambda: asyncio.to_thread(_stored, engine),
        "published": lambda: count_published(js),
    }
    samples: dict[str, list[tuple[float, int]]] = {k: [] for k in probes}
    deadline = time.monotonic() + 600
    while min(s[-1][1] if s else 0 for s in samples.values()) < total:
        if time.monotonic() > deadline:
            raise RuntimeError(f"stuck: { ({k: s[-1] for k, s in samples.items() if s}) }")
        for name, probe in probes.items():
            samples[name].append((time.perf_counter(), await probe()))
        await asyncio.sleep(0.02)
    engine.dispose()
    await connection.close()
    return samples


def _stored(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.text("SELECT count(*) FROM progress_reports")).scalar_one()
        )


def run_service(
    kind: str, directory: Path, messages: list[tuple[str, bytes]], batch: int, replicas: int = 1
) -> Rates:
    """The service on its own nats-server, `replicas` processes sharing the database and the
    one durable intake consumer; the reports are published at once when all are ready (several
    times faster than intake, so they wait in the stream as the baseline's messages did)."""
    server = NatsServer(directory / "nats", free_port())
    server.start()
    db_url, drop = database(kind, directory)
    try:
        process, base = start_service(directory, server.url, db_url, batch)
        try:
            assign(base)
        finally:
            stop(process)
        processes = [
            start_service(directory, server.url, db_url, batch)[0] for _ in range(replicas)
        ]
        try:
            asyncio.run(publish(server.url, messages))
            samples = asyncio.run(watch(server.url, db_url, len(messages)))
            rss = max(peak_rss_mb(p.pid) for p in processes)
        finally:
            for process in processes:
                stop(process)
        return Rates(
            *(rate(samples[k], len(messages)) for k in ("accepted", "stored", "published")), rss
        )
    finally:
        drop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100, help="pull batch size of both loops")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    messages = payloads(args.reports)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        server = NatsServer(directory / "baseline", free_port())
        server.start()
        try:
            plain = asyncio.run(baseline(server.url, messages, args.batch))
        finally:
            server.stop()
        print(f"reports: {args.reports}, pull batch {args.batch}")
        print(f"baseline  plain nats-py fetch+ack loop: {plain.fetch_ack:9.0f} msgs/s")
        print(
            f"          with a publish per message:   {plain.fetch_publish_ack:9.0f} msgs/s "
            f"= {plain.fetch_publish_ack / plain.fetch_ack:.2f} x baseline"
        )
        for kind in kinds:
            (directory / kind).mkdir()
            rates = run_service(kind, directory / kind, messages, args.batch)
            print(
                f"measures  {kind:8}  accepted {rates.accepted:7.0f}/s  "
                f"stored {rates.stored:7.0f}/s  published {rates.published:7.0f}/s  "
                f"(accepted = {rates.accepted / plain.fetch_ack:.2f} x baseline)"
            )


if __name__ == "__main__":
    main()
