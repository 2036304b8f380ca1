"""The runtime's HTTP guards on a bare app: 401 and its header, 429 with Retry-After, 503 when
the database does not answer, and a 500 that tells the client nothing of the failure."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from fivetype.ports import free_port
from services.runtime import http, operations
from services.runtime.auth import AUTHENTICATED, Principal, Role, Verifier, allow
from services.runtime.db import Database
from services.runtime.ratelimit import ClientLimiter
from tests import auth


async def _ready() -> operations.Readiness:
    return operations.Readiness(checks={"ok": True})


def app_with(rate_limit: str) -> FastAPI:
    app = http.create_app(title="t", service="probe", readiness=_ready, max_request_bytes=1024)
    app.state.verifier = Verifier.of(auth.TEST_SECRET)
    app.state.limiter = ClientLimiter(rate_limit)

    @app.get("/v1/whoami", dependencies=[AUTHENTICATED])
    async def whoami(who: Principal = allow(Role.VIEWER)) -> dict[str, str]:
        return {"subject": who.subject, "source": who.source}

    @app.post("/v1/echo", dependencies=[AUTHENTICATED, allow()])
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.get("/v1/stored", dependencies=[AUTHENTICATED, allow()])
    async def stored() -> None:
        # A real driver error: no PostgreSQL listens on this port (a database that is down).
        database = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/fivetype")
        try:
            async with database.session() as session:
                await session.execute(text("SELECT 1"))
        finally:
            await database.dispose()

    @app.get("/v1/crash", dependencies=[AUTHENTICATED, allow()])
    async def crash() -> None:
        raise RuntimeError("SELECT password FROM users -- a secret the client must not see")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_with("3/minute"), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as c:
        yield c


async def test_a_missing_token_is_a_401_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/whoami", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="fivetype"'
    assert response.json()["title"] == "A bearer token is required"


async def test_the_caller_is_the_tokens_subject(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/whoami", headers=auth.headers("viewer", subject="v-1"))
    assert response.json() == {"subject": "v-1", "source": "127.0.0.1"}


async def test_a_client_over_its_rate_is_told_when_to_come_back(
    client: httpx.AsyncClient,
) -> None:
    viewer, other = auth.headers("viewer"), auth.headers("viewer", subject="someone-else")
    assert [(await client.get("/v1/whoami", headers=viewer)).status_code for _ in range(3)] == [
        200
    ] * 3
    limited = await client.get("/v1/whoami", headers=viewer)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The limit is per client: another subject is not affected.
    assert (await client.get("/v1/whoami", headers=other)).status_code == 200


async def test_failed_attempts_are_limited_per_address(client: httpx.AsyncClient) -> None:
    bad = {"Authorization": "Bearer nonsense"}
    codes = [(await client.get("/v1/whoami", headers=bad)).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


async def test_an_unexpected_error_leaks_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/crash", headers=auth.headers())
    assert response.status_code == 500
    assert response.json() == {
        "type": "urn:fivetype:problem:internal_error",
        "title": "服务内部错误",
        "status": 500,
        "code": "internal_error",
    }


async def test_an_unreachable_database_is_a_503_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/stored", headers={**auth.headers(), "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "type": "urn:fivetype:problem:database_unavailable",
        "title": "The database is unavailable; retry shortly",
        "status": 503,
        "code": "database_unavailable",
    }


async def test_oversized_bodies_are_refused_before_they_are_read(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/whoami", content=b"x" * 2048, headers=auth.headers())
    assert response.status_code == 413


async def test_a_chunked_body_over_the_limit_is_refused_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 512

    response = await client.post("/v1/echo", content=chunks(), headers=auth.headers())
    assert "content-length" not in response.request.headers
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")


async def test_a_chunked_body_within_the_limit_reaches_the_route(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a": '
        yield b'"b"}'

    headers = auth.headers() | {"Content-Type": "application/json"}
    response = await client.post("/v1/echo", content=chunks(), headers=headers)
    assert response.json() == {"a": "b"}
