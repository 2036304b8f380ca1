"""A service started while NATS and its database are both down serves /healthz at once, says in
/readyz which dependency is missing, and becomes ready (and takes reports) when they return: the
database, and a first connection to NATS that provisions its streams (`bus`)."""

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from fivetype.stack import Stack
from tests.conftest import eventually_async, platform_env
from tests.reliability import faults
from tests.reliability.load import client, m07_assignment, progress_report


async def readiness(url: str, expected: tuple[int, dict[str, bool]]) -> bool:
    """Whether /readyz answers `expected` (the status, and these checks among others); False
    while it cannot answer."""
    try:
        async with client(url) as http:
            answer = await http.get("/readyz")
    except httpx.TransportError:
        return False
    status, checks = expected
    found = answer.json()["checks"]
    return answer.status_code == status and all(found[k] == v for k, v in checks.items())


@pytest.mark.postgres
async def test_a_service_started_without_nats_and_database_waits_for_them(
    postgres: str, tmp_path: Path
) -> None:
    server = make_url(postgres)
    proxy = faults.Proxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    await proxy.cut()
    nats = NatsServer(tmp_path / "jetstream", free_port())  # not started yet
    databases = faults.ProxiedDatabases(tmp_path, postgres, proxy)
    stack = Stack(tmp_path, nats_url=nats.url, env=platform_env(databases))
    measures = stack.service("measures")
    measures.start()
    try:
        nothing = (503, {"database": False, "bus": False})
        await eventually_async(lambda: readiness(measures.url, nothing), within=60)
        async with client(measures.url) as http:
            assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(2)  # still waiting, still saying so
        assert await readiness(measures.url, nothing)

        await proxy.restore()
        database_only = (503, {"database": True, "bus": False})
        await eventually_async(lambda: readiness(measures.url, database_only), within=60)
        await asyncio.to_thread(nats.start)
        ready = (200, {"database": True, "bus": True})
        await eventually_async(lambda: readiness(measures.url, ready), within=60)

        async with client(measures.url) as http:
            assigned = await http.post("/v1/assignments", json=m07_assignment("360102"))
            reported = await http.post(
                "/v1/units/360102/progress-reports", json=progress_report("360102", "after")
            )
        assert (assigned.status_code, reported.status_code) == (201, 201), reported.text
    finally:
        measures.terminate()
        await asyncio.to_thread(measures.wait, 10)
        nats.stop()
        await proxy.stop()
        await asyncio.to_thread(databases.drop_all)
