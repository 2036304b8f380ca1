"""The inspections service as a child process on a real nats-server and database (SQLite, and
PostgreSQL when reachable): inspections filed and read over HTTP with InspectionFiled on
JetStream; public requests ingested over NATS and HTTP, refused ones answered with reason codes;
the monthly indicators published for scoring once a month has ended, and revised when a late
step changes them; units and catalogues published by the measures service replicated.
`InspectionsProcess` is also how the end-to-end tests start the service."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from contracts import streams, subjects
from contracts.envelope import decode, fact_id, wrap
from contracts.inspections import (
    InspectionFiled,
    PublicRequestClosed,
    PublicServiceIndicators,
    ReportPublicRequest,
)
from contracts.measures import (
    CatalogueMeasure,
    CataloguePublished,
    CatalogueType,
    DeadlineMissed,
    UnitRegistered,
)
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.inspections.domain.reference import DEFAULT_CATALOGUE_PATH
from services.runtime.clock import FileClock
from tests import auth, busclient
from tests.conftest import Databases, eventually, start_nats
from tests.security.test_audit import entries

REPO = Path(__file__).resolve().parents[2]
INSPECTOR = {"role": "inspector", "id": "insp-007", "name": "王敏"}
REFUSED_UNIT = "360111"
UNIT, OTHER = "360102", "360103"
CHANNEL = {"role": "channel", "id": "12345-center", "name": "12345热线"}


def beijing(text: str) -> str:
    return f"2026-{text}:00+08:00"


@dataclass
class InspectionsProcess:
    """One inspections service process; several may share a database and a clock file."""

    nats_url: str
    database_url: str
    directory: Path
    clock: FileClock
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / f"inspections-{self.port}.log"

    def env(self) -> dict[str, str]:
        settings = {
            "NATS_URL": self.nats_url,
            "DATA_DIR": str(self.directory),
            "DATABASE_URL": self.database_url,
            "HTTP_PORT": str(self.port),
            "METRICS_PORT": str(self.metrics_port),
            "CLOCK_FILE": str(self.clock.path),
            "DEADLINE_SWEEP_SECONDS": "0.2",
            "INDICATORS_PUBLISH_SECONDS": "0.2",
            "REFERENCE_REFRESH_SECONDS": "0.2",
            "CONSUMER_BATCH_TIMEOUT_SECONDS": "0.05",
            "RETRY_BASE_DELAY_SECONDS": "0.1",
            "OUTBOX_POLL_SECONDS": "0.2",
            "SHUTDOWN_GRACE_SECONDS": "5",
            "LOG_FORMAT": "console",
        }
        return {**os.environ, **{f"FIVETYPE_INSPECTIONS_{k}": v for k, v in settings.items()}}

    def start(self) -> "InspectionsProcess":
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.inspections"],
                cwd=REPO,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            eventually(self._ready, timeout=30)
        except AssertionError as exc:
            self.stop()
            log = self.log.read_text(errors="replace")[-4000:]
            raise AssertionError(f"inspections not ready: {exc}\n{log}") from None
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the service exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """SIGTERM: a graceful stop within the shutdown grace; SIGKILL if it hangs beyond."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """A crash: no shutdown at all."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def client(self, language: str = "zh") -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=10, headers={"Accept-Language": language} | auth.headers()
        )


@dataclass
class Platform:
    """A nats-server, a database and a shared clock file for inspections processes."""

    nats: NatsServer
    databases: Databases
    directory: Path
    database_url: str = ""

    def __post_init__(self) -> None:
        self.database_url = self.databases.url("inspections")
        self.clock = FileClock(self.directory / "clock")

    def process(self) -> InspectionsProcess:
        return InspectionsProcess(self.nats.url, self.database_url, self.directory, self.clock)


def inspections_platform(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """Body of a module-scoped `platform` fixture: `platform = module_fixture(...)`."""
    directory = tmp_path_factory.mktemp("inspections")
    nats = start_nats(directory)
    yield Platform(nats, module_databases, directory)
    nats.stop()


platform = pytest.fixture(scope="module", name="platform")(inspections_platform)


MARCH_11 = beijing("03-11 18:00")


@pytest.fixture(scope="module")
def running(platform: Platform) -> Iterator[InspectionsProcess]:
    platform.clock.set(datetime.fromisoformat(MARCH_11))
    process = platform.process().start()
    yield process
    process.stop()


@pytest.fixture
def service(running: InspectionsProcess, platform: Platform) -> InspectionsProcess:
    """The module's process with its clock at 11 March 18:00, whatever an earlier test did to it
    (the indicators test moves it into April)."""
    platform.clock.set(datetime.fromisoformat(MARCH_11))
    return running


def inspection(inspection_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id,
        "actor": INSPECTOR,
        "kind": "special",
        "method": "unannounced",
        "title": "营商环境专项督查",
        "inspector": "市五型办督查组",
        "inspected_on": "2026-03-01",
        "target_units": ["360102", "dept-fgw"],
        "measure_codes": ["M12"],
        "evidence": [{"uri": "s3://evidence/visit.pdf", "sha256": "a" * 64}],
    } | changes


def filed_on_bus(nats_url: str) -> list[Any]:
    found = busclient.read(nats_url, subjects.event(InspectionFiled.NAME), streams.EVENTS.name)
    return [(m, decode(m.data, InspectionFiled, arrived_on=m.subject)) for m in found]


def test_filing_an_inspection(service: InspectionsProcess, platform: Platform) -> None:
    filing = inspection("2026-ZX-0001")
    with service.client() as http:
        created = http.post("/v1/inspections", json=filing)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/v1/inspections/2026-ZX-0001"
        assert created.json()["kind_name"] == "专项督查"
        assert created.json()["method_name"] == "四不两直"

        retried = http.post("/v1/inspections", json=filing)
        assert retried.status_code == 200
        assert retried.json() == created.json()

        colleague = {"role": "inspector", "id": "insp-008", "name": "李娜"}
        assert http.post("/v1/inspections", json=filing | {"actor": colleague}).status_code == 200

        changed = http.post("/v1/inspections", json=filing | {"title": "另一次督查"})
        assert changed.status_code == 409
        assert changed.json()["code"] == "duplicate_conflict"
        assert changed.json()["title"] == "该编号已被使用，且内容不同"

        # Refused filings target another unit, so their absence on the bus can be checked too.
        future = "2026-03-13"  # the service's clock says 11 March
        refusals: dict[str, tuple[int, dict[str, Any]]] = {
            "inspected_in_future": (422, {"inspected_on": future}),
            "validation_failed": (422, {"kind": "audit"}),
            "duplicate_target_units": (422, {"target_units": [REFUSED_UNIT] * 2}),
            "unknown_unit": (422, {"target_units": [REFUSED_UNIT, "360199"]}),
            "unknown_measure": (422, {"measure_codes": ["M99"]}),
            "actor_not_permitted": (
                403,
                {"actor": {"role": "unit", "id": "u-1", "name": "x", "unit": REFUSED_UNIT}},
            ),
        }
        for number, (code, (status, changes)) in enumerate(refusals.items(), start=2):
            body = inspection(
                f"2026-ZX-{number:04}", **({"target_units": [REFUSED_UNIT]} | changes)
            )
            answer = http.post("/v1/inspections", json=body, headers={"Accept-Language": "en"})
            assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
            assert answer.json()["title"].isascii()
            assert answer.headers["content-type"] == "application/problem+json"
            assert http.get(f"/v1/inspections/2026-ZX-{number:04}").status_code == 404

    def both_filed() -> list[Any]:
        mine = [
            (m, e)
            for m, e in filed_on_bus(platform.nats.url)
            if e.data.inspection_id == "2026-ZX-0001"
        ]
        return mine if len(mine) == 2 else []

    mine = eventually(both_filed)
    assert sorted(e.id for _, e in mine) == sorted(
        fact_id("InspectionFiled", "2026-ZX-0001", unit) for unit in filing["target_units"]
    )
    for message, envelope in mine:
        assert message.subject == subjects.event("InspectionFiled", envelope.subject)
        assert message.headers and message.headers["Nats-Msg-Id"] == envelope.id
        assert envelope.source == "fivetype/inspections"
        assert envelope.data.target_units == filing["target_units"]
    assert REFUSED_UNIT not in {e.subject for _, e in filed_on_bus(platform.nats.url)}


def test_reading_inspections(service: InspectionsProcess) -> None:
    with service.client() as http:
        for number, units in [(1, ["360121"]), (2, ["360121", "360123"])]:
            filing = inspection(f"2026-RC-000{number}", target_units=units, kind="routine")
            assert http.post("/v1/inspections", json=filing).status_code == 201

        found = http.get("/v1/inspections/2026-RC-0002")
        assert found.status_code == 200
        assert found.json()["target_units"] == ["360121", "360123"]
        assert found.json()["kind_name"] == "日常督办"
        assert found.json()["filed_at"].endswith("Z")

        missing = http.get("/v1/inspections/2026-RC-9999")
        assert (missing.status_code, missing.json()["code"]) == (404, "unknown_inspection")

        def listed(**params: Any) -> list[str]:
            page = http.get("/v1/inspections", params=params)
            assert page.status_code == 200, page.text
            return [item["inspection_id"] for item in page.json()]

        assert listed(unit="360121") == ["2026-RC-0002", "2026-RC-0001"]
        assert listed(unit="360123") == ["2026-RC-0002"]
        assert listed(unit="360121", limit=1, offset=1) == ["2026-RC-0001"]
        assert listed(unit="360199") == []
        assert http.get("/v1/inspections", params={"unit": "东湖区"}).status_code == 422


def command(unit: str, request_id: str, step: dict[str, Any]) -> dict[str, Any]:
    data = ReportPublicRequest.model_validate(
        {"request_id": request_id, "unit": unit, "step": step}
    )
    envelope = wrap(data, subject=unit, source="channel/12345")
    return envelope.model_dump(mode="json", exclude_none=True)


def received(at: str, due: str, **changes: Any) -> dict[str, Any]:
    return {
        "step": "received",
        "channel": "hotline_12345",
        "title": "小区路灯不亮",
        "received_at": beijing(at),
        "due_at": beijing(due),
    } | changes


def publish(platform: Platform, unit: str, payload: dict[str, Any] | bytes) -> None:
    subject = subjects.intake(ReportPublicRequest.NAME, unit)
    busclient.publish(platform.nats.url, subject, payload)


def rejections(platform: Platform, unit: str) -> list[dict[str, Any]]:
    found = busclient.read(platform.nats.url, subjects.rejection(unit), streams.REJECTIONS.name)
    return [busclient.data_of(m)["data"] for m in found]


def get(service: InspectionsProcess, path: str, **params: Any) -> Any:
    with service.client() as http:
        answer = http.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


def test_steps_over_nats_and_refusals_answered(
    service: InspectionsProcess, platform: Platform
) -> None:
    good = [
        command(UNIT, "R-1", received("03-09 09:00", "03-12 09:00")),
        command(UNIT, "R-1", {"step": "closed", "closed_at": beijing("03-11 10:00")}),
        command(UNIT, "R-1", {"step": "rated", "rated_at": beijing("03-11 16:00"), "rating": 5}),
        command(UNIT, "R-2", received("03-10 09:00", "03-13 09:00", repeat_of="R-1")),
        command(UNIT, "R-1", received("03-09 09:00", "03-12 09:00")),  # sent again: harmless
    ]
    bad_rating = command(UNIT, "R-1", {"step": "closed", "closed_at": beijing("03-11 10:00")})
    bad_rating["data"]["step"] = {"step": "rated", "rated_at": beijing("03-11 17:00"), "rating": 9}
    refused = {
        "schema_violation": bad_rating,
        "unknown_public_request": command(
            UNIT, "R-9", {"step": "closed", "closed_at": beijing("03-04 10:00")}
        ),
        "invalid_transition": command(
            UNIT, "R-2", {"step": "rated", "rated_at": beijing("03-11 10:00"), "rating": 4}
        ),
        "deadline_not_after_start": command(UNIT, "R-3", received("03-10 09:00", "03-10 09:00")),
        "duplicate_conflict": command(UNIT, "R-1", received("03-09 09:00", "03-13 09:00")),
        "unit_mismatch": command(OTHER, "R-4", received("03-10 09:00", "03-12 09:00")),
    }
    for payload in good[:4]:
        publish(platform, UNIT, payload)
    for payload in [*refused.values(), good[4]]:
        publish(platform, UNIT, payload)

    answers = eventually(
        lambda: len(rejections(platform, UNIT)) >= 6 and rejections(platform, UNIT)
    )
    by_reason = {a["reason"]: a for a in answers}
    assert set(by_reason) == set(refused)
    for reason, payload in refused.items():
        assert by_reason[reason]["command_id"] == payload["id"]
    assert by_reason["unknown_public_request"]["reference"] == "R-9"
    assert by_reason["unknown_public_request"]["message_zh"].startswith("诉求工单不存在")
    assert by_reason["schema_violation"]["errors"][0]["loc"].startswith("data.step")
    assert "应不大于 5" in by_reason["schema_violation"]["message_zh"]

    one = get(service, "/v1/public-requests/R-1")
    assert (one["state"], one["latest_rating"], one["latest_rating_name"]) == (
        "closed",
        5,
        "非常满意",
    )
    assert (one["received_via"], one["closure_count"], one["channel_name"]) == (
        "nats",
        1,
        "12345政务服务便民热线",
    )
    two = eventually(lambda: get(service, "/v1/public-requests", unit=UNIT, state="open"))
    assert [r["request_id"] for r in two] == ["R-2"]
    assert two[0]["repeat_of"] == "R-1" and not two[0]["overdue"]
    # Each step received over NATS is in the audit trail, as an HTTP request would be.
    journaled = json.dumps([e["details"] for e in entries(service.database_url)])
    assert all(payload["id"] in journaled for payload in good[:4])
    assert {e["role"] for e in entries(service.database_url)} >= {"channel"}
    with service.client() as http:
        assert http.get("/v1/public-requests/R-3").json()["code"] == "unknown_public_request"
    journal = get(service, "/v1/journal", entity_type="public_request", entity_id="R-1")
    assert [e["action"] for e in journal] == ["received", "closed", "rated"]
    assert journal[1]["actor_role"] == "channel" and journal[1]["actor_id"] == "channel/12345"


def test_steps_over_http_and_who_may_report_them(
    service: InspectionsProcess, platform: Platform
) -> None:
    url = f"/v1/units/{OTHER}/public-requests/H-1/steps"
    own_unit = {"role": "unit", "id": "staff-1", "name": "联络员", "unit": OTHER}
    with service.client("en") as http:
        first = {"actor": CHANNEL, "step": received("03-03 09:00", "03-06 09:00")}
        created = http.post(url, json=first)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/v1/public-requests/H-1"
        assert http.post(url, json=first).status_code == 200

        close = {"step": "closed", "closed_at": beijing("03-07 09:00")}  # late
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"actor": {**own_unit, "unit": UNIT}, "step": close}, 403, "not_responsible_unit"),
            (
                {"actor": {"role": "inspector", "id": "i", "name": "督查"}, "step": close},
                403,
                "actor_not_permitted",
            ),
            (
                {
                    "actor": CHANNEL,
                    "step": {"step": "rated", "rated_at": beijing("03-07 10:00"), "rating": 0},
                },
                422,
                "validation_failed",
            ),
            (
                {
                    "actor": CHANNEL,
                    "step": {
                        "step": "reopened",
                        "reopened_at": beijing("03-07 10:00"),
                        "due_at": beijing("03-09 10:00"),
                    },
                },
                409,
                "invalid_transition",
            ),
        ]
        for body, status, code in cases:
            answer = http.post(url, json=body)
            assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
        unknown = http.post(
            "/v1/units/360199/public-requests/H-2/steps",
            json={"actor": CHANNEL, "step": received("03-03 09:00", "03-06 09:00")},
        )
        assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_unit")

        closed = http.post(url, json={"actor": own_unit, "step": close})
        assert closed.status_code == 200 and closed.json()["state"] == "closed"
        rated = {"step": "rated", "rated_at": beijing("03-08 09:00"), "rating": 2}
        assert http.post(url, json={"actor": CHANNEL, "step": rated}).status_code == 200
        reopened = {
            "step": "reopened",
            "reopened_at": beijing("03-09 09:00"),
            "due_at": beijing("03-11 09:00"),
        }
        answer = http.post(url, json={"actor": CHANNEL, "step": reopened})
        assert answer.json()["state"] == "reopened" and answer.json()["reopen_count"] == 1
        close_again = {"step": "closed", "closed_at": beijing("03-10 09:00")}
        assert http.post(url, json={"actor": own_unit, "step": close_again}).status_code == 200
    # Each closure tells notifications, late or not: the 工单 leaves the escalation ladder.
    eventually(lambda: len(closures_on_bus(platform, OTHER)) == 2)
    closures = closures_on_bus(platform, OTHER)
    assert [(c.request_id, c.due_date.day, c.on_time, c.working_days_late) for c in closures] == [
        ("H-1", 6, False, 0),  # due Friday 6 March, closed on the Saturday: late, 0 working days
        ("H-1", 11, True, 0),
    ]


def closures_on_bus(platform: Platform, unit: str) -> list[PublicRequestClosed]:
    subject = subjects.event(PublicRequestClosed.NAME, unit)
    found = busclient.read(platform.nats.url, subject, streams.EVENTS.name)
    return [decode(m.data, PublicRequestClosed, arrived_on=m.subject).data for m in found]


def indicators_on_bus(platform: Platform) -> list[PublicServiceIndicators]:
    found = busclient.read(
        platform.nats.url, subjects.event(PublicServiceIndicators.NAME), streams.EVENTS.name
    )
    return [decode(m.data, PublicServiceIndicators, arrived_on=m.subject).data for m in found]


def report_steps(
    service: InspectionsProcess, unit: str, request_id: str, *steps: dict[str, Any]
) -> None:
    """Report each step of a public request over HTTP, as the 12345 channel."""
    url = f"/v1/units/{unit}/public-requests/{request_id}/steps"
    with service.client() as http:
        for step in steps:
            answer = http.post(url, json={"actor": CHANNEL, "step": step})
            assert answer.status_code in (200, 201), answer.text


def test_indicators_are_computed_and_published_after_the_month(
    service: InspectionsProcess, platform: Platform
) -> None:
    # Units and requests of this test alone (other tests' March counts in theirs).
    unit, other, quiet = "360112", "360113", "360124"
    # By hand, March for 360112: I-1 received 9 Mar, due 12 Mar, closed 11 Mar, rated 5;
    # I-2 received 10 Mar repeating I-1, due 13 Mar, open.
    report_steps(
        service,
        unit,
        "I-1",
        received("03-09 09:00", "03-12 09:00"),
        {"step": "closed", "closed_at": beijing("03-11 10:00")},
        {"step": "rated", "rated_at": beijing("03-11 16:00"), "rating": 5},
    )
    report_steps(service, unit, "I-2", received("03-10 09:00", "03-13 09:00", repeat_of="I-1"))
    # 360113: J-1 due 6 Mar, first closed 7 Mar (late), rated 2, reopened, closed again.
    report_steps(
        service,
        other,
        "J-1",
        received("03-03 09:00", "03-06 09:00"),
        {"step": "closed", "closed_at": beijing("03-07 09:00")},
        {"step": "rated", "rated_at": beijing("03-08 09:00"), "rating": 2},
        {
            "step": "reopened",
            "reopened_at": beijing("03-09 09:00"),
            "due_at": beijing("03-11 09:00"),
        },
        {"step": "closed", "closed_at": beijing("03-10 09:00")},
    )

    live = get(service, f"/v1/units/{unit}/indicators", period="2026-03")
    assert {k: live[k] for k in ("received", "repeat_received", "due", "closed_on_time")} == {
        "received": 2,
        "repeat_received": 1,
        "due": 2,
        "closed_on_time": 1,
    }
    assert (live["on_time_closure_rate"], live["satisfaction_rate"]) == (50.0, 100.0)
    assert (live["repeat_complaint_rate"], live["reopen_rate"]) == (50.0, 0.0)
    assert live["published_revision"] == 0  # March has not ended
    late = get(service, f"/v1/units/{other}/indicators", period="2026-03")
    assert (late["due"], late["closed_on_time"], late["closures"], late["reopens"]) == (1, 0, 2, 1)
    assert (late["on_time_closure_rate"], late["satisfaction_rate"], late["reopen_rate"]) == (
        0.0,
        0.0,
        50.0,
    )
    assert indicators_on_bus(platform) == []  # no test moves the clock past March but this one

    platform.clock.set(datetime.fromisoformat(beijing("04-02 06:00")))  # 30 h after March
    ranked = {u["unit"] for u in get(service, "/v1/indicators", period="2026-03")}
    assert {unit, other, quiet} <= ranked

    def march() -> list[PublicServiceIndicators]:
        return [e for e in indicators_on_bus(platform) if e.period == "2026-03"]

    events = eventually(lambda: len(march()) >= len(ranked) and march())
    assert {e.unit for e in events} == ranked and len(events) == len(ranked)
    mine = next(e for e in events if e.unit == unit)
    assert (mine.period, mine.revision, mine.unit_name) == ("2026-03", 1, "新建区")
    assert (mine.due, mine.closed_on_time, mine.on_time_closure_rate) == (2, 1, 50.0)
    theirs = next(e for e in events if e.unit == other)
    assert (theirs.revision, theirs.closures, theirs.reopens, theirs.reopen_rate) == (1, 2, 1, 50.0)
    silent = next(e for e in events if e.unit == quiet)
    assert (silent.received, silent.on_time_closure_rate, silent.satisfaction_rate) == (
        0,
        None,
        None,
    )

    def request_missed() -> list[Any]:
        missed = busclient.read(
            platform.nats.url, subjects.event(DeadlineMissed.NAME, unit), streams.EVENTS.name
        )
        return [m for m in missed if decode(m.data, DeadlineMissed).data.item_id == "I-2"]

    assert [m.headers["Nats-Msg-Id"] for m in eventually(request_missed)] == [
        fact_id("DeadlineMissed", "public_request", "I-2", "2026-03-13")
    ]

    # A closure dated in March arrives late: March is revised for that unit alone.
    publish(
        platform,
        unit,
        command(unit, "I-2", {"step": "closed", "closed_at": beijing("03-31 20:00")}),
    )
    revised = eventually(lambda: [e for e in march() if e.unit == unit and e.revision == 2])
    assert (revised[0].closures, revised[0].closed_on_time, revised[0].reopen_rate) == (2, 1, 0.0)
    assert len(march()) == len(ranked) + 1
    assert get(service, f"/v1/units/{unit}/indicators", period="2026-03")["published_revision"] == 2
    with httpx.Client(base_url=service.url, headers=auth.headers()) as http:
        bad = http.get(f"/v1/units/{unit}/indicators", params={"period": "2026-13"})
        assert bad.status_code == 422


def reference_event(data: UnitRegistered | CataloguePublished, subject: str, at: str) -> bytes:
    envelope = wrap(
        data, subject=subject, source="fivetype/measures", time=datetime.fromisoformat(at)
    )
    return envelope.to_json()


def shipped_catalogue_with(extra: CatalogueMeasure) -> CataloguePublished:
    shipped = yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    return CataloguePublished(
        year=shipped["year"],
        version=f"{shipped['year']}.99",
        types=[
            CatalogueType(code=t["code"], name_zh=t["name_zh"], name_en=t["name_en"])
            for t in shipped["types"]
        ],
        measures=[
            CatalogueMeasure(
                code=m["code"],
                kind=m["kind"],
                type=m["type"],
                title_zh=m["title_zh"],
                title_en=m["title_en"],
            )
            for m in shipped["measures"]
        ]
        + [extra],
    )


def test_units_and_catalogues_published_by_measures_are_replicated(
    service: InspectionsProcess, platform: Platform
) -> None:
    # dept-mark is registered last: once it is known, every earlier registration was handled.
    filing = inspection(
        "2026-NEW-0001", target_units=["dept-new", "dept-mark"], measure_codes=["M19"]
    )
    with service.client() as http:
        assert http.post("/v1/inspections", json=filing).json()["code"] == "unknown_unit"

    def unit(code: str, name: str) -> UnitRegistered:
        return UnitRegistered(
            unit=code, name_zh=name, name_en="New Bureau", peer_group="department", is_office=False
        )

    extra = CatalogueMeasure(
        code="M19", kind="measure", type="service", title_zh="新增举措", title_en="A new measure"
    )
    events = [
        (subjects.event("UnitRegistered", "dept-new"), unit("dept-new", "市新设局"), "04-01 10:00"),
        (subjects.event("UnitRegistered", "dept-new"), unit("dept-new", "旧名称"), "03-01 10:00"),
        (
            subjects.event("UnitRegistered", "dept-mark"),
            unit("dept-mark", "市标记局"),
            "04-01 11:00",
        ),
        (
            subjects.event("CataloguePublished", "office"),
            shipped_catalogue_with(extra),
            "04-01 10:00",
        ),
    ]
    for subject, data, at in events:
        office = "office" if isinstance(data, CataloguePublished) else data.unit
        busclient.publish(platform.nats.url, subject, reference_event(data, office, beijing(at)))

    def accepted() -> bool:
        with service.client() as http:
            return http.post("/v1/inspections", json=filing).status_code == 201

    eventually(accepted)
    finding = {
        "finding_id": "F-NEW-1",
        "actor": INSPECTOR,
        "unit": "dept-new",
        "severity": "general",
        "category": {"measure_code": "M19"},
        "title": "新设单位问题",
        "due_date": "2026-04-30",  # the clock says 11 March
    }
    with service.client() as http:
        raised = http.post("/v1/inspections/2026-NEW-0001/findings", json=finding)
    assert raised.status_code == 201, raised.text
    # The older registration arrived later and changed nothing.
    assert (raised.json()["unit_name"], raised.json()["measure_title"]) == ("市新设局", "新增举措")
    assert raised.json()["measure_type_name"] == "服务型"
