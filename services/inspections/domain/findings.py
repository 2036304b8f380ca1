"""Findings and the life of their rectification. Pure: no I/O, dates are passed in.

    action   from                                  to          who
    plan     open, reopened                    ->  planned     the responsible unit (整改方案)
    submit   planned, returned (open, reopened ->  submitted   the responsible unit (整改情况报告)
             when the item needs no plan)
    close    submitted                         ->  closed      an inspector or the office: 验收
                                                               passed, 销号 approved by a leader
    return   submitted                         ->  returned    an inspector or the office: 验收
                                                               not passed, maybe a new deadline
    reopen   closed                            ->  reopened    an inspector or the office: 反弹,
                                                               a new deadline, the loop restarts

A 立行立改 item has no plan stage; 限期整改 and 长期坚持 items need a plan before the report. The
unit owes the rectification in `open`, `planned`, `returned` and `reopened`: only then does its
deadline run. A submitted item waits on the office's verification, whose own deadline runs.
"""

from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Day, Evidence, EvidenceRef, MeasureCode, Name, Text, invalid_value
from contracts.envelope import UnitCode
from contracts.inspections import (
    ClueKind,
    ClueRef,
    FindingSource,
    FiveType,
    ItemId,
    PlanMilestone,
    RectificationCategory,
    Severity,
)
from contracts.measures import DeadlineItem
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor, Role, require_role, require_unit
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode, due_date_passed
from services.runtime.workdays import local_date


class RectificationState(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CLOSED = "closed"
    REOPENED = "reopened"


STATE_NAMES: dict[RectificationState, tuple[str, str]] = {
    RectificationState.OPEN: ("待整改", "awaiting rectification"),
    RectificationState.PLANNED: ("整改中", "rectifying to plan"),
    RectificationState.SUBMITTED: ("待验收", "awaiting verification"),
    RectificationState.RETURNED: ("验收未通过", "returned"),
    RectificationState.CLOSED: ("已销号", "closed out"),
    RectificationState.REOPENED: ("反弹重新整改", "reopened"),
}

AWAITING_UNIT = frozenset(
    {
        RectificationState.OPEN,
        RectificationState.PLANNED,
        RectificationState.RETURNED,
        RectificationState.REOPENED,
    }
)
# Every stage of a rectification is the finding itself: a listing of any of them lists it.
FINDING_ITEMS = (
    DeadlineItem.RECTIFICATION,
    DeadlineItem.RECTIFICATION_PLAN,
    DeadlineItem.VERIFICATION,
)
# States in which an item that needs a plan still owes it.
AWAITING_PLAN = frozenset({RectificationState.OPEN, RectificationState.REOPENED})


class Action(StrEnum):
    PLAN = "plan"
    SUBMIT = "submit"
    CLOSE = "close"
    RETURN = "return"
    REOPEN = "reopen"


# Each action as a refusal says it: (Chinese, English).
ACTION_NAMES: dict[Action, tuple[str, str]] = {
    Action.PLAN: ("报送整改方案", "plan a rectification"),
    Action.SUBMIT: ("报送整改情况报告", "submit a rectification"),
    Action.CLOSE: ("验收销号", "close an item"),
    Action.RETURN: ("退回整改", "return an item"),
    Action.REOPEN: ("反弹重新整改", "reopen an item"),
}
CLUE_NAMES: dict[ClueKind, str] = {
    ClueKind.PUBLIC_REQUEST: "诉求工单",
    ClueKind.DEADLINE_MISSED: "逾期记录",
}


_TRANSITIONS: dict[Action, tuple[frozenset[RectificationState], RectificationState]] = {
    Action.PLAN: (AWAITING_PLAN, RectificationState.PLANNED),
    Action.SUBMIT: (AWAITING_UNIT, RectificationState.SUBMITTED),
    Action.CLOSE: (frozenset({RectificationState.SUBMITTED}), RectificationState.CLOSED),
    Action.RETURN: (frozenset({RectificationState.SUBMITTED}), RectificationState.RETURNED),
    Action.REOPEN: (frozenset({RectificationState.CLOSED}), RectificationState.REOPENED),
}


def next_state(state: RectificationState, action: Action) -> RectificationState | Refusal:
    sources, target = _TRANSITIONS[action]
    if state in sources:
        return target
    allowed = ", ".join(sorted(s.value for s in sources))
    allowed_zh = "、".join(STATE_NAMES[s][0] for s in sorted(sources))
    return Refusal(
        Reason.INVALID_TRANSITION,
        f"该事项当前为“{STATE_NAMES[state][0]}”，不能{ACTION_NAMES[action][0]}；"
        f"仅在{allowed_zh}时可以",
        f"cannot {action.value} an item that is {state.value}; only when: {allowed}",
    )


def is_overdue(state: RectificationState, due_date: date, today: date) -> bool:
    return state in AWAITING_UNIT and today > due_date


def current_deadline(
    state: RectificationState,
    needs_plan: bool,
    plan_due: date | None,
    due: date,
    verification_due: date | None,
) -> tuple[DeadlineItem, date] | None:
    """The deadline the item waits on now: the plan, the report, or the office's verification."""
    if state is RectificationState.SUBMITTED:
        return (DeadlineItem.VERIFICATION, verification_due) if verification_due else None
    if state in AWAITING_PLAN and needs_plan and plan_due is not None:
        return DeadlineItem.RECTIFICATION_PLAN, plan_due
    if state in AWAITING_UNIT:
        return DeadlineItem.RECTIFICATION, due
    return None


def submitted_on_time(submitted_at: datetime, due_date: date) -> bool:
    return local_date(submitted_at) <= due_date


class Category(BaseModel):
    """What the finding counts against: a measure (its type follows), a type, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    measure_code: MeasureCode | None = None
    type: FiveType | None = None

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if self.measure_code is None and self.type is None:
            raise invalid_value(
                "问题分类须填写“measure_code”或“type”（或两者）",
                "a category needs a measure_code, a type, or both",
            )
        return self


class RaiseFinding(BaseModel):
    """Request: an inspector raises a finding of an inspection against one responsible unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    finding_id: ItemId
    actor: Actor
    unit: UnitCode
    severity: Severity
    category: Category
    source: FindingSource = Field(default=FindingSource.SUPERVISION, description="问题来源.")
    rectification_category: RectificationCategory = Field(
        default=RectificationCategory.IMMEDIATE,
        description="立行立改 (no plan stage), 限期整改 or 长期坚持 (a 整改方案 first).",
    )
    title: Name
    description: Text = ""
    due_date: Day | None = Field(
        default=None,
        description="整改时限 (China time), today or later; default: by category and severity.",
    )
    clues: list[ClueRef] = Field(default_factory=list, max_length=20)
    evidence: Evidence


class FileRectificationPlan(BaseModel):
    """Request: the responsible unit files its 整改方案. Measures and both responsible people are
    checked by the domain (`plan_refusal`), so a missing one is refused with its own code."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    measures: list[Text] = Field(default_factory=list, max_length=50, description="整改措施.")
    responsible_leader: str = Field(default="", max_length=200, description="责任领导.")
    responsible_person: str = Field(default="", max_length=200, description="责任人.")
    milestones: list[PlanMilestone] = Field(default_factory=list, max_length=20)


class SubmitRectification(BaseModel):
    """Request: the responsible unit submits its rectification with evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    summary: Text = Field(min_length=1)
    evidence: list[EvidenceRef] = Field(min_length=1, max_length=50)


class SiteReview(BaseModel):
    """A 现场复核: who went to see the rectification on site, when, and what they found."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    held_on: Day
    reviewers: list[Name] = Field(min_length=1, max_length=20)
    notes: Text = ""


class CloseRectification(BaseModel):
    """Request: the verification (验收) passed and a leader approved the close-out (销号)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    opinion: Text = Field(default="", description="验收意见: required, in writing.")
    approved_by: str = Field(
        default="", max_length=200, description="The leader who approved 销号, with the post."
    )
    site_review: SiteReview | None = None


class ReturnRectification(BaseModel):
    """Request: the verification did not pass (`reason` is its written opinion); the unit must
    report again, optionally by a new deadline."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    reason: Text = Field(min_length=1)
    due_date: Day | None = None


class ReopenRectification(BaseModel):
    """Request: the inspector reopens a closed item with a new deadline."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    reason: Text = Field(min_length=1)
    due_date: Day


Transition = (
    FileRectificationPlan
    | SubmitRectification
    | CloseRectification
    | ReturnRectification
    | ReopenRectification
)

_ACTIONS: dict[type[BaseModel], Action] = {
    FileRectificationPlan: Action.PLAN,
    SubmitRectification: Action.SUBMIT,
    CloseRectification: Action.CLOSE,
    ReturnRectification: Action.RETURN,
    ReopenRectification: Action.REOPEN,
}


def action_of(request: Transition) -> Action:
    return _ACTIONS[type(request)]


def measure_type(category: Category, reference: ReferenceData) -> FiveType | None:
    """The type the finding counts against: the one given, else its measure's."""
    if category.type is not None:
        return category.type
    measure = reference.measure(category.measure_code or "")
    return measure.type if measure else None


def raise_refusal(
    request: RaiseFinding, targets: list[str], today: date, reference: ReferenceData
) -> Refusal | None:
    """Why the finding cannot be raised on an inspection of `targets`, or None."""
    if refusal := require_role(
        request.actor, Role.INSPECTOR, action=("登记督查问题", "raise a finding")
    ):
        return refusal
    if reference.unit(request.unit) is None:
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"单位名录中没有 {request.unit}",
            f"unit {request.unit!r} is not in the directory",
        )
    if request.unit not in targets:
        return Refusal(
            RefusalCode.UNIT_NOT_INSPECTED,
            f"该次督查的对象为{reference.unit_names(targets)}，"
            f"不含{reference.unit_name(request.unit)}",
            f"unit {request.unit!r} is not among {targets}",
        )
    if refusal := _category_refusal(request.category, reference):
        return refusal
    if refusal := due_date_passed(request.due_date, today, "整改期限"):
        return refusal
    repeated = [c for c, n in Counter(request.clues).items() if n > 1]
    return clues_refusal(
        RefusalCode.DUPLICATE_CLUES, repeated, "重复引用的线索", "cited more than once"
    )


def clues_refusal(code: RefusalCode, clues: list[ClueRef], zh: str, en: str) -> Refusal | None:
    """A refusal listing the clues it is about after `zh` and `en`; None for no clues."""
    if not clues:
        return None
    ordered = sorted(clues, key=lambda c: (c.kind.value, c.ref))
    listed = "、".join(f"{CLUE_NAMES[c.kind]} {c.ref}" for c in ordered)
    return Refusal(code, f"{zh}：{listed}", f"{en}: {[f'{c.kind.value}:{c.ref}' for c in ordered]}")


def _category_refusal(category: Category, reference: ReferenceData) -> Refusal | None:
    if category.measure_code is None:
        return None
    measure = reference.measure(category.measure_code)
    if measure is None:
        year = reference.catalogue_year
        return Refusal(
            Reason.UNKNOWN_MEASURE,
            f"{year}年度举措清单中没有 {category.measure_code}",
            f"measure {category.measure_code!r} is not in the {year} catalogue",
        )
    if category.type is not None and measure.type is not None and category.type != measure.type:
        return Refusal(
            RefusalCode.CATEGORY_MISMATCH,
            f"{reference.measure_name(measure.code)}属于{reference.types[measure.type].name_zh}，"
            f"问题类别填写的是{reference.types[category.type].name_zh}",
            f"measure {measure.code} is {measure.type.value}, the category says "
            f"{category.type.value}",
        )
    return None


def transition_refusal(
    request: Transition,
    state: RectificationState,
    unit: str,
    today: date,
    needs_plan: bool,
) -> Refusal | None:
    """Why `request` cannot change an item of `unit` that is in `state`, or None. `needs_plan`:
    the item's category has a plan stage (限期整改, 长期坚持)."""
    action = action_of(request)
    if action in (Action.PLAN, Action.SUBMIT):
        refusal = require_unit(request.actor, unit, action=ACTION_NAMES[action])
    else:
        refusal = require_role(
            request.actor, Role.INSPECTOR, Role.OFFICE, action=ACTION_NAMES[action]
        )
    if refusal is not None:
        return refusal
    outcome = next_state(state, action)
    if isinstance(outcome, Refusal):
        return outcome
    if refusal := _stage_refusal(request, state, needs_plan):
        return refusal
    new_due = getattr(request, "due_date", None)
    return due_date_passed(new_due, today, "整改期限")


def _stage_refusal(
    request: Transition, state: RectificationState, needs_plan: bool
) -> Refusal | None:
    match request:
        case FileRectificationPlan():
            if not needs_plan:
                return Refusal(
                    RefusalCode.PLAN_NOT_REQUIRED,
                    "立行立改事项直接报送整改情况报告",
                    "立行立改: report the rectification",
                )
            return plan_refusal(request)
        case SubmitRectification() if needs_plan and state in AWAITING_PLAN:
            return Refusal(
                RefusalCode.PLAN_REQUIRED,
                "限期整改、长期坚持事项须先报送整改方案",
                "file the 整改方案 first",
            )
        case CloseRectification():
            return _missing(
                RefusalCode.CLOSE_OUT_INCOMPLETE,
                ("opinion", "书面验收意见", request.opinion.strip()),
                ("approved_by", "审批领导", request.approved_by.strip()),
            )
    return None


def _missing(code: RefusalCode, *fields: tuple[str, str, object]) -> Refusal | None:
    """A refusal naming each field left empty: (field name, what it is in Chinese, value)."""
    empty = [(name, zh) for name, zh, given in fields if not given]
    if not empty:
        return None
    return Refusal(
        code,
        f"未填写：{'、'.join(zh for _, zh in empty)}",
        f"missing: {', '.join(name for name, _ in empty)}",
    )


def plan_refusal(plan: FileRectificationPlan) -> Refusal | None:
    """A plan names at least one measure, the responsible leader and the responsible person."""
    return _missing(
        RefusalCode.PLAN_INCOMPLETE,
        ("measures", "整改措施", any(m.strip() for m in plan.measures)),
        ("responsible_leader", "责任领导", plan.responsible_leader.strip()),
        ("responsible_person", "责任人", plan.responsible_person.strip()),
    )
