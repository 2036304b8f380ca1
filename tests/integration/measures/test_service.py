"""The measures service on a real nats-server and database (SQLite and PostgreSQL): reference
data and its import/export, assignments and obligations, intake over HTTP and NATS, review,
change requests, recognitions, status and the ledger. The service's clock is fixed at
2026-11-26 10:00 in Nanchang. Each test works on its own units, so they share one service."""

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from typer.testing import CliRunner

from contracts.envelope import fact_id
from contracts.measures import (
    AchievementRecognized,
    AssignmentCreated,
    CataloguePublished,
    ChangeRequestDecided,
    ChangeRequested,
    DeadlineApproaching,
    DeadlineMissed,
    ProgressAccepted,
    ProgressReported,
    ProgressReturned,
    UnitRegistered,
)
from fivetype.commands import catalogue as catalogue_cli
from tests.conftest import eventually
from tests.integration.measures.conftest import (
    MeasuresService,
    events,
    rejections,
    send_reports,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def assignment(assignment_id: str, lead: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "assignment_id": assignment_id,
        "year": 2026,
        "measure_code": "M14",
        "lead_unit": lead,
        "start_on": "2026-01-01",
        "milestones": [
            {"milestone_id": "m1", "title": "排查摸底", "due_date": "2026-12-10"},
            {"milestone_id": "m2", "title": "整改到位", "due_date": "2026-12-31"},
        ],
        "created_by": "五型办-张三",
    }
    return body | changes


def report(unit: str, report_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "report_id": report_id,
        "unit": unit,
        "measure_code": "M14",
        "percent_complete": 40,
        "reported_at": "2026-11-25T09:30:00+08:00",
        "reporter": "oa",
    }
    return body | changes


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/assignments", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


# ----------------------------------------------------------------------------- reference data


def test_reference_data_is_seeded_and_published(service: MeasuresService) -> None:
    # Other tests import a newer catalogue version and rename a unit on the shared service, so
    # the seed is read as the oldest version and the first registration of each unit.
    with service.client() as client:
        directory = client.get("/v1/units").json()
        catalogue = client.get("/v1/catalogue").json()
        versions = client.get("/v1/catalogue/versions").json()
        calendar = client.get("/v1/calendar/2026").json()
        assert problem(client.get("/v1/calendar/2031"), 404, "calendar_not_found")
    assert len(directory["units"]) == 35  # no test adds a unit
    assert versions[0]["version"] == "2026.1"
    assert (catalogue["year"], catalogue["version"]) == (2026, versions[-1]["version"])
    assert len(calendar["workdays"]) == 6

    def first_registrations() -> dict[str, dict[str, Any]]:
        first: dict[str, dict[str, Any]] = {}
        for event in events(service_nats(service), UnitRegistered):
            first.setdefault(event["data"]["unit"], event["data"])
        return first

    by_unit = eventually(lambda: len(found := first_registrations()) == 35 and found)
    assert set(by_unit) == {unit["code"] for unit in directory["units"]}
    assert by_unit["360102"] == {
        "unit": "360102",
        "name_zh": "东湖区",
        "name_en": "Donghu District",
        "peer_group": "county",
        "peer_group_name_zh": "县区",
        "peer_group_name_en": "Counties and districts",
        "is_office": False,
    }
    assert by_unit["office"]["peer_group"] is None
    published = eventually(lambda: events(service_nats(service), CataloguePublished, "office"))
    assert [(e["data"]["year"], e["data"]["version"]) for e in published][:1] == [(2026, "2026.1")]
    measures = published[0]["data"]["measures"]
    assert len(measures) == 22
    m07 = measures[6]
    assert {k: v for k, v in m07.items() if k != "targets"} == {
        "code": "M07",
        "kind": "measure",
        "type": "innovative",
        "title_zh": "扎实推动数字政府建设大跨越",
        "title_en": "A leap forward in digital government",
    }
    # the quantified targets scoring judges reported values against
    assert {"code": "M07-T1", "metric": "boolean", "comparator": "=="}.items() <= m07["targets"][
        0
    ].items()


def service_nats(service: MeasuresService) -> str:
    return service.env["FIVETYPE_MEASURES_NATS_URL"]


def test_catalogue_round_trip_through_a_spreadsheet(service: MeasuresService) -> None:
    with service.client() as client:
        exported = client.get("/v1/catalogue/2026/export", params={"format": "xlsx"})
        assert exported.status_code == 200
        assert exported.headers["content-disposition"] == (
            'attachment; filename="catalogue-2026.1.xlsx"'
        )
        book = load_workbook(io.BytesIO(exported.content))
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows())
        rows[1][2].value = "2026.2"  # the version column of the catalogue row
        m18 = next(r for r in rows if r[4].value == "M18")
        m18[8].value = "持续营造风清气正的政治生态"
        edited = io.BytesIO()
        book.save(edited)

        imported = client.post(
            "/v1/catalogue/imports",
            params={"actor": "五型办-李四"},
            content=edited.getvalue(),
            headers={"content-type": XLSX},
        )
        assert imported.status_code == 201, imported.text
        assert imported.json() == {"year": 2026, "version": "2026.2", "created": True}
        again = client.post(
            "/v1/catalogue/imports",
            params={"actor": "五型办-李四"},
            content=edited.getvalue(),
            headers={"content-type": XLSX},
        )
        assert (again.status_code, again.json()["created"]) == (200, False)
        current = client.get("/v1/catalogue").json()
        assert current["version"] == "2026.2"
        assert next(m for m in current["measures"] if m["code"] == "M18")["title_zh"] == (
            "持续营造风清气正的政治生态"
        )
        versions = client.get("/v1/catalogue/versions").json()
        assert [(v["version"], v["in_force"]) for v in versions] == [
            ("2026.1", False),
            ("2026.2", True),
        ]

        csv_text = client.get("/v1/catalogue/2026/export", params={"format": "csv"}).text
        conflicting = csv_text.replace("持续营造风清气正的政治生态", "别的标题")
        problem(
            client.post(
                "/v1/catalogue/imports",
                params={"actor": "x"},
                content=conflicting.encode(),
                headers={"content-type": "text/csv"},
            ),
            409,
            "catalogue_version_conflict",
        )
        broken = csv_text.replace("target,,,,M12-T1,M12", "target,,,,M12-T1,M99")
        body = problem(
            client.post(
                "/v1/catalogue/imports",
                params={"actor": "x"},
                content=broken.encode(),
                headers={"content-type": "text/csv", "accept-language": "en"},
            ),
            422,
            "invalid_file",
        )
        assert body["title"] == "The file is not valid"
        assert "M99" in body["detail"]
        problem(
            client.post(
                "/v1/catalogue/imports",
                params={"actor": "x"},
                content=b"x",
                headers={"content-type": "application/pdf"},
            ),
            415,
            "unsupported_format",
        )
        assert [v["version"] for v in client.get("/v1/catalogue/versions").json()] == [
            "2026.1",
            "2026.2",
        ]
    published = eventually(
        lambda: (
            len(found := events(service_nats(service), CataloguePublished, "office")) == 2 and found
        )
    )
    assert published[1]["data"]["version"] == "2026.2"


def test_unit_import_publishes_only_what_changed(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    eventually(lambda: len(events(nats_url, UnitRegistered)) >= 34)
    with service.client() as client:
        csv_text = client.get("/v1/units/export", params={"format": "csv"}).text
        renamed = csv_text.replace("Qingyunpu District", "Qingyunpu District (Nanchang)")
        changed = client.post(
            "/v1/units/imports",
            params={"actor": "五型办", "reason": "英文名称更正"},
            content=renamed.encode(),
            headers={"content-type": "text/csv"},
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["created"], changed.json()["changed"]) == ([], ["360104"])
        unchanged = client.post(
            "/v1/units/imports",
            params={"actor": "五型办"},
            content=renamed.encode(),
            headers={"content-type": "text/csv"},
        ).json()
        assert (unchanged["created"], unchanged["changed"]) == ([], [])
        journal = client.get(
            "/v1/journal", params={"entity_type": "directory", "entity_id": "units"}
        ).json()
        assert journal[0]["reason"] == "英文名称更正"
    found = eventually(lambda: len(e := events(nats_url, UnitRegistered, "360104")) == 2 and e)
    assert found[1]["data"]["name_en"] == "Qingyunpu District (Nanchang)"
    assert len(events(nats_url, UnitRegistered)) == 36


def test_the_office_keeps_the_working_day_calendar(service: MeasuresService) -> None:
    calendar = {"year": 2027, "holidays": ["2027-10-01"], "workdays": ["2027-09-26"]}
    change = {"calendar": calendar, "updated_by": "五型办", "reason": "国办通知"}
    with service.client() as client:
        stored = client.put("/v1/calendar/2027", json=change)
        assert stored.status_code == 200, stored.text
        assert client.get("/v1/calendar/2027").json() == calendar
        problem(client.put("/v1/calendar/2028", json=change), 422, "invalid_calendar")
        weekday = {**change, "calendar": {**calendar, "workdays": ["2027-09-27"]}}
        problem(client.put("/v1/calendar/2027", json=weekday), 422, "validation_failed")
        journal = client.get(
            "/v1/journal", params={"entity_type": "calendar", "entity_id": "2027"}
        ).json()
        assert [(e["action"], e["reason"]) for e in journal] == [("calendar_set", "国办通知")]


# ----------------------------------------------------------------------------- assignments, intake


def test_assignment_and_http_intake(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    body = assignment("a-nanchang-m14", "360121", co_units=["dept-zjj"])
    body["milestones"][1]["unit"] = "dept-zjj"
    with service.client() as client:
        created = create(client, body)
        assert created["status"]["light"] == "yellow"  # m1 is due within a week
        assert client.post("/v1/assignments", json=body).status_code == 200
        problem(
            client.post("/v1/assignments", json=body | {"co_units": []}), 409, "duplicate_conflict"
        )
        accepted = client.post(
            "/v1/units/360121/progress-reports",
            json=report("360121", "r-1", milestone_id="m1", percent_complete=100),
        )
        assert accepted.status_code == 201, accepted.text
        assert (accepted.json()["on_time"], accepted.json()["assignment_id"]) == (
            True,
            "a-nanchang-m14",
        )
        assert (
            client.post(
                "/v1/units/360121/progress-reports",
                json=report("360121", "r-1", milestone_id="m1", percent_complete=100),
            ).status_code
            == 200
        )

        refusals = [
            ("360121", report("360121", "x-1", assignment_id="nope"), 422, "unknown_assignment"),
            ("360121", report("360121", "x-2", milestone_id="m9"), 422, "unknown_milestone"),
            ("360121", report("360121", "x-3", milestone_id="m2"), 422, "milestone_of_other_unit"),
            ("360121", report("360121", "x-4", measure_code="M07"), 422, "unknown_assignment"),
            (  # another unit's assignment, answered as an unknown one
                "360123",
                report("360123", "x-5", assignment_id="a-nanchang-m14"),
                422,
                "unknown_assignment",
            ),
            (
                "360121",
                report("360121", "x-6", target_code="M14-T1", target_value=101),
                422,
                "value_out_of_range",
            ),
            (
                "360121",
                report("360121", "x-7", reported_at="2026-11-27T10:00:00+08:00"),
                422,
                "reported_in_future",
            ),
            (
                "360121",
                report("360121", "x-8", reported_at="2025-12-31T10:00:00+08:00"),
                422,
                "unknown_assignment",
            ),
            (
                "360121",
                report("360121", "r-1", milestone_id="m1", percent_complete=90),
                409,
                "duplicate_conflict",
            ),
            ("360121", report("360121", "x-9", summary="长" * 2001), 422, "validation_failed"),
        ]
        for unit, bad, status, code in refusals:
            problem(client.post(f"/v1/units/{unit}/progress-reports", json=bad), status, code)
        big = report("360121", "x-10", summary="长" * 2000, evidence=[])
        big["reporter"] = "r" * 300_000
        problem(
            client.post("/v1/units/360121/progress-reports", json=big), 413, "payload_too_large"
        )

        stored = client.get("/v1/assignments/a-nanchang-m14/progress-reports").json()
        assert [r["report_id"] for r in stored] == ["r-1"]
        view = client.get("/v1/assignments/a-nanchang-m14").json()
        assert view["milestones"][0]["completed_at"] == "2026-11-25T01:30:00Z"
        assert view["status"]["light"] == "green"

    announced = eventually(lambda: events(nats_url, AssignmentCreated, "dept-zjj"))
    assert announced[0]["data"]["role"] == "co"
    assert [m["due_date"] for m in announced[0]["data"]["milestones"]] == [
        "2026-12-10",
        "2026-12-31",
    ]
    assert len(events(nats_url, AssignmentCreated, "360121")) == 1
    reported = eventually(lambda: events(nats_url, ProgressReported, "360121"))
    assert len(reported) == 1
    assert reported[0]["id"] == fact_id("ProgressReported", "360121", "r-1")
    data = reported[0]["data"]
    assert {k: data[k] for k in ("assignment_id", "measure_type", "peer_group", "role")} == {
        "assignment_id": "a-nanchang-m14",
        "measure_type": "service",
        "peer_group": "county",
        "role": "lead",
    }
    assert (data["milestone_due_date"], data["on_time"], data["milestone_completed"]) == (
        "2026-12-10",
        True,
        True,
    )


def test_nats_intake_stores_valid_reports_and_answers_the_rest(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    body = assignment("a-qsh-m14", "360111", co_units=["dept-cgj"])
    body["milestones"][1]["unit"] = "dept-cgj"
    with service.client() as client:
        create(client, body)
    send_reports(
        nats_url,
        report("dept-cgj", "n-1", milestone_id="m2", percent_complete=30),
        report("dept-cgj", "n-2", milestone_id="m1"),
        report("360111", "n-3", assignment_id="a-none"),
        report("360111", "n-4", target_code="M14-T2", target_value=96.5),
    )
    with service.client() as client:
        eventually(
            lambda: len(client.get("/v1/assignments/a-qsh-m14/progress-reports").json()) == 2
        )
        stored = client.get("/v1/assignments/a-qsh-m14/progress-reports").json()
        assert {(r["report_id"], r["received_via"]) for r in stored} == {
            ("n-1", "nats"),
            ("n-4", "nats"),
        }
        assert next(r for r in stored if r["report_id"] == "n-4")["target_value"] == 96.5
    assert [r["reason"] for r in eventually(lambda: rejections(nats_url, "dept-cgj"))] == [
        "milestone_of_other_unit"
    ]
    refused = eventually(lambda: rejections(nats_url, "360111"))
    assert [(r["reference"], r["reason"]) for r in refused] == [("n-3", "unknown_assignment")]
    assert refused[0]["message_zh"].startswith("交办任务不存在")


def test_review_accepts_and_returns_reports(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    with service.client() as client:
        create(client, assignment("a-xj-m14", "360112"))
        for report_id, percent, at in (("v-1", 60, "2026-11-20"), ("v-2", 100, "2026-11-24")):
            response = client.post(
                "/v1/units/360112/progress-reports",
                json=report(
                    "360112",
                    report_id,
                    milestone_id="m1",
                    percent_complete=percent,
                    reported_at=f"{at}T09:00:00+08:00",
                ),
            )
            assert response.status_code == 201, response.text
        review = "/v1/units/360112/progress-reports/{}/review"
        accepted = client.post(
            review.format("v-1"), json={"decision": "accept", "reviewer": "王五"}
        )
        assert accepted.json()["review_status"] == "accepted"
        problem(
            client.post(review.format("v-2"), json={"decision": "return", "reviewer": "王五"}),
            422,
            "reason_required",
        )
        returned = client.post(
            review.format("v-2"),
            json={"decision": "return", "reason": "佐证材料不全", "reviewer": "王五"},
        )
        assert returned.json()["review_status"] == "returned"
        assert (
            client.post(
                review.format("v-2"),
                json={"decision": "return", "reason": "佐证材料不全", "reviewer": "王五"},
            ).status_code
            == 200
        )
        problem(
            client.post(review.format("v-2"), json={"decision": "accept", "reviewer": "王五"}),
            409,
            "already_reviewed",
        )
        problem(
            client.post(review.format("v-9"), json={"decision": "accept", "reviewer": "王五"}),
            404,
            "report_not_found",
        )
        milestone = client.get("/v1/assignments/a-xj-m14").json()["milestones"][0]
        assert (milestone["percent_complete"], milestone["completed_at"]) == (60.0, None)
        journal = client.get("/v1/journal", params={"unit": "360112"}).json()
        assert [e["action"] for e in journal[:2]] == ["report_returned", "report_accepted"]
        assert journal[0]["reason"] == "佐证材料不全"
    assert (
        eventually(lambda: events(nats_url, ProgressAccepted, "360112"))[0]["data"]["report_id"]
        == "v-1"
    )
    returned_event = eventually(lambda: events(nats_url, ProgressReturned, "360112"))[0]["data"]
    assert (returned_event["report_id"], returned_event["milestone_completed"]) == ("v-2", False)
    assert returned_event["reason"] == "佐证材料不全"


def test_extension_requests_are_approved_or_refused(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    body = assignment("a-hgt-m14", "360113", co_units=["dept-jtj"])
    body["milestones"][0]["due_date"] = "2026-11-20"  # already missed by the fixed clock
    body["milestones"][1]["unit"] = "dept-jtj"
    with service.client() as client:
        create(client, body)
        eventually(
            lambda: client.get("/v1/assignments/a-hgt-m14").json()["milestones"][0]["missed_at"]
        )
        path = "/v1/assignments/a-hgt-m14/change-requests"
        extension = {
            "request_id": "ext-1",
            "unit": "360113",
            "kind": "extension",
            "milestone_id": "m1",
            "proposed_due_date": "2026-12-15",
            "reason": "需协调省级部门",
            "requested_by": "红谷滩区政府办",
        }
        assert client.post(path, json=extension).status_code == 201
        assert client.post(path, json=extension).status_code == 200
        problem(
            client.post(
                path, json=extension | {"request_id": "ext-2", "proposed_due_date": "2026-11-01"}
            ),
            422,
            "invalid_change",
        )
        problem(
            client.post(path, json=extension | {"request_id": "ext-3", "unit": "360102"}),
            422,
            "not_assigned",
        )
        problem(
            client.post(path, json=extension | {"request_id": "ext-4", "unit": "dept-jtj"}),
            422,
            "not_assigned",
        )
        problem(
            client.post(path, json=extension | {"request_id": "ext-5", "milestone_id": "m7"}),
            404,
            "milestone_not_found",
        )
        pending = client.get("/v1/change-requests", params={"status": "pending"}).json()
        assert [r["request_id"] for r in pending if r["unit"] == "360113"] == ["ext-1"]

        decided = client.post(
            "/v1/change-requests/ext-1/decision",
            json={"approve": True, "reason": "同意延期", "decided_by": "五型办主任"},
        )
        assert decided.json()["status"] == "approved"
        problem(
            client.post(
                "/v1/change-requests/ext-1/decision",
                json={"approve": False, "reason": "x", "decided_by": "五型办主任"},
            ),
            409,
            "already_decided",
        )
        milestone = client.get("/v1/assignments/a-hgt-m14").json()["milestones"][0]
        assert (milestone["due_date"], milestone["original_due_date"], milestone["missed_at"]) == (
            "2026-12-15",
            "2026-11-20",
            None,
        )

        change = {
            "request_id": "chg-1",
            "unit": "dept-jtj",
            "kind": "change",
            "milestone_id": "m2",
            "proposed_title": "整改到位并验收",
            "reason": "增加验收环节",
            "requested_by": "市交通运输局",
        }
        assert client.post(path, json=change).status_code == 201
        problem(
            client.post(
                "/v1/change-requests/chg-1/decision",
                json={"approve": False, "decided_by": "五型办主任"},
            ),
            422,
            "reason_required",
        )
        refused = client.post(
            "/v1/change-requests/chg-1/decision",
            json={"approve": False, "reason": "节点标题不变", "decided_by": "五型办主任"},
        )
        assert refused.json()["status"] == "refused"
        assert (
            client.get("/v1/assignments/a-hgt-m14").json()["milestones"][1]["title"] == "整改到位"
        )
        journal = client.get(
            "/v1/journal", params={"entity_type": "assignment", "entity_id": "a-hgt-m14"}
        ).json()
        actions = [e["action"] for e in journal]
        assert actions[:2] == ["change_refused", "extension_approved"]
        assert "deadline_missed" in actions
        approved = next(e for e in journal if e["action"] == "extension_approved")
        assert approved["details"]["changes"] == {"due_date": ["2026-11-20", "2026-12-15"]}
    decided_events = eventually(
        lambda: len(found := events(nats_url, ChangeRequestDecided)) >= 2 and found
    )
    mine = {e["data"]["request_id"]: e["data"] for e in decided_events}
    assert (mine["ext-1"]["approved"], mine["ext-1"]["due_date_after"]) == (True, "2026-12-15")
    assert mine["chg-1"]["approved"] is False
    assert len(events(nats_url, ChangeRequested, "dept-jtj")) == 1
    missed = events(nats_url, DeadlineMissed, "360113")
    assert [(e["data"]["milestone_id"], e["data"]["due_date"]) for e in missed] == [
        ("m1", "2026-11-20")
    ]


# ----------------------------------------------------------------------------- obligations, status


def test_obligations_follow_the_calendar_and_feed_the_traffic_lights(
    service: MeasuresService,
) -> None:
    nats_url = service_nats(service)
    with service.client() as client:
        # G3's weekly feature report falls on the units the catalogue names, and on no other.
        weekly_for_all = client.post(
            "/v1/obligations",
            json={"year": 2026, "kind": "weekly_feature_report", "created_by": "五型办"},
        )
        assert [(c["unit"], c["created"]) for c in weekly_for_all.json()] == [
            ("office", True),
            ("dept-media", True),
        ]
        created = client.post(
            "/v1/obligations",
            json={
                "year": 2026,
                "kind": "annual_report",
                "units": ["dept-media"],
                "created_by": "五型办",
            },
        )
        assert created.json() == [
            {
                "assignment_id": "annual_report.2026.dept-media",
                "unit": "dept-media",
                "created": True,
            }
        ]
        weekly = client.get("/v1/assignments/weekly_feature_report.2026.dept-media").json()
        # Planned on Thursday 26 November: the weeks left, each due on its last working day.
        assert [(m["milestone_id"], m["due_date"]) for m in weekly["milestones"]] == [
            ("2026-11-29", "2026-11-27"),
            ("2026-12-06", "2026-12-04"),
            ("2026-12-13", "2026-12-11"),
            ("2026-12-20", "2026-12-18"),
            ("2026-12-27", "2026-12-25"),
        ]
        assert weekly["status"]["light"] == "yellow"  # this week's report is due tomorrow
        # The half-yearly round falls on the units leading M10 this year: not the media.
        problem(
            client.post(
                "/v1/obligations",
                json={
                    "year": 2026,
                    "kind": "half_yearly_bottleneck_round",
                    "units": ["dept-media"],
                    "created_by": "x",
                },
            ),
            422,
            "not_obligation_carrier",
        )
        # Nor does the weekly report fall on a district.
        problem(
            client.post(
                "/v1/obligations",
                json={
                    "year": 2026,
                    "kind": "weekly_feature_report",
                    "units": ["360123"],
                    "created_by": "x",
                },
            ),
            422,
            "not_obligation_carrier",
        )
        problem(
            client.post(
                "/v1/obligations",
                json={
                    "year": 2026,
                    "kind": "annual_plan",
                    "units": ["dept-media"],
                    "created_by": "x",
                },
            ),
            422,
            "invalid_recurrence",  # due 31 March: nothing is left to plan in November
        )

    # The unit's system reports the week's feature report without naming the occurrence.
    send_reports(
        nats_url,
        report("dept-media", "w-48", measure_code="G3", percent_complete=100, summary="专题报道"),
    )
    with service.client() as client:
        eventually(
            lambda: (
                client.get("/v1/assignments/weekly_feature_report.2026.dept-media").json()[
                    "status"
                ]["light"]
                == "green"
            )
        )
        status = client.get("/v1/status", params={"unit": "dept-media"}).json()
        assert status["counts"] == {"key": "dept-media", "green": 2, "yellow": 0, "red": 0}
        by_type = client.get("/v1/status", params={"type": "service", "light": "red"}).json()
        assert all(a["measure_type"] == "service" for a in by_type["assignments"])
        by_measure = client.get("/v1/status", params={"measure": "G3"}).json()
        assert sorted(a["assignment_id"] for a in by_measure["assignments"]) == [
            "weekly_feature_report.2026.dept-media",
            "weekly_feature_report.2026.office",
        ]
        summary = client.get("/v1/status/summary", params={"by": "unit", "year": 2026}).json()
        assert next(s for s in summary if s["key"] == "dept-media") == {
            "key": "dept-media",
            "green": 2,
            "yellow": 0,
            "red": 0,
        }
        types = {s["key"] for s in client.get("/v1/status/summary", params={"by": "type"}).json()}
        assert "guarantee" in types
    reported = eventually(lambda: events(nats_url, ProgressReported, "dept-media"))[0]["data"]
    assert (reported["milestone_id"], reported["recurrence"], reported["measure_type"]) == (
        "2026-11-29",
        "weekly_feature_report",
        None,
    )


def test_an_achievement_is_a_bonus_never_an_obligation(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    record = {
        "achievement_id": "ach-hitech-1",
        "unit": "nc-hitech",
        "kind": "national_pilot",
        "title": "国家级营商环境创新试点",
        "recognised_on": "2026-11-02",
        "evidence": [{"uri": "https://www.gov.cn/notice/1", "sha256": "ab" * 32}],
        "recorded_by": "五型办",
    }
    with service.client() as client:
        # 争取 goals are nobody's obligation: there is no such kind to create.
        problem(
            client.post(
                "/v1/obligations",
                json={
                    "year": 2026,
                    "kind": "national_recognition",
                    "units": ["nc-hitech"],
                    "created_by": "五型办",
                },
            ),
            422,
            "validation_failed",
        )
        created = client.post("/v1/achievements", json=record)
        assert created.status_code == 201, created.text
        assert created.json()["measure_code"] == "M06"
        assert client.post("/v1/achievements", json=record).status_code == 200
        problem(
            client.post("/v1/achievements", json=record | {"title": "别的"}),
            409,
            "duplicate_conflict",
        )
        problem(
            client.post(
                "/v1/achievements",
                json=record | {"achievement_id": "a2", "recognised_on": "2026-12-01"},
            ),
            422,
            "date_in_future",
        )
        problem(
            client.post(
                "/v1/achievements", json=record | {"achievement_id": "a3", "unit": "office"}
            ),
            422,
            "unit_not_assignable",
        )
        problem(
            client.post(
                "/v1/achievements", json=record | {"achievement_id": "a4", "measure_code": "M99"}
            ),
            422,
            "unknown_measure",
        )
        listed = client.get("/v1/achievements", params={"unit": "nc-hitech", "year": 2026}).json()
        assert [a["achievement_id"] for a in listed] == ["ach-hitech-1"]
    recognised = eventually(lambda: events(nats_url, AchievementRecognized, "nc-hitech"))
    assert [(e["data"]["kind"], e["data"]["measure_type"]) for e in recognised] == [
        ("national_pilot", "innovative")
    ]


def test_missed_deadlines_show_in_the_overdue_list_and_the_ledger(service: MeasuresService) -> None:
    nats_url = service_nats(service)
    body = assignment("a-etdz-m14", "nc-etdz", start_on="2026-10-01")
    body["milestones"][0]["due_date"] = "2026-11-13"
    body["milestones"][1]["due_date"] = "2026-11-30"
    with service.client() as client:
        create(client, body)
        overdue = eventually(
            lambda: [
                o
                for o in client.get("/v1/overdue", params={"unit": "nc-etdz"}).json()
                if o["missed_at"]
            ]
        )
        assert [(o["milestone_id"], o["days_overdue"]) for o in overdue] == [("m1", 13)]
        red = client.get("/v1/status", params={"unit": "nc-etdz", "light": "red"}).json()
        assert red["assignments"][0]["status"]["overdue"] == ["m1"]
        ledger = client.get("/v1/ledger/export", params={"unit": "nc-etdz", "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(ledger.content.decode("utf-8-sig"))))
        assert list(rows[0])[:4] == ["交办任务编号", "年度", "举措编号", "举措名称"]
        assert [r["节点编号"] for r in rows] == ["m1", "m2"]
        assert {r["进度状态"] for r in rows} == {"红灯"}
        assert {r["牵头单位"] for r in rows} == {"南昌经济技术开发区"}
        assert [r["限办日期"] for r in rows] == ["2026年11月13日", "2026年11月30日"]
        english = client.get(
            "/v1/ledger/export",
            params={"unit": "nc-etdz", "format": "csv"},
            headers={"accept-language": "en"},
        )
        assert english.text.lstrip("\ufeff").startswith("Assignment,Year,Measure,Measure title")
        assert ",red," in english.text and "2026-11-13" in english.text
        workbook = client.get("/v1/ledger/export", params={"unit": "nc-etdz"})
        assert workbook.headers["content-type"] == XLSX
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        assert sheet is not None and sheet.title == "任务台账"
        assert [c.value for c in sheet[1]][:2] == ["交办任务编号", "年度"]
    missed = eventually(lambda: events(nats_url, DeadlineMissed, "nc-etdz"))
    assert [(e["data"]["item_type"], e["data"]["due_date"]) for e in missed] == [
        ("milestone", "2026-11-13")
    ]
    approaching = eventually(lambda: events(nats_url, DeadlineApproaching, "nc-etdz"))
    assert [
        (e["data"]["milestone_id"], e["data"]["offset_days"], e["data"]["days_left"])
        for e in approaching
    ] == [("m2", 7, 4)]


def test_the_api_is_documented(service: MeasuresService) -> None:
    with service.client() as client:
        spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/v1/assignments",
        "/v1/obligations",
        "/v1/units/{unit}/progress-reports/{report_id}/review",
        "/v1/change-requests/{request_id}/decision",
        "/v1/catalogue/imports",
        "/v1/status/summary",
        "/v1/overdue",
        "/v1/ledger/export",
        "/v1/journal",
    } <= paths
    upload = spec["paths"]["/v1/catalogue/imports"]["post"]["requestBody"]["content"]
    assert "text/csv" in upload


def test_the_command_line_exports_validates_and_imports(
    service: MeasuresService, tmp_path: Path
) -> None:
    cli = CliRunner(env={"LC_ALL": "C.UTF-8"})  # Chinese, whatever the machine's locale
    workbook = tmp_path / "catalogue.xlsx"
    url = ["--url", service.url]
    exported = cli.invoke(catalogue_cli.app, ["export", "2026", "--output", str(workbook), *url])
    assert exported.exit_code == 0, exported.output
    checked = cli.invoke(catalogue_cli.app, ["validate", str(workbook)])
    assert "18 项举措、4 项保障措施" in checked.output
    again = cli.invoke(catalogue_cli.app, ["import", str(workbook), *url])
    assert again.exit_code == 0, again.output
    assert "已存在，未变更" in again.output

    broken = tmp_path / "broken.csv"
    broken.write_text("record,code\nmeasure,M01\n", encoding="utf-8")
    invalid = cli.invoke(catalogue_cli.app, ["validate", str(broken)])
    assert (invalid.exit_code, "格式有误：缺少列：" in invalid.output) == (1, True)
    refused = cli.invoke(catalogue_cli.app, ["import", str(broken), *url])
    assert refused.exit_code == 1
    assert "invalid_file" in refused.output and "缺少列" in refused.output

    units = tmp_path / "units.csv"
    assert (
        cli.invoke(
            catalogue_cli.app, ["export-units", "--format", "csv", "--output", str(units), *url]
        ).exit_code
        == 0
    )
    assert cli.invoke(catalogue_cli.app, ["validate", "--units", str(units)]).exit_code == 0
    imported = cli.invoke(catalogue_cli.app, ["import-units", str(units), *url])
    assert "新增 0 个，变更 0 个，未变 35 个" in imported.output
    english = CliRunner(env={"LC_ALL": "en_US.UTF-8"})
    again_in_english = english.invoke(catalogue_cli.app, ["import-units", str(units), *url])
    assert "0 new, 0 changed, 35 unchanged" in again_in_english.output
