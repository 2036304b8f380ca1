"""The deadline watcher: a periodic sweep that announces approaching and missed deadlines.

Exactly once per fact, with any number of replicas on one database, across restarts and after a
pause: each batch runs in one transaction that first takes the sweep's row lock (so replicas take
turns and each sees the other's work), reads only milestones whose alert date has come, stages the
events in the outbox and moves each milestone's alert date on, all committed together. Event ids
are derived from the fact, so even a copy published twice collapses downstream.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.measures import DeadlineApproaching, DeadlineItem, DeadlineMissed
from services.measures.adapters import repository
from services.measures.adapters.tables import Assignment, Milestone
from services.measures.domain.deadlines import Miss, Remind, alert
from services.measures.handlers.common import Context, journal, publish
from services.runtime import audit
from services.runtime.db import Database
from services.runtime.workdays import local_date

ACTOR = "system/deadline-watcher"
# Reminders and misses are the system's changes: each batch that moves alerts on is audited.
AUDITED_AS = audit.Act(actor=ACTOR, role="system", source="measures", action="deadline sweep")
LOCK = "deadlines"


@dataclass
class Swept:
    reminded: int = 0
    missed: int = 0


def item_id(assignment_id: str, milestone_id: str) -> str:
    """The milestone's id on the bus: short, and stable across replicas and rebuilds."""
    return fact_id("Milestone", assignment_id, milestone_id)


async def sweep(db: Database, ctx: Context, batch_size: int) -> Swept:
    """Announce everything due by now, in batches of `batch_size` milestones."""
    total = Swept()
    while True:
        with audit.acting(AUDITED_AS):
            async with db.session() as session, session.begin():
                seen = await sweep_batch(session, ctx, batch_size, total)
        if seen < batch_size:
            return total


async def sweep_batch(session: AsyncSession, ctx: Context, limit: int, total: Swept) -> int:
    now = ctx.clock()
    await repository.lock_job(session, LOCK, now)
    audit.bookkeeping(session)  # taking the lock alone is no change to audit
    due = await repository.due_alerts(session, local_date(now), limit)
    staged = [
        said for milestone, assignment in due if (said := _decide(milestone, assignment, ctx, now))
    ]
    # One flush for the batch's state changes, then the events: staging an event queries the
    # outbox, which would otherwise flush the session once per milestone.
    await session.flush()
    for event, event_id in staged:
        await publish(session, event, unit=event.unit, event_id=event_id, time=now)
        if isinstance(event, DeadlineMissed):
            total.missed += 1
            journal(
                session,
                at=now,
                actor=ACTOR,
                action="deadline_missed",
                entity=("assignment", event.assignment_id or ""),
                unit=event.unit,
                details={"milestone_id": event.milestone_id, "due_date": str(event.due_date)},
            )
        else:
            total.reminded += 1
    return len(due)


def _decide(
    milestone: Milestone, assignment: Assignment, ctx: Context, now: datetime
) -> tuple[DeadlineMissed | DeadlineApproaching, str] | None:
    """Move the milestone's alert on; returns the event to publish and its id, if any."""
    said, next_on, reminded = alert(
        milestone.due_date, local_date(now), ctx.reminder_offsets, milestone.reminded_offset
    )
    milestone.alert_on, milestone.reminded_offset = next_on, reminded
    item = DeadlineItem.OBLIGATION if assignment.recurrence else DeadlineItem.MILESTONE
    key = item_id(assignment.assignment_id, milestone.milestone_id)
    common = {
        "item_type": item,
        "item_id": key,
        "unit": milestone.unit,
        "title": milestone.title,
        "measure_code": assignment.measure_code,
        "measure_type": assignment.measure_type,
        "assignment_id": assignment.assignment_id,
        "milestone_id": milestone.milestone_id,
        "due_date": milestone.due_date,
        "detected_at": now,
    }
    if isinstance(said, Miss):
        milestone.missed_at = now
        return DeadlineMissed(**common), fact_id(
            DeadlineMissed.NAME, item.value, key, milestone.due_date
        )
    if isinstance(said, Remind):
        return DeadlineApproaching(
            **common, offset_days=said.offset_days, days_left=said.days_left
        ), fact_id(DeadlineApproaching.NAME, item.value, key, milestone.due_date, said.offset_days)
    return None
