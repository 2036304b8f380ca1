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
    SIGN_REMINDER = "sign_reminder"  # 签收提醒: a notice not signed for in time
    SUPERVISION_ORDER = "supervision_order"  # 督办
    PUBLIC_NOTICE = "public_notice"  # 通报: a bulletin, periodic or about one unit
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
URGENT = frozenset(
    {Topic.DEADLINE_MISSED, Topic.SIGN_REMINDER, Topic.SUPERVISION_ORDER, Topic.PUBLIC_NOTICE}
)
SENT_AT_ONCE = URGENT | {Topic.DIGEST}

# What an office reads in its digest rather than one by one (settings.routine_topics): facts
# that ask nothing of it. Returns, misses, escalations and requests still arrive one by one.
DEFAULT_ROUTINE = frozenset(
    {
        Topic.PROGRESS_REPORTED,
        Topic.PROGRESS_ACCEPTED,
        Topic.RECTIFICATION_SUBMITTED,
        Topic.RECTIFICATION_CLOSED,
        Topic.SUGGESTION_ANSWERED,
        Topic.ACHIEVEMENT_RECOGNIZED,
    }
)

# How a digest names what it gathered.
TOPIC_NAMES: Mapping[Topic, tuple[str, str]] = {
    Topic.PROGRESS_REPORTED: ("报送进展", "progress reported"),
    Topic.PROGRESS_ACCEPTED: ("进展审核通过", "progress accepted"),
    Topic.PROGRESS_RETURNED: ("进展退回", "progress returned"),
    Topic.DEADLINE_APPROACHING: ("到期提醒", "reminders"),
    Topic.DEADLINE_MISSED: ("催办", "notices"),
    Topic.SIGN_REMINDER: ("签收提醒", "reminders to sign"),
    Topic.SUPERVISION_ORDER: ("督办", "supervision orders"),
    Topic.PUBLIC_NOTICE: ("通报", "bulletins"),
    Topic.FINDING_RAISED: ("督查问题", "findings"),
    Topic.RECTIFICATION_SUBMITTED: ("提交整改材料", "rectifications submitted"),
    Topic.RECTIFICATION_RETURNED: ("整改退回", "rectifications returned"),
    Topic.RECTIFICATION_CLOSED: ("整改销号", "rectifications closed"),
    Topic.RECTIFICATION_REOPENED: ("整改重新打开", "rectifications reopened"),
    Topic.SUGGESTION_FILED: ("监督员建议交办", "suggestions filed"),
    Topic.SUGGESTION_ANSWERED: ("监督员建议答复", "suggestions answered"),
    Topic.ASSIGNMENT_CREATED: ("交办任务", "assignments"),
    Topic.CHANGE_REQUESTED: ("延期或变更申请", "change requests"),
    Topic.CHANGE_REQUEST_DECIDED: ("延期或变更审批", "change decisions"),
    Topic.ACHIEVEMENT_RECOGNIZED: ("表彰", "recognitions"),
    Topic.DIGEST: ("每日摘要", "digests"),
}

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

_ITEM = ("unit", "title", "due_date", "due_date_en", "item_kind_zh", "item_kind_en")
_LADDER = (*_ITEM, "working_days_overdue", "notice_date", "notice_date_en")
_FINDING = ("unit", "finding", "severity_zh", "severity_en", "due_date", "due_date_en")
_CHANGE = ("unit", "request_id", "assignment", "kind_zh", "kind_en", "reason")

# The placeholders a template of each topic may use; the templates file is checked against it.
FIELDS: Mapping[Topic, frozenset[str]] = {
    topic: frozenset(names)
    for topic, names in {
        Topic.PROGRESS_REPORTED: ("unit", "measure", "percent", "summary", "reporter"),
        Topic.PROGRESS_ACCEPTED: ("unit", "measure", "report_id", "reviewer"),
        Topic.PROGRESS_RETURNED: ("unit", "measure", "report_id", "reviewer", "reason"),
        Topic.DEADLINE_APPROACHING: (*_ITEM, "days_left", "time_left_zh", "time_left_en"),
        Topic.DEADLINE_MISSED: _ITEM,
        Topic.SIGN_REMINDER: (*_ITEM, "notice_date", "notice_date_en"),
        Topic.SUPERVISION_ORDER: (*_LADDER, "signed_zh", "signed_en"),
        Topic.PUBLIC_NOTICE: (
            "kind_zh",
            "kind_en",
            "period_zh",
            "period_en",
            "count",
            "unit_count",
            "lines_zh",
            "lines_en",
            "note",
        ),
        Topic.FINDING_RAISED: (*_FINDING, "inspection", "inspector", "description"),
        Topic.RECTIFICATION_SUBMITTED: (*_FINDING, "summary", "on_time_zh", "on_time_en"),
        Topic.RECTIFICATION_RETURNED: (*_FINDING, "reason"),
        Topic.RECTIFICATION_CLOSED: (*_FINDING, "timeliness_zh", "timeliness_en"),
        Topic.RECTIFICATION_REOPENED: (*_FINDING, "reason"),
        Topic.SUGGESTION_FILED: ("unit", "supervisor", "title", "due_date", "due_date_en"),
        Topic.SUGGESTION_ANSWERED: ("unit", "supervisor", "title", "on_time_zh", "on_time_en"),
        Topic.ASSIGNMENT_CREATED: (
            "unit",
            "measure",
            "title",
            "role_zh",
            "role_en",
            "milestones",
            "first_due_date",
            "first_due_date_en",
        ),
        Topic.CHANGE_REQUESTED: (
            *_CHANGE,
            "current_due_date",
            "current_due_date_en",
            "proposed_due_date",
            "proposed_due_date_en",
            "requester",
        ),
        Topic.CHANGE_REQUEST_DECIDED: (
            *_CHANGE,
            "decision_zh",
            "decision_en",
            "due_date_after",
            "due_date_after_en",
            "decided_by",
        ),
        Topic.ACHIEVEMENT_RECOGNIZED: (
            "unit",
            "title",
            "kind_zh",
            "kind_en",
            "measure",
            "date",
            "date_en",
        ),
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
        Topic.DIGEST: (
            "date",
            "date_en",
            "open_count",
            "held_count",
            "lines_zh",
            "lines_en",
            "held_zh",
            "held_en",
        ),
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
    item_type: str | None = None  # of a deadline item, so a rule may route by it
    case_key: str | None = None
    facts: Mapping[str, object] = field(default_factory=dict)
