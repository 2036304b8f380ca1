"""One trace from a unit's HTTP call through the outbox relay to the scoring and notifications
handlers it caused, exported over real OTLP/HTTP to a receiver in the test."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests import auth
from tests.conftest import Databases, eventually, start_nats, start_platform
from tests.e2e.test_progress_flow import assign_m07, report


class Collector(ThreadingHTTPServer):
    """Receives OTLP/HTTP protobuf exports and keeps every span, flattened."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            for resource in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            {
                                "service": service["service.name"],
                                "trace_id": span.trace_id.hex(),
                                "name": span.name,
                                "kind": span.kind,
                                "attributes": {
                                    a.key: a.value.string_value or a.value.int_value
                                    for a in span.attributes
                                },
                            }
                        )

    def in_trace(self, trace_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]


class _Receive(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert isinstance(self.server, Collector)
        self.server.add(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_one_trace_spans_intake_relay_and_both_consumers(
    collector: Collector, tmp_path: Path
) -> None:
    nats = start_nats(tmp_path)
    sqlite = Databases("sqlite", tmp_path, None)  # tracing does not depend on the database
    platform = start_platform(
        tmp_path,
        nats.url,
        sqlite,
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    try:
        assign_m07(platform, "360102")
        posted = httpx.post(
            f"{platform.service('measures').url}/v1/units/360102/progress-reports",
            json=report("360102", "trace-1"),
            headers=auth.headers(),
        )
        assert posted.status_code == 201
        intake = eventually(
            lambda: [
                s for s in collector.spans if s["name"] == "POST /v1/units/{unit}/progress-reports"
            ]
        )[0]
        trace_id = intake["trace_id"]

        def consumers() -> set[str]:
            return {s["service"] for s in collector.in_trace(trace_id) if s["kind"] == 5}

        eventually(lambda: consumers() >= {"fivetype-scoring", "fivetype-notifications"})
        spans = collector.in_trace(trace_id)
        send = next(s for s in spans if s["name"].startswith("send "))
        assert send["service"] == "fivetype-measures"
        assert send["attributes"]["messaging.destination.name"] == (
            "fivetype.events.progress_reported.360102"
        )
        process = next(s for s in spans if s["service"] == "fivetype-scoring" and s["kind"] == 5)
        assert process["name"] == "process fivetype.events.progress_reported.{unit}"
        assert process["attributes"]["messaging.system"] == "nats"
        assert process["attributes"]["messaging.operation.type"] == "process"
        assert process["attributes"]["messaging.consumer.group.name"] == "scoring-progress"
        assert process["attributes"]["messaging.message.id"] == posted.json()["event_id"]
    finally:
        platform.stop(grace=5)
        nats.stop()
