"""Fixtures that start real servers: nats-server on free loopback ports with a temporary store,
databases on SQLite files or on PostgreSQL (one database per service), and the platform's
services as child processes."""

import asyncio
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from httpx import _config as httpx_config
from nats import connect as connect_nats  # `nats` names the fixture below
from nats.aio.client import Client
from psycopg import sql

from contracts import permissions
from fivetype import natsauth
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from fivetype.stack import SERVICES, Stack
from tests.auth import TEST_SECRET

POSTGRES_URL = os.environ.get(
    "FIVETYPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
# Every service a test starts, in this process or as a child, verifies tokens with this secret.
os.environ["FIVETYPE_AUTH_SECRET"] = TEST_SECRET
T = TypeVar("T")


# Every deadline a test waits on is multiplied by this factor: 1 on an idle machine; CI on a busy
# machine, `make test-busy` or a slow laptop set FIVETYPE_TEST_TIME_SCALE (e.g. 3). Only waits
# for a condition scale; a test never sleeps longer because of it.
TIME_SCALE = float(os.environ.get("FIVETYPE_TEST_TIME_SCALE", "1"))


def scaled(seconds: float) -> float:
    """A deadline stretched by FIVETYPE_TEST_TIME_SCALE."""
    return seconds * TIME_SCALE


def _scale_httpx_default_timeout() -> None:
    """Every httpx client and call a test makes without a timeout of its own waits 5 s (scaled)
    for an answer: httpx binds its default, one shared Timeout, into every signature, so it is
    stretched in place rather than passed at each of the suite's calls."""
    default = httpx_config.DEFAULT_TIMEOUT_CONFIG
    default.connect = default.read = default.write = default.pool = scaled(5.0)


_scale_httpx_default_timeout()


def eventually(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Poll `check` until it returns a truthy value (returned) or `timeout` (scaled) passes; an
    AssertionError `check` raises counts as not yet, and the last one is the failure's cause."""
    within = scaled(timeout)
    deadline = time.monotonic() + within
    while True:
        try:
            result = check()
            if result:
                return result
            failure: Exception | None = None
        except AssertionError as exc:
            failure = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within:g}s: {check}") from failure
        time.sleep(interval)


async def eventually_async(
    fetch: Callable[[], Awaitable[T]], within: float = 15.0, interval: float = 0.1
) -> T:
    """`eventually` for async checks; raises TimeoutError when `within` (scaled) passes."""
    try:
        async with asyncio.timeout(scaled(within)):
            while not (result := await fetch()):
                await asyncio.sleep(interval)
    except TimeoutError:
        raise TimeoutError(f"condition not met within {scaled(within):g}s: {fetch}") from None
    return result


def pytest_configure(config: pytest.Config) -> None:
    """The per-test timeout (pytest-timeout) stretches with the waits, unless given."""
    if TIME_SCALE != 1 and config.getoption("timeout", None) is None:
        config.option.timeout = float(config.getini("timeout") or 300) * TIME_SCALE


# Seconds each module took in a whole run (setup, call and teardown of its tests), so that
# the workers are handed the longest modules first. Refresh after a module grows or shrinks
# a lot: `make pytest PYTEST_ARGS=--record-durations`.
DURATIONS = Path(__file__).with_name("durations.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        action="store_true",
        help=f"write each module's total duration to {DURATIONS.name} after the run",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """After pytest-randomly has shuffled: hand the pytest-xdist workers (`--dist loadscope
    --no-loadscope-reorder`: a module's tests stay in one worker, so its fixtures start once)
    the longest modules first, so that none is left running alone at the end, and the unit
    tests last to fill the gaps. A module not yet in durations.json counts as a minute. A
    stable sort: the random order holds within a module."""
    recorded = json.loads(DURATIONS.read_text(encoding="utf-8")) if DURATIONS.exists() else {}

    def key(item: pytest.Item) -> tuple[bool, float]:
        module = _module_of(item)
        return (module.startswith("tests/unit/"), -recorded.get(module, 60.0))

    items.sort(key=key)


_durations: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[_module_of(report)] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With --record-durations, in the controlling process (which hears every worker's reports)."""
    if session.config.getoption("record_durations") and not hasattr(session.config, "workerinput"):
        totals = {module: round(seconds, 1) for module, seconds in sorted(_durations.items())}
        DURATIONS.write_text(json.dumps(totals, indent=1) + "\n", encoding="utf-8")


def _module_of(item: pytest.Item | pytest.TestReport) -> str:
    return item.nodeid.split("::", 1)[0]


def _postgres_reachable() -> bool:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def require_tool(name: str) -> str:
    """The path of a tool the tests need (e.g. promtool): required under CI=true."""
    found = shutil.which(name)
    if found:
        return found
    if IN_CI:
        pytest.fail(f"{name} is required under CI=true (tools/ensure-test-tools.sh installs it)")
    pytest.skip(f"{name} not installed (apt-get install prometheus)")


@pytest.fixture(scope="session")
def postgres() -> str:
    """The admin URL of a reachable PostgreSQL; required under CI=true, skipped elsewhere."""
    if _postgres_reachable():
        return POSTGRES_URL
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true but {POSTGRES_URL} is unreachable")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")


class Databases:
    """Creates one database per service name on the chosen backend, and drops them after."""

    def __init__(self, backend: str, directory: Path, admin_url: str | None):
        self.backend, self.directory, self.admin_url = backend, directory, admin_url
        self.created: list[str] = []

    def url(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.directory / f'{name}.db'}"
        assert self.admin_url is not None
        database = f"ft_{name}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        self.created.append(database)
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.admin_url or "", autocommit=True) as connection:
            for database in self.created:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )


def _databases(request: pytest.FixtureRequest, directory: Path) -> Iterator[Databases]:
    backend = request.param
    admin = request.getfixturevalue("postgres") if backend == "postgres" else None
    databases = Databases(backend, directory, admin)
    yield databases
    databases.drop_all()


@pytest.fixture(params=["sqlite", "postgres"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    yield from _databases(request, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    yield from _databases(request, tmp_path_factory.mktemp("db"))


def start_nats(directory: Path) -> NatsServer:
    server = NatsServer(directory / "jetstream", free_port())
    server.start(timeout=scaled(10))
    return server


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = start_nats(tmp_path)
    yield server
    server.stop()


@dataclass
class SecureNats:
    """A nats-server that admits only the nkeys `fivetype nats` generates, with their
    permissions; every permission violation a client of it hears is kept in `violations`."""

    server: NatsServer
    credentials: Path
    violations: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def service_env(self) -> dict[str, str]:
        """What makes the platform's services authenticate (for `start_platform`)."""
        return {
            f"FIVETYPE_{name.upper()}_NATS_NKEY_FILE": str(
                natsauth.service_seed(self.credentials, name)
            )
            for name in SERVICES
        }

    async def _heard(self, error: Exception) -> None:
        self.violations.append(str(error))

    async def connect(self, seed: Path, inbox_prefix: str) -> Client:
        return await connect_nats(
            self.url, nkeys_seed=str(seed), inbox_prefix=inbox_prefix, error_cb=self._heard
        )

    async def as_unit(self, unit: str) -> Client:
        return await self.connect(
            natsauth.unit_seed(self.credentials, unit), permissions.unit_inbox(unit)
        )

    async def as_channel(self, channel: str) -> Client:
        return await self.connect(
            natsauth.channel_seed(self.credentials, channel), permissions.channel_inbox(channel)
        )

    async def as_service(self, service: str) -> Client:
        return await self.connect(
            natsauth.service_seed(self.credentials, service), permissions.service_inbox(service)
        )

    async def as_operator(self) -> Client:
        return await self.connect(natsauth.operator_seed(self.credentials), "_INBOX")


def start_secure_nats(
    directory: Path, units: Iterable[str], channels: Iterable[str] = ()
) -> SecureNats:
    credentials = directory / "nats-auth"
    server = NatsServer(
        directory / "jetstream",
        free_port(),
        config=natsauth.write_server_config(credentials, units, channels),
    )
    server.start(timeout=scaled(10))
    return SecureNats(server, credentials)


# Fast timings so tests wait on conditions for milliseconds, not seconds.
_FAST = {
    "CONSUMER_BATCH_TIMEOUT_SECONDS": "0.05",
    "RETRY_BASE_DELAY_SECONDS": "0.1",
    "CONSUMER_MAX_DELIVER": "3",
    "CONSUMER_ACK_WAIT_SECONDS": "5",
    "OUTBOX_POLL_SECONDS": "0.2",
    "SHUTDOWN_GRACE_SECONDS": "5",
    "LOG_LEVEL": "INFO",
}


def platform_env(databases: Databases, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The services' environment: a database each and the fast timings. Their ports are left to
    the stack, which claims them and chooses again should another process bind one first."""
    env = {**os.environ, **(extra_env or {})}
    for name in SERVICES:
        prefix = f"FIVETYPE_{name.upper()}_"
        env[f"{prefix}DATABASE_URL"] = databases.url(name)
        env.update({prefix + key: value for key, value in _FAST.items()})
    # The flows and the fault checker count every fact in the office's inbox one by one, so
    # nothing is left for its digest there (docs/notifications.md, the digest rule).
    env.setdefault("FIVETYPE_NOTIFICATIONS_ROUTINE_TOPICS", "[]")
    return env


def start_platform(
    data_dir: Path, nats_url: str, databases: Databases, extra_env: dict[str, str] | None = None
) -> Stack:
    stack = Stack(data_dir, nats_url=nats_url, env=platform_env(databases, extra_env))
    try:
        stack.start(timeout=scaled(90))
    except Exception as exc:
        stack.stop(grace=2)
        raise AssertionError(f"the platform did not start: {exc}\n{logs(stack)}") from exc
    return stack


def logs(stack: Stack, last: int = 3000) -> str:
    """The end of each service's log, for a failure message."""
    return "\n".join(
        f"--- {s.name} log ---\n{s.log_file.read_text(errors='replace')[-last:]}"
        for s in stack.services
        if s.log_file.exists()
    )
