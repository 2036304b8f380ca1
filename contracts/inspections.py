"""Messages of the inspections service: inspections, findings and their rectification, the
supervisors' suggestions, and the public's requests with their monthly indicators.

Every event carries the names a consumer needs to render or score it (unit name, titles, due
dates, severity), so no consumer has to read the inspections service's tables.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from contracts.common import STRICT, Evidence, Instant, MeasureCode, Name, Text
from contracts.envelope import Message, UnitCode
from contracts.measures import DeadlineItem
from contracts.spec import MessageSpec

ITEM_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
ItemId = Annotated[
    str,
    Field(
        pattern=ITEM_ID_PATTERN,
        description="Chosen by the client that creates the item; its idempotency key.",
        examples=["2026-DC-0001"],
    ),
]
# Years 2000-2999 in ASCII digits: year 0 has no calendar month to compute with.
PERIOD_PATTERN = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"


class InspectionKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合督查
    SPECIAL = "special"  # 专项督查
    INCIDENT = "incident"  # 事件调查
    ROUTINE = "routine"  # 日常督办
    CLUE = "clue"  # 线索核查


class InspectionMethod(StrEnum):
    SCHEDULED = "scheduled"  # 常规督查
    UNANNOUNCED = "unannounced"  # 四不两直 暗访
    DOCUMENT_REVIEW = "document_review"  # 资料审查
    REMOTE = "remote"  # 线上督查


class Severity(StrEnum):
    """How serious a finding is, on the four-step scale inspectors use."""

    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"
    CRITICAL = "critical"


SEVERITY_NAMES: dict[Severity, tuple[str, str]] = {
    Severity.MINOR: ("轻微", "minor"),
    Severity.GENERAL: ("一般", "general"),
    Severity.SERIOUS: ("较重", "serious"),
    Severity.CRITICAL: ("严重", "critical"),
}


class FiveType(StrEnum):
    """The five dimensions of the programme (忠诚型, 创新型, 担当型, 服务型, 过硬型)."""

    LOYAL = "loyal"
    INNOVATIVE = "innovative"
    RESPONSIBLE = "responsible"
    SERVICE = "service"
    DISCIPLINED = "disciplined"


class FindingSource(StrEnum):
    """Where a problem came from (问题来源): measure 10 asks for each of these to be ledgered."""

    SUPERVISION = "supervision"  # 督查
    INSPECTION_TOUR = "inspection_tour"  # 巡视巡察反馈
    ENVIRONMENTAL = "environmental"  # 环保督察
    AUDIT = "audit"  # 审计
    HOTLINE_12345 = "hotline_12345"  # 12345 热线
    NPC_PROPOSAL = "npc_proposal"  # 人大建议
    CPPCC_PROPOSAL = "cppcc_proposal"  # 政协提案
    MEDIA = "media"  # 媒体曝光
    OTHER = "other"  # 其他


SOURCE_NAMES: dict[FindingSource, tuple[str, str]] = {
    FindingSource.SUPERVISION: ("督查", "supervision"),
    FindingSource.INSPECTION_TOUR: ("巡视巡察", "inspection tour"),
    FindingSource.ENVIRONMENTAL: ("环保督察", "environmental inspection"),
    FindingSource.AUDIT: ("审计", "audit"),
    FindingSource.HOTLINE_12345: ("12345热线", "12345 hotline"),
    FindingSource.NPC_PROPOSAL: ("人大建议", "NPC deputies' proposal"),
    FindingSource.CPPCC_PROPOSAL: ("政协提案", "CPPCC proposal"),
    FindingSource.MEDIA: ("媒体曝光", "media exposure"),
    FindingSource.OTHER: ("其他", "other"),
}


class RectificationCategory(StrEnum):
    """The deadline category of a rectification (整改时限类别)."""

    IMMEDIATE = "immediate"  # 立行立改: no plan stage, rectified at once
    TIME_LIMITED = "time_limited"  # 限期整改: a plan, then the report by the deadline
    LONG_TERM = "long_term"  # 长期坚持: a plan with milestones, a phase report by the deadline


CATEGORY_NAMES: dict[RectificationCategory, tuple[str, str]] = {
    RectificationCategory.IMMEDIATE: ("立行立改", "rectify at once"),
    RectificationCategory.TIME_LIMITED: ("限期整改", "rectify within a time limit"),
    RectificationCategory.LONG_TERM: ("长期坚持", "long-term"),
}


class ClueKind(StrEnum):
    PUBLIC_REQUEST = "public_request"  # a request from the 12345 hotline, a mailbox, ...
    DEADLINE_MISSED = "deadline_missed"  # a DeadlineMissed event, by its envelope id


class ClueRef(BaseModel):
    """A clue (线索) a finding cites: a public request by its id, or a missed deadline by the id
    of its DeadlineMissed event."""

    model_config = STRICT
    kind: ClueKind
    ref: str = Field(pattern=ITEM_ID_PATTERN)


class InspectionFiled(Message):
    """Event: an inspection was filed; one event per target unit, sharing `inspection_id`."""

    NAME = "InspectionFiled"
    inspection_id: str
    unit: UnitCode
    kind: InspectionKind
    method: InspectionMethod
    title: Name
    inspector: Name
    inspected_on: date
    target_units: list[UnitCode] = Field(min_length=1)
    measure_codes: list[MeasureCode] = Field(default_factory=list)
    evidence: Evidence


class RectificationFacts(Message):
    """The fields every finding and rectification event carries (not a message by itself)."""

    finding_id: str
    inspection_id: str
    unit: UnitCode
    unit_name: str
    finding_title: str
    severity: Severity
    measure_code: MeasureCode | None = Field(
        default=None, description="The measure the finding concerns, if any."
    )
    measure_type: FiveType | None = Field(
        default=None, description="The type the finding counts against: the measure's, or given."
    )
    due_date: date = Field(description="The rectification deadline in force (China time).")


class FindingRaised(RectificationFacts):
    """Event: an inspector raised a finding; the responsible unit must rectify it by `due_date`."""

    NAME = "FindingRaised"
    inspection_title: str
    inspection_kind: InspectionKind
    inspector: str
    description: str = ""
    clues: list[ClueRef] = Field(default_factory=list)
    evidence: Evidence
    raised_at: AwareDatetime
    source: FindingSource = Field(
        default=FindingSource.SUPERVISION, description="问题来源; 督查 for events before sources."
    )
    rectification_category: RectificationCategory = Field(
        default=RectificationCategory.IMMEDIATE,
        description="立行立改 needs no plan; the others need a 整改方案 by `plan_due_date`.",
    )
    plan_due_date: date | None = Field(
        default=None, description="When the 整改方案 is due (China time); None: no plan stage."
    )


class PlanMilestone(BaseModel):
    """A step of a rectification plan (整改节点)."""

    model_config = STRICT
    title: Name
    due_date: date


class RectificationPlanFiled(RectificationFacts):
    """Event: the responsible unit filed its 整改方案; it completes the `rectification_plan`
    deadline. Id: fact_id("RectificationPlanFiled", finding_id, version)."""

    NAME = "RectificationPlanFiled"
    category: RectificationCategory
    plan_due_date: date = Field(description="When the plan was due (China time).")
    plan_number: int = Field(ge=1, description="2 and up after a reopening (反弹).")
    measures: list[Text] = Field(min_length=1, description="整改措施.")
    responsible_leader: Name = Field(description="责任领导.")
    responsible_person: Name = Field(description="责任人.")
    milestones: list[PlanMilestone] = Field(default_factory=list)
    filed_at: AwareDatetime
    on_time: bool = Field(description="Filed on or before `plan_due_date` (China time).")
    actor_name: str


class RectificationSubmitted(RectificationFacts):
    """Event: the responsible unit submitted its rectification with evidence, for verification."""

    NAME = "RectificationSubmitted"
    submission_number: int = Field(
        ge=1, description="1 for the first submission, 2 after a return…"
    )
    summary: str
    evidence: Evidence
    submitted_at: AwareDatetime
    on_time: bool = Field(description="Submitted on or before `due_date` (China time).")
    actor_name: str


class RectificationReturned(RectificationFacts):
    """Event: the inspector sent a rectification back; the unit must submit again."""

    NAME = "RectificationReturned"
    return_number: int = Field(ge=1)
    reason: str = Field(description="The verification opinion (验收意见) of a failed 验收.")
    previous_due_date: date
    returned_at: AwareDatetime
    actor_name: str


class RectificationClosed(RectificationFacts):
    """Event: the inspector verified the rectification and closed the item out (销号)."""

    NAME = "RectificationClosed"
    closed_at: AwareDatetime
    submitted_at: AwareDatetime = Field(description="When the accepted submission was made.")
    on_time: bool = Field(description="The accepted submission was made by `due_date`.")
    days_late: int = Field(ge=0, description="Days from `due_date` to the accepted submission.")
    actor_name: str
    opinion: str = Field(default="", description="验收意见 (written; empty only before 2026.2).")
    approved_by: str | None = Field(default=None, description="The leader who approved 销号.")
    site_reviewed: bool = Field(default=False, description="A 现场复核 was held.")


class RectificationReopened(RectificationFacts):
    """Event: a closed item was reopened; the unit must rectify it again by the new `due_date`."""

    NAME = "RectificationReopened"
    reopen_number: int = Field(ge=1)
    reason: str
    previous_due_date: date
    reopened_at: AwareDatetime
    actor_name: str


class SupervisionListed(Message):
    """Event: the office put an item under 挂牌督办: its deadlines climb a tighter ladder and it is
    flagged in public until SupervisionDelisted. Id: fact_id("SupervisionListed", listing_id)."""

    NAME = "SupervisionListed"
    listing_id: ItemId
    unit: UnitCode
    item_type: DeadlineItem
    item_id: str = Field(min_length=1, max_length=64)
    title: Name
    reason: Text
    document: str | None = Field(default=None, max_length=100, description="文号, if any.")
    listed_by: Name
    listed_at: AwareDatetime
    due_date: date = Field(description="The date the listed item must be done by (China time).")


class SupervisionDelisted(Message):
    """Event: the office lifted a 挂牌督办 (摘牌). Id: fact_id(…, listing_id)."""

    NAME = "SupervisionDelisted"
    listing_id: ItemId
    unit: UnitCode
    delisted_at: AwareDatetime
    delisted_by: Name


class InterviewRecorded(Message):
    """Event: the office recorded a 约谈 of a unit's leaders. Id: fact_id(…, interview_id)."""

    NAME = "InterviewRecorded"
    interview_id: ItemId
    unit: UnitCode
    held_on: date
    interviewer: Name = Field(description="Who held the 约谈 (e.g. the office's director).")
    interviewees: list[Name] = Field(min_length=1, max_length=20)
    reason: Text
    outcome: Text
    recorded_by: Name


class AccountabilityForm(StrEnum):
    """The form an accountability decision (问责) takes."""

    CIRCULATED_CRITICISM = "circulated_criticism"  # 通报批评
    ADMONISHMENT = "admonishment"  # 诫勉谈话
    WRITTEN_SELF_CRITICISM = "written_self_criticism"  # 责令书面检查
    ORGANISATIONAL_ADJUSTMENT = "organisational_adjustment"  # 组织调整
    DISCIPLINARY_SANCTION = "disciplinary_sanction"  # 党纪政务处分


ACCOUNTABILITY_FORM_NAMES: dict[AccountabilityForm, tuple[str, str]] = {
    AccountabilityForm.CIRCULATED_CRITICISM: ("通报批评", "circulated criticism"),
    AccountabilityForm.ADMONISHMENT: ("诫勉谈话", "admonishment talk"),
    AccountabilityForm.WRITTEN_SELF_CRITICISM: ("责令书面检查", "written self-criticism"),
    AccountabilityForm.ORGANISATIONAL_ADJUSTMENT: ("组织调整", "organisational adjustment"),
    AccountabilityForm.DISCIPLINARY_SANCTION: ("党纪政务处分", "Party or administrative sanction"),
}


class AccountabilityRecorded(Message):
    """Event: the office recorded an accountability decision (问责). Id: fact_id(…, decision_id)."""

    NAME = "AccountabilityRecorded"
    decision_id: ItemId
    unit: UnitCode
    persons: list[Name] = Field(min_length=1, max_length=50)
    form: AccountabilityForm
    reason: Text
    document: str = Field(min_length=1, max_length=100, description="The decision's 文号.")
    decided_on: date
    item_type: DeadlineItem | None = None
    item_id: str | None = Field(default=None, min_length=1, max_length=64)
    recorded_by: Name


class SuggestionFiled(Message):
    """Event: a public supervisor's suggestion was filed and assigned to a unit to answer."""

    NAME = "SuggestionFiled"
    suggestion_id: str
    unit: UnitCode
    unit_name: str
    supervisor_id: str
    supervisor_name: str
    title: str
    filed_at: AwareDatetime
    due_date: date = Field(description="The unit must answer by this date (China time).")


class SuggestionAnswered(Message):
    """Event: the assigned unit answered a supervisor's suggestion."""

    NAME = "SuggestionAnswered"
    suggestion_id: str
    unit: UnitCode
    unit_name: str
    supervisor_id: str
    supervisor_name: str
    title: str
    answer_number: int = Field(ge=1, description="2 and up after the supervisor asked again.")
    answered_at: AwareDatetime
    due_date: date
    on_time: bool
    days_late: int = Field(ge=0)


class PublicChannel(StrEnum):
    HOTLINE_12345 = "hotline_12345"  # 12345政务服务便民热线
    MAYOR_MAILBOX = "mayor_mailbox"  # 市长手机信箱
    GOVERNOR_MAILBOX = "governor_mailbox"  # 省长手机信箱
    WENZHENG_JIANGXI = "wenzheng_jiangxi"  # "问政江西"平台
    STYLE_COLUMN = "style_column"  # "怕慢假庸散"专栏
    OTHER = "other"


class RequestReceived(BaseModel):
    """The channel received the request and assigned it to the unit with a time limit."""

    model_config = STRICT
    step: Literal["received"] = "received"
    channel: PublicChannel
    title: Name
    content: Text = ""
    received_at: Instant
    due_at: Instant = Field(description="The time limit (限时办结) the unit must close by.")
    repeat_of: str | None = Field(
        default=None,
        pattern=ITEM_ID_PATTERN,
        description="The earlier request this one repeats (重复投诉), if any.",
    )


class RequestClosed(BaseModel):
    """The unit finished handling the request (办结)."""

    model_config = STRICT
    step: Literal["closed"] = "closed"
    closed_at: Instant
    result: Text = ""


class RequestRated(BaseModel):
    """The requester rated the closure (回访): 5 very satisfied … 3 basically satisfied … 1."""

    model_config = STRICT
    step: Literal["rated"] = "rated"
    rated_at: Instant
    rating: int = Field(strict=True, ge=1, le=5)
    comment: Text = ""


class RequestReopened(BaseModel):
    """The closure was not accepted and the request must be handled again (重办)."""

    model_config = STRICT
    step: Literal["reopened"] = "reopened"
    reopened_at: Instant
    due_at: Instant
    reason: Text = ""


PublicRequestStep = Annotated[
    RequestReceived | RequestClosed | RequestRated | RequestReopened,
    Field(discriminator="step"),
]


class ReportPublicRequest(Message):
    """Command: a public-request channel reports one step in a request's life. The steps of one
    request must be sent in order; a step sent again unchanged is harmless."""

    NAME = "ReportPublicRequest"
    request_id: ItemId
    unit: UnitCode
    step: PublicRequestStep


class PublicRequestClosed(Message):
    """Event: the unit closed (办结) a public request's 诉求工单, on time or late. One per
    closure: its envelope id is fact_id("PublicRequestClosed", request_id, closure number), so a
    request reopened (重办) and closed again publishes again."""

    NAME = "PublicRequestClosed"
    request_id: ItemId
    unit: UnitCode
    channel: PublicChannel
    title: Name
    due_date: date = Field(description="The time limit (办结时限) in force, as a China date.")
    closed_at: AwareDatetime
    on_time: bool = Field(description="Closed within the time limit.")
    working_days_late: int = Field(
        ge=0, description="Working days from the limit's date to the closure's; 0 when on time."
    )


class PublicServiceIndicators(Message):
    """Event: a unit's public-request indicators for one month (China time). Formulas are in
    docs/inspections.md; a rate is a percentage, null when its denominator is zero. A later
    `revision` for the same unit and period supersedes the earlier ones."""

    NAME = "PublicServiceIndicators"
    unit: UnitCode
    unit_name: str
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-03"])
    period_start: date
    period_end: date = Field(description="The last day of the period.")
    revision: int = Field(ge=1)
    received: int = Field(ge=0, description="Requests received in the period.")
    repeat_received: int = Field(ge=0, description="Of those, repeats of an earlier request.")
    due: int = Field(ge=0, description="Requests whose first time limit fell in the period.")
    closed_on_time: int = Field(ge=0, description="Of those, first closed within the limit.")
    closures: int = Field(ge=0, description="Closures (办结) recorded in the period.")
    reopens: int = Field(ge=0, description="Reopenings (重办) recorded in the period.")
    ratings: int = Field(ge=0, description="Ratings (回访) recorded in the period.")
    satisfied_ratings: int = Field(ge=0, description="Of those, rated 3 (基本满意) or better.")
    on_time_closure_rate: float | None = Field(default=None, description="按时办结率, %.")
    satisfaction_rate: float | None = Field(default=None, description="满意率, %.")
    repeat_complaint_rate: float | None = Field(default=None, description="重复投诉率, %.")
    reopen_rate: float | None = Field(default=None, description="重办率, %.")
    computed_at: AwareDatetime


_TO_SCORING_AND_NOTIFICATIONS = ("scoring", "notifications")

SPECS = (
    MessageSpec(InspectionFiled, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(FindingRaised, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(RectificationSubmitted, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(RectificationReturned, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(RectificationClosed, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(RectificationReopened, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(RectificationPlanFiled, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(SupervisionListed, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(SupervisionDelisted, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(InterviewRecorded, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(AccountabilityRecorded, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(SuggestionFiled, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(SuggestionAnswered, "event", "inspections", _TO_SCORING_AND_NOTIFICATIONS),
    MessageSpec(ReportPublicRequest, "command", "public-request channels", ("inspections",)),
    MessageSpec(PublicServiceIndicators, "event", "inspections", ("scoring",)),
    MessageSpec(PublicRequestClosed, "event", "inspections", ("notifications",)),
)
