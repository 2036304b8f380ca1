"""Which facts complete an overdue item (and stop its ladder), which undo a completion, and which
item they name. Pure: no I/O."""

from dataclasses import dataclass
from datetime import date

from contracts.envelope import Envelope, fact_id
from contracts.inspections import (
    PublicRequestClosed,
    RectificationClosed,
    RectificationReopened,
    SuggestionAnswered,
)
from contracts.measures import (
    ChangeKind,
    ChangeRequestDecided,
    DeadlineItem,
    ProgressReported,
    ProgressReturned,
)
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


def of_public_request(envelope: Envelope[PublicRequestClosed]) -> Settlement:
    """A closed 诉求工单 leaves the ladder, late or not."""
    event = envelope.data
    return Settlement(
        DeadlineItem.PUBLIC_REQUEST.value,
        event.request_id,
        event.unit,
        envelope.id,
        Closure(event.closed_at, event.due_date),
    )


@dataclass(frozen=True)
class Reopening:
    """A fact that undoes a completion: the closures it voids are those recorded from
    `closing_event`, or all of the item `ref`; the cases they closed whose deadline is still
    `due_date` (any, if None) climb again."""

    unit: str
    closing_event: str | None = None
    ref: tuple[str, str] | None = None
    due_date: date | None = None


def of_return(envelope: Envelope[ProgressReturned]) -> Reopening | None:
    """A completing report sent back re-opens what it completed, unless the milestone is still
    complete without it."""
    event = envelope.data
    if event.milestone_completed:
        return None
    return Reopening(
        event.unit, closing_event=fact_id(ProgressReported.NAME, event.unit, event.report_id)
    )


def of_reopened(envelope: Envelope[RectificationReopened]) -> Reopening:
    """A closed finding reopened (反弹) climbs again if its deadline stands; with a new deadline a
    miss of that one opens a new case."""
    event = envelope.data
    return Reopening(
        event.unit,
        ref=(DeadlineItem.RECTIFICATION.value, event.finding_id),
        due_date=event.due_date,
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
