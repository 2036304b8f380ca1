"""A service made of the runtime alone, so the integration tests can drive its bus, outbox and
inbox against a real nats-server and a real database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings

# Any service's first migration creates the runtime's tables; scoring's has nothing else of note.
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "scoring" / "migrations"


class ProbeSettings(ServiceSettings):
    service_name = "probe"


def probe(nats_url: str, database_url: str, **overrides: object) -> ServiceRuntime:
    fast: dict[str, object] = {
        "log_format": "console",
        "consumer_batch_timeout_seconds": 0.05,
        "retry_base_delay_seconds": 0.05,
        "consumer_max_deliver": 3,
        "outbox_poll_seconds": 0.1,
        "shutdown_grace_seconds": 5,
    }
    settings = ProbeSettings(nats_url=nats_url, database_url=database_url, **(fast | overrides))
    return ServiceRuntime(settings, MIGRATIONS)


@asynccontextmanager
async def running(runtime: ServiceRuntime) -> AsyncIterator[ServiceRuntime]:
    async with runtime.lifespan(FastAPI()):
        yield runtime
