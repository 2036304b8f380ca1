"""Probes, request metrics and trace sampling on a bare app: readiness follows its checks and
only reports NATS, probes are neither API traffic nor traces, /metrics is not on the API port,
coalesced work links to the traces that caused it, and spans are recorded only when exported."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from services.runtime import http, metrics, operations, tracing


def app_with(checks: dict[str, bool]) -> FastAPI:
    async def readiness() -> operations.Readiness:
        return operations.Readiness(checks=checks, details={"nats": "disconnected"})

    app = http.create_app(
        title="t", service="ops-probe", readiness=readiness, max_request_bytes=1024
    )

    @app.get("/v1/thing")
    async def thing() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        return await client.get(path)


async def test_ready_with_nats_away_reports_it_in_details() -> None:
    answer = await get(app_with({"database": True, "bus": True}), "/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": True, "bus": True},
        "details": {"nats": "disconnected"},
    }


async def test_a_failing_check_is_a_503_naming_it() -> None:
    answer = await get(app_with({"database": False, "bus": True}), "/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] is False


def _requests(route: str) -> float:
    samples = metrics.HTTP_REQUESTS.collect()[0].samples
    return sum(
        s.value
        for s in samples
        if s.labels["service"] == "ops-probe" and s.labels["route"] == route
    )


async def test_probes_are_not_api_traffic_and_metrics_are_not_on_the_api_port() -> None:
    app = app_with({"database": True})
    for path in ("/healthz", "/readyz", "/v1/thing"):
        assert (await get(app, path)).status_code == 200
    assert (await get(app, "/metrics")).status_code == 404
    assert _requests("/v1/thing") == 1
    assert _requests("/healthz") == _requests("/readyz") == 0


def _parent(sampled: bool = True) -> object:
    context = SpanContext(
        trace_id=1, span_id=2, is_remote=True, trace_flags=TraceFlags(int(sampled))
    )
    return trace.set_span_in_context(NonRecordingSpan(context))


def test_statements_outside_a_request_or_message_are_not_traced() -> None:
    sampler = tracing.WithinWork()
    orphan = sampler.should_sample(None, 7, "select", SpanKind.CLIENT)
    inside = sampler.should_sample(_parent(), 1, "select", SpanKind.CLIENT)  # type: ignore[arg-type]
    request = sampler.should_sample(None, 7, "GET /v1/thing", SpanKind.SERVER)
    # A message from a service that exports nothing carries "not sampled": recorded all the same.
    unexported = sampler.should_sample(_parent(sampled=False), 1, "process", SpanKind.CONSUMER)  # type: ignore[arg-type]
    assert orphan.decision is Decision.DROP
    assert inside.decision is Decision.RECORD_AND_SAMPLE
    assert request.decision is Decision.RECORD_AND_SAMPLE
    assert unexported.decision is Decision.RECORD_AND_SAMPLE


def test_coalesced_work_links_each_cause_once_and_forgets_them_after() -> None:
    causes = tracing.Causes(per_key=2)
    first = f"00-{'a' * 32}-{'1' * 16}-01"
    causes.add("360102", first)
    causes.add("360102", first)  # the same message retried
    causes.add("360102", "not a traceparent")
    causes.add("360103", f"00-{'b' * 32}-{'2' * 16}-01")
    links = causes.take("360102")
    assert [format(link.context.trace_id, "032x") for link in links] == ["a" * 32]
    assert causes.take("360102") == []
    for n in range(3):
        causes.add("360104", f"00-{'c' * 31}{n}-{'3' * 16}-01")
    assert len(causes.take("360104")) == 2  # the latest two


_SPAN_PROBE = """
from services.runtime import tracing
tracing.configure("probe")
with tracing.tracer.start_as_current_span("work") as span:
    ids = tracing.current_ids() is not None
    print(span.is_recording(), ids, tracing.headers_for_current_span())
"""


def _span_in_a_fresh_process(**env: str) -> str:
    """The provider is installed once per process: each configuration gets a process of its own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", _SPAN_PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    return done.stdout


def test_spans_are_recorded_only_when_exported_and_keep_their_ids_either_way() -> None:
    quiet = _span_in_a_fresh_process()
    assert quiet.startswith("False True {'traceparent': '00-"), quiet
    exported = _span_in_a_fresh_process(OTEL_TRACES_EXPORTER="console")
    assert exported.startswith("True True {'traceparent': '00-"), exported
