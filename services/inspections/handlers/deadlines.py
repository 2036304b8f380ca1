"""The overdue watcher: DeadlineMissed exactly once per item and deadline.

Each pass selects items whose deadline passed while they were still owed and claims each one
with a conditional UPDATE of its `missed` marker; only the claimer emits, with the id
fact_id("DeadlineMissed", item_type, item_id, due_date). Two watchers on one database, a crash
between passes or a restart therefore never emit twice, and a pause only delays the emission.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import fact_id
from contracts.measures import DeadlineItem, DeadlineMissed
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Finding, PublicRequest, Suggestion
from services.inspections.domain.findings import AWAITING_UNIT
from services.inspections.domain.public_requests import OPEN_STATES
from services.inspections.domain.supervision import SuggestionState
from services.inspections.handlers.context import (
    DEADLINE_WATCHER,
    Change,
    Context,
    emit,
    journal,
)
from services.runtime.db import Database
from services.runtime.workdays import local_date

BATCH = 500


async def sweep(db: Database, ctx: Context) -> int:
    """One pass over every kind of item; returns the number of DeadlineMissed emitted."""
    now = ctx.clock()
    emitted = 0
    for sweep_items in (_rectifications, _public_requests, _suggestions):
        while True:
            async with db.session() as session, session.begin():
                claimed, seen = await sweep_items(session, now, ctx)
            emitted += claimed
            if seen < BATCH or claimed == 0:
                break
    return emitted


async def _missed(
    session: AsyncSession,
    event: DeadlineMissed,
    entity: Change,
    now: datetime,
) -> None:
    event_id = fact_id(event.NAME, event.item_type, event.item_id, event.due_date)
    await emit(session, event, event.unit, event_id, now)
    await journal(
        session, entity, DEADLINE_WATCHER, now, {"due_date": event.due_date.isoformat()}, event_id
    )


async def _rectifications(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    awaiting = [s.value for s in AWAITING_UNIT]
    rows = await repository.overdue_findings(session, awaiting, local_date(now), BATCH)
    claimed = 0
    for row in rows:
        assert row.id is not None
        won = await repository.claim_missed(
            session,
            Finding,
            row.id,
            Finding.deadline_missed_for,
            row.due_date,
            col(Finding.state).in_(awaiting),
            col(Finding.due_date) == row.due_date,
        )
        if not won:
            continue
        claimed += 1
        event = DeadlineMissed(
            item_type=DeadlineItem.RECTIFICATION,
            item_id=row.finding_id,
            unit=row.unit,
            title=f"督查整改：{row.title}",
            measure_code=row.measure_code,
            due_date=row.due_date,
            detected_at=now,
        )
        change = Change(
            "finding", row.finding_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


async def _public_requests(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    open_states = [s.value for s in OPEN_STATES]
    cutoff = now - ctx.request_report_lag
    rows = await repository.overdue_requests(session, open_states, cutoff, BATCH)
    claimed = 0
    for row in rows:
        assert row.id is not None
        won = await repository.claim_missed(
            session,
            PublicRequest,
            row.id,
            PublicRequest.missed_due_at,
            row.due_at,
            col(PublicRequest.state).in_(open_states),
            col(PublicRequest.due_at) == row.due_at,
        )
        if not won:
            continue
        claimed += 1
        event = DeadlineMissed(
            item_type=DeadlineItem.PUBLIC_REQUEST,
            item_id=row.request_id,
            unit=row.unit,
            title=row.title,
            due_date=local_date(row.due_at),
            detected_at=now,
        )
        change = Change(
            "public_request", row.request_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


async def _suggestions(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    assigned = SuggestionState.ASSIGNED.value
    rows = await repository.overdue_suggestions(session, assigned, local_date(now), BATCH)
    claimed = 0
    for row in rows:
        assert row.id is not None
        won = await repository.claim_missed(
            session,
            Suggestion,
            row.id,
            Suggestion.deadline_missed_for,
            row.due_date,
            col(Suggestion.state) == assigned,
            col(Suggestion.due_date) == row.due_date,
        )
        if not won:
            continue
        claimed += 1
        event = DeadlineMissed(
            item_type=DeadlineItem.SUGGESTION,
            item_id=row.suggestion_id,
            unit=row.unit,
            title=f"监督员建议：{row.title}",
            due_date=row.due_date,
            detected_at=now,
        )
        change = Change(
            "suggestion", row.suggestion_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)
