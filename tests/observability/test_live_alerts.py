"""A running platform as an on-call engineer meets it. Its traces, exported over OTLP, follow a
report from its HTTP request to the ScoreUpdated it causes. The chart's alert rules, loaded into a
real Prometheus that scrapes it, stay quiet on the healthy stack for longer than every `for:`
clause and every periodic task's staleness limit; then each injected fault raises its alert.

Periodic tasks run every second or two by settings, and every `for:` is rendered to a few
seconds (tests/observability/prometheus.py); the expressions and thresholds are the shipped ones.
"""

import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from contracts import subjects
from contracts.envelope import wrap
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from fivetype.stack import Stack
from tests import auth, busclient
from tests.conftest import (
    Databases,
    eventually,
    require_tool,
    scaled,
    start_nats,
    start_platform,
)
from tests.e2e.test_progress_flow import assign_m07, report
from tests.integration.test_notifications_channels import SECRET, finding
from tests.observability.otlp import Collector, ReceivedSpan
from tests.observability.prometheus import RULES, Prometheus, render_rules

HOLD = "3s"  # every rule's `for:`
# The periodic tasks' shortest interval: 1 s, stretched on a slow machine, where a task may well
# run late by the three intervals that make it stale without anything being wrong.
TICK = scaled(1.0)
QUIET_SECONDS = 6 * TICK + 6  # > 3 intervals of the slowest task (2 ticks) + HOLD, with a margin
FAST_TASKS = {
    "MEASURES": {"SEED_CHECK_SECONDS": f"{2 * TICK:g}", "DEADLINE_SWEEP_SECONDS": f"{TICK:g}"},
    "INSPECTIONS": {
        "REFERENCE_REFRESH_SECONDS": f"{TICK:g}",
        "DEADLINE_SWEEP_SECONDS": f"{TICK:g}",
        "INDICATORS_PUBLISH_SECONDS": f"{2 * TICK:g}",
    },
    "SCORING": {"RUBRIC_RELOAD_SECONDS": f"{2 * TICK:g}"},
    "NOTIFICATIONS": {
        "ESCALATION_SWEEP_SECONDS": f"{TICK:g}",
        "DIGEST_CHECK_SECONDS": f"{2 * TICK:g}",
        "DELIVERY_RETRY_BASE_SECONDS": "0.2",
        "DELIVERY_RETRY_MAX_SECONDS": "0.5",
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "WEBHOOK_BREAKER_FAILURES": "2",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the failing endpoint is on loopback
    },
}


@dataclass
class Alerted:
    """A platform of its own for the alert test, which kills a service and stops NATS."""

    nats: NatsServer
    platform: Stack
    prometheus: Prometheus


def _start(directory: Path, nats: NatsServer, env: dict[str, str]) -> Stack:
    return start_platform(directory, nats.url, Databases("sqlite", directory, None), env)


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def traced(collector: Collector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("traced")
    nats = start_nats(directory)
    env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # milliseconds
    }
    stack = _start(directory, nats, env)
    yield stack
    stack.stop(grace=5)
    nats.stop()


@pytest.fixture
def alerted(tmp_path: Path) -> Iterator[Alerted]:
    require_tool("prometheus")
    for folder in ("nats", "platform", "alerting"):
        (tmp_path / folder).mkdir()
    nats = start_nats(tmp_path / "nats")
    fast = {
        f"FIVETYPE_{service}_{name}": value
        for service, settings in FAST_TASKS.items()
        for name, value in {**settings, "METRICS_SAMPLE_SECONDS": f"{TICK:g}"}.items()
    }
    platform = _start(tmp_path / "platform", nats, fast)
    targets = {
        s.name: [s.metrics_url.removeprefix("http://").removesuffix("/metrics")]
        for s in platform.services
    }
    server = Prometheus(tmp_path / "alerting", targets, render_rules(tmp_path / "alerting", HOLD))
    try:
        eventually(server.ready, timeout=30)
        yield Alerted(nats, platform, server)
    finally:
        server.stop()
        platform.stop(grace=5)
        nats.stop()


def test_a_report_is_traced_from_its_request_to_the_score_it_changes(
    traced: Stack, collector: Collector
) -> None:
    platform = traced
    assign_m07(platform, "360104")
    trace_id = secrets.token_hex(16)
    posted = httpx.post(
        f"{platform.service('measures').url}/v1/units/360104/progress-reports",
        json=report("360104", "traced-1"),
        headers={**auth.headers(), "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert posted.status_code == 201, posted.text

    def recomputed() -> list[ReceivedSpan]:
        return [s for s in collector.linking_to(trace_id) if s.name == "recompute scorecard"]

    [recompute] = eventually(recomputed, timeout=30)
    announced = eventually(
        lambda: [
            s
            for s in collector.in_trace(recompute.trace_id)
            if s.name == "send fivetype.events.score_updated.{unit}"
        ],
        timeout=15,
    )
    assert announced
    spans = collector.in_trace(trace_id)
    names = {(s.service, s.name) for s in spans}
    assert ("fivetype-measures", "POST /v1/units/{unit}/progress-reports") in names
    assert ("fivetype-scoring", "process fivetype.events.progress_reported.{unit}") in names
    assert any("db.statement" in s.attributes or "db.query.text" in s.attributes for s in spans)
    # probes and scrapes make no trace
    assert not [s for s in collector.spans if s.name.startswith("GET /readyz")]


def test_a_healthy_stack_raises_no_alert_then_each_fault_raises_its_own(
    alerted: Alerted,
) -> None:
    platform, nats, prometheus = alerted.platform, alerted.nats, alerted.prometheus
    # Healthy: every task has succeeded at least once, then a quiet window long enough for a
    # stale task or any other rule to pass its `for:`.
    tasks = "fivetype_task_interval_seconds unless on (service, task) "
    tasks += "fivetype_task_last_success_timestamp_seconds"
    eventually(lambda: len(prometheus.query('up{job=~"fivetype-.*"} == 1')) == 4, timeout=30)
    eventually(lambda: not prometheus.query(tasks), timeout=30)
    quiet_from = time.monotonic()
    eventually(lambda: time.monotonic() - quiet_from > QUIET_SECONDS, timeout=QUIET_SECONDS + 5)
    seen = prometheus.query(f"max_over_time(ALERTS[{int(QUIET_SECONDS)}s])")
    assert [r["metric"] for r in seen] == []

    # A poison message, failing webhook deliveries and a killed service, all at once.
    busclient.publish(platform.nats_url, "fivetype.events.progress_reported.360102", b"{oops")
    fail_webhook_deliveries(platform)
    inspections = platform.service("inspections")
    assert inspections.process is not None
    inspections.process.send_signal(signal.SIGKILL)
    expected = {
        "FivetypeDeadLettersPresent",
        "FivetypeDeliveriesFailing",
        "FivetypeDeliveryCircuitOpen",
        "FivetypeServiceDown",
    }
    eventually(lambda: _firing(prometheus, expected), timeout=40, interval=0.5)
    [down] = prometheus.query('ALERTS{alertname="FivetypeServiceDown", alertstate="firing"}')
    assert down["metric"]["job"] == "fivetype-inspections"

    # NATS stopped: the API stays ready and takes a report, which waits in the stuck outbox.
    measures = httpx.Client(
        base_url=platform.service("measures").url, timeout=10, headers=auth.headers()
    )
    assign_m07(platform, "360103")
    nats.stop()
    eventually(lambda: measures.get("/readyz").json()["details"]["nats"] == "disconnected")
    assert measures.get("/readyz").status_code == 200
    posted = measures.post("/v1/units/360103/progress-reports", json=report("360103", "live-1"))
    assert posted.status_code == 201, posted.text
    stuck = {"FivetypeNatsDisconnected", "FivetypeOutboxBacklogAging"}
    eventually(lambda: _firing(prometheus, stuck), timeout=40, interval=0.5)
    [aging] = prometheus.query('ALERTS{alertname="FivetypeOutboxBacklogAging"}')
    assert aging["metric"]["service"] == "measures"


def _firing(prometheus: Prometheus, expected: set[str]) -> bool:
    missing = expected - prometheus.firing()
    assert not missing, f"not firing: {sorted(missing)}; all alerts: {prometheus.query('ALERTS')}"
    return True


def fail_webhook_deliveries(platform: Stack) -> None:
    """A unit contact whose webhook points at a port nobody listens on, and a finding for it."""
    notifications = httpx.Client(
        base_url=platform.service("notifications").url, timeout=10, headers=auth.headers()
    )
    hook = {"url": f"http://127.0.0.1:{free_port()}/hook", "secret": SECRET}
    body = {"role": "contact", "unit": "360102", "name": "单位360102联络员", "webhook": hook}
    eventually(
        lambda: notifications.put("/v1/recipients/360102:contact", json=body).status_code == 200,
        timeout=20,
    )
    for n in range(3):  # the breaker opens after two failures; more attempts, more failures
        event = wrap(finding("360102", f"LIVE-F{n}"), subject="360102", source="inspections")
        busclient.publish(
            platform.nats_url,
            subjects.event(event.type, event.subject),
            event.model_dump(mode="json", exclude_none=True),
        )


def test_the_rules_under_test_are_the_shipped_ones(tmp_path: Path) -> None:
    """Rendering changes only `for:`: the expressions Prometheus evaluates above are shipped."""
    for rendered in render_rules(tmp_path, HOLD):
        shipped = yaml.safe_load((RULES / rendered.name).read_text(encoding="utf-8"))
        ours = yaml.safe_load(rendered.read_text(encoding="utf-8"))
        for theirs, mine in zip(shipped["groups"], ours["groups"], strict=True):
            for a, b in zip(theirs["rules"], mine["rules"], strict=True):
                assert {k: v for k, v in a.items() if k != "for"} == {
                    k: v for k, v in b.items() if k != "for"
                }
