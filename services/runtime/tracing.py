"""Traces across HTTP and the bus (OpenTelemetry). W3C trace context travels in NATS message
headers, so one trace runs from a unit's HTTP call through the outbox relay to every consumer.

Export follows the standard variables and is off unless asked for: set OTEL_TRACES_EXPORTER=otlp
(with OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or =console. Spans are
made either way, so trace ids reach the logs and the headers even when nothing is exported.
"""

import os
from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

tracer = trace.get_tracer("fivetype")
_provider: TracerProvider | None = None


def _exporter() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp" or (not choice and endpoint):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def configure(service: str) -> None:
    """Install the tracer provider once per process (tests run several runtimes in one)."""
    global _provider
    if _provider is not None or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    name = os.environ.get("OTEL_SERVICE_NAME") or f"fivetype-{service}"
    _provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = _exporter()
    if exporter is not None:
        _provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(_provider)


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


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, for the logs."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
