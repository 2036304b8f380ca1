"""Why a request is refused: a stable code with Chinese and English text, and the details in both.

Codes shared with other services' intake (unknown unit, duplicate conflict, invalid transition…)
are `contracts.reasons.Reason` members, so a refusal answered over NATS and over HTTP carries the
same code; the rest are this service's own.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contracts.reasons import REASON_TEXT, Reason
from services.runtime.workdays import chinese_date


class RefusalCode(StrEnum):
    ACTOR_NOT_PERMITTED = "actor_not_permitted"
    NOT_RESPONSIBLE_UNIT = "not_responsible_unit"
    INSPECTED_IN_FUTURE = "inspected_in_future"
    DUPLICATE_TARGET_UNITS = "duplicate_target_units"
    UNKNOWN_INSPECTION = "unknown_inspection"
    UNIT_NOT_INSPECTED = "unit_not_inspected"
    CATEGORY_MISMATCH = "category_mismatch"
    DUE_DATE_PASSED = "due_date_passed"
    UNKNOWN_CLUE = "unknown_clue"
    DUPLICATE_CLUES = "duplicate_clues"
    UNKNOWN_FINDING = "unknown_finding"
    UNKNOWN_SUPERVISOR = "unknown_supervisor"
    SUPERVISOR_NOT_SERVING = "supervisor_not_serving"
    TERM_OVERLAPS = "term_overlaps"
    TERM_NOT_AFTER_START = "term_not_after_start"
    EXIT_OUTSIDE_TERM = "exit_outside_term"
    UNKNOWN_SUGGESTION = "unknown_suggestion"
    CONCURRENT_CHANGE = "concurrent_change"
    UNKNOWN_PEER_GROUP = "unknown_peer_group"
    EXPORT_TOO_LARGE = "export_too_large"
    PLAN_INCOMPLETE = "plan_incomplete"
    PLAN_REQUIRED = "plan_required"
    PLAN_NOT_REQUIRED = "plan_not_required"
    CLOSE_OUT_INCOMPLETE = "close_out_incomplete"
    UNKNOWN_ITEM = "unknown_item"
    ITEM_CLOSED = "item_closed"
    ALREADY_LISTED = "already_listed"
    UNKNOWN_LISTING = "unknown_listing"
    DATE_IN_FUTURE = "date_in_future"


REFUSAL_TEXT: dict[RefusalCode, tuple[str, str]] = {
    RefusalCode.ACTOR_NOT_PERMITTED: ("当前角色无权执行该操作", "This role may not do this"),
    RefusalCode.NOT_RESPONSIBLE_UNIT: (
        "只有责任单位本身可以执行该操作",
        "Only the responsible unit itself may do this",
    ),
    RefusalCode.INSPECTED_IN_FUTURE: ("督查日期晚于今天", "The inspection is dated in the future"),
    RefusalCode.DUPLICATE_TARGET_UNITS: (
        "被督查单位重复",
        "A target unit is listed more than once",
    ),
    RefusalCode.UNKNOWN_INSPECTION: ("督查记录不存在", "Inspection not found"),
    RefusalCode.UNIT_NOT_INSPECTED: (
        "责任单位不在该次督查的对象之中",
        "The responsible unit was not a target of this inspection",
    ),
    RefusalCode.CATEGORY_MISMATCH: (
        "问题类别与所属举措的类型不一致",
        "The category's type differs from the type of its measure",
    ),
    RefusalCode.DUE_DATE_PASSED: ("整改期限早于今天", "The deadline is before today"),
    RefusalCode.UNKNOWN_CLUE: ("引用的线索不存在", "A cited clue is unknown"),
    RefusalCode.DUPLICATE_CLUES: ("线索重复引用", "A clue is cited more than once"),
    RefusalCode.UNKNOWN_FINDING: ("督查问题不存在", "Finding not found"),
    RefusalCode.UNKNOWN_SUPERVISOR: ("监督员不存在", "Supervisor not found"),
    RefusalCode.SUPERVISOR_NOT_SERVING: (
        "该监督员当前不在聘期内",
        "The supervisor is not serving a term today",
    ),
    RefusalCode.TERM_OVERLAPS: (
        "聘期与已有聘期重叠",
        "The term overlaps a term already on record",
    ),
    RefusalCode.TERM_NOT_AFTER_START: (
        "聘期结束日期必须晚于开始日期",
        "A term must end after it starts",
    ),
    RefusalCode.EXIT_OUTSIDE_TERM: (
        "退出日期不在当前聘期内",
        "The exit date is not within a current term",
    ),
    RefusalCode.UNKNOWN_SUGGESTION: ("监督员建议不存在", "Suggestion not found"),
    RefusalCode.CONCURRENT_CHANGE: (
        "该事项正被同时修改，请刷新后重试",
        "The item was changed at the same time; reload it and try again",
    ),
    RefusalCode.UNKNOWN_PEER_GROUP: ("单位分组不存在", "Unknown peer group"),
    RefusalCode.EXPORT_TOO_LARGE: (
        "导出的行数超过上限，请增加筛选条件",
        "Too many rows to export; narrow the filter",
    ),
    RefusalCode.PLAN_INCOMPLETE: (
        "整改方案须写明整改措施、责任领导和责任人",
        "A rectification plan needs measures, a responsible leader and a responsible person",
    ),
    RefusalCode.PLAN_REQUIRED: (
        "请先报送整改方案，再报送整改情况报告",
        "File the rectification plan before the rectification report",
    ),
    RefusalCode.PLAN_NOT_REQUIRED: (
        "立行立改事项无需报送整改方案",
        "An item to rectify at once needs no plan",
    ),
    RefusalCode.CLOSE_OUT_INCOMPLETE: (
        "销号须有书面验收意见和审批领导",
        "A close-out needs a written verification opinion and the approving leader",
    ),
    RefusalCode.UNKNOWN_ITEM: ("督办事项不存在", "No such item"),
    RefusalCode.ITEM_CLOSED: ("该事项已办结，无需挂牌督办", "The item is already completed"),
    RefusalCode.ALREADY_LISTED: (
        "该事项已在挂牌督办中",
        "The item is already under listed supervision",
    ),
    RefusalCode.UNKNOWN_LISTING: ("挂牌督办记录不存在", "No such listing"),
    RefusalCode.DATE_IN_FUTURE: ("日期晚于今天", "The date is in the future"),
}

Code = RefusalCode | Reason


@dataclass(frozen=True)
class Refusal:
    """A refusal and exactly why, in Chinese (units and measures by name, dates as an office
    writes them, no English words) and in English. `detail_zh` is None only for a cause the
    service has no Chinese words for: a message on the bus that broke its contract."""

    code: Code
    detail_zh: str | None
    detail_en: str


def id_conflict(field: str, key: str, what: str, done: str) -> Refusal:
    """An id given before with other content; `what` names the item in Chinese (督查记录),
    `done` says in English what was done with it (filed)."""
    return Refusal(
        Reason.DUPLICATE_CONFLICT,
        f"{what}编号 {key} 此前登记的内容与本次不同",
        f"{field} {key!r} was {done} with other content",
    )


def due_date_passed(due_date: date | None, today: date, deadline: str) -> Refusal | None:
    """A deadline being set must not have passed already; `deadline` names it in Chinese
    (整改期限, 答复期限…)."""
    if due_date is None or due_date >= today:
        return None
    return Refusal(
        RefusalCode.DUE_DATE_PASSED,
        f"{deadline}为{chinese_date(due_date)}，今天是{chinese_date(today)}",
        f"due_date {due_date.isoformat()} is before {today.isoformat()}",
    )


def refusal_text(code: Code) -> tuple[str, str]:
    """(Chinese, English) title of a refusal code."""
    if isinstance(code, RefusalCode):
        return REFUSAL_TEXT[code]
    return REASON_TEXT[code]
