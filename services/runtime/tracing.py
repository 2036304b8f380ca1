"""Traces across HTTP and the bus (OpenTelemetry). W3C trace context travels in NATS message
headers, so one trace runs from a unit's HTTP call through the outbox relay to every consumer.

Export follows the standard variables and is off unless asked for: set OTEL_TRACES_EXPORTER=otlp
(with OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or =console. Without an
exporter spans are not recorded and statements get none, but every span still has its ids, so
trace ids reach the logs and the message headers: recording spans nobody reads cost the intake
about a quarter of its CPU (docs/performance.md).
"""

import os
import re
from collections.abc import Mapping, Sequence

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags, TraceState
from opentelemetry.util.types import Attributes
from sqlalchemy.ext.asyncio import AsyncEngine

tracer = trace.get_tracer("fivetype")
_provider: TracerProvider | None = None
_exporting = False


def _export_choice() -> str | None:
    """ "otlp", "console" or None (nothing exported), from the standard variables."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if choice == "console":
        return "console"
    if choice == "otlp" or (not choice and endpoint):
        return "otlp"
    return None


def _exporter(choice: str) -> SpanExporter:
    if choice == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(service: str) -> None:
    """Install the tracer provider once per process (tests run several runtimes in one)."""
    global _provider, _exporting
    if _provider is not None or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    name = os.environ.get("OTEL_SERVICE_NAME") or f"fivetype-{service}"
    choice = _export_choice()
    _provider = TracerProvider(
        resource=Resource.create({"service.name": name}),
        sampler=WithinWork() if choice else ALWAYS_OFF,  # off: ids without recording
    )
    if choice:
        _provider.add_span_processor(BatchSpanProcessor(_exporter(choice)))
    _exporting = choice is not None
    trace.set_tracer_provider(_provider)


def exporting() -> bool:
    """Whether spans are recorded: what only a recorded span keeps (links, a send span between
    two spans) is not worth making otherwise."""
    return _exporting


class WithinWork(Sampler):
    """Every span of a request or message, but no trace for a database statement outside one:
    the periodic sweeps, samplers and the outbox poll would otherwise make a trace per statement,
    every few seconds. A message from a service that exports nothing says "not sampled"; its
    work is recorded all the same."""

    _base = ParentBased(ALWAYS_ON, remote_parent_not_sampled=ALWAYS_ON)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        orphan = not trace.get_current_span(parent_context).get_span_context().is_valid
        if kind is SpanKind.CLIENT and orphan:
            return SamplingResult(Decision.DROP)
        return self._base.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "WithinWork"


def shutdown() -> None:
    """Flush spans not yet exported."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


def headers_for_current_span() -> dict[str, str]:
    """The W3C trace context of the current span, as message or HTTP headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(headers: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(headers or {}))


_INVALID = trace.INVALID_SPAN_CONTEXT
_PLAIN_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def span_context_from(headers: Mapping[str, str] | None) -> SpanContext:
    """The producer's span named by a message's headers (invalid if none), as `context_from`
    would find it: a plain `traceparent` (version 00, no tracestate) is read directly, since
    a consumer links a span to every message of a batch and the propagator's extraction cost
    more than the rest of the link; anything else goes through the propagator."""
    if not headers:
        return _INVALID
    value = headers.get("traceparent")
    if value is None:
        return _INVALID
    found = _PLAIN_TRACEPARENT.fullmatch(value)
    if found is None or "tracestate" in headers:
        return trace.get_current_span(context_from(headers)).get_span_context()
    trace_id, span_id = int(found[1], 16), int(found[2], 16)
    if not (trace_id and span_id):
        return _INVALID
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(int(found[3], 16)))


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, for the logs."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def instrument_database(engine: AsyncEngine) -> None:
    """A client span per SQL statement, in the trace of the request or message it serves, when
    spans are exported. The instrumentor is process-wide and takes one engine: a service
    process has one (tests that run several runtimes in one process trace the first one's)."""
    if _export_choice() is None:
        return
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # The instrumentor declares SQLAlchemy < 2.1; it works with 2.1 (tested in
        # tests/observability/test_live_alerts.py), so its version check is skipped.
        instrumentor.instrument(engine=engine.sync_engine, skip_dep_check=True)


def span_context_of(traceparent: str | None) -> SpanContext | None:
    """The span a W3C `traceparent` names, if it is a valid one."""
    if not traceparent:
        return None
    found = span_context_from({"traceparent": traceparent})
    return found if found.is_valid else None


class Causes:
    """The trace contexts of messages whose work is done later and coalesced (many facts, one
    recompute): the span of that later work links to each of them. Kept in the process's memory,
    by key, at most `per_key` each (the latest) and `keys` keys; work done by another replica
    starts unlinked."""

    def __init__(self, per_key: int = 32, keys: int = 10_000) -> None:
        self.per_key, self.keys = per_key, keys
        self._by_key: dict[str, dict[tuple[int, int], SpanContext]] = {}

    def add(self, key: str, traceparent: str | None) -> None:
        context = span_context_of(traceparent)
        if context is None or (key not in self._by_key and len(self._by_key) >= self.keys):
            return
        kept = self._by_key.setdefault(key, {})
        kept[(context.trace_id, context.span_id)] = context
        while len(kept) > self.per_key:
            del kept[next(iter(kept))]

    def take(self, key: str) -> list[Link]:
        return [Link(context) for context in self._by_key.pop(key, {}).values()]
