"""What operators and orchestrators talk to, apart from the API: the liveness and readiness
probes on the API port, and /metrics on a port of its own.

Readiness is the database and the process, not NATS. A service that has provisioned its
streams once keeps taking requests while NATS is away: the transactional outbox holds the events
and the relay publishes them when NATS returns. Taking every pod out of its Service at each NATS
restart would turn a short broker outage into an outage of every API. NATS health is reported in
`/readyz` details, in `fivetype_nats_connected` and by the FivetypeNatsDisconnected alert.

A process that has never reached NATS is not ready: it has no streams or consumers yet, and a
new release whose NATS address or credentials are wrong then stalls its rollout instead of
replacing pods that work.

/metrics is served on its own port (`METRICS_PORT`, by default the HTTP port + 1000): the unit
scores it exports are not for API clients, the NetworkPolicy admits only the monitoring peers to
it, and scrapes are neither API traffic in the request metrics nor traces.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import start_http_server

log = structlog.get_logger(__name__)

# Requests to these paths are probes: no request metrics, no trace.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def is_probe(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in PROBE_PATHS


@dataclass(frozen=True)
class Readiness:
    """`checks` decide readiness; `details` only inform (e.g. whether NATS is connected now)."""

    checks: dict[str, bool]
    details: dict[str, str | int | list[str]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(self.checks.values())


def install_probes(
    app: FastAPI, readiness: Callable[[], Awaitable[Readiness]], instance: str
) -> None:
    """`/healthz` names the process's instance, so the embedded stack can tell its own service
    from another process on the same port."""

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "instance": instance}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        state = await readiness()
        return JSONResponse(
            {
                "status": "ready" if state.ready else "not_ready",
                "checks": state.checks,
                "details": state.details,
            },
            status_code=200 if state.ready else 503,
        )


def serve_metrics(host: str, port: int) -> WSGIServer | None:
    """Serve the metrics registry on its own port, in a thread. A port that cannot be bound is
    logged, not fatal: the API still serves, and the failed scrape raises FivetypeServiceDown."""
    try:
        server, _thread = start_http_server(port, addr=host)
    except OSError as exc:
        log.error("metrics port unavailable", port=port, error=repr(exc))
        return None
    log.info("metrics served", metrics=f"{host}:{port}")
    return server
