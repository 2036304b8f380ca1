"""Traffic lights per assignment (红黄绿灯), from the expected-progress curve and the deadlines.

- red: a milestone is overdue (its due date has passed and it is not complete);
- yellow: a milestone is due soon and not complete, or progress is behind the expected curve by
  more than the tolerance;
- green: otherwise (on track, or complete).

The expected curve runs from 0 % on the start date through each milestone's expected percent at
its due date, linearly in between. "Due soon" is within `warn_days`, but never more than a third
of the milestone's own span, so a weekly obligation is not yellow all week. Recurring obligations
are judged by their occurrences only: a missed week is red until it is reported.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Cause(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    BEHIND_PLAN = "behind_plan"


@dataclass(frozen=True)
class MilestoneState:
    milestone_id: str
    due_date: date
    expected_percent: float
    completed: bool


@dataclass(frozen=True)
class AssignmentState:
    start_on: date
    recurring: bool
    reported_percent: float
    milestones: Sequence[MilestoneState]  # ordered by due date


@dataclass(frozen=True)
class Status:
    light: Light
    causes: tuple[Cause, ...]
    expected_percent: float
    actual_percent: float
    overdue: tuple[str, ...]
    due_soon: tuple[str, ...]


def expected_percent(start_on: date, milestones: Sequence[MilestoneState], today: date) -> float:
    """Where the plan says progress should be today."""
    before_date, before_percent = start_on, 0.0
    for m in milestones:
        if today <= m.due_date:
            span = (m.due_date - before_date).days
            if span <= 0:
                return m.expected_percent
            elapsed = max(0, (today - before_date).days)
            return round(before_percent + (m.expected_percent - before_percent) * elapsed / span, 2)
        before_date, before_percent = m.due_date, m.expected_percent
    return before_percent


def actual_percent(state: AssignmentState) -> float:
    """Reported progress, but never below what completed milestones already prove."""
    if state.recurring:
        done = sum(m.completed for m in state.milestones)
        return round(100 * done / len(state.milestones), 2) if state.milestones else 0.0
    proven = max((m.expected_percent for m in state.milestones if m.completed), default=0.0)
    return max(state.reported_percent, proven)


def assess(state: AssignmentState, today: date, warn_days: int, tolerance: float) -> Status:
    overdue, due_soon = [], []
    previous = state.start_on
    for m in state.milestones:
        window = min(warn_days, max(1, (m.due_date - previous).days // 3))
        previous = m.due_date
        if m.completed:
            continue
        if m.due_date < today:
            overdue.append(m.milestone_id)
        elif (m.due_date - today).days <= window:
            due_soon.append(m.milestone_id)
    expected = expected_percent(state.start_on, state.milestones, today)
    actual = actual_percent(state)
    causes = []
    if overdue:
        causes.append(Cause.OVERDUE)
    if due_soon:
        causes.append(Cause.DUE_SOON)
    if not state.recurring and actual < expected - tolerance:
        causes.append(Cause.BEHIND_PLAN)
    light = Light.RED if overdue else Light.YELLOW if causes else Light.GREEN
    return Status(light, tuple(causes), expected, actual, tuple(overdue), tuple(due_soon))
