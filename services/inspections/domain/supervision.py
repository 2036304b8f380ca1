"""Public supervisors (监督员) and their suggestions. Pure: no I/O, dates are passed in.

A supervisor serves in terms (聘期); re-appointment adds a term, exit (退出) ends the current one
early. A suggestion goes to a unit, which must answer by its due date; the supervisor (or the
office for them) says whether the answer settles it or the unit must answer again:

    assigned ──answer──► answered ──feedback: satisfied──► closed
        ▲                    │
        └──feedback: not satisfied (new due date)
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Day, Evidence, Flag, Name, Text, invalid_value
from contracts.envelope import UnitCode
from contracts.inspections import ItemId
from contracts.reasons import Reason
from services.inspections.domain.actors import Action, Actor, Role, require_role, require_unit
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode, due_date_passed
from services.runtime.workdays import chinese_date


class SupervisorCategory(StrEnum):
    NPC_DEPUTY = "npc_deputy"
    CPPCC_MEMBER = "cppcc_member"
    BUSINESS = "business"
    CITIZEN = "citizen"


CATEGORY_NAMES: dict[SupervisorCategory, str] = {
    SupervisorCategory.NPC_DEPUTY: "人大代表",
    SupervisorCategory.CPPCC_MEMBER: "政协委员",
    SupervisorCategory.BUSINESS: "企业代表",
    SupervisorCategory.CITIZEN: "群众代表",
}


ANSWER_DEADLINE = "答复期限"


class SuggestionState(StrEnum):
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


SUGGESTION_STATE_NAMES: dict[SuggestionState, tuple[str, str]] = {
    SuggestionState.ASSIGNED: ("办理中", "awaiting an answer"),
    SuggestionState.ANSWERED: ("已答复", "answered"),
    SuggestionState.CLOSED: ("已办结", "settled"),
}


@dataclass(frozen=True)
class Term:
    starts_on: date
    ends_on: date
    exited_on: date | None = None

    @property
    def last_day(self) -> date:
        """The last day served: the end of the term, or the day before an early exit."""
        if self.exited_on is None:
            return self.ends_on
        return min(self.ends_on, self.exited_on - timedelta(days=1))

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.last_day


def serving(terms: list[Term], day: date) -> bool:
    return any(term.covers(day) for term in terms)


class EnterSupervisor(BaseModel):
    """Request: the office enters a supervisor on the roster with a first term."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    supervisor_id: ItemId
    actor: Actor
    name: Name
    category: SupervisorCategory
    affiliation: Name | None = Field(default=None, description="e.g. 市人大代表、某某公司")
    term_starts_on: Day
    term_ends_on: Day


class AddTerm(BaseModel):
    """Request: the office re-appoints a supervisor (a new term, also after an exit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    starts_on: Day
    ends_on: Day


class ExitSupervisor(BaseModel):
    """Request: the office ends a supervisor's current term early (退出)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    exited_on: Day = Field(description="The first day the supervisor no longer serves.")
    reason: Text = Field(min_length=1)


def term_refusal(starts_on: date, ends_on: date, terms: list[Term]) -> Refusal | None:
    if ends_on <= starts_on:
        return Refusal(
            RefusalCode.TERM_NOT_AFTER_START,
            f"聘期自{chinese_date(starts_on)}起，至{chinese_date(ends_on)}止",
            f"ends_on {ends_on.isoformat()} is not after starts_on {starts_on.isoformat()}",
        )
    for term in terms:
        if starts_on <= term.last_day and term.starts_on <= ends_on:
            return Refusal(
                RefusalCode.TERM_OVERLAPS,
                f"{chinese_date(starts_on)}至{chinese_date(ends_on)}与已有聘期"
                f"{chinese_date(term.starts_on)}至{chinese_date(term.last_day)}重叠",
                f"{starts_on.isoformat()}..{ends_on.isoformat()} overlaps "
                f"{term.starts_on.isoformat()}..{term.last_day.isoformat()}",
            )
    return None


def current_term(terms: list[Term], day: date) -> int | None:
    """Index of the term that `day` falls in, if any."""
    return next((n for n, term in enumerate(terms) if term.covers(day)), None)


def exit_refusal(exited_on: date, terms: list[Term]) -> Refusal | None:
    if current_term(terms, exited_on) is None:
        return Refusal(
            RefusalCode.EXIT_OUTSIDE_TERM,
            f"{chinese_date(exited_on)}不在任何聘期内",
            f"no term covers {exited_on.isoformat()}",
        )
    return None


class FileSuggestion(BaseModel):
    """Request: a supervisor's suggestion is filed and assigned to a unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    suggestion_id: ItemId
    actor: Actor
    supervisor_id: ItemId
    unit: UnitCode
    title: Name
    content: Text = Field(min_length=1)
    due_date: Day | None = Field(
        default=None, description="Answer by; default: the configured time limit from today."
    )


class AnswerSuggestion(BaseModel):
    """Request: the assigned unit answers the suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    answer: Text = Field(min_length=1)
    evidence: Evidence


class SuggestionFeedback(BaseModel):
    """Request: the supervisor's verdict on the answer; not satisfied sends it back."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    satisfied: Flag
    comment: Text = ""
    due_date: Day | None = Field(default=None, description="Required when not satisfied.")

    @model_validator(mode="after")
    def _a_new_answer_needs_a_deadline(self) -> Self:
        if not self.satisfied and self.due_date is None:
            raise invalid_value(
                "监督员不满意时须填写 due_date：重新答复的期限",
                "a new answer is due by a due_date when the supervisor is not satisfied",
            )
        return self


def speaks_for_supervisor(actor: Actor, supervisor_id: str, action: Action) -> Refusal | None:
    """The office, or the supervisor in person."""
    refusal = require_role(actor, Role.OFFICE, Role.SUPERVISOR, action=action)
    if refusal is None and actor.role is Role.SUPERVISOR and actor.id != supervisor_id:
        zh, en = action
        return Refusal(
            RefusalCode.ACTOR_NOT_PERMITTED,
            f"{zh}：监督员 {actor.id} 不能代替监督员 {supervisor_id} 办理",
            f"{en}: supervisor {actor.id!r} may not act for {supervisor_id!r}",
        )
    return refusal


def filing_refusal(
    request: FileSuggestion,
    terms: list[Term] | None,
    due_date: date,
    today: date,
    reference: ReferenceData,
) -> Refusal | None:
    """Why the suggestion cannot be filed; `terms` is None for an unknown supervisor."""
    supervisor = request.supervisor_id
    filing = ("提交监督员建议", "file a suggestion")
    if refusal := speaks_for_supervisor(request.actor, supervisor, filing):
        return refusal
    if terms is None:
        return Refusal(
            RefusalCode.UNKNOWN_SUPERVISOR,
            f"监督员 {supervisor} 不存在",
            f"supervisor {supervisor!r} is not on record",
        )
    if not serving(terms, today):
        return Refusal(
            RefusalCode.SUPERVISOR_NOT_SERVING,
            f"监督员 {supervisor} 在{chinese_date(today)}不在聘期内",
            f"supervisor {supervisor!r} has no term covering {today.isoformat()}",
        )
    if reference.unit(request.unit) is None:
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"单位名录中没有 {request.unit}",
            f"unit {request.unit!r} is not in the directory",
        )
    return due_date_passed(due_date, today, ANSWER_DEADLINE)


def answer_refusal(request: AnswerSuggestion, state: SuggestionState, unit: str) -> Refusal | None:
    if refusal := require_unit(
        request.actor, unit, action=("答复监督员建议", "answer a suggestion")
    ):
        return refusal
    if state is not SuggestionState.ASSIGNED:
        return Refusal(
            Reason.INVALID_TRANSITION,
            f"该建议当前为“{SUGGESTION_STATE_NAMES[state][0]}”，不能再答复",
            f"cannot answer a suggestion that is {state.value}",
        )
    return None


def feedback_refusal(
    request: SuggestionFeedback, state: SuggestionState, supervisor_id: str, today: date
) -> Refusal | None:
    action = ("评价建议答复", "give feedback on an answer")
    if refusal := speaks_for_supervisor(request.actor, supervisor_id, action):
        return refusal
    if state is not SuggestionState.ANSWERED:
        return Refusal(
            Reason.INVALID_TRANSITION,
            f"该建议当前为“{SUGGESTION_STATE_NAMES[state][0]}”，不能评价答复",
            f"cannot give feedback on a suggestion that is {state.value}",
        )
    return due_date_passed(request.due_date, today, ANSWER_DEADLINE)
