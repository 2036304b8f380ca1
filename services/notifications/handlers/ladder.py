"""The escalation ladder: a missed deadline opens a case and sends the notice, the sweep climbs
it, settling facts close it, and a unit signs for its notices."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Envelope, fact_id, wrap
from contracts.measures import DeadlineApproaching, DeadlineItem, DeadlineMissed
from contracts.notifications import EscalationLevel, EscalationRaised
from services.notifications.adapters import repository
from services.notifications.adapters.tables import (
    EscalationCase,
    InboxMessage,
    ItemClosure,
    Notification,
    Recipient,
)
from services.notifications.domain import occurrences
from services.notifications.domain.escalation import (
    CaseStatus,
    Closure,
    Level,
    StepRefusal,
    case_key,
    closure_ref,
    manual_step_refusal,
)
from services.notifications.domain.occurrences import dates
from services.notifications.domain.routing import UNIT_ROLES, Role
from services.notifications.domain.settlements import Reopening, Settlement
from services.notifications.domain.topics import Occurrence, Topic
from services.notifications.handlers.common import SOURCE, BatchHandler, Context
from services.notifications.handlers.fanout import notify
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import chinese_date, local_date


async def open_cases(
    session: AsyncSession, ctx: Context, batch: list[Envelope[DeadlineMissed]]
) -> None:
    for envelope in batch:
        await open_case(session, ctx, envelope)


async def open_case(
    session: AsyncSession, ctx: Context, envelope: Envelope[DeadlineMissed]
) -> None:
    """A missed deadline opens a case and sends the notice, unless the item was settled by a
    fact that arrived first (the two come through different consumers)."""
    event = envelope.data
    now = ctx.clock()
    today = local_date(now)
    key = case_key(event.item_type, event.item_id, event.unit, event.due_date)
    ref_type, ref = closure_ref(
        event.item_type, event.item_id, event.milestone_id, event.assignment_id
    )
    settled_by = await _settled_by(session, event)
    inserted = await repository.insert_ignore(
        session,
        EscalationCase,
        {
            "key": key,
            "item_type": event.item_type.value,
            "item_id": event.item_id,
            "milestone_id": event.milestone_id,
            "ref_type": ref_type,
            "ref": ref,
            "unit": event.unit,
            "title": event.title,
            "measure_code": event.measure_code,
            "due_date": event.due_date,
            "source_event_id": envelope.id,
            "status": (CaseStatus.CLOSED if settled_by else CaseStatus.OPEN).value,
            "level": Level.NOTICE.value,
            "level_on": today,
            "notice_on": today,
            "opened_at": now,
            "closed_at": now if settled_by else None,
            "closed_by": settled_by,
        },
    )
    if inserted and not settled_by:
        case = await session.get(EscalationCase, key)
        assert case is not None
        await raise_level(session, ctx, case, Level.NOTICE, today)


async def remind(
    session: AsyncSession, ctx: Context, batch: list[Envelope[DeadlineApproaching]]
) -> None:
    """A 提醒 for each deadline still owed: one that arrives after the fact completing its item
    (the answer, the closure; they come through different consumers) is dropped."""
    occurrence_of = occurrences.deadline_approaching(ctx.items)
    for envelope in batch:
        if await _settled_by(session, envelope.data) is None:
            name = await repository.unit_name(session, envelope.subject)
            await notify(session, ctx, occurrence_of(envelope, name))


async def _settled_by(
    session: AsyncSession, event: DeadlineMissed | DeadlineApproaching
) -> str | None:
    """The id of a recorded fact that completed the item for this deadline, if any."""
    ref_type, ref = closure_ref(
        event.item_type, event.item_id, event.milestone_id, event.assignment_id
    )
    return next(
        (
            c.event_id
            for c in await repository.closing_fact(session, ref_type, ref, event.unit)
            if _closure(c).closes(event.due_date)
        ),
        None,
    )


def _closure(row: ItemClosure) -> Closure:
    return Closure(row.at, row.settles_due_date)


def ladder_fields(
    case: EscalationCase, level: Level, unit_name: str, today: date, ctx: Context
) -> dict[str, str]:
    fields = occurrences.item_fields(
        unit_name, ctx.items, case.item_type, case.title, case.due_date
    )
    if level >= Level.SUPERVISION_ORDER:
        overdue = ctx.calendar.working_days_between(case.due_date, today)
        fields["working_days_overdue"] = str(overdue)
        fields |= dates("notice_date", case.notice_on)
        if case.acknowledged_at is not None:
            signed = local_date(case.acknowledged_at)
            fields["signed_zh"] = f"已于{chinese_date(signed)}签收但"
            fields["signed_en"] = f"signed for on {signed.isoformat()}"
        else:
            fields["signed_zh"] = "未签收，"
            fields["signed_en"] = "never signed for"
    return fields


async def raise_level(
    session: AsyncSession, ctx: Context, case: EscalationCase, level: Level, today: date
) -> None:
    """Notify the level's recipients and publish EscalationRaised, once per case and level."""
    name = await repository.unit_name(session, case.unit)
    overdue = max(0, ctx.calendar.working_days_between(case.due_date, today))
    facts = {
        "case_id": case.key,
        "level": level.label,
        "item_type": case.item_type,
        "item_id": case.item_id,
        "milestone_id": case.milestone_id,
        "title": case.title,
        "measure_code": case.measure_code,
        "due_date": case.due_date.isoformat(),
        "working_days_overdue": overdue,
    }
    occurrence = Occurrence(
        notification_id=occurrences.ladder_id(level, case.key),
        topic=level.topic,
        unit=case.unit,
        # The notice answers the DeadlineMissed event; later levels answer the case itself.
        source_event_id=case.source_event_id
        if level is Level.NOTICE
        else occurrences.ladder_id(level, case.key),
        fields=ladder_fields(case, level, name, today, ctx),
        item_type=case.item_type,
        case_key=case.key,
        facts=facts,
    )
    reached = await notify(session, ctx, occurrence)
    raised = EscalationRaised(
        case_id=case.key,
        level=EscalationLevel(level.label),
        item_type=DeadlineItem(case.item_type),
        item_id=case.item_id,
        unit=case.unit,
        title=case.title,
        measure_code=case.measure_code,
        due_date=case.due_date,
        working_days_overdue=overdue,
        recipients=reached,
        raised_at=ctx.clock(),
    )
    envelope = wrap(
        raised,
        subject=case.unit,
        source=SOURCE,
        id=fact_id("EscalationRaised", case.key, level.label),
        time=raised.raised_at,  # the service's clock: scoring dates the fact by it
    )
    await add_to_outbox(session, envelope, subjects.event(EscalationRaised.NAME, case.unit))


async def remind_to_sign(
    session: AsyncSession, ctx: Context, case: EscalationCase, today: date
) -> bool:
    """Remind the unit once to sign for a notice it has not signed for in time."""
    policy = ctx.policy
    due = policy.sign_reminder_due(
        case.notice_on,
        case.acknowledged_at is not None,
        case.sign_reminded_on is not None,
        today,
        ctx.calendar,
    )
    if not due or not await repository.mark_sign_reminded(session, case.key, today):
        return False
    name = await repository.unit_name(session, case.unit)
    fields = occurrences.item_fields(name, ctx.items, case.item_type, case.title, case.due_date)
    origin = occurrences.notification_id(Topic.SIGN_REMINDER, case.key)
    await notify(
        session,
        ctx,
        Occurrence(
            notification_id=origin,
            topic=Topic.SIGN_REMINDER,
            unit=case.unit,
            source_event_id=origin,
            fields=fields | dates("notice_date", case.notice_on),
            item_type=case.item_type,
            case_key=case.key,
            facts={"case_id": case.key, "notice_on": case.notice_on.isoformat()},
        ),
    )
    return True


async def settle(session: AsyncSession, ctx: Context, settlement: Settlement) -> list[str]:
    """Record a completing fact and close the open cases it completes; their keys."""
    closure = settlement.closure
    await repository.insert_ignore(
        session,
        ItemClosure,
        {
            "event_id": settlement.event_id,
            "ref_type": settlement.ref_type,
            "ref": settlement.ref,
            "unit": settlement.unit,
            "at": closure.at,
            "settles_due_date": closure.settles_due_date,
        },
    )
    closed = []
    for case in await repository.live_cases_of(
        session, settlement.ref_type, settlement.ref, settlement.unit
    ):
        if closure.closes(case.due_date):
            case.status = CaseStatus.CLOSED.value
            case.closed_at = ctx.clock()
            case.closed_by = settlement.event_id
            closed.append(case.key)
    return closed


async def reopen(session: AsyncSession, ctx: Context, reopening: Reopening) -> list[str]:
    """Undo completions: forget the closures the fact voids and put the cases they closed back
    on the ladder, their next step counted from today; their keys."""
    voided = await repository.closures_undone(
        session, reopening.unit, reopening.closing_event, reopening.ref
    )
    today = local_date(ctx.clock())
    reopened = []
    for case in await repository.cases_closed_by(session, voided):
        if reopening.due_date is not None and case.due_date != reopening.due_date:
            continue
        case.status = CaseStatus.OPEN.value
        case.closed_at = case.closed_by = None
        case.level_on = today
        reopened.append(case.key)
    return reopened


def settling(
    ctx: Context, settlement_of: Callable[[Envelope[Any]], Settlement | None]
) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for envelope in batch:
            settlement = settlement_of(envelope)
            if settlement is not None:
                await settle(session, ctx, settlement)

    return handle


def reopening(
    ctx: Context, reopening_of: Callable[[Envelope[Any]], Reopening | None]
) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for envelope in batch:
            found = reopening_of(envelope)
            if found is not None:
                await reopen(session, ctx, found)

    return handle


async def climb_if_due(
    session: AsyncSession, ctx: Context, case: EscalationCase, today: date
) -> Level | None:
    """Raise an open case one level if its time has come; the level raised, if any."""
    step = ctx.policy.next_step(Level(case.level), case.level_on, today, ctx.calendar)
    if step is None:
        return None
    return await climb(session, ctx, case, step, today)


async def climb(
    session: AsyncSession, ctx: Context, case: EscalationCase, step: Level, today: date
) -> Level | None:
    if not await repository.climb(session, case.key, case.level, step, today):
        return None
    await session.refresh(case)
    await raise_level(session, ctx, case, step, today)
    return step


async def escalate_now(
    session: AsyncSession, ctx: Context, key: str
) -> EscalationCase | StepRefusal:
    """The office issues the next level of a case at once (督办 before the wait ends)."""
    case = await session.get(EscalationCase, key)
    status = CaseStatus(case.status) if case is not None else None
    level = Level(case.level) if case is not None else None
    refusal = manual_step_refusal(status, level)
    if refusal is not None:
        return refusal
    assert case is not None and level is not None
    if await climb(session, ctx, case, Level(level + 1), local_date(ctx.clock())) is None:
        return StepRefusal.AT_TOP_LEVEL  # another request climbed it first
    return case


# ------------------------------------------------------------------------- acknowledgement


async def mark_message(
    session: AsyncSession, ctx: Context, recipient: str, message_id: int, acknowledge: bool
) -> InboxMessage | StepRefusal | None:
    """Mark an inbox message read, or signed for (签收). Signing for a notice of a case is
    recorded on the case and spares the unit the reminder to sign; it does not stop the ladder,
    and a notice whose item is completed can no longer be signed for. None if the message is
    not the recipient's."""
    row = await session.get(InboxMessage, message_id)
    if row is None or row.recipient != recipient:
        return None
    now = ctx.clock()
    if acknowledge and row.acknowledged_at is None:
        case = await _case_of(session, row)
        if case is not None and case.status == CaseStatus.CLOSED.value:
            return StepRefusal.ITEM_COMPLETED
        row.acknowledged_at = now
        if case is not None:
            await _sign(session, case, row.recipient, now)
    if row.read_at is None:
        row.read_at = now
    return row


async def _case_of(session: AsyncSession, message: InboxMessage) -> EscalationCase | None:
    if message.notification_id is None:
        return None
    notification = await session.get(Notification, message.notification_id)
    if notification is None or notification.case_key is None:
        return None
    return await session.get(EscalationCase, notification.case_key)


async def _sign(
    session: AsyncSession, case: EscalationCase, recipient_code: str, now: datetime
) -> None:
    recipient = await session.get(Recipient, recipient_code)
    if recipient is None or case.acknowledged_at is not None:
        return
    if Role(recipient.role) in UNIT_ROLES and recipient.unit == case.unit:
        case.acknowledged_at = now
        case.acknowledged_by = recipient.code
