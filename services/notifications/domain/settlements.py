"""Which facts settle an overdue item, and which item they name. Pure: no I/O."""

from dataclasses import dataclass

from contracts.envelope import Envelope
from contracts.inspections import RectificationClosed, SuggestionAnswered
from contracts.measures import ChangeKind, ChangeRequestDecided, DeadlineItem, ProgressReported
from services.notifications.domain.escalation import Closure, milestone_ref


@dataclass(frozen=True)
class Settlement:
    ref_type: str
    ref: str
    unit: str
    event_id: str
    closure: Closure


def of_progress(envelope: Envelope[ProgressReported]) -> Settlement | None:
    """A report on a milestone settles it unless the report says the milestone is still not
    complete: a unit cannot stop the ladder with a token 1 % report."""
    event = envelope.data
    if event.milestone_id is None or event.milestone_completed is False:
        return None
    # A report that completes the milestone settles its deadline, whenever it was dated; one
    # from a producer that does not say settles it only if dated after the deadline.
    settles = event.milestone_due_date if event.milestone_completed else None
    return Settlement(
        "milestone",
        milestone_ref(event.assignment_id, event.milestone_id),
        event.unit,
        envelope.id,
        Closure(event.reported_at, settles),
    )


def of_rectification(envelope: Envelope[RectificationClosed]) -> Settlement:
    event = envelope.data
    return Settlement(
        DeadlineItem.RECTIFICATION.value,
        event.finding_id,
        event.unit,
        envelope.id,
        Closure(event.closed_at, event.due_date),
    )


def of_answer(envelope: Envelope[SuggestionAnswered]) -> Settlement:
    event = envelope.data
    return Settlement(
        DeadlineItem.SUGGESTION.value,
        event.suggestion_id,
        event.unit,
        envelope.id,
        Closure(event.answered_at, event.due_date),
    )


def of_extension(envelope: Envelope[ChangeRequestDecided]) -> Settlement | None:
    """An approved extension of a milestone lifts the deadline it moves: the ladder of that
    deadline stops (a miss of the new one starts a new case)."""
    event = envelope.data
    if not (event.approved and event.kind is ChangeKind.EXTENSION):
        return None
    if event.milestone_id is None or event.due_date_before is None:
        return None
    return Settlement(
        "milestone",
        milestone_ref(event.assignment_id, event.milestone_id),
        event.unit,
        envelope.id,
        Closure(envelope.time, event.due_date_before),
    )
