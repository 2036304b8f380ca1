"""Messages of the notifications service: the escalation ladder's steps."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.common import MeasureCode
from contracts.envelope import Message, UnitCode
from contracts.measures import DeadlineItem
from contracts.spec import MessageSpec


class EscalationLevel(StrEnum):
    NOTICE = "notice"  # 催办, to the unit
    SUPERVISION_ORDER = "supervision_order"  # 督办, to the unit's head and the office
    PUBLIC_NOTICE = "public_notice"  # 通报, to the city leaders


class EscalationRaised(Message):
    """Event: an overdue item climbed a level of the escalation ladder. One per item, due date
    and level; its envelope id is fact_id("EscalationRaised", case_id, level)."""

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


SPECS = (MessageSpec(EscalationRaised, "event", "notifications", ("scoring",)),)
