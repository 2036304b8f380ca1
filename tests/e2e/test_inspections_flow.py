"""The inspections service end to end on a real nats-server, on SQLite and PostgreSQL: an item
walks from a complaint and an inspection to a finding, its rectification, close-out and
reopening, with each event on the bus; an overdue rectification emits DeadlineMissed exactly
once with two service instances on one database and across a restart; the ledger is exported;
a supervisor's suggestion is answered. Time is the service's controllable clock file."""

import csv
import io
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from contracts import streams, subjects
from contracts.envelope import Envelope, Message, decode, fact_id
from contracts.inspections import (
    AccountabilityRecorded,
    FindingRaised,
    InterviewRecorded,
    RectificationClosed,
    RectificationPlanFiled,
    RectificationReopened,
    RectificationReturned,
    RectificationSubmitted,
    SuggestionAnswered,
    SuggestionFiled,
    SupervisionListed,
)
from contracts.measures import DeadlineMissed
from contracts.registry import MESSAGES
from tests import busclient
from tests.conftest import Databases, eventually
from tests.integration.test_inspections_service import (
    InspectionsProcess,
    Platform,
    inspections_platform,
)

platform = pytest.fixture(scope="module", name="platform")(inspections_platform)
LAST_SUCCESS = "fivetype_task_last_success_timestamp_seconds{"

UNIT = "360102"
INSPECTOR = {"role": "inspector", "id": "insp-007", "name": "王敏"}
OFFICE = {"role": "office", "id": "office-01", "name": "刘洋"}
CHANNEL = {"role": "channel", "id": "12345-center", "name": "12345热线"}
EVIDENCE = [{"uri": "s3://evidence/after.jpg", "sha256": "d" * 64, "title": "整改后照片"}]
MODELS: dict[str, type[Message]] = {spec.name: spec.model for spec in MESSAGES}
RECTIFICATION_EVENTS = [
    m.NAME
    for m in (
        FindingRaised,
        RectificationSubmitted,
        RectificationReturned,
        RectificationClosed,
        RectificationReopened,
    )
]


def unit_actor(unit: str) -> dict[str, str]:
    return {"role": "unit", "id": f"staff-{unit}", "name": "整改联络员", "unit": unit}


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}:00+08:00")


@pytest.fixture(scope="module")
def service(platform: Platform) -> Iterator[InspectionsProcess]:
    platform.clock.set(beijing("03-02 09:00"))
    process = platform.process().start()
    yield process
    process.stop()


@pytest.fixture
def own_platform(
    module_databases: Databases, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """A nats-server and a database (on the module's backend) of one test's own."""
    databases = Databases(module_databases.backend, tmp_path, module_databases.admin_url)
    yield from inspections_platform(databases, tmp_path_factory)
    databases.drop_all()


@pytest.fixture
def reopened(own_platform: Platform) -> Iterator[tuple[Platform, InspectionsProcess]]:
    """A platform of the test's own on which F-100 (on I-100, citing R-100) was raised on 2
    March, rectified, closed and reopened on 12 March, due 15 March."""
    own_platform.clock.set(beijing("03-02 09:00"))
    process = own_platform.process().start()
    raise_and_reopen_f100(process, own_platform)
    yield own_platform, process
    process.stop()


@pytest.fixture
def overdue_ledger(reopened: tuple[Platform, InspectionsProcess]) -> InspectionsProcess:
    """Besides F-100, F-101 of the administrative approval bureau, due 16 March; on 17 March
    both deadlines have been missed."""
    platform, process = reopened
    f101 = {
        "finding_id": "F-101",
        "actor": INSPECTOR,
        "unit": "dept-xzspj",
        "severity": "minor",
        "category": {"type": "service"},
        "title": "办事指南未及时更新",
        "due_date": "2026-03-16",
    }
    call(process, "POST", "/v1/inspections/I-100/findings", 201, json=f101)
    platform.clock.set(beijing("03-17 09:00"))
    eventually(lambda: len(missed(platform)) == 2, timeout=20)
    return process


def raise_and_reopen_f100(process: InspectionsProcess, platform: Platform) -> None:
    """The shortest way to what the walk from a complaint to reopening leaves of F-100."""
    received = {
        "step": "received",
        "channel": "mayor_mailbox",
        "title": "政务大厅办事排长队",
        "received_at": "2026-03-01T10:00:00+08:00",
        "due_at": "2026-03-04T10:00:00+08:00",
    }
    steps = f"/v1/units/{UNIT}/public-requests/R-100/steps"
    call(process, "POST", steps, 201, json={"actor": CHANNEL, "step": received})
    inspection = {
        "inspection_id": "I-100",
        "actor": INSPECTOR,
        "kind": "clue",
        "method": "unannounced",
        "title": "政务服务线索核查",
        "inspector": "市五型办督查组",
        "inspected_on": "2026-03-02",
        "target_units": [UNIT, "dept-xzspj"],
        "measure_codes": ["M13"],
    }
    call(process, "POST", "/v1/inspections", 201, json=inspection)
    finding = {
        "finding_id": "F-100",
        "actor": INSPECTOR,
        "unit": UNIT,
        "severity": "serious",
        "category": {"measure_code": "M14"},
        "title": "窗口排队超过一小时",
        "description": "暗访发现上午排队超过一小时，叫号系统故障未修复。",
        "due_date": "2026-03-10",
        "clues": [{"kind": "public_request", "ref": "R-100"}],
        "evidence": EVIDENCE,
    }
    call(process, "POST", "/v1/inspections/I-100/findings", 201, json=finding)
    platform.clock.set(beijing("03-05 10:00"))
    submission = {"actor": unit_actor(UNIT), "summary": "已修复叫号系统并增开窗口"}
    call(
        process,
        "POST",
        "/v1/findings/F-100/submissions",
        200,
        json=submission | {"evidence": EVIDENCE},
    )
    call(
        process,
        "POST",
        "/v1/findings/F-100/close",
        200,
        json={"actor": INSPECTOR, "opinion": "复核通过", "approved_by": "市五型办主任 张伟"},
    )
    platform.clock.set(beijing("03-12 10:00"))
    reopen = {"actor": INSPECTOR, "reason": "群众再次反映", "due_date": "2026-03-15"}
    call(process, "POST", "/v1/findings/F-100/reopen", 200, json=reopen)


def call(process: InspectionsProcess, method: str, path: str, status: int, **kwargs: Any) -> Any:
    with process.client() as http:
        answer = http.request(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    return answer.json()


def refused(process: InspectionsProcess, path: str, body: dict[str, Any]) -> tuple[int, str]:
    with process.client() as http:
        answer = http.post(path, json=body)
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.status_code, answer.json()["code"]


def on_bus(platform: Platform, unit: str = "*", *names: str) -> list[Envelope[Any]]:
    """The events on the bus about `unit` (all units by default), of the types named (all
    by default), each decoded against its contract, in stream order."""
    subject = f"{subjects.EVENTS}.*.{unit}"
    envelopes = []
    for message in busclient.read(platform.nats.url, subject, streams.EVENTS.name):
        kind = busclient.data_of(message)["type"]
        if names and kind not in names:
            continue
        envelope = decode(message.data, MODELS[kind], arrived_on=message.subject)
        assert message.headers["Nats-Msg-Id"] == envelope.id
        envelopes.append(envelope)
    return envelopes


def rectification_events(
    platform: Platform, finding_id: str, unit: str = UNIT, *names: str
) -> list[Envelope[Any]]:
    found = on_bus(platform, unit, *(names or RECTIFICATION_EVENTS))
    return [e for e in found if e.data.finding_id == finding_id]


def test_an_item_from_complaint_to_close_out_and_reopening(
    service: InspectionsProcess, platform: Platform
) -> None:
    platform.clock.set(beijing("03-02 09:00"))
    complaint = {
        "actor": CHANNEL,
        "step": {
            "step": "received",
            "channel": "mayor_mailbox",
            "title": "政务大厅办事排长队",
            "received_at": "2026-03-01T10:00:00+08:00",
            "due_at": "2026-03-04T10:00:00+08:00",
        },
    }
    call(service, "POST", f"/v1/units/{UNIT}/public-requests/R-100/steps", 201, json=complaint)
    inspection = {
        "inspection_id": "I-100",
        "actor": INSPECTOR,
        "kind": "clue",
        "method": "unannounced",
        "title": "政务服务线索核查",
        "inspector": "市五型办督查组",
        "inspected_on": "2026-03-02",
        "target_units": [UNIT, "dept-xzspj"],
        "measure_codes": ["M13"],
    }
    call(service, "POST", "/v1/inspections", 201, json=inspection)

    finding = {
        "finding_id": "F-100",
        "actor": INSPECTOR,
        "unit": UNIT,
        "severity": "serious",
        "category": {"measure_code": "M14"},
        "title": "窗口排队超过一小时",
        "description": "暗访发现上午排队超过一小时，叫号系统故障未修复。",
        "due_date": "2026-03-10",
        "clues": [{"kind": "public_request", "ref": "R-100"}],
        "evidence": EVIDENCE,
    }
    findings_url = "/v1/inspections/I-100/findings"
    assert refused(
        service, findings_url, finding | {"clues": [{"kind": "public_request", "ref": "R-404"}]}
    ) == (422, "unknown_clue")
    assert refused(service, findings_url, finding | {"unit": "360103"}) == (
        422,
        "unit_not_inspected",
    )
    assert refused(service, findings_url, finding | {"actor": OFFICE}) == (
        403,
        "actor_not_permitted",
    )
    assert refused(service, "/v1/inspections/I-404/findings", finding) == (
        404,
        "unknown_inspection",
    )
    raised = call(service, "POST", findings_url, 201, json=finding)
    assert (raised["state"], raised["measure_type"], raised["severity_name"]) == (
        "open",
        "service",
        "较重",
    )
    assert call(service, "POST", findings_url, 200, json=finding)["version"] == raised["version"]
    assert refused(service, findings_url, finding | {"title": "另一个问题"}) == (
        409,
        "duplicate_conflict",
    )

    item = "/v1/findings/F-100"
    submission = {
        "actor": unit_actor(UNIT),
        "summary": "已修复叫号系统并增开窗口",
        "evidence": EVIDENCE,
    }
    assert refused(service, f"{item}/close", {"actor": INSPECTOR}) == (409, "invalid_transition")
    reopen = {"actor": INSPECTOR, "reason": "群众再次反映", "due_date": "2026-03-15"}
    assert refused(service, f"{item}/reopen", reopen) == (409, "invalid_transition")
    assert refused(
        service, f"{item}/submissions", submission | {"actor": unit_actor("360103")}
    ) == (403, "not_responsible_unit")
    assert refused(service, f"{item}/submissions", submission | {"actor": INSPECTOR}) == (
        403,
        "actor_not_permitted",
    )

    platform.clock.set(beijing("03-05 10:00"))
    first = call(service, "POST", f"{item}/submissions", 200, json=submission)
    # The same submission again (its answer lost on the way) is the item as it is, nothing
    # submitted twice; another one while it awaits 验收 is refused.
    assert call(service, "POST", f"{item}/submissions", 200, json=submission) == first
    other = submission | {"summary": "另行报送的整改情况"}
    assert refused(service, f"{item}/submissions", other) == (409, "invalid_transition")
    send_back = {"actor": INSPECTOR, "reason": "缺少系统修复记录", "due_date": "2026-03-12"}
    assert call(service, "POST", f"{item}/return", 200, json=send_back)["state"] == "returned"
    platform.clock.set(beijing("03-11 10:00"))
    call(service, "POST", f"{item}/submissions", 200, json=submission)
    closed = call(
        service,
        "POST",
        f"{item}/close",
        200,
        json={"actor": INSPECTOR, "opinion": "复核通过", "approved_by": "市五型办主任 张伟"},
    )
    assert (closed["state"], closed["closed_on_time"], closed["state_name"]) == (
        "closed",
        True,
        "已销号",
    )
    assert [s["number"] for s in closed["submissions"]] == [1, 2]
    platform.clock.set(beijing("03-12 10:00"))
    reopened = call(service, "POST", f"{item}/reopen", 200, json=reopen)
    assert (reopened["state"], reopened["due_date"], reopened["reopen_count"]) == (
        "reopened",
        "2026-03-15",
        1,
    )

    events = eventually(
        lambda: (
            len(rectification_events(platform, "F-100")) == 6
            and rectification_events(platform, "F-100")
        )
    )
    assert [e.type for e in events] == [
        "FindingRaised",
        "RectificationSubmitted",
        "RectificationReturned",
        "RectificationSubmitted",
        "RectificationClosed",
        "RectificationReopened",
    ]
    assert [e.id for e in events[1:]] == [
        fact_id(e.type, "F-100", n) for n, e in enumerate(events[1:], start=2)
    ]
    assert events[0].id == fact_id("FindingRaised", "F-100")
    raised_event, _, returned, second, closed_event, reopened_event = (e.data for e in events)
    assert (raised_event.unit_name, raised_event.inspection_title, raised_event.measure_code) == (
        "东湖区",
        "政务服务线索核查",
        "M14",
    )
    assert (
        raised_event.clues[0].ref == "R-100" and raised_event.due_date.isoformat() == "2026-03-10"
    )
    assert (returned.previous_due_date.isoformat(), returned.due_date.isoformat()) == (
        "2026-03-10",
        "2026-03-12",
    )
    assert (second.submission_number, second.on_time) == (2, True)
    assert (closed_event.on_time, closed_event.days_late, closed_event.actor_name) == (
        True,
        0,
        "王敏",
    )
    assert (reopened_event.reopen_number, reopened_event.reason) == (1, "群众再次反映")
    assert {e.source for e in events} == {"fivetype/inspections"} and {
        e.subject for e in events
    } == {UNIT}

    # The way from the complaint to its rectification, and every change on record.
    citing = call(service, "GET", "/v1/clues/public_request/R-100/findings", 200)
    assert [(f["finding_id"], f["state"]) for f in citing] == [("F-100", "reopened")]
    assert call(service, "GET", "/v1/public-requests/R-100", 200)["cited_by_findings"] == ["F-100"]
    journal = call(service, "GET", f"{item}/journal", 200)
    assert [(e["action"], e["actor_role"]) for e in journal] == [
        ("raised", "inspector"),
        ("submit", "unit"),
        ("return", "inspector"),
        ("submit", "unit"),
        ("close", "inspector"),
        ("reopen", "inspector"),
    ]
    assert [e["event_id"] for e in journal] == [e.id for e in events]


def watcher_runs(process: InspectionsProcess) -> float:
    """Unix time of the process's last successful deadline sweep (0 before the first)."""
    text = httpx.get(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5).text
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith(LAST_SUCCESS) and 'task="deadline-watcher"' in name:
            return float(value)
    return 0.0


def swept_since(processes: list[InspectionsProcess], moment: float) -> bool:
    """Each process has finished a sweep that started after `moment`."""
    return all(watcher_runs(p) > moment + 0.5 for p in processes)


def missed(platform: Platform) -> list[Envelope[Any]]:
    found = on_bus(platform, "*", DeadlineMissed.NAME)
    return [e for e in found if e.data.item_type == "rectification"]


def test_an_overdue_rectification_is_missed_exactly_once(
    reopened: tuple[Platform, InspectionsProcess],
) -> None:
    platform, service = reopened
    second = platform.process().start()  # another instance on the same database
    try:
        finding = {
            "finding_id": "F-101",
            "actor": INSPECTOR,
            "unit": "dept-xzspj",
            "severity": "minor",
            "category": {"type": "service"},
            "title": "办事指南未及时更新",
            "due_date": "2026-03-16",
        }
        call(second, "POST", "/v1/inspections/I-100/findings", 201, json=finding)
        platform.clock.set(beijing("03-17 09:00"))  # F-100 was due 15 March, F-101 16 March
        found = eventually(lambda: len(missed(platform)) == 2 and missed(platform), timeout=20)
        assert sorted(e.id for e in found) == sorted(
            [
                fact_id("DeadlineMissed", "rectification", "F-100", "2026-03-15"),
                fact_id("DeadlineMissed", "rectification", "F-101", "2026-03-16"),
            ]
        )
        assert {e.data.title for e in found} == {
            "督查整改：窗口排队超过一小时",
            "督查整改：办事指南未及时更新",
        }
        emitted = time.time()
        eventually(lambda: swept_since([service, second], emitted), timeout=20)
        second.kill()
        second.start()  # a crash and a restart
        restarted = time.time()
        eventually(lambda: swept_since([service, second], restarted), timeout=20)
        assert len(missed(platform)) == 2
    finally:
        second.stop()

    overdue = call(service, "GET", "/v1/ledger", 200, params={"overdue": "true"})
    assert [i["finding_id"] for i in overdue["items"]] == ["F-100", "F-101"]
    assert overdue["total"] == 2 and all(i["deadline_missed_for"] for i in overdue["items"])
    # The service keeps every DeadlineMissed it sees, so a new finding can cite one as a clue.
    seen = eventually(
        lambda: call(service, "GET", "/v1/missed-deadlines", 200, params={"unit": UNIT})
    )
    assert seen[0]["event_id"] == fact_id("DeadlineMissed", "rectification", "F-100", "2026-03-15")


def test_the_ledger_is_filtered_and_exported(overdue_ledger: InspectionsProcess) -> None:
    service = overdue_ledger
    mine = call(service, "GET", "/v1/ledger", 200, params={"unit": UNIT})
    assert [i["finding_id"] for i in mine["items"]] == ["F-100"]
    departments = call(service, "GET", "/v1/ledger", 200, params={"peer_group": "department"})
    assert [i["finding_id"] for i in departments["items"]] == ["F-101"]
    by_severity = call(
        service,
        "GET",
        "/v1/ledger",
        200,
        params={"severity": "serious", "state": ["reopened", "open"]},
    )
    assert by_severity["total"] == 1
    assert call(service, "GET", "/v1/ledger", 200, params={"state": "closed"})["total"] == 0
    with service.client() as http:
        assert http.get("/v1/ledger", params={"unit": "360199"}).json()["code"] == "unknown_unit"
        assert (
            http.get("/v1/ledger", params={"peer_group": "nowhere"}).json()["code"]
            == "unknown_peer_group"
        )
        assert http.get("/v1/ledger", params={"state": "lost"}).status_code == 422
        as_csv = http.get("/v1/ledger/export", params={"format": "csv", "overdue": "true"})
        as_xlsx = http.get(
            "/v1/ledger/export",
            params={"format": "xlsx", "unit": UNIT},
            headers={"Accept-Language": "en"},
        )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r["问题编号"], r["责任单位"], r["是否逾期"]) for r in rows] == [
        ("F-100", "东湖区", "是"),
        ("F-101", "市行政审批局", "是"),
    ]
    assert rows[0]["线索"] == "public_request:R-100"
    assert "filename*=UTF-8''" in as_csv.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["Finding", "Inspection"]
    assert [v[0] for v in values[1:]] == ["F-100"]
    summary = {s["unit"]: s for s in call(service, "GET", "/v1/ledger/summary", 200)}
    assert (summary[UNIT]["total"], summary[UNIT]["overdue"], summary[UNIT]["by_state"]) == (
        1,
        1,
        {"reopened": 1},
    )


def test_a_supervisors_suggestion_is_answered_and_tracked(
    service: InspectionsProcess, platform: Platform
) -> None:
    platform.clock.set(beijing("03-02 09:00"))
    supervisor = {
        "supervisor_id": "SV-001",
        "actor": OFFICE,
        "name": "陈静",
        "category": "npc_deputy",
        "affiliation": "市人大代表",
        "term_starts_on": "2026-01-01",
        "term_ends_on": "2027-12-31",
    }
    assert refused(service, "/v1/supervisors", supervisor | {"actor": INSPECTOR}) == (
        403,
        "actor_not_permitted",
    )
    entered = call(service, "POST", "/v1/supervisors", 201, json=supervisor)
    assert (entered["serving"], entered["category_name"]) == (True, "人大代表")
    assert refused(service, "/v1/supervisors", supervisor | {"name": "陈晶"}) == (
        409,
        "duplicate_conflict",
    )

    self_actor = {"role": "supervisor", "id": "SV-001", "name": "陈静"}
    suggestion = {
        "suggestion_id": "S-001",
        "actor": self_actor,
        "supervisor_id": "SV-001",
        "unit": "dept-xzspj",
        "title": "建议周末开放政务大厅",
        "content": "群众反映工作日难以请假办事。",
        "due_date": "2026-03-27",
    }
    filed = call(service, "POST", "/v1/suggestions", 201, json=suggestion)
    assert (filed["state"], filed["supervisor_name"], filed["unit_name"]) == (
        "assigned",
        "陈静",
        "市行政审批局",
    )
    answer = {
        "actor": unit_actor("dept-xzspj"),
        "answer": "自4月起周六上午开放",
        "evidence": EVIDENCE,
    }
    assert refused(
        service, "/v1/suggestions/S-001/answer", answer | {"actor": unit_actor(UNIT)}
    ) == (403, "not_responsible_unit")
    assert (
        call(service, "POST", "/v1/suggestions/S-001/answer", 200, json=answer)["state"]
        == "answered"
    )
    again = {
        "actor": self_actor,
        "satisfied": False,
        "comment": "请明确开放窗口",
        "due_date": "2026-03-31",
    }
    assert (
        call(service, "POST", "/v1/suggestions/S-001/feedback", 200, json=again)["state"]
        == "assigned"
    )
    call(service, "POST", "/v1/suggestions/S-001/answer", 200, json=answer)
    settled = {"actor": self_actor, "satisfied": True}
    closed = call(service, "POST", "/v1/suggestions/S-001/feedback", 200, json=settled)
    assert closed["state"] == "closed"
    # Sent again, the same feedback is the suggestion as it is; an answer now is refused.
    assert call(service, "POST", "/v1/suggestions/S-001/feedback", 200, json=settled) == closed
    assert refused(service, "/v1/suggestions/S-001/answer", answer) == (409, "invalid_transition")

    filed_events = eventually(lambda: on_bus(platform, "dept-xzspj", SuggestionFiled.NAME))
    assert [e.id for e in filed_events] == [fact_id("SuggestionFiled", "S-001")]
    answered = eventually(
        lambda: (
            len(on_bus(platform, "*", SuggestionAnswered.NAME)) == 2
            and on_bus(platform, "*", SuggestionAnswered.NAME)
        )
    )
    assert [(e.data.answer_number, e.data.on_time) for e in answered] == [(1, True), (2, True)]

    platform.clock.set(beijing("03-18 09:00"))
    exit_body = {"actor": OFFICE, "exited_on": "2026-03-18", "reason": "工作调动"}
    assert (
        call(service, "POST", "/v1/supervisors/SV-001/exit", 200, json=exit_body)["serving"]
        is False
    )
    late = suggestion | {"suggestion_id": "S-002", "actor": OFFICE}
    assert refused(service, "/v1/suggestions", late) == (422, "supervisor_not_serving")
    reappointed = {"actor": OFFICE, "starts_on": "2026-03-18", "ends_on": "2028-03-17"}
    assert (
        call(service, "POST", "/v1/supervisors/SV-001/terms", 200, json=reappointed)["serving"]
        is True
    )
    assert [
        s["supervisor_id"]
        for s in call(service, "GET", "/v1/supervisors", 200, params={"serving": "true"})
    ] == ["SV-001"]


def test_the_query_api_is_documented(service: InspectionsProcess) -> None:
    document = call(service, "GET", "/openapi.json", 200)
    paths = document["paths"]
    for path in (
        "/v1/inspections",
        "/v1/inspections/{inspection_id}/findings",
        "/v1/findings/{finding_id}/close",
        "/v1/ledger",
        "/v1/ledger/export",
        "/v1/journal",
        "/v1/units/{unit}/public-requests/{request_id}/steps",
        "/v1/units/{unit}/indicators",
        "/v1/supervisors",
        "/v1/suggestions/{suggestion_id}/feedback",
        "/v1/clues/{kind}/{ref}/findings",
    ):
        assert path in paths, path
    close = paths["/v1/findings/{finding_id}/close"]["post"]
    assert {"403", "404", "409", "422"} <= set(close["responses"])
    assert close["summary"].startswith("验收 passed")


def nine_am(day: date) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T09:00:00+08:00")


def deadline_events(
    platform: Platform, unit: str, name: str, item_type: str, item_id: str
) -> list[Any]:
    return [
        e.data
        for e in on_bus(platform, unit, name)
        if e.data.item_type == item_type and e.data.item_id == item_id
    ]


def test_a_rectification_from_plan_to_close_out_with_each_deadline_escalating(
    service: InspectionsProcess, platform: Platform
) -> None:
    """限期整改 from an audit: plan → report → verification → 销号. The plan's deadline is reminded
    and missed (the item under 挂牌督办 says so), the office's verification deadline is missed on
    the office's side; then 约谈 and 问责 are recorded. Its own unit, ids and April dates."""
    unit, item = "360111", "/v1/findings/F-300"
    platform.clock.set(beijing("04-01 09:00"))
    call(
        service,
        "POST",
        "/v1/inspections",
        201,
        json={
            "inspection_id": "I-300",
            "actor": INSPECTOR,
            "kind": "special",
            "method": "document_review",
            "title": "专项资金审计整改督查",
            "inspector": "市五型办督查组",
            "inspected_on": "2026-04-01",
            "target_units": [unit],
        },
    )
    finding = {
        "finding_id": "F-300",
        "actor": INSPECTOR,
        "unit": unit,
        "severity": "serious",
        "category": {"type": "responsible"},
        "source": "audit",
        "rectification_category": "time_limited",
        "title": "专项资金拨付滞后",
        "evidence": EVIDENCE,
    }
    raised = call(service, "POST", "/v1/inspections/I-300/findings", 201, json=finding)
    assert (raised["source_name"], raised["rectification_category_name"]) == ("审计", "限期整改")
    plan_due = date.fromisoformat(raised["plan_due_date"])
    assert plan_due < date.fromisoformat(raised["due_date"])  # both by the office's rules

    report = {"actor": unit_actor(unit), "summary": "资金已全部拨付到位", "evidence": EVIDENCE}
    assert refused(service, f"{item}/submissions", report) == (422, "plan_required")
    plan = {
        "actor": unit_actor(unit),
        "measures": ["建立资金拨付台账", "每周调度拨付进度"],
        "responsible_leader": "副区长 李强",
        "responsible_person": "区财政局局长 赵敏",
        "milestones": [{"title": "完成拨付", "due_date": "2026-04-20"}],
    }
    assert refused(service, f"{item}/plan", plan | {"measures": []}) == (422, "plan_incomplete")
    assert refused(service, f"{item}/plan", plan | {"responsible_person": ""}) == (
        422,
        "plan_incomplete",
    )
    listing = {
        "listing_id": "GP-300",
        "actor": OFFICE,
        "item_type": "rectification_plan",
        "item_id": "F-300",
        "reason": "审计反馈问题整改进展缓慢",
        "document": "洪五型办督〔2026〕3号",
        "due_date": "2026-04-30",
    }
    assert call(service, "POST", "/v1/supervision-listings", 201, json=listing)["active"]
    assert refused(service, "/v1/supervision-listings", listing | {"listing_id": "GP-301"}) == (
        409,
        "already_listed",
    )

    # The day before the plan is due: a reminder; the day after: the plan's deadline is missed.
    platform.clock.set(nine_am(plan_due - timedelta(days=1)))
    reminded = eventually(
        lambda: deadline_events(
            platform, unit, "DeadlineApproaching", "rectification_plan", "F-300"
        )
    )
    assert [(r.offset_days, r.due_date, r.listed) for r in reminded] == [(1, plan_due, True)]
    platform.clock.set(nine_am(plan_due + timedelta(days=1)))
    missed_plan = eventually(
        lambda: deadline_events(platform, unit, "DeadlineMissed", "rectification_plan", "F-300")
    )
    assert [(m.due_date, m.listed, m.title) for m in missed_plan] == [
        (plan_due, True, "整改方案：专项资金拨付滞后")
    ]

    planned = call(service, "POST", f"{item}/plan", 200, json=plan)
    assert (planned["state"], planned["responsible_leader"]) == ("planned", "副区长 李强")
    submitted = call(service, "POST", f"{item}/submissions", 200, json=report)
    check_due = date.fromisoformat(submitted["verification_due_date"])
    platform.clock.set(nine_am(check_due + timedelta(days=1)))
    missed_check = eventually(
        lambda: deadline_events(platform, "office", "DeadlineMissed", "verification", "F-300")
    )
    assert [(m.due_date, m.title) for m in missed_check] == [
        (check_due, "整改验收：青山湖区“专项资金拨付滞后”")
    ]

    close = {
        "actor": OFFICE,
        "opinion": "经现场复核，资金已拨付到位，同意销号",
        "approved_by": "市“五型”办主任 张伟",
        "site_review": {"held_on": check_due.isoformat(), "reviewers": ["王敏", "刘洋"]},
    }
    assert refused(service, f"{item}/close", close | {"opinion": ""}) == (
        422,
        "close_out_incomplete",
    )
    assert refused(service, f"{item}/close", close | {"actor": unit_actor(unit)}) == (
        403,
        "actor_not_permitted",
    )
    assert call(service, "POST", f"{item}/close", 200, json=close)["state"] == "closed"
    assert refused(service, "/v1/supervision-listings", listing | {"listing_id": "GP-302"}) == (
        409,
        "item_closed",
    )

    names = (
        "FindingRaised",
        "RectificationPlanFiled",
        "RectificationSubmitted",
        "RectificationClosed",
    )
    eventually(lambda: len(rectification_events(platform, "F-300", unit, *names)) == 4)
    steps = rectification_events(platform, "F-300", unit, *names)
    filed, closed = steps[1].data, steps[3].data
    assert isinstance(filed, RectificationPlanFiled) and isinstance(closed, RectificationClosed)
    assert (filed.on_time, filed.plan_due_date, filed.measures[0]) == (
        False,
        plan_due,
        "建立资金拨付台账",
    )
    assert (closed.approved_by, closed.site_reviewed) == ("市“五型”办主任 张伟", True)
    # Each deadline was missed exactly once; the report's own deadline was met.
    assert not deadline_events(platform, unit, "DeadlineMissed", "rectification", "F-300")

    with service.client() as http:
        exported = http.get("/v1/ledger/export", params={"format": "csv", "source": "audit"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [
        (r["问题编号"], r["问题来源"], r["责任单位"], r["责任领导"], r["责任人"], r["整改进度"])
        for r in rows
    ] == [("F-300", "审计", "青山湖区", "副区长 李强", "区财政局局长 赵敏", "已销号")]
    assert rows[0]["整改措施"] == "建立资金拨付台账；每周调度拨付进度"
    assert rows[0]["整改时限"].startswith("2026年") and rows[0]["挂牌督办"] == "是"

    interview = {
        "interview_id": "YT-300",
        "actor": OFFICE,
        "unit": unit,
        "held_on": check_due.isoformat(),
        "interviewer": "市“五型”办主任 张伟",
        "interviewees": ["副区长 李强"],
        "reason": "审计整改方案逾期报送",
        "outcome": "当场表态，限期完成",
    }
    assert refused(service, "/v1/interviews", interview | {"unit": "360199"}) == (
        422,
        "unknown_unit",
    )
    call(service, "POST", "/v1/interviews", 201, json=interview)
    decision = {
        "decision_id": "WZ-300",
        "actor": OFFICE,
        "unit": unit,
        "persons": ["区财政局局长 赵敏"],
        "form": "circulated_criticism",
        "reason": "整改方案逾期报送",
        "document": "洪五型办字〔2026〕12号",
        "decided_on": check_due.isoformat(),
        "item_type": "rectification_plan",
        "item_id": "F-300",
    }
    assert call(service, "POST", "/v1/accountability", 201, json=decision)["form_name"] == (
        "通报批评"
    )
    kinds = ("SupervisionListed", "InterviewRecorded", "AccountabilityRecorded")
    eventually(lambda: len(on_bus(platform, unit, *kinds)) == 3)
    recorded = on_bus(platform, unit, *kinds)
    assert [type(e.data) for e in recorded] == [
        SupervisionListed,
        InterviewRecorded,
        AccountabilityRecorded,
    ]
