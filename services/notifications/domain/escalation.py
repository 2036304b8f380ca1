"""The escalation ladder for overdue items. Pure: no I/O; the date and calendar are passed in.

reminder (提醒, DeadlineApproaching, before the deadline; not a case yet)
  → notice (催办, on DeadlineMissed, to the unit)
  → supervision order (督办, to the unit's head and the office) `supervision_after` working days
    after the notice while the item is not completed
  → the periodic bulletin (通报, domain.bulletin) lists every item still overdue at the end of
    its period, with whether it is under 督办.

A case is one missed deadline: (item type, item id, unit, due date). Each level fires at most
once per case. Only completion stops a case: a completing progress report, a closed
rectification, an answered suggestion, a closed 诉求工单, an approved extension. Signing for a
notice (签收) is recorded and shown; it spares the unit the reminder to sign, nothing more.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, StrEnum

from contracts.envelope import fact_id
from contracts.measures import DeadlineItem
from services.notifications.domain.topics import Topic
from services.runtime.workdays import WorkingCalendar, local_date


class Level(IntEnum):
    NOTICE = 1
    SUPERVISION_ORDER = 2

    @property
    def topic(self) -> Topic:
        return {
            Level.NOTICE: Topic.DEADLINE_MISSED,
            Level.SUPERVISION_ORDER: Topic.SUPERVISION_ORDER,
        }[self]

    @property
    def label(self) -> str:
        """The name of the level on the bus (contracts.notifications.EscalationLevel)."""
        return {1: "notice", 2: "supervision_order"}[self.value]

    @property
    def name_zh(self) -> str:
        return {1: "催办", 2: "督办"}[self.value]


TOP = Level.SUPERVISION_ORDER


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # the item was completed: the ladder stops


class StepRefusal(StrEnum):
    """Why a ladder step or a signature asked for by hand is refused."""

    NOT_FOUND = "escalation_not_found"
    ITEM_COMPLETED = "item_completed"
    AT_TOP_LEVEL = "at_top_level"


def manual_step_refusal(status: CaseStatus | None, level: Level | None) -> StepRefusal | None:
    """The office may issue the next level of an open case at once (e.g. 督办 before the wait
    ends): not for an unknown case, a completed item, or one already at the top."""
    if status is None or level is None:
        return StepRefusal.NOT_FOUND
    if status is CaseStatus.CLOSED:
        return StepRefusal.ITEM_COMPLETED
    if level >= TOP:
        return StepRefusal.AT_TOP_LEVEL
    return None


@dataclass(frozen=True)
class LadderPolicy:
    supervision_after: int  # working days from the notice to the supervision order
    sign_within: int = 1  # working days a unit has to sign for a notice before it is reminded

    def __post_init__(self) -> None:
        if self.supervision_after < 1 or self.sign_within < 1:
            raise ValueError("each step of the ladder waits at least one working day")

    def next_due(self, level: Level, level_on: date, calendar: WorkingCalendar) -> date | None:
        """The date the level after `level` (reached on `level_on`) is due; None at the top."""
        if level >= TOP:
            return None
        return calendar.add_working_days(level_on, self.supervision_after)

    def next_step(
        self, level: Level, level_on: date, today: date, calendar: WorkingCalendar
    ) -> Level | None:
        """The level an open case climbs to today, if any: signed for or not, only completion
        (which closes the case) stops it."""
        due = self.next_due(level, level_on, calendar)
        return Level(level + 1) if due is not None and today >= due else None

    def sign_reminder_due(
        self, notice_on: date, signed: bool, reminded: bool, today: date, calendar: WorkingCalendar
    ) -> bool:
        """Whether an open case's unit is to be reminded today to sign for its notice."""
        if signed or reminded:
            return False
        return today >= calendar.add_working_days(notice_on, self.sign_within)


def case_key(item_type: DeadlineItem, item_id: str, unit: str, due_date: date) -> str:
    return fact_id("EscalationCase", item_type.value, item_id, unit, due_date.isoformat())


def milestone_ref(assignment_id: str | None, milestone_id: str) -> str:
    """A milestone's name across assignments: its id is only unique within its assignment."""
    return f"{assignment_id}/{milestone_id}" if assignment_id else milestone_id


def closure_ref(
    item_type: DeadlineItem, item_id: str, milestone_id: str | None, assignment_id: str | None
) -> tuple[str, str]:
    """What a closing fact names the item by: progress reports and extensions name milestones
    (a recurring obligation's occurrence is a milestone too); inspections name findings and
    suggestions."""
    if item_type in (DeadlineItem.MILESTONE, DeadlineItem.OBLIGATION):
        return "milestone", milestone_ref(assignment_id, milestone_id or item_id)
    return item_type.value, item_id


@dataclass(frozen=True)
class Closure:
    """A fact that settles an item: when it happened and, if it says, which deadline it met."""

    at: datetime
    settles_due_date: date | None = None

    def closes(self, case_due_date: date) -> bool:
        # A fact naming its deadline settles that one and any earlier; a bare report settles
        # a deadline only if it came after it, otherwise it was known when the miss was found.
        if self.settles_due_date is not None:
            return self.settles_due_date >= case_due_date
        return local_date(self.at) > case_due_date
