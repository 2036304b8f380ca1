"""One flow end to end on a real nats-server, on SQLite and on PostgreSQL: a unit reports
progress over HTTP or NATS; measures stores it and emits ProgressReported through its outbox;
scoring records it and notifications puts it in the office's inbox."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import streams, subjects
from contracts.envelope import fact_id, wrap
from contracts.measures import ProgressReported, ReportProgress
from fivetype.stack import Stack
from tests import auth, busclient
from tests.conftest import Databases, eventually, start_nats, start_platform


@pytest.fixture(scope="module")
def platform(
    module_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    directory: Path = tmp_path_factory.mktemp("platform")
    nats = start_nats(directory)
    stack = start_platform(directory, nats.url, module_databases)
    for unit in REPORTING_UNITS:
        assign_m07(stack, unit)
    yield stack
    stack.stop(grace=5)
    nats.stop()


def client(stack: Stack, service: str) -> httpx.Client:
    return httpx.Client(base_url=stack.service(service).url, timeout=10, headers=auth.headers())


# Progress is reported on assignments: the office assigns M07 to the units that report below.
REPORTING_UNITS = ("360102", "360103", "360104", "360111", "360113")


def m07_assignment(unit: str) -> dict[str, Any]:
    return {
        "assignment_id": f"m07-{unit}",
        "year": 2026,
        "measure_code": "M07",
        "lead_unit": unit,
        "start_on": "2026-01-01",
        "milestones": [{"milestone_id": "m1", "title": "网上可办", "due_date": "2026-12-31"}],
        "created_by": "office",
    }


def assign_m07(stack: Stack, unit: str) -> None:
    """Created, or already there with the same content (200): the call is idempotent."""
    response = client(stack, "measures").post("/v1/assignments", json=m07_assignment(unit))
    assert response.status_code in (200, 201), response.text


def report(unit: str, report_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report_id,
        "unit": unit,
        "measure_code": "M07",
        "percent_complete": 40,
        "summary": "政务服务事项网上可办率提升",
        "reported_at": "2026-11-20T09:30:00+08:00",
        "reporter": "donghu-oa",
    }
    return {**body, **changes}


def command(unit: str, report_id: str, **changes: Any) -> dict[str, Any]:
    envelope = wrap(
        ReportProgress.model_validate(report(unit, report_id, **changes)),
        subject=unit,
        source=f"unit/{unit}",
    )
    return envelope.model_dump(mode="json", exclude_none=True)


def progress(stack: Stack, unit: str) -> dict[str, Any]:
    body: dict[str, Any] = client(stack, "scoring").get(f"/v1/units/{unit}/progress").json()
    return body


def office_inbox(stack: Stack, **params: Any) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = (
        client(stack, "notifications")
        .get("/v1/inbox/office", params={"limit": 500, **params})
        .json()
    )
    return body


def rejections(stack: Stack, unit: str) -> list[dict[str, Any]]:
    found = busclient.read(stack.nats_url, subjects.rejection(unit), streams.REJECTIONS.name)
    return [busclient.data_of(m)["data"] for m in found]


def test_http_report_flows_to_scoring_and_office_inbox(platform: Stack) -> None:
    measures = client(platform, "measures")
    created = measures.post("/v1/units/360102/progress-reports", json=report("360102", "r-1"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/units/360102/progress-reports/r-1"
    event_id = created.json()["event_id"]

    retried = measures.post("/v1/units/360102/progress-reports", json=report("360102", "r-1"))
    assert retried.status_code == 200
    assert retried.json()["event_id"] == event_id

    card = eventually(
        lambda: progress(platform, "360102")["reports"] == 1 and progress(platform, "360102")
    )
    assert card["measures"] == [
        {
            "measure_code": "M07",
            "percent_complete": 40.0,
            "reported_at": "2026-11-20T01:30:00Z",
            "event_id": event_id,
        }
    ]
    entry = eventually(lambda: [e for e in office_inbox(platform) if e["event_id"] == event_id])
    assert entry[0]["title"] == "东湖区报送了进展：M07 扎实推动数字政府建设大跨越"
    english = (
        client(platform, "notifications")
        .get("/v1/inbox/office", headers={"Accept-Language": "en"})
        .json()
    )
    assert any(e["title"].startswith("东湖区 reported progress") for e in english)

    published = busclient.read(
        platform.nats_url, subjects.event("ProgressReported", "360102"), streams.EVENTS.name
    )
    assert [m.headers["Nats-Msg-Id"] for m in published] == [event_id]


def test_http_refusals_are_problem_details(platform: Stack) -> None:
    measures = client(platform, "measures")
    url = "/v1/units/360103/progress-reports"
    cases = [
        (report("360103", "x-1", percent_complete=140), 422, "validation_failed"),
        (report("360103", "x-2", measure_code="M99"), 422, "unknown_measure"),
        (report("360103", "x-3", reported_at="2099-01-01T00:00:00Z"), 422, "reported_in_future"),
        (report("360199", "x-4"), 422, "unit_mismatch"),
    ]
    for body, status, code in cases:
        response = measures.post(url, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code
    unknown = measures.post("/v1/units/360199/progress-reports", json=report("360199", "x-5"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_unit")
    assert unknown.json()["title"] == "责任单位不存在"

    assert measures.post(url, json=report("360103", "x-6")).status_code == 201
    conflict = measures.post(
        url, json=report("360103", "x-6", percent_complete=50), headers={"Accept-Language": "en"}
    )
    assert (conflict.status_code, conflict.json()["code"]) == (409, "duplicate_conflict")
    assert conflict.json()["title"] == "This id was already used with different content"
    assert [r["report_id"] for r in measures.get(url).json()] == ["x-6"]


def test_nats_intake_is_stored_and_reaches_scoring(platform: Stack) -> None:
    unit = "360104"
    busclient.publish(
        platform.nats_url,
        subjects.intake("ReportProgress", unit),
        command(unit, "n-1", percent_complete=65),
    )
    eventually(lambda: progress(platform, unit)["reports"] == 1)
    stored = client(platform, "measures").get(f"/v1/units/{unit}/progress-reports/n-1").json()
    assert (stored["received_via"], stored["percent_complete"]) == ("nats", 65.0)


def test_invalid_nats_intake_is_answered_with_reason_codes(platform: Stack) -> None:
    unit = "360111"
    subject = subjects.intake("ReportProgress", unit)
    bad_schema = command(unit, "b-1")
    bad_schema["data"]["percent_complete"] = 140
    mismatch = command("360112", "b-3")
    for payload in (
        bad_schema,
        command(unit, "b-2", measure_code="M99"),
        mismatch,
        command(unit, "b-4"),
    ):
        busclient.publish(platform.nats_url, subject, payload)

    eventually(lambda: progress(platform, unit)["reports"] == 1)  # the healthy one behind them
    refused = eventually(
        lambda: len(rejections(platform, unit)) == 3 and rejections(platform, unit)
    )
    by_reason = {r["reason"]: r for r in refused}
    assert set(by_reason) == {"schema_violation", "unknown_measure", "unit_mismatch"}
    assert by_reason["schema_violation"]["reference"] == "b-1"
    assert by_reason["schema_violation"]["command_id"] == bad_schema["id"]
    assert by_reason["schema_violation"]["errors"][0]["loc"] == "data.percent_complete"
    # The unit's engineers read what is wrong in Chinese too; errors[] keep pydantic's words.
    assert "data.percent_complete：应不大于 100" in by_reason["schema_violation"]["message_zh"]
    assert by_reason["unknown_measure"]["message_zh"].startswith("举措不存在")
    assert by_reason["unit_mismatch"]["message_en"].startswith("The unit in the report")
    assert by_reason["unit_mismatch"]["message_zh"].startswith("报告所填单位与报送单位不一致")


def test_unparseable_intake_is_dead_lettered_and_answered(platform: Stack) -> None:
    unit = "360113"
    busclient.publish(platform.nats_url, subjects.intake("ReportProgress", unit), b"{not json")
    busclient.publish(
        platform.nats_url, subjects.intake("ReportProgress", unit), command(unit, "ok-1")
    )
    eventually(lambda: progress(platform, unit)["reports"] == 1)
    assert eventually(lambda: rejections(platform, unit))[0]["reason"] == "malformed_json"
    dead = eventually(
        lambda: [
            m
            for m in busclient.read(
                platform.nats_url,
                subjects.dead_letter("measures-intake"),
                streams.DEAD_LETTERS.name,
            )
            if m.headers.get("Fivetype-Original-Subject", "").endswith(unit)
        ]
    )
    assert dead[0].data == b"{not json"
    assert dead[0].headers["Fivetype-Reason"] == "malformed_json"


def _progress_event(unit: str, report_id: str) -> dict[str, Any]:
    data = ProgressReported(
        report_id=report_id,
        unit=unit,
        unit_name="南昌县",
        measure_code="M12",
        measure_title="持续打造一流营商环境",
        percent_complete=30,
        reported_at=datetime(2026, 11, 2, tzinfo=UTC),
        reporter="test",
    )
    envelope = wrap(
        data,
        subject=unit,
        source="fivetype/measures",
        id=fact_id("ProgressReported", unit, report_id),
    )
    return envelope.model_dump(mode="json", exclude_none=True)


def test_redelivered_progress_reported_counts_once(platform: Stack) -> None:
    unit = "360121"
    event = _progress_event(unit, "dup-1")
    subject = subjects.event("ProgressReported", unit)
    # Two copies in the stream, as a relay retry beyond the duplicate window would leave.
    busclient.publish(platform.nats_url, subject, event, headers={"Nats-Msg-Id": "copy-1"})
    busclient.publish(platform.nats_url, subject, event, headers={"Nats-Msg-Id": "copy-2"})
    busclient.publish(platform.nats_url, subject, _progress_event(unit, "dup-2"))
    eventually(lambda: progress(platform, unit)["reports"] == 2)
    # Notifications consumes on its own: wait for both entries, not for scoring's count.
    inbox = eventually(
        lambda: (
            len(found := [e for e in office_inbox(platform) if e["unit"] == unit]) >= 2 and found
        )
    )
    assert sorted(e["event_id"] for e in inbox) == sorted(
        [event["id"], fact_id("ProgressReported", unit, "dup-2")]
    )
    assert progress(platform, unit)["reports"] == 2


def test_poison_events_are_dead_lettered_without_blocking(platform: Stack) -> None:
    unit = "360123"
    subject = subjects.event("ProgressReported", unit)
    wrong_version = _progress_event(unit, "p-1") | {"schemaversion": 99}
    oversized = _progress_event(unit, "p-2")
    oversized["data"]["summary"] = "长" * 100_000
    for payload in (b"\xff\xfe", wrong_version, oversized):
        busclient.publish(platform.nats_url, subject, payload)
    busclient.publish(platform.nats_url, subject, _progress_event(unit, "p-3"))

    eventually(lambda: progress(platform, unit)["reports"] == 1)
    for consumer in ("scoring-progress", "notifications-progress"):
        dead = eventually(
            lambda consumer=consumer: (
                len(
                    found := [
                        m
                        for m in busclient.read(
                            platform.nats_url,
                            subjects.dead_letter(consumer),
                            streams.DEAD_LETTERS.name,
                        )
                        if m.headers["Fivetype-Original-Subject"] == subject
                    ]
                )
                == 3
                and found
            )
        )
        assert sorted(m.headers["Fivetype-Reason"] for m in dead) == [
            "malformed_json",
            "oversized",
            "unsupported_version",
        ]
