"""The overdue watcher: DeadlineMissed exactly once per item and deadline.

Each pass selects items whose deadline passed while they were still owed and claims each one
with a conditional UPDATE of its `missed` marker; only the claimer emits, with the id
fact_id("DeadlineMissed", item_type, item_id, due_date). Two watchers on one database, a crash
between passes or a restart therefore never emit twice, and a pause only delays the emission.

A rectification has three deadlines, each its own `item_type`: the unit's 整改方案
(`rectification_plan`), the unit's 整改情况报告 (`rectification`) and the office's verification
(`verification`, addressed to the office). Before the deadline the item waits on, the watcher
sends a reminder (DeadlineApproaching) at each configured offset, claimed the same way (marker
`reminded_for`); so it does for a supervisor's suggestion awaiting its answer (offsets in days)
and an open 12345 工单 (offsets in per cent of its own time limit, which is often hours). An item
under 挂牌督办 says so (`listed`), so notifications can tighten its ladder.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.envelope import fact_id
from contracts.inspections import RectificationCategory
from contracts.measures import DeadlineApproaching, DeadlineItem, DeadlineMissed
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Finding, PublicRequest, Suggestion
from services.inspections.domain.findings import (
    AWAITING_PLAN,
    AWAITING_UNIT,
    FINDING_ITEMS,
    RectificationState,
    current_deadline,
)
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
Sweep = Callable[[AsyncSession, datetime, Context], Awaitable[tuple[int, int]]]
Remind = Callable[[AsyncSession, datetime, Context, int], Awaitable[tuple[int, int]]]


async def sweep(db: Database, ctx: Context) -> int:
    """One pass over every kind of item; returns the number of DeadlineMissed emitted."""
    now = ctx.clock()
    emitted = 0
    sweeps: tuple[Sweep, ...] = (
        _rectifications,
        _plans,
        _verifications,
        _public_requests,
        _suggestions,
    )
    for sweep_items in sweeps:
        while True:
            async with db.session() as session, session.begin():
                claimed, seen = await sweep_items(session, now, ctx)
            emitted += claimed
            if seen < BATCH or claimed == 0:
                break
    await _remind(db, ctx, now)
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
    listed = await repository.listed_items(session, FINDING_ITEMS, (r.finding_id for r in rows))
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
            measure_type=row.measure_type,
            due_date=row.due_date,
            detected_at=now,
            listed=row.finding_id in listed,
        )
        change = Change(
            "finding", row.finding_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


async def _plans(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    """整改方案 not filed by their deadline (items of a category with a plan stage)."""
    awaiting = [s.value for s in AWAITING_PLAN]
    rows = await repository.overdue_findings(
        session,
        awaiting,
        local_date(now),
        BATCH,
        due=Finding.plan_due_date,
        marker=Finding.plan_missed_for,
    )
    listed = await repository.listed_items(session, FINDING_ITEMS, (r.finding_id for r in rows))
    claimed = 0
    for row in rows:
        assert row.id is not None and row.plan_due_date is not None
        won = await repository.claim_missed(
            session,
            Finding,
            row.id,
            Finding.plan_missed_for,
            row.plan_due_date,
            col(Finding.state).in_(awaiting),
            col(Finding.plan_due_date) == row.plan_due_date,
            col(Finding.rectification_category) != RectificationCategory.IMMEDIATE.value,
        )
        if not won:
            continue
        claimed += 1
        event = DeadlineMissed(
            item_type=DeadlineItem.RECTIFICATION_PLAN,
            item_id=row.finding_id,
            unit=row.unit,
            title=_title(DeadlineItem.RECTIFICATION_PLAN, row, ctx),
            measure_code=row.measure_code,
            measure_type=row.measure_type,
            due_date=row.plan_due_date,
            detected_at=now,
            listed=row.finding_id in listed,
        )
        change = Change(
            "finding", row.finding_id, row.unit, "plan_deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


async def _verifications(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    """Submitted reports the office has not verified in time: overdue on the office's side."""
    submitted = RectificationState.SUBMITTED.value
    rows = await repository.overdue_findings(
        session,
        [submitted],
        local_date(now),
        BATCH,
        due=Finding.verification_due_date,
        marker=Finding.verification_missed_for,
    )
    listed = await repository.listed_items(session, FINDING_ITEMS, (r.finding_id for r in rows))
    claimed = 0
    for row in rows:
        assert row.id is not None and row.verification_due_date is not None
        won = await repository.claim_missed(
            session,
            Finding,
            row.id,
            Finding.verification_missed_for,
            row.verification_due_date,
            col(Finding.state) == submitted,
            col(Finding.verification_due_date) == row.verification_due_date,
        )
        if not won:
            continue
        claimed += 1
        event = DeadlineMissed(
            item_type=DeadlineItem.VERIFICATION,
            item_id=row.finding_id,
            unit=_addressee(DeadlineItem.VERIFICATION, row, ctx),
            title=_title(DeadlineItem.VERIFICATION, row, ctx),
            measure_code=row.measure_code,
            measure_type=row.measure_type,
            due_date=row.verification_due_date,
            detected_at=now,
            listed=row.finding_id in listed,
        )
        change = Change(
            "finding", row.finding_id, row.unit, "verification_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


def _title(item: DeadlineItem, row: Finding, ctx: Context) -> str:
    if item is DeadlineItem.RECTIFICATION_PLAN:
        return f"整改方案：{row.title}"
    if item is DeadlineItem.VERIFICATION:
        return f"整改验收：{ctx.reference.unit_name(row.unit)}“{row.title}”"
    return f"督查整改：{row.title}"


def _addressee(item: DeadlineItem, row: Finding, ctx: Context) -> str:
    """Who owes the deadline: the unit, or the office for its own verification."""
    if item is DeadlineItem.VERIFICATION:
        return ctx.reference.office() or row.unit
    return row.unit


async def _remind(db: Database, ctx: Context, now: datetime) -> None:
    """DeadlineApproaching for the deadline each open item waits on, once per offset crossed."""
    reminders: tuple[Remind, ...] = (_remind_findings, _remind_suggestions, _remind_requests)
    for remind_items in reminders:
        after_id = 0
        while True:
            async with db.session() as session, session.begin():
                seen, after_id = await remind_items(session, now, ctx, after_id)
            if seen < BATCH:
                break


async def _remind_findings(
    session: AsyncSession, now: datetime, ctx: Context, after_id: int
) -> tuple[int, int]:
    """One batch of findings, by id; returns how many were read and the last id."""
    if not ctx.rules.reminder_days:
        return 0, after_id
    today = local_date(now)
    last_day = today + timedelta(days=max(ctx.rules.reminder_days))
    rows = await repository.findings_due_soon(session, today, last_day, BATCH, after_id)
    listed = await repository.listed_items(session, FINDING_ITEMS, (r.finding_id for r in rows))
    for row in rows:
        await _remind_finding(session, row, row.finding_id in listed, today, now, ctx)
    return len(rows), _last_id(rows, after_id)


async def _remind_finding(
    session: AsyncSession, row: Finding, listed: bool, today: date, now: datetime, ctx: Context
) -> None:
    needs_plan = row.rectification_category != RectificationCategory.IMMEDIATE.value
    state = RectificationState(row.state)
    found = current_deadline(
        state, needs_plan, row.plan_due_date, row.due_date, row.verification_due_date
    )
    if found is None or not today <= found[1]:
        return
    item, due = found
    days_left = (due - today).days
    offset = ctx.rules.reminder_offset(days_left)
    if offset is None:
        return
    event = DeadlineApproaching(
        item_type=item,
        item_id=row.finding_id,
        unit=_addressee(item, row, ctx),
        title=_title(item, row, ctx),
        measure_code=row.measure_code,
        measure_type=row.measure_type,
        due_date=due,
        offset_days=offset,
        days_left=days_left,
        detected_at=now,
        listed=listed,
    )
    await _approaching(session, Finding, row, f"{item.value}:{due.isoformat()}:{offset}", event)


async def _remind_suggestions(
    session: AsyncSession, now: datetime, ctx: Context, after_id: int
) -> tuple[int, int]:
    """Suggestions awaiting their answer, at the same offsets in days as findings."""
    if not ctx.rules.reminder_days:
        return 0, after_id
    today = local_date(now)
    last_day = today + timedelta(days=max(ctx.rules.reminder_days))
    assigned = SuggestionState.ASSIGNED.value
    rows = await repository.suggestions_due_soon(
        session, assigned, today, last_day, BATCH, after_id
    )
    listed = await repository.listed_items(
        session, [DeadlineItem.SUGGESTION], (r.suggestion_id for r in rows)
    )
    for row in rows:
        days_left = (row.due_date - today).days
        offset = ctx.rules.reminder_offset(days_left)
        if offset is None:
            continue
        event = DeadlineApproaching(
            item_type=DeadlineItem.SUGGESTION,
            item_id=row.suggestion_id,
            unit=row.unit,
            title=row.title,
            due_date=row.due_date,
            offset_days=offset,
            days_left=days_left,
            detected_at=now,
            listed=row.suggestion_id in listed,
        )
        await _approaching(session, Suggestion, row, f"{row.due_date.isoformat()}:{offset}", event)
    return len(rows), _last_id(rows, after_id)


async def _remind_requests(
    session: AsyncSession, now: datetime, ctx: Context, after_id: int
) -> tuple[int, int]:
    """Open 12345 工单 by the share of their own time limit left: a limit is often a working day
    or a few hours, so offsets in days would say nothing. The limit runs from the step that set
    it, the receipt or the reopening, which is an open request's last step."""
    if not ctx.rules.request_reminder_percent:
        return 0, after_id
    open_states = [s.value for s in OPEN_STATES]
    rows = await repository.requests_within_limit(session, open_states, now, BATCH, after_id)
    listed = await repository.listed_items(
        session, [DeadlineItem.PUBLIC_REQUEST], (r.request_id for r in rows)
    )
    today = local_date(now)
    for row in rows:
        share = ctx.rules.request_reminder(row.last_step_at, row.due_at, now)
        if share is None:
            continue
        due_at = row.due_at  # UTC, as every stored instant
        event = DeadlineApproaching(
            item_type=DeadlineItem.PUBLIC_REQUEST,
            item_id=row.request_id,
            unit=row.unit,
            title=row.title,
            due_date=local_date(due_at),
            offset_days=0,
            days_left=(local_date(due_at) - today).days,
            detected_at=now,
            listed=row.request_id in listed,
            due_at=due_at,
            offset_percent=share,
        )
        await _approaching(session, PublicRequest, row, f"{due_at.isoformat()}:{share}%", event)
    return len(rows), _last_id(rows, after_id)


async def _approaching(
    session: AsyncSession,
    model: type[Finding | Suggestion | PublicRequest],
    row: Finding | Suggestion | PublicRequest,
    marker: str,
    event: DeadlineApproaching,
) -> None:
    """Stage `event` if this sweeper claims the reminder `marker` on the item's row (an item
    keeps only its latest reminder: offsets are crossed in order, and a new deadline starts
    over)."""
    if row.reminded_for == marker:
        return
    assert row.id is not None
    if not await repository.claim_reminder(
        session, model, row.id, row.version, row.reminded_for, marker
    ):
        return
    await emit(session, event, event.unit, _reminder_id(event), event.detected_at)


def _reminder_id(event: DeadlineApproaching) -> str:
    """By the offset crossed: in days, or for a 工单 in per cent of its time limit."""
    if event.due_at is not None:
        due_at, share = event.due_at.isoformat(), f"{event.offset_percent}%"
        return fact_id(event.NAME, event.item_type, event.item_id, due_at, share)
    return fact_id(event.NAME, event.item_type, event.item_id, event.due_date, event.offset_days)


def _last_id(rows: Sequence[Finding | Suggestion | PublicRequest], after_id: int) -> int:
    """Where the next batch starts."""
    return (rows[-1].id or after_id) if rows else after_id


async def _public_requests(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    open_states = [s.value for s in OPEN_STATES]
    cutoff = now - ctx.request_report_lag
    rows = await repository.overdue_requests(session, open_states, cutoff, BATCH)
    listed = await repository.listed_items(
        session, [DeadlineItem.PUBLIC_REQUEST], (r.request_id for r in rows)
    )
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
            listed=row.request_id in listed,
        )
        change = Change(
            "public_request", row.request_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)


async def _suggestions(session: AsyncSession, now: datetime, ctx: Context) -> tuple[int, int]:
    assigned = SuggestionState.ASSIGNED.value
    rows = await repository.overdue_suggestions(session, assigned, local_date(now), BATCH)
    listed = await repository.listed_items(
        session, [DeadlineItem.SUGGESTION], (r.suggestion_id for r in rows)
    )
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
            title=row.title,
            due_date=row.due_date,
            detected_at=now,
            listed=row.suggestion_id in listed,
        )
        change = Change(
            "suggestion", row.suggestion_id, row.unit, "deadline_missed", row.state, row.state
        )
        await _missed(session, event, change, now)
    return claimed, len(rows)
