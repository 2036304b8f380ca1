"""A real Prometheus scrapes every service of a running platform: every query of the dashboards
returns data, every metric the alert rules use exists, and the metrics follow the conventions
(one prefix, units in names, `_total` counters, bounded labels with no ids or subjects)."""

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from contracts import subjects
from fivetype.ports import free_port
from fivetype.stack import ServiceProcess, Stack
from tests import auth, busclient
from tests.conftest import Databases, eventually, require_tool, start_nats, start_platform
from tests.e2e.test_progress_flow import assign_m07, report
from tests.integration.test_inspections_service import INSPECTOR, inspection
from tests.observability.prometheus import Prometheus
from tests.observability.test_live_alerts import fail_webhook_deliveries
from tests.unit.scoring.events import missed

DEPLOY = Path(__file__).parents[2] / "deploy" / "k8s"
REPLICAS: dict[str, ServiceProcess] = {}  # a second process of a service, by service name
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("observed")
    nats = start_nats(directory)
    fast = {
        f"FIVETYPE_{s}_METRICS_SAMPLE_SECONDS": "1"
        for s in ("MEASURES", "INSPECTIONS", "SCORING", "NOTIFICATIONS")
    }
    fast["FIVETYPE_NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "true"  # a failing local hook
    stack = start_platform(directory, nats.url, Databases("sqlite", directory, None), fast)
    replica = REPLICAS["measures"] = _second_replica(stack.service("measures"))
    try:
        replica.start()
        Stack.wait_ready([replica])
        yield stack
    finally:
        replica.terminate()
        replica.wait(5)
        stack.stop(grace=5)
        nats.stop()


def _second_replica(first: ServiceProcess) -> ServiceProcess:
    """Another process of the service on the same database, as a second pod would be."""
    port, metrics_port = free_port(), free_port()
    prefix = f"FIVETYPE_{first.name.upper()}_"
    env = {**first.env, f"{prefix}HTTP_PORT": str(port), f"{prefix}METRICS_PORT": str(metrics_port)}
    log_file = first.log_file.with_name(f"{first.name}-2.log")
    return ServiceProcess(first.name, port, metrics_port, log_file, env)


def _address(service: ServiceProcess) -> str:
    return service.metrics_url.removeprefix("http://").removesuffix("/metrics")


@pytest.fixture(scope="module")
def prometheus(platform: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    require_tool("prometheus")
    targets = {s.name: [_address(s)] for s in platform.services}
    targets["measures"].append(_address(REPLICAS["measures"]))
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), targets)
    try:
        eventually(server.ready, timeout=30)
        eventually(lambda: len(server.query('up{job=~"fivetype-.*"} == 1')) == 5, timeout=30)
        _make_activity(platform)  # after the first scrapes, so rates see the counters move
        eventually(lambda: server.query("fivetype_dead_letter_messages > 0"), timeout=30)
        eventually(lambda: server.query("fivetype_findings > 0"), timeout=30)
        eventually(lambda: server.query("fivetype_unit_score"), timeout=60)
        eventually(
            lambda: server.query("fivetype_notification_delivery_attempts_total"), timeout=30
        )
        eventually(
            lambda: server.query("rate(fivetype_outbox_published_total[5m]) > 0"), timeout=30
        )
        yield server
    finally:
        server.stop()


def _make_activity(platform: Stack) -> None:
    """A report flowing through, a refusal, and a poison message for the dead-letter panels."""
    measures = platform.service("measures").url
    assign_m07(platform, "360102")
    assert (
        httpx.post(
            f"{measures}/v1/units/360102/progress-reports",
            json=report("360102", "observed-1"),
            headers=auth.headers(),
        ).status_code
        == 201
    )
    httpx.post(
        f"{measures}/v1/units/360102/progress-reports", json={"bad": "body"}, headers=auth.headers()
    )
    busclient.publish(platform.nats_url, "fivetype.events.progress_reported.360102", b"{oops")
    # a settled task, so that the unit earns a score (a unit with nothing assessable has none)
    overdue = missed(
        "360102", "OBS-A/m1", date(2026, 3, 12), assignment_id="OBS-A", milestone_id="m1"
    )
    busclient.publish(
        platform.nats_url,
        subjects.event(overdue.type, overdue.subject),
        overdue.model_dump(mode="json", exclude_none=True),
    )
    inspections = platform.service("inspections").url
    filed = httpx.post(
        f"{inspections}/v1/inspections", json=inspection("OBS-1"), headers=auth.headers()
    )
    assert filed.status_code == 201, filed.text
    raised = httpx.post(
        f"{inspections}/v1/inspections/OBS-1/findings", json=FINDING, headers=auth.headers()
    )
    assert raised.status_code == 201, raised.text
    fail_webhook_deliveries(platform)  # for the delivery panels and alerts


FINDING = {
    "finding_id": "OBS-F1",
    "actor": INSPECTOR,
    "unit": "360102",
    "severity": "serious",
    "category": {"measure_code": "M12"},
    "title": "窗口排队超过一小时",
    "description": "暗访发现排队超过一小时。",
    "due_date": "2099-12-31",
    "evidence": [],
}


def dashboard_queries(dashboard: str = "*") -> list[tuple[str, str]]:
    queries = []
    for path in sorted((DEPLOY / "dashboards").glob(f"{dashboard}.json")):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            for target in panel.get("targets", []):
                expr = re.sub(r"\$\w+", ".*", target["expr"])  # every variable at "All"
                queries.append((f"{path.stem}: {panel['title']}", expr))
    return queries


@pytest.mark.parametrize("dashboard", ["operations", "programme"])
def test_every_dashboard_query_returns_data(prometheus: Prometheus, dashboard: str) -> None:
    queries = dashboard_queries(dashboard)
    assert len(queries) >= 5

    def every_query_answers() -> bool:  # a scrape that timed out leaves a gap, not a failure
        empty = [title for title, expr in queries if not prometheus.query(expr)]
        assert empty == []
        return True

    eventually(every_query_answers, timeout=30)


def test_programme_figures_do_not_multiply_with_replicas(
    platform: Stack, prometheus: Prometheus
) -> None:
    """Two measures processes on one database export the same milestone gauges: each panel
    reads what one replica alone would give."""
    one = _address(platform.service("measures"))
    queries = [(t, e) for t, e in dashboard_queries("programme") if "fivetype_milestones" in e]
    assert len(queries) >= 3
    eventually(lambda: len(prometheus.query("count by (instance) (fivetype_milestones)")) == 2)
    for title, expr in queries:
        alone = expr.replace("fivetype_milestones{", f'fivetype_milestones{{instance="{one}",')
        both = {_key(r): r["value"][1] for r in prometheus.query(expr)}
        assert both, title
        assert both == {_key(r): r["value"][1] for r in prometheus.query(alone)}, title


def _key(result: dict[str, Any]) -> str:
    return json.dumps(result["metric"], sort_keys=True)


def test_every_metric_of_the_alert_rules_exists(prometheus: Prometheus) -> None:
    used = set()
    for path in (DEPLOY / "rules").glob("*.yaml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                used |= set(re.findall(r"\b(fivetype_[a-z_]+|up)\b", rule["expr"]))
    assert "fivetype_outbox_oldest_age_seconds" in used

    def every_metric_exists() -> bool:  # a scrape that timed out leaves a gap, not a failure
        missing = [name for name in sorted(used) if not prometheus.query(name)]
        assert missing == []
        return True

    eventually(every_metric_exists, timeout=30)


def test_metric_names_and_labels_follow_the_conventions(platform: Stack) -> None:
    problems = []
    for service in platform.services:
        text = httpx.get(service.metrics_url).text
        for family in text_string_to_metric_families(text):
            if not family.name.startswith("fivetype_"):
                continue  # the client library's process_ and python_ collectors
            problems += _check_family(service.name, family)
    assert problems == []


def _check_family(service: str, family: Any) -> list[str]:
    problems = []
    where = f"{service}: {family.name}"
    if not family.documentation:
        problems.append(f"{where} has no help text")
    if family.type == "counter" and not all(s.name.endswith("_total") for s in family.samples):
        problems.append(f"{where} is a counter without _total")
    if family.type == "histogram" and not family.name.endswith(("_seconds", "_bytes")):
        problems.append(f"{where} is a histogram without a base unit")
    if "timestamp" in family.name and not family.name.endswith("_seconds"):
        problems.append(f"{where} is a time without _seconds")
    if len(family.samples) > 2000:
        problems.append(f"{where} has {len(family.samples)} series: unbounded labels?")
    for sample in family.samples:
        for label, value in sample.labels.items():
            if UUID.search(value) or value.startswith("fivetype."):
                problems.append(f"{where} label {label}={value!r} is an id or a subject")
    return problems
