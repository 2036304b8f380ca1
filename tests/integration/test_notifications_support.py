"""What the notifications integration tests share (no tests here): the service in-process on a
real port with a controllable clock, a plain nats-py publisher, and a local HTTP receiver that
answers webhooks the way a test tells it to."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from contracts import subjects
from contracts.envelope import Envelope, Message, wrap
from contracts.measures import UnitRegistered
from fivetype.ports import free_port
from services.notifications.bootstrap import Service, assemble
from services.notifications.settings import NotificationsSettings
from tests import auth
from tests.conftest import eventually_async

FAST = {
    "log_format": "console",
    "consumer_batch_timeout_seconds": 0.05,
    "retry_base_delay_seconds": 0.05,
    "consumer_max_deliver": 3,
    "outbox_poll_seconds": 0.1,
    "shutdown_grace_seconds": 4,
    "delivery_poll_seconds": 0.05,
    "escalation_sweep_seconds": 0.1,
    "digest_check_seconds": 0.1,
    "bulletin_check_seconds": 0.1,
}


class OffsetClock:
    """The system clock plus an offset a test moves forward: time keeps flowing (retries and
    leases behave) while the date can jump to whenever the ladder's next step is due."""

    def __init__(self, start: datetime | None = None):
        self.offset = timedelta(0) if start is None else start - datetime.now(UTC)
        self.still: datetime | None = None

    def __call__(self) -> datetime:
        return self.still or datetime.now(UTC) + self.offset

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Time stands still meanwhile, as a replayed programme clock stands on a step."""
        self.still = self()
        try:
            yield
        finally:
            self.still = None

    def jump_to(self, moment: datetime) -> None:
        if moment < self():
            raise ValueError("the clock only moves forward")
        self.offset = moment - datetime.now(UTC)


def settings(nats_url: str, database_url: str, **overrides: Any) -> NotificationsSettings:
    return NotificationsSettings(nats_url=nats_url, database_url=database_url, **(FAST | overrides))


@contextlib.asynccontextmanager
async def serving(
    config: NotificationsSettings, clock: Callable[[], datetime]
) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    """The service with its HTTP API on a free port, until the block ends."""
    service = assemble(config, clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(service.app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth.headers()
    ) as client:

        async def ready() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return (await client.get("/readyz")).status_code == 200
            return False

        await eventually_async(ready, within=30)
        try:
            yield service, client
        finally:
            server.should_exit = True
            await task


async def publish(url: str, message: Message, *, id: str | None = None, copies: int = 1) -> str:
    """Publish an event on its subject, as its producer would; `copies` publishes the same
    envelope again under other Nats-Msg-Ids, as a relay retry beyond the dedup window would."""
    unit = getattr(message, "unit")  # noqa: B009 - every event names its unit
    envelope: Envelope[Any] = wrap(message, subject=unit, source="test", id=id)
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        for copy in range(copies):
            await js.publish(
                subjects.event(message.NAME, unit),
                envelope.to_json(),
                headers={"Nats-Msg-Id": f"{envelope.id}:{copy}"},
            )
    finally:
        await connection.close()
    return envelope.id


def unit(code: str, name: str, peer_group: str | None) -> UnitRegistered:
    return UnitRegistered(
        unit=code,
        name_zh=name,
        name_en=name,
        peer_group=peer_group,
        is_office=peer_group is None,
    )


@dataclass
class Receiver:
    """A local webhook endpoint: records every request and answers with the next scripted
    status per path (200 once the script runs out), or holds requests until released."""

    port: int = 0
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    held: dict[str, asyncio.Event] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for p, headers, body in self.requests if p == path]

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.to(path)]

    async def handle(self, request: Request) -> PlainTextResponse:
        body = await request.body()
        self.requests.append((request.url.path, dict(request.headers), body))
        if request.url.path in self.held:
            await self.held[request.url.path].wait()
        script = self.scripts.get(request.url.path) or [200]
        status = script.pop(0) if len(script) > 1 else script[0]
        return PlainTextResponse("ok" if status < 300 else "failing on purpose", status)


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver(port=free_port())
    app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=receiver.port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await eventually_async(lambda: _started(server))
    try:
        yield receiver
    finally:
        for event in receiver.held.values():
            event.set()
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started
