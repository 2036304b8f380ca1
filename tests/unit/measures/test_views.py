"""An instant reads the same in every answer: the stored form, UTC with "Z", even when the
client sent it with another offset (the 201 to a report and the 200 to its repeat agree)."""

from datetime import UTC, datetime, timedelta, timezone

from services.measures.entrypoints.http.views import ReportView

CHINA = timezone(timedelta(hours=8))


def test_a_report_answers_its_instants_in_utc() -> None:
    sent = {
        "report_id": "r-1",
        "unit": "360102",
        "measure_code": "M07",
        "assignment_id": None,
        "milestone_id": None,
        "percent_complete": 62.5,
        "target_code": None,
        "target_value": None,
        "summary": "政务服务事项网上可办率达到98%",
        "reported_at": datetime(2026, 11, 26, 9, tzinfo=CHINA),
        "reporter": "东湖区政务服务中心",
        "evidence": [],
        "on_time": None,
        "event_id": "e-1",
        "received_via": "http",
        "accepted_at": datetime(2026, 11, 26, 1, 0, 5, tzinfo=UTC),
        "review_status": "pending",
        "reviewed_by": None,
        "reviewed_at": None,
        "review_reason": None,
    }
    first = ReportView.of(sent).model_dump(mode="json")
    stored = ReportView.of({**sent, "reported_at": datetime(2026, 11, 26, 1, tzinfo=UTC)})
    assert first["reported_at"] == "2026-11-26T01:00:00Z"
    assert stored.model_dump(mode="json") == first
