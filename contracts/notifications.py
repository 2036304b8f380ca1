"""Messages of the notifications service: the escalation ladder's steps and the 通报 bulletins.

Scoring may weigh them: EscalationRaised at level `supervision_order` (督办) and the entries of
BulletinIssued (通报) are rubric inputs, so their shapes are kept stable."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.common import MeasureCode
from contracts.envelope import Message, UnitCode
from contracts.measures import DeadlineItem
from contracts.spec import MessageSpec


class EscalationLevel(StrEnum):
    NOTICE = "notice"  # 催办, to the unit
    SUPERVISION_ORDER = "supervision_order"  # 督办, to the unit's head and the office
    # No longer raised: 通报 is the periodic BulletinIssued. Kept so that the events of earlier
    # versions still on the stream, and rubrics that name the level, stay valid.
    PUBLIC_NOTICE = "public_notice"


class EscalationRaised(Message):
    """Event: an overdue item climbed a level of the escalation ladder. One per item, due date
    and level; its envelope id is fact_id("EscalationRaised", case_id, level). The ladder stops
    only when the item is completed; public criticism is the periodic BulletinIssued."""

    NAME = "EscalationRaised"
    case_id: str = Field(description="The escalation case: one per item, unit and due date.")
    level: EscalationLevel
    item_type: DeadlineItem
    item_id: str
    unit: UnitCode
    title: str
    measure_code: MeasureCode | None = None
    due_date: date
    working_days_overdue: int = Field(ge=0, description="Working days after `due_date`.")
    recipients: list[str] = Field(description="Codes of the recipients the level went to.")
    raised_at: AwareDatetime


class BulletinKind(StrEnum):
    PERIODIC = "periodic"  # 定期通报: every overdue item of all units, once a period
    AD_HOC = "ad_hoc"  # 专项通报: the office's bulletin about one unit


class BulletinEntry(BaseModel):
    """One overdue item a bulletin lists."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)
    unit: UnitCode
    unit_name: str
    item_type: DeadlineItem
    item_id: str
    title: str
    due_date: date = Field(description="The item's 限办日期.")
    working_days_overdue: int = Field(
        ge=0, description="Working days from `due_date` to the period's end."
    )
    supervision_order: bool = Field(description="Under 督办 by the period's end.")


class BulletinIssued(Message):
    """Event: a 通报 was issued to every unit and the city leaders. A periodic bulletin lists the
    items still overdue (not completed) at the end of its period, and its envelope id is
    fact_id("BulletinIssued", "periodic", period_start, period_end); an ad hoc one names one unit
    (the envelope subject) and lists that unit's overdue items as of `period_end`."""

    NAME = "BulletinIssued"
    bulletin_id: str
    kind: BulletinKind
    period_start: date
    period_end: date
    issued_at: AwareDatetime
    issued_by: str = Field(description="Who issued it: `system` for the periodic bulletin.")
    entries: list[BulletinEntry]
    note: str = Field(default="", max_length=2000)


SPECS = (
    MessageSpec(EscalationRaised, "event", "notifications", ("scoring",)),
    MessageSpec(BulletinIssued, "event", "notifications", ("scoring",)),
)
