"""The life of one service process: migrate, connect, consume, relay the outbox, serve HTTP, and
on SIGTERM stop taking messages, drain the outbox and exit within the grace period."""

import asyncio
import contextlib
import errno
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from services.runtime import audit, http, logs, metrics, operations, tracing
from services.runtime.audit_checkpoints import Anchor
from services.runtime.auth import Verifier
from services.runtime.bus import Bus
from services.runtime.db import Database, migrate
from services.runtime.messaging import OutboxRelay
from services.runtime.ratelimit import ClientLimiter
from services.runtime.settings import EXIT_PORT_TAKEN, GRACE_SHARES, ServiceSettings

log = structlog.get_logger()


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, migrations: Path):
        self.settings = settings
        self.migrations = migrations
        secret = settings.audit_secret_value()
        self.audit_key = audit.Key.derive(secret, settings.service_name) if secret else None
        self.db = Database(settings.resolved_database_url, audit.session_info(self.audit_key))
        tracing.instrument_database(self.db.engine)
        self.bus = Bus(settings, self.db)
        self.relay = OutboxRelay(
            self.db,
            self.bus.jetstream,
            service=settings.service_name,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            retention=timedelta(hours=settings.outbox_retention_hours),
        )
        self.bus.relay = self.relay
        service = settings.service_name
        metrics.OUTBOX_POLL_INTERVAL.labels(service).set(settings.outbox_poll_seconds)
        metrics.NATS_CONNECTED.labels(service).set_function(lambda: float(self.bus.connected))
        self._migrated = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._periodic: list[tuple[str, float, Callable[[], Awaitable[object]]]] = []
        self.every(settings.metrics_sample_seconds, "bus-metrics", self.bus.sample_metrics)
        # Where a catch-up after a restore may start: as often as lag is sampled.
        self.every(settings.metrics_sample_seconds, "consumer-floors", self.bus.record_floors)
        self.anchor = Anchor(settings.service_name, self.db, self.bus.jetstream)
        self.every(settings.audit_checkpoint_seconds, "audit-checkpoint", self.anchor.run_once)

    def every(self, seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` every `seconds` once the database is migrated (e.g. a deadline sweep).
        A failing run is logged and counted; the next one still comes."""
        self._periodic.append((name, seconds, job))
        metrics.TASK_FAILURES.labels(self.settings.service_name, name)  # a zero series from start
        metrics.TASK_INTERVAL.labels(self.settings.service_name, name).set(seconds)

    async def _repeat(
        self, name: str, seconds: float, job: Callable[[], Awaitable[object]]
    ) -> None:
        while not self._stopping.is_set():
            started = time.perf_counter()
            try:
                await job()
                metrics.TASK_LAST_SUCCESS.labels(self.settings.service_name, name).set(time.time())
            except Exception as exc:
                metrics.TASK_FAILURES.labels(self.settings.service_name, name).inc()
                log.warning("periodic job failed", job=name, error=repr(exc))
            metrics.TASK_DURATION.labels(self.settings.service_name, name).observe(
                time.perf_counter() - started
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    async def readiness(self) -> operations.Readiness:
        """Ready: the database answers and the bus was provisioned once (see `operations`)."""
        return operations.Readiness(
            checks={
                "database": self._migrated.is_set() and await self.db.ping(),
                "bus": self.bus.provisioned,
            },
            details={
                "nats": "connected" if self.bus.connected else "disconnected",
                "outbox_backlog": self.relay.backlog,
                "catching_up": self.bus.catching_up,
            },
        )

    def migrate(self) -> None:
        migrate(self.settings.resolved_database_url, self.migrations)

    async def _prepare_database(self) -> None:
        """Migrate, waiting for the database if it is not up yet."""
        delay = 0.5
        while self.settings.migrate_on_start:
            try:
                await asyncio.to_thread(self.migrate)
                break
            except Exception as exc:
                log.warning("database not ready; retrying", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        self._migrated.set()

    async def _start(self) -> None:
        await self._prepare_database()
        self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        for name, seconds, job in self._periodic:
            self._tasks.append(asyncio.create_task(self._repeat(name, seconds, job), name=name))
        await self.bus.run()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        tracing.configure(self.settings.service_name)
        logs.configure(
            self.settings.log_level, self.settings.log_format, self.settings.service_name
        )
        self._tasks.append(asyncio.create_task(self._start(), name="start"))
        log.info("service starting", http=f"{self.settings.http_host}:{self.settings.http_port}")
        yield
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop taking messages, let jobs finish their current run, drain the outbox, close."""
        grace = self.settings.shutdown_grace_seconds
        self._stopping.set()
        await self.bus.stop_consuming()
        await self.relay.drain(within_seconds=grace * GRACE_SHARES["outbox"])
        _done, unfinished = (
            await asyncio.wait(self._tasks, timeout=grace * GRACE_SHARES["jobs"])
            if self._tasks
            else (set(), set())
        )
        for task in unfinished:  # still connecting or migrating: nothing to lose
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        await self.bus.close()
        await self.db.dispose()
        tracing.shutdown()
        log.info("service stopped")

    def create_app(self, title: str) -> FastAPI:
        app = http.create_app(
            title=title,
            service=self.settings.service_name,
            readiness=self.readiness,
            max_request_bytes=self.settings.max_request_bytes,
            lifespan=self.lifespan,
            instance=self.settings.instance_id,
        )
        key = self.settings.auth_key()
        if key is None:
            log.warning("no auth secret configured: every API request will be refused")
        if self.audit_key is None:
            log.warning("no audit secret configured: audit entries are not authenticated")
        app.state.verifier = Verifier.of(key) if key else None
        app.state.limiter = ClientLimiter(self.settings.rate_limit)
        return app

    def serve(self, app: FastAPI) -> None:
        listener = listen(self.settings.http_host, self.settings.http_port)
        metrics_server = operations.serve_metrics(
            self.settings.http_host, self.settings.resolved_metrics_port
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=self.settings.http_host,
                port=self.settings.http_port,
                log_config=None,
                timeout_keep_alive=self.settings.http_keep_alive_seconds,
                limit_concurrency=self.settings.http_limit_concurrency,
                timeout_graceful_shutdown=max(
                    1, round(self.settings.shutdown_grace_seconds * GRACE_SHARES["http"])
                ),
            )
        )
        server.run(sockets=[listener])
        if metrics_server is not None:
            metrics_server.shutdown()
        if not server.started:
            sys.exit(STARTUP_FAILURE)


def listen(host: str, port: int) -> socket.socket:
    """The API's socket, bound and listening before anything starts: a port another process
    holds ends the process at once with EXIT_PORT_TAKEN, having done nothing."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        log.error("http port taken", port=port)
        sys.exit(EXIT_PORT_TAKEN)
    return listener
