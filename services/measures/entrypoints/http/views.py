"""What the HTTP API answers: response models built from the tables and the domain's status."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel

from contracts.common import EvidenceRef
from services.measures.adapters.tables import (
    Achievement,
    Assignment,
    ChangeRequest,
    JournalEntry,
    Milestone,
    ProgressReport,
)
from services.measures.domain.status import (
    AssignmentState,
    Cause,
    Light,
    MilestoneState,
    Status,
    assess,
)
from services.runtime.workdays import local_date

# An instant as the service stores it, in UTC ("…Z"), whatever offset a client sent it with: the
# 201 answer to a report and the 200 answer to its repeat show the same text.
Instant = Annotated[datetime, AfterValidator(lambda moment: moment.astimezone(UTC))]


class ReportView(BaseModel):
    report_id: str
    unit: str
    measure_code: str
    assignment_id: str | None
    milestone_id: str | None
    percent_complete: float
    target_code: str | None
    target_value: float | None
    summary: str
    reported_at: Instant
    reporter: str
    evidence: list[EvidenceRef]
    on_time: bool | None
    event_id: str
    received_via: str
    accepted_at: Instant
    review_status: str
    reviewed_by: str | None
    reviewed_at: Instant | None
    review_reason: str | None

    @classmethod
    def of(cls, row: ProgressReport | Mapping[str, Any]) -> "ReportView":
        return cls.model_validate(row, from_attributes=True)


class MilestoneView(BaseModel):
    milestone_id: str
    title: str
    unit: str
    due_date: date
    original_due_date: date
    expected_percent: float
    percent_complete: float
    completed_at: Instant | None
    missed_at: Instant | None

    @classmethod
    def of(cls, row: Milestone) -> "MilestoneView":
        return cls.model_validate(row, from_attributes=True)


class StatusView(BaseModel):
    light: Light
    causes: list[Cause]
    expected_percent: float
    actual_percent: float
    overdue: list[str]
    due_soon: list[str]

    @classmethod
    def of(cls, status: Status) -> "StatusView":
        return cls(
            light=status.light,
            causes=list(status.causes),
            expected_percent=status.expected_percent,
            actual_percent=status.actual_percent,
            overdue=list(status.overdue),
            due_soon=list(status.due_soon),
        )


class AssignmentSummary(BaseModel):
    assignment_id: str
    year: int
    measure_code: str
    measure_root: str
    measure_type: str | None
    title_zh: str
    title_en: str
    lead_unit: str
    co_units: list[str]
    start_on: date
    target_code: str | None
    target_value: float | None
    recurrence: str | None
    rule: str | None
    roll: str | None
    reported_percent: float
    note: str
    created_by: str
    created_at: Instant
    status: StatusView


class AssignmentView(AssignmentSummary):
    milestones: list[MilestoneView]


class StatusCounts(BaseModel):
    key: str
    green: int = 0
    yellow: int = 0
    red: int = 0

    def add(self, light: Light) -> None:
        setattr(self, light.value, getattr(self, light.value) + 1)


class StatusList(BaseModel):
    counts: StatusCounts
    assignments: list[AssignmentSummary]


class OverdueItem(BaseModel):
    assignment_id: str
    milestone_id: str
    title: str
    unit: str
    measure_code: str
    measure_type: str | None
    recurrence: str | None
    due_date: date
    days_overdue: int
    missed_at: Instant | None


class ChangeRequestView(BaseModel):
    request_id: str
    unit: str
    kind: str
    milestone_id: str | None
    current_due_date: date | None
    proposed_due_date: date | None
    proposed_title: str | None
    proposed_target_value: float | None
    reason: str
    requested_by: str
    requested_at: Instant
    status: str
    decided_by: str | None
    decided_at: Instant | None
    decision_reason: str | None

    @classmethod
    def of(cls, row: ChangeRequest) -> "ChangeRequestView":
        return cls.model_validate(row, from_attributes=True)


class AchievementView(BaseModel):
    achievement_id: str
    unit: str
    year: int
    kind: str
    level: str
    title: str
    measure_code: str
    recognised_on: date
    evidence: list[EvidenceRef]
    recorded_by: str
    recorded_at: Instant

    @classmethod
    def of(cls, row: Achievement) -> "AchievementView":
        return cls.model_validate(row, from_attributes=True)


class JournalView(BaseModel):
    at: Instant
    actor: str
    action: str
    entity_type: str
    entity_id: str
    unit: str | None
    reason: str
    details: dict[str, Any]

    @classmethod
    def of(cls, row: JournalEntry) -> "JournalView":
        return cls.model_validate(row, from_attributes=True)


def status_of(
    row: Assignment, milestones: list[Milestone], now: datetime, warn_days: int, tolerance: float
) -> Status:
    state = AssignmentState(
        start_on=row.start_on,
        recurring=row.recurrence is not None,
        reported_percent=row.reported_percent,
        milestones=[
            MilestoneState(
                m.milestone_id, m.due_date, m.expected_percent, m.completed_at is not None
            )
            for m in sorted(milestones, key=lambda m: (m.due_date, m.id or 0))
        ],
    )
    return assess(state, local_date(now), warn_days, tolerance)


def summary_of(row: Assignment, status: Status) -> AssignmentSummary:
    return AssignmentSummary.model_validate({**row.model_dump(), "status": StatusView.of(status)})


def view_of(row: Assignment, milestones: list[Milestone], status: Status) -> AssignmentView:
    return AssignmentView.model_validate(
        {
            **row.model_dump(),
            "status": StatusView.of(status),
            "milestones": [MilestoneView.of(m) for m in milestones],
        }
    )
