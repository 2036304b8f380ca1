"""Facts become occurrences with deterministic ids; closing facts name the item they settle."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from contracts.envelope import fact_id, wrap
from contracts.inspections import (
    PublicChannel,
    PublicRequestClosed,
    RectificationClosed,
    RectificationReopened,
    Severity,
)
from contracts.measures import (
    AssignmentCreated,
    AssignmentRole,
    ChangeKind,
    ChangeRequestDecided,
    DeadlineApproaching,
    DeadlineItem,
    MilestonePlan,
    ProgressReported,
    ProgressReturned,
)
from services.notifications.domain import occurrences, settlements
from services.notifications.domain.items import load_items
from services.notifications.domain.topics import FIELDS, Topic

AT = datetime(2026, 7, 20, 3, tzinfo=UTC)


def report(completed: bool | None, milestone: str | None = "m-1") -> ProgressReported:
    return ProgressReported(
        report_id="r-1",
        unit="360102",
        unit_name="东湖区",
        measure_code="M07",
        measure_title="t",
        milestone_id=milestone,
        percent_complete=100,
        reported_at=AT,
        reporter="oa",
        milestone_due_date=date(2026, 7, 15),
        milestone_completed=completed,
    )


def test_the_same_fact_gives_the_same_notification() -> None:
    envelope = wrap(report(True), subject="360102", source="t", id="event-1")
    first = occurrences.progress_reported(envelope, "东湖区")
    again = occurrences.progress_reported(envelope, "东湖区")
    assert first.notification_id == again.notification_id
    assert first.notification_id != occurrences.notification_id(Topic.PROGRESS_ACCEPTED, "event-1")
    assert set(first.fields) == FIELDS[Topic.PROGRESS_REPORTED]
    assert first.facts["milestone_id"] == "m-1"


def test_a_report_settles_its_milestone_only_if_it_completes_it() -> None:
    def settled(event: ProgressReported) -> settlements.Settlement | None:
        return settlements.of_progress(wrap(event, subject="360102", source="t"))

    complete = settled(report(True))
    assert complete is not None and complete.ref == "m-1"
    of_assignment = settled(report(True).model_copy(update={"assignment_id": "a-1"}))
    assert of_assignment is not None and of_assignment.ref == "a-1/m-1"
    assert complete.closure.closes(date(2026, 7, 15))
    assert settled(report(False)) is None
    assert settled(report(True, milestone=None)) is None
    unknown = settled(report(None))  # an older producer that does not say: dated after the due
    assert unknown is not None and unknown.closure.closes(date(2026, 7, 15))
    assert not unknown.closure.closes(date(2026, 7, 21))


def test_a_closed_rectification_settles_the_deadline_it_names() -> None:
    event = RectificationClosed(
        finding_id="f-1",
        inspection_id="i-1",
        unit="360102",
        unit_name="东湖区",
        finding_title="问题",
        severity=Severity.CRITICAL,
        due_date=date(2026, 7, 10),
        closed_at=AT,
        submitted_at=AT,
        on_time=False,
        days_late=10,
        actor_name="督查组",
    )
    envelope = wrap(event, subject="360102", source="t")
    settlement = settlements.of_rectification(envelope)
    assert (settlement.ref_type, settlement.ref) == ("rectification", "f-1")
    assert settlement.closure.closes(date(2026, 7, 10))
    assert not settlement.closure.closes(date(2026, 8, 10))
    occurrence = occurrences.rectification_closed(envelope, "东湖区")
    assert occurrence.severity is Severity.CRITICAL
    assert set(occurrence.fields) == FIELDS[Topic.RECTIFICATION_CLOSED]


def decision(approved: bool, kind: ChangeKind = ChangeKind.EXTENSION) -> ChangeRequestDecided:
    return ChangeRequestDecided(
        request_id="cr-1",
        unit="360102",
        assignment_id="a-1",
        kind=kind,
        approved=approved,
        milestone_id="m-1",
        due_date_before=date(2026, 7, 15),
        due_date_after=date(2026, 8, 15),
        decided_by="五型办",
        reason="客观原因",
    )


def test_an_approved_extension_lifts_the_deadline_it_moves() -> None:
    envelope = wrap(decision(True), subject="360102", source="t", time=AT)
    settlement = settlements.of_extension(envelope)
    assert settlement is not None and settlement.ref == "a-1/m-1"
    assert settlement.closure.closes(date(2026, 7, 15))
    assert not settlement.closure.closes(date(2026, 8, 15))  # the new deadline still counts
    for other in (decision(False), decision(True, ChangeKind.CHANGE)):
        assert settlements.of_extension(wrap(other, subject="360102", source="t")) is None
    occurrence = occurrences.change_request_decided(envelope, "东湖区")
    assert occurrence.fields["decision_zh"] == "已批准"
    assert occurrence.fields["due_date_after"] == "2026年8月15日"
    assert occurrence.fields["due_date_after_en"] == "2026-08-15"


def test_an_assignment_names_the_units_first_milestone() -> None:
    plan = [
        MilestonePlan(
            milestone_id=f"m-{n}", title="节点", unit=unit, due_date=due, expected_percent=50
        )
        for n, (unit, due) in enumerate(
            [("360103", date(2026, 3, 1)), ("360102", date(2026, 6, 30))]
        )
    ]
    event = AssignmentCreated(
        assignment_id="a-1",
        unit="360102",
        role=AssignmentRole.CO,
        lead_unit="360103",
        co_units=["360102"],
        year=2026,
        measure_code="M12",
        measure_type="service",
        title_zh="优化营商环境",
        title_en="Business environment",
        milestones=plan,
        created_by="五型办",
    )
    occurrence = occurrences.assignment_created(wrap(event, subject="360102", source="t"), "东湖区")
    assert occurrence.fields["first_due_date"] == "2026年6月30日"
    assert (occurrence.fields["role_zh"], occurrence.fields["milestones"]) == ("协办单位", "2")


def test_a_12345_request_closed_late_still_completes_its_deadline() -> None:
    closed = PublicRequestClosed(
        request_id="H-1",
        unit="360102",
        channel=PublicChannel.HOTLINE_12345,
        title="路灯不亮",
        due_date=date(2026, 7, 10),
        closed_at=AT,
        on_time=False,
        working_days_late=6,
    )
    found = settlements.of_public_request(wrap(closed, subject="360102", source="t", id="c-1"))
    assert (found.ref_type, found.ref, found.event_id) == ("public_request", "H-1", "c-1")
    assert found.closure.closes(date(2026, 7, 10))
    assert not found.closure.closes(date(2026, 7, 24))  # the limit of a later 重办


def test_a_report_sent_back_or_a_finding_reopened_undoes_its_completion() -> None:
    returned = ProgressReturned(
        report_id="r-1",
        unit="360102",
        measure_code="M07",
        reviewer="五型办",
        reviewed_at=AT,
        reason="佐证材料不全",
        milestone_completed=False,
    )
    undo = settlements.of_return(wrap(returned, subject="360102", source="t"))
    assert undo is not None
    assert undo.closing_event == fact_id(ProgressReported.NAME, "360102", "r-1")
    # The report was not what completed the milestone: nothing to undo.
    still = returned.model_copy(update={"milestone_completed": True})
    assert settlements.of_return(wrap(still, subject="360102", source="t")) is None
    reopened = RectificationReopened(
        finding_id="f-1",
        inspection_id="i-1",
        unit="360102",
        unit_name="东湖区",
        finding_title="问题",
        severity=Severity.GENERAL,
        due_date=date(2026, 8, 31),
        reopen_number=1,
        reason="问题反弹",
        previous_due_date=date(2026, 7, 31),
        reopened_at=AT,
        actor_name="督查组",
    )
    undo = settlements.of_reopened(wrap(reopened, subject="360102", source="t"))
    assert (undo.ref, undo.due_date) == (("rectification", "f-1"), date(2026, 8, 31))


def reminder(item: DeadlineItem, **extra: object) -> Mapping[str, str]:
    given: dict[str, object] = {
        "item_type": item,
        "item_id": "x-1",
        "unit": "360102",
        "title": "夜间施工噪音扰民",
        "due_date": date(2026, 7, 23),
        "offset_days": 3,
        "days_left": 3,
        "detected_at": AT,
    }
    event = DeadlineApproaching.model_validate(given | extra)
    envelope = wrap(event, subject="360102", source="t")
    occurrence = occurrences.deadline_approaching(load_items())(envelope, "东湖区")
    assert set(occurrence.fields) == FIELDS[Topic.DEADLINE_APPROACHING]
    return occurrence.fields


def test_a_reminder_gives_the_days_left_or_for_a_12345_request_the_time_and_hours() -> None:
    dated = reminder(DeadlineItem.SUGGESTION)
    assert (dated["due_date"], dated["time_left_zh"]) == ("2026年7月23日", "距限办日期还有3天")
    assert reminder(DeadlineItem.SUGGESTION, days_left=0)["time_left_zh"] == "今日到期"
    # Due at 18:00 China time on 20 July, detected at 11:00 that day.
    due_at = datetime(2026, 7, 20, 10, tzinfo=UTC)
    request = reminder(
        DeadlineItem.PUBLIC_REQUEST, due_at=due_at, offset_percent=20, offset_days=0, days_left=0
    )
    assert (request["due_date"], request["due_date_en"]) == (
        "2026年7月20日 18:00",
        "2026-07-20 18:00",
    )
    assert (request["item_kind_zh"], request["time_left_zh"]) == ("诉求工单", "距限办时间还有7小时")
    later = reminder(DeadlineItem.PUBLIC_REQUEST, due_at=AT + timedelta(hours=29, minutes=59))
    assert (later["time_left_zh"], later["time_left_en"]) == (
        "距限办时间还有1天5小时",
        "1 day(s) 5 hour(s) left",
    )
    soon = reminder(DeadlineItem.PUBLIC_REQUEST, due_at=AT + timedelta(minutes=59))
    assert soon["time_left_zh"] == "距限办时间不足1小时"
