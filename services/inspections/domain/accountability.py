"""What the office records when supervision alone does not move a unit: 挂牌督办 (an item put
under listed supervision until it is lifted), 约谈 (a talk with the unit's leaders) and 问责 (an
accountability decision with its document). Pure: the handler looks up the item and passes in
what it found."""

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Day, Name, Text
from contracts.envelope import UnitCode
from contracts.inspections import ITEM_ID_PATTERN, AccountabilityForm, ItemId
from contracts.measures import DeadlineItem
from contracts.reasons import Reason
from services.inspections.domain.actors import Action, Actor, Role, require_role
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode, due_date_passed
from services.runtime.workdays import chinese_date


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ListItem(_Request):
    """Request: put an open item under 挂牌督办."""

    listing_id: ItemId
    actor: Actor
    item_type: DeadlineItem
    item_id: str = Field(pattern=ITEM_ID_PATTERN)
    reason: Text = Field(min_length=1)
    document: str | None = Field(default=None, max_length=100, description="文号, if any.")
    due_date: date = Field(description="The date the item must be done by (China time).")


class DelistItem(_Request):
    """Request: lift a 挂牌督办 (摘牌)."""

    actor: Actor


class RecordInterview(_Request):
    """Request: record a 约谈 held with a unit's leaders."""

    interview_id: ItemId
    actor: Actor
    unit: UnitCode
    held_on: Day
    interviewer: Name
    interviewees: list[Name] = Field(min_length=1, max_length=20)
    reason: Text = Field(min_length=1)
    outcome: Text = Field(min_length=1)


class RecordAccountability(_Request):
    """Request: record an accountability decision (问责), with the document that decided it."""

    decision_id: ItemId
    actor: Actor
    unit: UnitCode
    persons: list[Name] = Field(min_length=1, max_length=50)
    form: AccountabilityForm
    reason: Text = Field(min_length=1)
    document: str = Field(min_length=1, max_length=100, description="文号.")
    decided_on: Day
    item_type: DeadlineItem | None = None
    item_id: str | None = Field(default=None, pattern=ITEM_ID_PATTERN)


@dataclass(frozen=True)
class OpenItem:
    """An item as the handler found it: whose it is, what it is called, whether it is done."""

    unit: str
    title: str
    completed: bool


# The items a 挂牌督办 or a 问责 can name, as a refusal says them.
ITEM_NAMES: dict[DeadlineItem, str] = {
    DeadlineItem.MILESTONE: "节点任务",
    DeadlineItem.OBLIGATION: "周期性工作任务",
    DeadlineItem.RECTIFICATION: "整改事项",
    DeadlineItem.RECTIFICATION_PLAN: "整改方案",
    DeadlineItem.VERIFICATION: "整改验收",
    DeadlineItem.PUBLIC_REQUEST: "诉求工单",
    DeadlineItem.SUGGESTION: "监督员建议",
}


def office_only(actor: Actor, action: Action) -> Refusal | None:
    return require_role(actor, Role.OFFICE, action=action)


def listing_refusal(
    request: ListItem, item: OpenItem | None, already_listed: bool, today: date
) -> Refusal | None:
    """Why the item cannot be put under 挂牌督办, or None."""
    if refusal := office_only(request.actor, ("挂牌督办", "list an item for supervision")):
        return refusal
    what = f"{request.item_type.value} {request.item_id!r}"
    what_zh = f"{ITEM_NAMES[request.item_type]} {request.item_id} "
    if item is None:
        return Refusal(
            RefusalCode.UNKNOWN_ITEM,
            f"{what_zh}不存在或未逾期",
            f"{what} is not on record (or not overdue)",
        )
    what_zh = f"{ITEM_NAMES[request.item_type]}“{item.title}”（{request.item_id}）"
    if item.completed:
        return Refusal(RefusalCode.ITEM_CLOSED, f"{what_zh}已办结", f"{what} is already completed")
    if already_listed:
        return Refusal(
            RefusalCode.ALREADY_LISTED,
            f"{what_zh}正在挂牌督办中",
            f"{what} is under listed supervision",
        )
    return due_date_passed(request.due_date, today, "督办期限")


def record_refusal(
    request: RecordInterview | RecordAccountability,
    held_on: date,
    today: date,
    reference: ReferenceData,
) -> Refusal | None:
    """Why a 约谈 or 问责 cannot be recorded, or None."""
    interview = isinstance(request, RecordInterview)
    action = ("登记约谈", "record an interview") if interview else ("登记问责", "record 问责")
    if refusal := office_only(request.actor, action):
        return refusal
    unit = reference.unit(request.unit)
    if unit is None or unit.is_office:
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"{reference.unit_name(request.unit)}不是责任单位",
            f"unit {request.unit!r} is not a responsible unit",
        )
    if held_on > today:
        return Refusal(
            RefusalCode.DATE_IN_FUTURE,
            f"{chinese_date(held_on)}晚于今天（{chinese_date(today)}）",
            f"{held_on.isoformat()} is after today",
        )
    if isinstance(request, RecordAccountability) and (request.item_type is None) != (
        request.item_id is None
    ):
        return Refusal(
            RefusalCode.UNKNOWN_ITEM,
            "事项类型和事项编号须同时填写，或都不填写",
            "give both item_type and item_id, or neither",
        )
    return None
