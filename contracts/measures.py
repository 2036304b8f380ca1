"""Messages of the measures service: the reference data it owns (units, catalogue), assignments,
progress intake and its answers, review, change requests, deadlines and recognitions.

Envelopes are sent without null fields, so every field that may be None defaults to None. Fields
added after a message was first published have defaults too, so events already kept in the
EVENTS stream (kept forever for replay) still validate against the same schema version."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from contracts.common import (
    STRICT,
    Evidence,
    FieldError,
    Instant,
    MeasureCode,
    Name,
    Number,
    Text,
    normal,
)
from contracts.envelope import Message, UnitCode
from contracts.reasons import Reason
from contracts.spec import MessageSpec

Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
TypeCode = Annotated[str, Field(pattern=r"^[a-z]+$", description="One of the five types.")]
PeerGroupCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)]
Percent = Annotated[
    float, Field(strict=True, ge=0, le=100, allow_inf_nan=False), AfterValidator(normal)
]


class _Part(BaseModel):
    model_config = STRICT


class AssignmentRole(StrEnum):
    LEAD = "lead"  # 牵头单位
    CO = "co"  # 协办单位


class ReportProgress(Message):
    """Command: a unit's system reports progress on an assignment of its own."""

    NAME = "ReportProgress"
    report_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Chosen by the unit; the idempotency key of the report.",
    )
    unit: UnitCode
    measure_code: MeasureCode
    assignment_id: Key | None = Field(
        default=None,
        description="The assignment reported on. Omitted: the unit's only assignment of "
        "`measure_code` in the programme year of `reported_at`.",
    )
    milestone_id: str | None = Field(
        default=None,
        max_length=64,
        description="The milestone reported on. Omitted on a recurring obligation: the "
        "occurrence whose period contains `reported_at`.",
    )
    percent_complete: Percent
    target_code: MeasureCode | None = Field(
        default=None, description="A quantified target of the measure, e.g. M12-T1."
    )
    target_value: Number | None = Field(
        default=None,
        description="The value reached on `target_code` (a count, a rate in %, 1/0 for yes/no).",
    )
    summary: Text = ""
    reported_at: Instant
    reporter: Name
    evidence: Evidence


class ProgressReported(Message):
    """Event: the measures service accepted and stored a progress report. It carries what scoring
    needs without reading the measures service's tables."""

    NAME = "ProgressReported"
    report_id: str
    unit: UnitCode
    unit_name: str
    measure_code: MeasureCode
    measure_title: str
    milestone_id: str | None = None
    percent_complete: float = Field(ge=0, le=100)
    summary: str = ""
    reported_at: AwareDatetime
    reporter: str
    evidence: Evidence
    assignment_id: str | None = None
    year: int | None = None
    role: AssignmentRole | None = None
    measure_type: str | None = Field(default=None, description="None for guarantee measures.")
    peer_group: str | None = None
    recurrence: str | None = Field(
        default=None, description="The obligation kind when the assignment is recurring."
    )
    milestone_due_date: date | None = None
    on_time: bool | None = Field(
        default=None, description="Reported on or before the milestone's due date (local)."
    )
    milestone_completed: bool | None = Field(
        default=None, description="Whether the milestone is complete after this report."
    )
    target_code: str | None = None
    target_value: float | None = None


class IntakeRejected(Message):
    """Event: a command from a unit was refused; published on the unit's rejection subject."""

    NAME = "IntakeRejected"
    command_id: str | None = Field(
        default=None, description="Envelope id of the refused command, if readable."
    )
    command_type: str | None = None
    unit: UnitCode
    reference: str | None = Field(default=None, description="The unit's key, e.g. report_id.")
    reason: Reason
    message_zh: str
    message_en: str
    errors: list[FieldError] = Field(default_factory=list)


class DeadlineItem(StrEnum):
    MILESTONE = "milestone"
    OBLIGATION = "obligation"
    RECTIFICATION = "rectification"  # the 整改情况报告, due by the rectification deadline
    RECTIFICATION_PLAN = "rectification_plan"  # the 整改方案, due within N working days
    VERIFICATION = "verification"  # the office's 验收 of a submitted rectification
    PUBLIC_REQUEST = "public_request"
    SUGGESTION = "suggestion"


class DeadlineMissed(Message):
    """Event: an item passed its deadline while open. Its envelope id is
    fact_id("DeadlineMissed", item_type, item_id, due_date), so every detector agrees on it."""

    NAME = "DeadlineMissed"
    item_type: DeadlineItem
    item_id: str = Field(min_length=1, max_length=64)
    unit: UnitCode
    title: str
    measure_code: MeasureCode | None = None
    due_date: date
    detected_at: AwareDatetime
    assignment_id: str | None = None
    milestone_id: str | None = None
    measure_type: str | None = None
    listed: bool = Field(
        default=False, description="The item is under 挂牌督办 (SupervisionListed, not delisted)."
    )


class DeadlineApproaching(Message):
    """Event: an open item's deadline is `offset_days` or fewer days away. Its envelope id is
    fact_id("DeadlineApproaching", item_type, item_id, due_date, offset_days). An item whose time
    limit is an instant (a 12345 工单) is reminded by the share of its time limit left instead:
    it carries `due_at` and `offset_percent`, and its id is
    fact_id("DeadlineApproaching", item_type, item_id, due_at in ISO 8601, f"{offset_percent}%")."""

    NAME = "DeadlineApproaching"
    item_type: DeadlineItem
    item_id: str = Field(min_length=1, max_length=64)
    unit: UnitCode
    title: str
    measure_code: MeasureCode | None = None
    measure_type: str | None = None
    assignment_id: str | None = None
    milestone_id: str | None = None
    due_date: date
    offset_days: int = Field(
        ge=0,
        description="The configured reminder offset that was crossed, in days (0 for a reminder "
        "by the share of the time limit: see offset_percent).",
    )
    days_left: int = Field(ge=0, description="Calendar days from detected_at to due_date.")
    detected_at: AwareDatetime
    listed: bool = Field(
        default=False, description="The item is under 挂牌督办 (SupervisionListed, not delisted)."
    )
    due_at: Instant | None = Field(
        default=None,
        description="The deadline to the minute, for an item whose time limit is an instant "
        "(a 12345 工单); due_date is then its date in China Standard Time.",
    )
    offset_percent: int | None = Field(
        default=None,
        ge=1,
        le=99,
        description="For an item with due_at: the configured share (per cent) of its time limit "
        "left that was crossed.",
    )


class UnitRegistered(Message):
    """Event: a responsible unit as the directory now has it (new or changed). Its envelope id is
    a hash of the content, so publishing unchanged data again collapses into the same fact."""

    NAME = "UnitRegistered"
    unit: UnitCode
    name_zh: Name
    name_en: Name
    peer_group: PeerGroupCode | None = Field(
        default=None, description="None only for the office (unranked)."
    )
    peer_group_name_zh: str | None = None
    peer_group_name_en: str | None = None
    is_office: bool


class CatalogueType(_Part):
    code: TypeCode
    name_zh: str
    name_en: str


class CatalogueTarget(_Part):
    """A quantified target of a measure: a threshold (`comparator` + `value`: ≥ 1 a year, a rate
    ≥ 90 %) or, where the policy only says "raise", a `direction` against last year's value."""

    code: MeasureCode
    description_zh: str
    metric: Literal["count", "rate", "boolean", "report"]
    comparator: Literal[">=", "<=", "=="] | None = None
    value: float | None = None
    direction: Literal["up", "down"] | None = None


class CatalogueMeasure(_Part):
    code: MeasureCode
    kind: Literal["measure", "guarantee"]
    type: TypeCode | None = None
    title_zh: str
    title_en: str
    targets: list[CatalogueTarget] = Field(default_factory=list)


class CataloguePublished(Message):
    """Event: a catalogue version became the one in force for its programme year (subject
    `office`). Envelope id: fact_id("CataloguePublished", year, version, content hash)."""

    NAME = "CataloguePublished"
    year: int = Field(ge=2022)
    version: str = Field(min_length=1, max_length=32)
    types: list[CatalogueType]
    measures: list[CatalogueMeasure]


class MilestonePlan(_Part):
    milestone_id: str = Field(max_length=64)
    title: str
    unit: UnitCode
    due_date: date
    expected_percent: Percent


class AssignmentCreated(Message):
    """Event: a measure, sub-task or recurring obligation was assigned; one event per unit
    involved (lead and co-operating), each with the whole plan."""

    NAME = "AssignmentCreated"
    assignment_id: str
    unit: UnitCode
    role: AssignmentRole
    lead_unit: UnitCode
    co_units: list[UnitCode]
    year: int
    measure_code: MeasureCode
    measure_type: str | None = None
    title_zh: str
    title_en: str
    target_code: MeasureCode | None = None
    target_value: float | None = None
    recurrence: str | None = None
    milestones: list[MilestonePlan]
    created_by: str


class ReviewedReport(Message):
    """Fields shared by the office's review answers."""

    report_id: str
    unit: UnitCode
    assignment_id: str | None = None
    measure_code: MeasureCode
    measure_type: str | None = None
    milestone_id: str | None = None
    reviewer: str
    reviewed_at: AwareDatetime


class ProgressAccepted(ReviewedReport):
    """Event: the office accepted a unit's progress report."""

    NAME = "ProgressAccepted"


class ProgressReturned(ReviewedReport):
    """Event: the office sent a progress report back; it no longer counts towards progress."""

    NAME = "ProgressReturned"
    reason: Text
    milestone_completed: bool | None = Field(
        default=None, description="Whether the milestone is still complete without this report."
    )


class ChangeKind(StrEnum):
    EXTENSION = "extension"  # 延期
    CHANGE = "change"  # 变更


class ChangeRequested(Message):
    """Event: a unit asked the office to extend a deadline or change an assignment."""

    NAME = "ChangeRequested"
    request_id: str
    unit: UnitCode
    assignment_id: str
    kind: ChangeKind
    milestone_id: str | None = None
    current_due_date: date | None = None
    proposed_due_date: date | None = None
    proposed_title_zh: str | None = None
    proposed_target_value: float | None = None
    reason: Text
    requested_by: str


class ChangeRequestDecided(Message):
    """Event: the office approved or refused a change request; `due_date_after` is the deadline
    now in force for an extension."""

    NAME = "ChangeRequestDecided"
    request_id: str
    unit: UnitCode
    assignment_id: str
    kind: ChangeKind
    approved: bool
    milestone_id: str | None = None
    due_date_before: date | None = None
    due_date_after: date | None = None
    decided_by: str
    reason: Text


class AchievementKind(StrEnum):
    NATIONAL_RECOGNITION = "national_recognition"  # 全国当先锋、作表率 / 国家层面认可
    NATIONAL_PILOT = "national_pilot"  # 全国试点
    STATE_COUNCIL_INCENTIVE = "state_council_incentive"  # 国务院督查激励
    DEMONSTRATION_TITLE = "demonstration_title"  # 示范创建


class AchievementLevel(StrEnum):
    """Who recognised the work: 国家级, 省级, 市级. Scoring's bonuses are tiered by it."""

    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"


# The level of each kind when the office does not say: the policy's national goals are national.
DEFAULT_LEVEL = {
    AchievementKind.NATIONAL_RECOGNITION: AchievementLevel.NATIONAL,
    AchievementKind.NATIONAL_PILOT: AchievementLevel.NATIONAL,
    AchievementKind.STATE_COUNCIL_INCENTIVE: AchievementLevel.NATIONAL,
    AchievementKind.DEMONSTRATION_TITLE: AchievementLevel.CITY,
}


class AchievementRecognized(Message):
    """Event: a unit's work received a national recognition, a national pilot, a State Council
    supervision incentive or a demonstration title."""

    NAME = "AchievementRecognized"
    achievement_id: str
    unit: UnitCode
    year: int
    kind: AchievementKind
    level: AchievementLevel | None = Field(
        default=None, description="None: the kind's default level (DEFAULT_LEVEL)."
    )
    title: Name
    measure_code: MeasureCode
    measure_type: str | None = None
    recognised_on: date
    evidence: Evidence
    recorded_by: str


SPECS = (
    MessageSpec(ReportProgress, "command", "unit systems", ("measures",)),
    MessageSpec(IntakeRejected, "rejection", "measures, inspections", ("unit systems",)),
    MessageSpec(ProgressReported, "event", "measures", ("scoring", "notifications")),
    MessageSpec(DeadlineMissed, "event", "measures, inspections", ("scoring", "notifications")),
    MessageSpec(DeadlineApproaching, "event", "measures, inspections", ("notifications",)),
    MessageSpec(UnitRegistered, "event", "measures", ("scoring", "inspections", "notifications")),
    MessageSpec(CataloguePublished, "event", "measures", ("scoring",)),
    MessageSpec(AssignmentCreated, "event", "measures", ("scoring", "notifications")),
    MessageSpec(ProgressAccepted, "event", "measures", ("scoring", "notifications")),
    MessageSpec(ProgressReturned, "event", "measures", ("scoring", "notifications")),
    MessageSpec(ChangeRequested, "event", "measures", ("notifications",)),
    MessageSpec(ChangeRequestDecided, "event", "measures", ("scoring", "notifications")),
    MessageSpec(AchievementRecognized, "event", "measures", ("scoring", "notifications")),
)
