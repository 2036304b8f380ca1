"""Findings and the life of their rectification. Pure: no I/O, dates are passed in.

    action   from                          to          who
    submit   open, returned, reopened  ->  submitted   the responsible unit itself
    close    submitted                 ->  closed      an inspector (销号)
    return   submitted                 ->  returned    an inspector, maybe with a new deadline
    reopen   closed                    ->  reopened    an inspector, with a new deadline

The unit owes a rectification in `open`, `returned` and `reopened`: only then does its deadline
run. A submitted item waits on the inspector, so it is never overdue.
"""

from collections import Counter
from datetime import date, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Day, Evidence, EvidenceRef, MeasureCode, Name, Text
from contracts.envelope import UnitCode
from contracts.inspections import ClueRef, FiveType, ItemId, Severity
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor, Role, require_role, require_unit
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode
from services.runtime.workdays import local_date


class RectificationState(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CLOSED = "closed"
    REOPENED = "reopened"


STATE_NAMES: dict[RectificationState, tuple[str, str]] = {
    RectificationState.OPEN: ("待整改", "awaiting rectification"),
    RectificationState.SUBMITTED: ("待核验", "awaiting verification"),
    RectificationState.RETURNED: ("已退回", "returned"),
    RectificationState.CLOSED: ("已销号", "closed out"),
    RectificationState.REOPENED: ("重新整改", "reopened"),
}

AWAITING_UNIT = frozenset(
    {RectificationState.OPEN, RectificationState.RETURNED, RectificationState.REOPENED}
)


class Action(StrEnum):
    SUBMIT = "submit"
    CLOSE = "close"
    RETURN = "return"
    REOPEN = "reopen"


_TRANSITIONS: dict[Action, tuple[frozenset[RectificationState], RectificationState]] = {
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
    return Refusal(
        Reason.INVALID_TRANSITION,
        f"cannot {action.value} an item that is {state.value}; only when: {allowed}",
    )


def is_overdue(state: RectificationState, due_date: date, today: date) -> bool:
    return state in AWAITING_UNIT and today > due_date


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
            raise ValueError("a category needs a measure_code, a type, or both")
        return self


class RaiseFinding(BaseModel):
    """Request: an inspector raises a finding of an inspection against one responsible unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    finding_id: ItemId
    actor: Actor
    unit: UnitCode
    severity: Severity
    category: Category
    title: Name
    description: Text = ""
    due_date: Day = Field(description="Rectification deadline (China time), today or later.")
    clues: list[ClueRef] = Field(default_factory=list, max_length=20)
    evidence: Evidence


class SubmitRectification(BaseModel):
    """Request: the responsible unit submits its rectification with evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    summary: Text = Field(min_length=1)
    evidence: list[EvidenceRef] = Field(min_length=1, max_length=50)


class CloseRectification(BaseModel):
    """Request: the inspector verified the rectification and closes the item out (销号)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    note: Text = ""


class ReturnRectification(BaseModel):
    """Request: the inspector sends the rectification back, optionally with a new deadline."""

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


Transition = SubmitRectification | CloseRectification | ReturnRectification | ReopenRectification

_ACTIONS: dict[type[BaseModel], Action] = {
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
    if refusal := require_role(request.actor, Role.INSPECTOR, action="raise a finding"):
        return refusal
    if reference.unit(request.unit) is None:
        return Refusal(Reason.UNKNOWN_UNIT, f"unit {request.unit!r} is not in the directory")
    if request.unit not in targets:
        return Refusal(
            RefusalCode.UNIT_NOT_INSPECTED, f"unit {request.unit!r} is not among {targets}"
        )
    if refusal := _category_refusal(request.category, reference):
        return refusal
    if request.due_date < today:
        return Refusal(
            RefusalCode.DUE_DATE_PASSED,
            f"due_date {request.due_date.isoformat()} is before {today.isoformat()}",
        )
    repeated = sorted(f"{c.kind.value}:{c.ref}" for c, n in Counter(request.clues).items() if n > 1)
    if repeated:
        return Refusal(RefusalCode.DUPLICATE_CLUES, f"cited more than once: {repeated}")
    return None


def _category_refusal(category: Category, reference: ReferenceData) -> Refusal | None:
    if category.measure_code is None:
        return None
    measure = reference.measure(category.measure_code)
    if measure is None:
        return Refusal(
            Reason.UNKNOWN_MEASURE,
            f"measure {category.measure_code!r} is not in the {reference.catalogue_year} catalogue",
        )
    if category.type is not None and measure.type is not None and category.type != measure.type:
        return Refusal(
            RefusalCode.CATEGORY_MISMATCH,
            f"measure {measure.code} is {measure.type.value}, the category says "
            f"{category.type.value}",
        )
    return None


def transition_refusal(
    request: Transition, state: RectificationState, unit: str, today: date
) -> Refusal | None:
    """Why `request` cannot change an item of `unit` that is in `state`, or None."""
    action = action_of(request)
    if action is Action.SUBMIT:
        refusal = require_unit(request.actor, unit, action="submit a rectification")
    else:
        refusal = require_role(request.actor, Role.INSPECTOR, action=f"{action.value} an item")
    if refusal is not None:
        return refusal
    outcome = next_state(state, action)
    if isinstance(outcome, Refusal):
        return outcome
    new_due = getattr(request, "due_date", None)
    if new_due is not None and new_due < today:
        return Refusal(
            RefusalCode.DUE_DATE_PASSED,
            f"due_date {new_due.isoformat()} is before {today.isoformat()}",
        )
    return None
