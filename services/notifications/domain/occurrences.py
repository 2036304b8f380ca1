"""From the other services' facts to occurrences: the topic, the template fields and the
deterministic id of the notification each fact gives rise to. Pure: no I/O; the unit's name is
passed in for facts that do not carry it."""

from collections.abc import Callable
from datetime import date
from typing import Any

from contracts.envelope import Envelope, fact_id
from contracts.inspections import (
    SEVERITY_NAMES,
    FindingRaised,
    RectificationClosed,
    RectificationFacts,
    RectificationReopened,
    RectificationReturned,
    RectificationSubmitted,
    SuggestionAnswered,
    SuggestionFiled,
)
from contracts.measures import (
    AchievementKind,
    AchievementRecognized,
    AssignmentCreated,
    AssignmentRole,
    ChangeKind,
    ChangeRequestDecided,
    ChangeRequested,
    DeadlineApproaching,
    ProgressAccepted,
    ProgressReported,
    ProgressReturned,
)
from contracts.scoring import AppealDecided, AppealFiled, ResultsPublicised, period_name_zh
from services.notifications.domain.escalation import Level
from services.notifications.domain.items import ItemKinds
from services.notifications.domain.topics import Occurrence, Topic
from services.notifications.domain.wording import days_left, en_moment, hours_left, lateness
from services.runtime.workdays import chinese_date, chinese_moment

ON_TIME = {True: ("按期", "on time"), False: ("逾期", "late")}
ROLE_NAMES = {
    AssignmentRole.LEAD: ("牵头单位", "lead unit"),
    AssignmentRole.CO: ("协办单位", "co-operating unit"),
}
CHANGE_NAMES = {ChangeKind.EXTENSION: ("延期", "extension"), ChangeKind.CHANGE: ("变更", "change")}
DECISION_NAMES = {True: ("已批准", "approved"), False: ("未批准", "refused")}
ACHIEVEMENT_NAMES = {
    AchievementKind.NATIONAL_RECOGNITION: ("国家层面认可", "national recognition"),
    AchievementKind.NATIONAL_PILOT: ("全国试点", "national pilot"),
    AchievementKind.STATE_COUNCIL_INCENTIVE: ("国务院督查激励", "State Council incentive"),
    AchievementKind.DEMONSTRATION_TITLE: ("示范创建称号", "demonstration title"),
}


def notification_id(topic: Topic, origin: str) -> str:
    """One notification per topic and origin (a source event id, or an escalation case)."""
    return fact_id("Notification", topic.value, origin)


def _occurrence(
    topic: Topic, envelope: Envelope[Any], fields: dict[str, str], **extra: Any
) -> Occurrence:
    return Occurrence(
        notification_id=notification_id(topic, envelope.id),
        topic=topic,
        unit=envelope.subject,
        source_event_id=envelope.id,
        fields=fields,
        facts=envelope.data.model_dump(mode="json"),
        **extra,
    )


def progress_reported(envelope: Envelope[ProgressReported], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = {
        "unit": event.unit_name,
        "measure": f"{event.measure_code} {event.measure_title}",
        "percent": f"{event.percent_complete:g}",
        "summary": event.summary or "—",
        "reporter": event.reporter,
    }
    return _occurrence(Topic.PROGRESS_REPORTED, envelope, fields)


def progress_accepted(envelope: Envelope[ProgressAccepted], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = {
        "unit": unit_name,
        "measure": event.measure_code,
        "report_id": event.report_id,
        "reviewer": event.reviewer,
    }
    return _occurrence(Topic.PROGRESS_ACCEPTED, envelope, fields)


def progress_returned(envelope: Envelope[ProgressReturned], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = {
        "unit": unit_name,
        "measure": event.measure_code,
        "report_id": event.report_id,
        "reviewer": event.reviewer,
        "reason": event.reason or "—",
    }
    return _occurrence(Topic.PROGRESS_RETURNED, envelope, fields)


def dates(name: str, day: date) -> dict[str, str]:
    """A date field in both forms: `name` as 2026年4月11日, `name_en` as 2026-04-11."""
    return {name: chinese_date(day), f"{name}_en": day.isoformat()}


def item_fields(
    unit_name: str, items: ItemKinds, item_type: str, title: str, due: date
) -> dict[str, str]:
    kind = items.name(item_type)
    return {
        "unit": unit_name,
        "title": title,
        **dates("due_date", due),
        "item_kind_zh": kind.zh,
        "item_kind_en": kind.en,
    }


def deadline_approaching(
    items: ItemKinds,
) -> Callable[[Envelope[DeadlineApproaching], str], Occurrence]:
    """提醒, for any kind of deadline item: the kind's name comes from data."""

    def occurrence(envelope: Envelope[DeadlineApproaching], unit_name: str) -> Occurrence:
        event = envelope.data
        fields = item_fields(unit_name, items, event.item_type.value, event.title, event.due_date)
        fields["days_left"] = str(event.days_left)
        fields |= _time_left(event)
        return _occurrence(
            Topic.DEADLINE_APPROACHING, envelope, fields, item_type=event.item_type.value
        )

    return occurrence


def _time_left(event: DeadlineApproaching) -> dict[str, str]:
    """Days left before a date; before a time limit to the minute (a 12345 工单) the hours left,
    and its 限办日期 gives the time too."""
    if event.due_at is None:
        zh, en = days_left(event.days_left)
        return {"time_left_zh": zh, "time_left_en": en}
    zh, en = hours_left(event.due_at - event.detected_at)
    return {
        "due_date": chinese_moment(event.due_at),
        "due_date_en": en_moment(event.due_at),
        "time_left_zh": zh,
        "time_left_en": en,
    }


def ladder_id(level: Level, case_key: str) -> str:
    return notification_id(level.topic, case_key)


def _finding_fields(event: RectificationFacts) -> dict[str, str]:
    zh, en = SEVERITY_NAMES[event.severity]
    return {
        "unit": event.unit_name,
        "finding": event.finding_title,
        "severity_zh": zh,
        "severity_en": en,
        **dates("due_date", event.due_date),
    }


def finding_raised(envelope: Envelope[FindingRaised], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = _finding_fields(event) | {
        "inspection": event.inspection_title,
        "inspector": event.inspector,
        "description": f"{event.description} " if event.description else "",
    }
    return _occurrence(Topic.FINDING_RAISED, envelope, fields, severity=event.severity)


def rectification_submitted(
    envelope: Envelope[RectificationSubmitted], unit_name: str
) -> Occurrence:
    event = envelope.data
    zh, en = ON_TIME[event.on_time]
    fields = _finding_fields(event) | {
        "summary": event.summary or "—",
        "on_time_zh": zh,
        "on_time_en": en,
    }
    return _occurrence(Topic.RECTIFICATION_SUBMITTED, envelope, fields, severity=event.severity)


def rectification_returned(envelope: Envelope[RectificationReturned], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = _finding_fields(event) | {"reason": event.reason or "—"}
    return _occurrence(Topic.RECTIFICATION_RETURNED, envelope, fields, severity=event.severity)


def rectification_closed(envelope: Envelope[RectificationClosed], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = lateness(event.days_late)
    fields = _finding_fields(event) | {"timeliness_zh": zh, "timeliness_en": en}
    return _occurrence(Topic.RECTIFICATION_CLOSED, envelope, fields, severity=event.severity)


def rectification_reopened(envelope: Envelope[RectificationReopened], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = _finding_fields(event) | {"reason": event.reason or "—"}
    return _occurrence(Topic.RECTIFICATION_REOPENED, envelope, fields, severity=event.severity)


def suggestion_filed(envelope: Envelope[SuggestionFiled], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = {
        "unit": event.unit_name,
        "supervisor": event.supervisor_name,
        "title": event.title,
        **dates("due_date", event.due_date),
    }
    return _occurrence(Topic.SUGGESTION_FILED, envelope, fields)


def suggestion_answered(envelope: Envelope[SuggestionAnswered], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = ON_TIME[event.on_time]
    fields = {
        "unit": event.unit_name,
        "supervisor": event.supervisor_name,
        "title": event.title,
        "on_time_zh": zh,
        "on_time_en": en,
    }
    return _occurrence(Topic.SUGGESTION_ANSWERED, envelope, fields)


def assignment_created(envelope: Envelope[AssignmentCreated], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = ROLE_NAMES[event.role]
    own = [m.due_date for m in event.milestones if m.unit == event.unit] or [
        m.due_date for m in event.milestones
    ]
    fields = {
        "unit": unit_name,
        "measure": event.measure_code,
        "title": event.title_zh,
        "role_zh": zh,
        "role_en": en,
        "milestones": str(len(event.milestones)),
        **_optional("first_due_date", min(own) if own else None),
    }
    return _occurrence(Topic.ASSIGNMENT_CREATED, envelope, fields)


def _change_fields(event: ChangeRequested | ChangeRequestDecided, unit_name: str) -> dict[str, str]:
    zh, en = CHANGE_NAMES[event.kind]
    return {
        "unit": unit_name,
        "request_id": event.request_id,
        "assignment": event.assignment_id
        + (f" / {event.milestone_id}" if event.milestone_id else ""),
        "kind_zh": zh,
        "kind_en": en,
        "reason": event.reason or "—",
    }


def _optional(name: str, value: date | None) -> dict[str, str]:
    return dates(name, value) if value else {name: "—", f"{name}_en": "—"}


def change_requested(envelope: Envelope[ChangeRequested], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = _change_fields(event, unit_name) | {
        **_optional("current_due_date", event.current_due_date),
        **_optional("proposed_due_date", event.proposed_due_date),
        "requester": event.requested_by,
    }
    return _occurrence(Topic.CHANGE_REQUESTED, envelope, fields)


def change_request_decided(envelope: Envelope[ChangeRequestDecided], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = DECISION_NAMES[event.approved]
    fields = _change_fields(event, unit_name) | {
        "decision_zh": zh,
        "decision_en": en,
        **_optional("due_date_after", event.due_date_after or event.due_date_before),
        "decided_by": event.decided_by,
    }
    return _occurrence(Topic.CHANGE_REQUEST_DECIDED, envelope, fields)


def achievement_recognized(envelope: Envelope[AchievementRecognized], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = ACHIEVEMENT_NAMES[event.kind]
    fields = {
        "unit": unit_name,
        "title": event.title,
        "kind_zh": zh,
        "kind_en": en,
        "measure": event.measure_code,
        **dates("date", event.recognised_on),
    }
    return _occurrence(Topic.ACHIEVEMENT_RECOGNIZED, envelope, fields)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def results_publicised(envelope: Envelope[ResultsPublicised]) -> list[Occurrence]:
    """One notification per unit of the results: each unit learns its own provisional result."""
    event = envelope.data
    deadline = event.appeal_deadline
    return [
        Occurrence(
            notification_id=notification_id(Topic.RESULTS_PUBLICISED, f"{envelope.id}:{row.unit}"),
            topic=Topic.RESULTS_PUBLICISED,
            unit=row.unit,
            source_event_id=envelope.id,
            fields={
                "unit": row.unit_name,
                "period": event.period,
                "period_zh": period_name_zh(event.period),
                "total": _score(row.total),
                "rank": str(row.rank or "—"),
                "appeal_deadline_zh": chinese_date(deadline),
                "appeal_deadline": deadline.isoformat(),
            },
            facts=row.model_dump(mode="json"),
        )
        for row in event.results
    ]


def appeal_filed(envelope: Envelope[AppealFiled], unit_name: str) -> Occurrence:
    event = envelope.data
    fields = {
        "unit": event.unit_name,
        "period": event.period,
        "period_zh": period_name_zh(event.period),
        "reason": event.reason,
        "line_items": "、".join(event.line_items),
    }
    return _occurrence(Topic.APPEAL_FILED, envelope, fields)


OUTCOME_NAMES = {"upheld": ("维持原结果", "upheld"), "corrected": ("予以更正", "corrected")}


def appeal_decided(envelope: Envelope[AppealDecided], unit_name: str) -> Occurrence:
    event = envelope.data
    zh, en = OUTCOME_NAMES[event.outcome]
    fields = {
        "unit": event.unit_name,
        "period": event.period,
        "period_zh": period_name_zh(event.period),
        "outcome_zh": zh,
        "outcome_en": en,
        "answer": event.answer,
        "total_before": _score(event.total_before),
        "total_after": _score(event.total_after),
    }
    return _occurrence(Topic.APPEAL_DECIDED, envelope, fields)
