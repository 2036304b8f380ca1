"""What a notification is about (its topic), the fields each topic's template may use, and what
a notification carries from the fact that caused it. Pure: no I/O."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.inspections import Severity


class Topic(StrEnum):
    PROGRESS_REPORTED = "progress_reported"
    PROGRESS_ACCEPTED = "progress_accepted"
    PROGRESS_RETURNED = "progress_returned"
    DEADLINE_APPROACHING = "deadline_approaching"  # 提醒
    DEADLINE_MISSED = "deadline_missed"  # 催办: the first level of the ladder
    SUPERVISION_ORDER = "supervision_order"  # 督办
    PUBLIC_NOTICE = "public_notice"  # 通报
    FINDING_RAISED = "finding_raised"
    RECTIFICATION_SUBMITTED = "rectification_submitted"
    RECTIFICATION_RETURNED = "rectification_returned"
    RECTIFICATION_CLOSED = "rectification_closed"
    RECTIFICATION_REOPENED = "rectification_reopened"
    SUGGESTION_FILED = "suggestion_filed"
    SUGGESTION_ANSWERED = "suggestion_answered"
    ASSIGNMENT_CREATED = "assignment_created"  # 交办
    CHANGE_REQUESTED = "change_requested"  # 延期或变更申请
    CHANGE_REQUEST_DECIDED = "change_request_decided"
    ACHIEVEMENT_RECOGNIZED = "achievement_recognized"
    RESULTS_PUBLICISED = "results_publicised"  # 考核结果公示, one notification per unit
    APPEAL_FILED = "appeal_filed"  # 申诉
    APPEAL_DECIDED = "appeal_decided"  # 申诉复核答复
    DIGEST = "digest"


# They ask someone to act now, so they are never held back for a recipient's daily digest.
URGENT = frozenset({Topic.DEADLINE_MISSED, Topic.SUPERVISION_ORDER, Topic.PUBLIC_NOTICE})
SENT_AT_ONCE = URGENT | {Topic.DIGEST}

# Topics whose facts carry a severity, so a routing rule may filter them by it.
WITH_SEVERITY = frozenset(
    {
        Topic.FINDING_RAISED,
        Topic.RECTIFICATION_SUBMITTED,
        Topic.RECTIFICATION_RETURNED,
        Topic.RECTIFICATION_CLOSED,
        Topic.RECTIFICATION_REOPENED,
    }
)

SEVERITY_ORDER = {s: n for n, s in enumerate(Severity)}  # minor < general < serious < critical

_ITEM = ("unit", "title", "due_date", "item_kind_zh", "item_kind_en")
_LADDER = (*_ITEM, "working_days_overdue", "notice_date")
_FINDING = ("unit", "finding", "severity_zh", "severity_en", "due_date")
_CHANGE = ("unit", "request_id", "assignment", "kind_zh", "kind_en", "reason")

# The placeholders a template of each topic may use; the templates file is checked against it.
FIELDS: Mapping[Topic, frozenset[str]] = {
    topic: frozenset(names)
    for topic, names in {
        Topic.PROGRESS_REPORTED: ("unit", "measure", "percent", "summary", "reporter"),
        Topic.PROGRESS_ACCEPTED: ("unit", "measure", "report_id", "reviewer"),
        Topic.PROGRESS_RETURNED: ("unit", "measure", "report_id", "reviewer", "reason"),
        Topic.DEADLINE_APPROACHING: (*_ITEM, "days_left"),
        Topic.DEADLINE_MISSED: _ITEM,
        Topic.SUPERVISION_ORDER: _LADDER,
        Topic.PUBLIC_NOTICE: (*_LADDER, "supervision_date"),
        Topic.FINDING_RAISED: (*_FINDING, "inspection", "inspector", "description"),
        Topic.RECTIFICATION_SUBMITTED: (*_FINDING, "summary", "on_time_zh", "on_time_en"),
        Topic.RECTIFICATION_RETURNED: (*_FINDING, "reason"),
        Topic.RECTIFICATION_CLOSED: (*_FINDING, "days_late"),
        Topic.RECTIFICATION_REOPENED: (*_FINDING, "reason"),
        Topic.SUGGESTION_FILED: ("unit", "supervisor", "title", "due_date"),
        Topic.SUGGESTION_ANSWERED: ("unit", "supervisor", "title", "on_time_zh", "on_time_en"),
        Topic.ASSIGNMENT_CREATED: (
            "unit",
            "measure",
            "title",
            "role_zh",
            "role_en",
            "milestones",
            "first_due_date",
        ),
        Topic.CHANGE_REQUESTED: (*_CHANGE, "current_due_date", "proposed_due_date", "requester"),
        Topic.CHANGE_REQUEST_DECIDED: (
            *_CHANGE,
            "decision_zh",
            "decision_en",
            "due_date_after",
            "decided_by",
        ),
        Topic.ACHIEVEMENT_RECOGNIZED: ("unit", "title", "kind_zh", "kind_en", "measure", "date"),
        Topic.RESULTS_PUBLICISED: (
            "unit",
            "period",
            "period_zh",
            "total",
            "rank",
            "appeal_deadline_zh",
            "appeal_deadline",
        ),
        Topic.APPEAL_FILED: ("unit", "period", "period_zh", "reason", "line_items"),
        Topic.APPEAL_DECIDED: (
            "unit",
            "period",
            "period_zh",
            "outcome_zh",
            "outcome_en",
            "answer",
            "total_before",
            "total_after",
        ),
        Topic.DIGEST: ("date", "open_count", "held_count", "lines_zh", "lines_en"),
    }.items()
}


@dataclass(frozen=True)
class Occurrence:
    """Something to tell people about: one notification, before routing.

    `notification_id` is deterministic (derived from the fact and the topic), so the same fact
    handled twice, by a redelivery or by two replicas, yields the same notification.
    """

    notification_id: str
    topic: Topic
    unit: str
    source_event_id: str
    fields: Mapping[str, str]
    severity: Severity | None = None
    case_key: str | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
