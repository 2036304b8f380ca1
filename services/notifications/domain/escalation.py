"""The escalation ladder for overdue items. Pure: no I/O; the date and calendar are passed in.

notice (催办, on DeadlineMissed, to the unit)
  → supervision order (督办, to the unit's head and the office) when the item is still open and
    unacknowledged `supervision_after` working days after the notice
  → public notice (通报, to the city leaders) `public_notice_after` working days after that.

A case is one missed deadline: (item type, item id, unit, due date). Each level fires at most
once per case. A closing fact about the item (a completing progress report, a closed
rectification, an answered suggestion, an approved extension) stops the case; so does the unit
acknowledging a notice of the case.
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
    PUBLIC_NOTICE = 3

    @property
    def topic(self) -> Topic:
        return {
            Level.NOTICE: Topic.DEADLINE_MISSED,
            Level.SUPERVISION_ORDER: Topic.SUPERVISION_ORDER,
            Level.PUBLIC_NOTICE: Topic.PUBLIC_NOTICE,
        }[self]

    @property
    def label(self) -> str:
        """The name of the level on the bus (contracts.notifications.EscalationLevel)."""
        return {1: "notice", 2: "supervision_order", 3: "public_notice"}[self.value]


class CaseStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # the unit signed for it: the ladder holds
    CLOSED = "closed"  # the item was closed: the ladder stops


ITEM_KIND_NAMES: dict[DeadlineItem, tuple[str, str]] = {
    DeadlineItem.MILESTONE: ("工作节点", "milestone"),
    DeadlineItem.OBLIGATION: ("常态化任务", "recurring obligation"),
    DeadlineItem.RECTIFICATION: ("督查问题整改", "rectification"),
    DeadlineItem.PUBLIC_REQUEST: ("群众诉求", "public request"),
    DeadlineItem.SUGGESTION: ("监督员建议答复", "answer to a supervisor's suggestion"),
}


@dataclass(frozen=True)
class LadderPolicy:
    supervision_after: int  # working days from the notice to the supervision order
    public_notice_after: int  # working days from the supervision order to the public notice

    def __post_init__(self) -> None:
        if self.supervision_after < 1 or self.public_notice_after < 1:
            raise ValueError("each step of the ladder waits at least one working day")

    def next_due(self, level: Level, level_on: date, calendar: WorkingCalendar) -> date | None:
        """The date the level after `level` (reached on `level_on`) is due; None at the top."""
        wait = {
            Level.NOTICE: self.supervision_after,
            Level.SUPERVISION_ORDER: self.public_notice_after,
        }.get(level)
        return None if wait is None else calendar.add_working_days(level_on, wait)

    def next_step(
        self, level: Level, level_on: date, today: date, calendar: WorkingCalendar
    ) -> Level | None:
        """The level an open, unacknowledged case climbs to today, if any."""
        due = self.next_due(level, level_on, calendar)
        return Level(level + 1) if due is not None and today >= due else None


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
