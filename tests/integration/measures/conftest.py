"""The measures service as a child process on a real nats-server and a real database (SQLite and
PostgreSQL), with a fixed clock, and helpers to read what it published."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from contracts import streams, subjects
from contracts.envelope import Message, decode, wrap
from contracts.measures import IntakeRejected, ReportProgress
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from tests import auth
from tests.conftest import Databases, eventually, start_nats

REPO = Path(__file__).resolve().parents[3]
# Thursday 26 November 2026, 10:00 in Nanchang.
NOW = "2026-11-26T10:00:00+08:00"
FAST = {
    "CONSUMER_BATCH_TIMEOUT_SECONDS": "0.05",
    "RETRY_BASE_DELAY_SECONDS": "0.1",
    "CONSUMER_MAX_DELIVER": "3",
    "OUTBOX_POLL_SECONDS": "0.1",
    "SHUTDOWN_GRACE_SECONDS": "4",
    "DEADLINE_SWEEP_SECONDS": "0.2",
    "LOG_FORMAT": "console",
}


class MeasuresService:
    """One replica; several may share a database and a nats-server."""

    def __init__(self, directory: Path, nats_url: str, database_url: str, **settings: str):
        self.port, self.metrics_port = free_port(), free_port()
        self.log = directory / f"measures-{self.port}.log"
        self.env = {
            **os.environ,
            **{f"FIVETYPE_MEASURES_{k}": v for k, v in (FAST | settings).items()},
            "FIVETYPE_MEASURES_NATS_URL": nats_url,
            "FIVETYPE_MEASURES_DATABASE_URL": database_url,
            "FIVETYPE_MEASURES_DATA_DIR": str(directory),
            "FIVETYPE_MEASURES_HTTP_PORT": str(self.port),
            "FIVETYPE_MEASURES_METRICS_PORT": str(self.metrics_port),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=15, headers=auth.headers() | headers)

    def start(self, **settings: str) -> "MeasuresService":
        return start_all(self, **settings)[0]

    def launch(self, **settings: str) -> None:
        self.env.update({f"FIVETYPE_MEASURES_{k}": v for k, v in settings.items()})
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.measures"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"measures exited:\n{self.tail()}")  # no use waiting
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        stop_all(self)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_all(*replicas: MeasuresService, **settings: str) -> tuple[MeasuresService, ...]:
    """Start replicas side by side and wait until every one is ready."""
    for replica in replicas:
        replica.launch(**settings)
    try:
        eventually(lambda: all([r.ready() for r in replicas]), timeout=40)
    except (AssertionError, RuntimeError) as exc:
        stop_all(*replicas)
        tails = "\n".join(f"--- {r.log.name} ---\n{r.tail()}" for r in replicas)
        raise AssertionError(f"measures did not become ready: {exc}\n{tails}") from exc
    return replicas


def stop_all(*replicas: MeasuresService) -> None:
    for replica in replicas:
        replica.terminate()
    for replica in replicas:
        replica.wait()


@pytest.fixture(scope="module")
def broker(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NatsServer]:
    """A nats-server per database backend, so each backend's run sees only its own events."""
    server = start_nats(tmp_path_factory.mktemp("nats"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(
    broker: NatsServer, module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MeasuresService]:
    running = MeasuresService(
        tmp_path_factory.mktemp("measures"),
        broker.url,
        module_databases.url("measures"),
        FIXED_NOW=NOW,
    ).start()
    yield running
    running.stop()


async def _events(url: str, subject: str, stream: str) -> list[Msg]:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream, subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        if not total:
            return []
        subscription = await js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        return [await subscription.next_msg(timeout=5) for _ in range(total)]
    finally:
        await connection.close()


def events(url: str, model: type[Message], unit: str = "*") -> list[dict[str, Any]]:
    """Every event of type `model` published so far (for one unit, or all), each decoded as a
    consumer would (so it honours the contract) and with its Nats-Msg-Id equal to its id."""
    found = []
    for message in asyncio.run(_events(url, subjects.event(model.NAME, unit), streams.EVENTS.name)):
        envelope = decode(message.data, model, arrived_on=message.subject)
        assert message.headers is not None
        assert message.headers["Nats-Msg-Id"] == envelope.id
        found.append(envelope.model_dump(mode="json"))
    return found


def rejections(url: str, unit: str) -> list[dict[str, Any]]:
    found = asyncio.run(_events(url, subjects.rejection(unit), streams.REJECTIONS.name))
    return [
        decode(m.data, IntakeRejected, arrived_on=m.subject).model_dump(mode="json")["data"]
        for m in found
    ]


async def _publish(url: str, payloads: list[tuple[str, bytes]]) -> None:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        for subject, payload in payloads:
            await js.publish(subject, payload)
    finally:
        await connection.close()


def send_reports(url: str, *reports: dict[str, Any]) -> list[str]:
    """Publish ReportProgress commands on each unit's intake subject; returns the envelope ids."""
    envelopes = [
        wrap(ReportProgress.model_validate(r), subject=r["unit"], source=f"unit/{r['unit']}")
        for r in reports
    ]
    asyncio.run(
        _publish(
            url,
            [(subjects.intake(ReportProgress.NAME, e.subject), e.to_json()) for e in envelopes],
        )
    )
    return [e.id for e in envelopes]
