"""Handlers of the notifications service. Each runs inside the caller's transaction (a consumer's
batch, an HTTP request, a periodic job's step); every write is keyed deterministically, so a fact
handled twice changes nothing the second time."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Envelope, fact_id, wrap
from contracts.measures import DeadlineItem, DeadlineMissed, UnitRegistered
from contracts.notifications import EscalationLevel, EscalationRaised
from services.notifications.adapters import repository
from services.notifications.adapters.tables import (
    Delivery,
    DeliveryAttempt,
    EscalationCase,
    InboxMessage,
    ItemClosure,
    Notification,
    Recipient,
    Unit,
)
from services.notifications.domain import occurrences
from services.notifications.domain.addresses import redacted
from services.notifications.domain.delivery import DeliveryStatus, Outcome
from services.notifications.domain.digest import OpenItem, digest_fields
from services.notifications.domain.escalation import (
    CaseStatus,
    Closure,
    LadderPolicy,
    Level,
    case_key,
    closure_ref,
)
from services.notifications.domain.routing import (
    UNIT_ROLES,
    Channel,
    Reachable,
    Role,
    route,
)
from services.notifications.domain.settlements import Settlement
from services.notifications.domain.templates import Rendered, Templates
from services.notifications.domain.topics import SENT_AT_ONCE, Occurrence, Topic
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import WorkingCalendar, local_date

SOURCE = "fivetype/notifications"
OFFICE_UNIT = "office"  # digests for recipients outside any unit come from the office
Clock = Callable[[], datetime]
Mapper = Callable[[Envelope[Any], str], Occurrence]
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Context:
    """What handlers read besides the database."""

    templates: Templates
    clock: Clock
    calendar: WorkingCalendar
    policy: LadderPolicy


def reachable(recipient: Recipient) -> set[Channel]:
    return Reachable(bool(recipient.emails), bool(recipient.webhook_url)).channels()


def delivery_target(recipient: Recipient, channel: Channel) -> str:
    """Where a delivery goes, as the delivery log shows it (never a secret)."""
    if channel is Channel.EMAIL:
        return ", ".join(recipient.emails)
    if channel is Channel.WEBHOOK and recipient.webhook_url:
        return redacted(recipient.webhook_url)
    return f"inbox:{recipient.code}"


# ----------------------------------------------------------------------------- fan-out


async def plan(
    session: AsyncSession, occurrence: Occurrence, now: datetime
) -> dict[str, tuple[Recipient, set[Channel]]]:
    """Each recipient the rules route `occurrence` to, with the channels it can be reached on."""
    unit = await repository.unit_of(session, occurrence.unit)
    rules = await repository.rules_for_topic(session, occurrence.topic.value)
    routes = route(rules, occurrence, unit.peer_group if unit else None)
    resolved = await repository.recipients_for(session, routes, occurrence.unit, now)
    found: dict[str, tuple[Recipient, set[Channel]]] = {}
    for target, channels in routes.items():
        for recipient in resolved[target]:
            found.setdefault(recipient.code, (recipient, set()))[1].update(
                channels & reachable(recipient)
            )
    return {code: entry for code, entry in found.items() if entry[1]}


async def notify(session: AsyncSession, ctx: Context, occurrence: Occurrence) -> list[str]:
    """Store the notification, route it and queue its deliveries; the codes of the recipients
    it went to (none if this notification was already made)."""
    now = ctx.clock()
    rendered = ctx.templates.render(occurrence.topic, occurrence.fields)
    if not await _store(session, occurrence, rendered, now):
        return []
    recipients = await plan(session, occurrence, now)
    for code in sorted(recipients):
        recipient, channels = recipients[code]
        await deliver(session, occurrence, rendered, recipient, channels, now)
    return sorted(recipients)


async def _store(
    session: AsyncSession, occurrence: Occurrence, rendered: Rendered, now: datetime
) -> bool:
    return await repository.insert_ignore(
        session,
        Notification,
        {
            "id": occurrence.notification_id,
            "topic": occurrence.topic.value,
            "unit": occurrence.unit,
            "severity": occurrence.severity.value if occurrence.severity else None,
            "source_event_id": occurrence.source_event_id,
            "case_key": occurrence.case_key,
            "title_zh": rendered.title_zh[:300],
            "title_en": rendered.title_en[:300],
            "body_zh": rendered.body_zh,
            "body_en": rendered.body_en,
            "facts": dict(occurrence.facts),
            "created_at": now,
        },
    )


async def deliver(
    session: AsyncSession,
    occurrence: Occurrence,
    rendered: Rendered,
    recipient: Recipient,
    channels: set[Channel],
    now: datetime,
) -> None:
    """The inbox is written at once; email and webhook are queued for the dispatcher, or held
    for the recipient's digest when it prefers one and the topic is not urgent."""
    hold = recipient.digest and occurrence.topic not in SENT_AT_ONCE
    for channel in sorted(channels):
        values: dict[str, Any] = {
            "key": fact_id("Delivery", occurrence.notification_id, recipient.code, channel.value),
            "notification_id": occurrence.notification_id,
            "recipient": recipient.code,
            "channel": channel.value,
            "target": delivery_target(recipient, channel),
            "created_at": now,
            "updated_at": now,
        }
        if channel is Channel.INBOX:
            await _to_inbox(session, occurrence, rendered, recipient.code, values, now)
        elif hold:
            await repository.insert_ignore(
                session, Delivery, values | {"status": DeliveryStatus.HELD.value}
            )
        else:
            await repository.insert_ignore(
                session,
                Delivery,
                values | {"status": DeliveryStatus.PENDING.value, "next_attempt_at": now},
            )


async def _to_inbox(
    session: AsyncSession,
    occurrence: Occurrence,
    rendered: Rendered,
    recipient: str,
    delivery: dict[str, Any],
    now: datetime,
) -> None:
    await repository.insert_ignore(
        session,
        InboxMessage,
        {
            "recipient": recipient,
            "event_id": occurrence.source_event_id,
            "kind": occurrence.topic.value,
            "unit": occurrence.unit,
            "title_zh": rendered.title_zh[:300],
            "title_en": rendered.title_en[:300],
            "body_zh": rendered.body_zh,
            "body_en": rendered.body_en,
            "created_at": now,
            "notification_id": occurrence.notification_id,
        },
    )
    delivery_id = await repository.insert_ignore_id(
        session,
        Delivery,
        delivery | {"status": DeliveryStatus.DELIVERED.value, "attempts": 1, "delivered_at": now},
    )
    if delivery_id is not None:
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                number=1,
                started_at=now,
                duration_ms=0.0,
                outcome=Outcome.DELIVERED.value,
            )
        )


def informing(ctx: Context, mapper: Mapper) -> BatchHandler:
    """A handler that turns each fact of a batch into a notification."""

    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for envelope in batch:
            name = await repository.unit_name(session, envelope.subject)
            await notify(session, ctx, mapper(envelope, name))

    return handle


# ------------------------------------------------------------------------- the unit replica


async def register_units(
    session: AsyncSession, ctx: Context, batch: list[Envelope[UnitRegistered]]
) -> None:
    now = ctx.clock()
    for envelope in batch:
        event = envelope.data
        values = {
            "name_zh": event.name_zh,
            "name_en": event.name_en,
            "peer_group": event.peer_group,
            "peer_group_name_zh": event.peer_group_name_zh,
            "peer_group_name_en": event.peer_group_name_en,
            "is_office": event.is_office,
            "updated_at": now,
        }
        if not await repository.insert_ignore(session, Unit, {"code": event.unit, **values}):
            await session.execute(
                sa.update(repository.table(Unit))
                .where(repository.table(Unit).c.code == event.unit)
                .values(**values)
            )
        if not event.is_office:
            await repository.ensure_unit_mailboxes(session, event.unit, event.name_zh, now)


# ----------------------------------------------------------------------------- the ladder


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
    settled_by = next(
        (
            c.event_id
            for c in await repository.closing_fact(session, ref_type, ref, event.unit)
            if _closure(c).closes(event.due_date)
        ),
        None,
    )
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


def _closure(row: ItemClosure) -> Closure:
    return Closure(row.at, row.settles_due_date)


def ladder_fields(
    case: EscalationCase, level: Level, unit_name: str, today: date, calendar: WorkingCalendar
) -> dict[str, str]:
    fields = occurrences.item_fields(
        unit_name, DeadlineItem(case.item_type), case.title, case.due_date
    )
    if level >= Level.SUPERVISION_ORDER:
        fields["working_days_overdue"] = str(calendar.working_days_between(case.due_date, today))
        fields["notice_date"] = case.notice_on.isoformat()
    if level >= Level.PUBLIC_NOTICE and case.supervision_on is not None:
        fields["supervision_date"] = case.supervision_on.isoformat()
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
        fields=ladder_fields(case, level, name, today, ctx.calendar),
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
    )
    await add_to_outbox(session, envelope, subjects.event(EscalationRaised.NAME, case.unit))


async def settle(session: AsyncSession, ctx: Context, settlement: Settlement) -> list[str]:
    """Record a settling fact and close the live cases it settles; their keys."""
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


def settling(
    ctx: Context, settlement_of: Callable[[Envelope[Any]], Settlement | None]
) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for envelope in batch:
            settlement = settlement_of(envelope)
            if settlement is not None:
                await settle(session, ctx, settlement)

    return handle


def both(*handlers: BatchHandler) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for handler in handlers:
            await handler(session, batch)

    return handle


async def climb_if_due(
    session: AsyncSession, ctx: Context, case: EscalationCase, today: date
) -> Level | None:
    """Raise an open case one level if its time has come; the level raised, if any."""
    step = ctx.policy.next_step(Level(case.level), case.level_on, today, ctx.calendar)
    if step is None or not await repository.climb(session, case.key, case.level, step, today):
        return None
    await session.refresh(case)
    await raise_level(session, ctx, case, step, today)
    return step


# ------------------------------------------------------------------------- acknowledgement


async def mark_message(
    session: AsyncSession, ctx: Context, recipient: str, message_id: int, acknowledge: bool
) -> InboxMessage | None:
    """Mark an inbox message read (or acknowledged); the unit acknowledging a notice of an
    escalation case holds the ladder. None if the message is not the recipient's."""
    row = await session.get(InboxMessage, message_id)
    if row is None or row.recipient != recipient:
        return None
    now = ctx.clock()
    if row.read_at is None:
        row.read_at = now
    if acknowledge and row.acknowledged_at is None:
        row.acknowledged_at = now
        await _hold_ladder(session, row, now)
    return row


async def _hold_ladder(session: AsyncSession, message: InboxMessage, now: datetime) -> None:
    if message.notification_id is None:
        return
    notification = await session.get(Notification, message.notification_id)
    if notification is None or notification.case_key is None:
        return
    case = await session.get(EscalationCase, notification.case_key)
    recipient = await session.get(Recipient, message.recipient)
    if case is None or recipient is None or case.status != CaseStatus.OPEN.value:
        return
    if Role(recipient.role) in UNIT_ROLES and recipient.unit == case.unit:
        case.status = CaseStatus.ACKNOWLEDGED.value
        case.acknowledged_at = now
        case.acknowledged_by = recipient.code


# -------------------------------------------------------------------------------- the digest


async def cases_in_view(session: AsyncSession, recipient: Recipient) -> list[EscalationCase]:
    """The open cases a recipient's digest lists: its unit's for a unit mailbox, all of them for
    the office and leaders, and for anyone else those it was notified of."""
    role = Role(recipient.role)
    if role in UNIT_ROLES:
        return await repository.open_cases(session, unit=recipient.unit)
    if role in (Role.OFFICE, Role.LEADER):
        return await repository.open_cases(session)
    return await repository.open_cases_notified_to(session, recipient.code)


def digest_id(recipient: str, day: date) -> str:
    return fact_id("Digest", recipient, day.isoformat())


async def send_digest(session: AsyncSession, ctx: Context, recipient: Recipient, day: date) -> bool:
    """Today's digest for one recipient: the open overdue items in its view and the count of
    notifications held for it since the last one. False when there is nothing to say."""
    held = await repository.held_deliveries(session, recipient.code)
    cases = await cases_in_view(session, recipient)
    if not held and not cases:
        return False
    items = [
        OpenItem(
            unit_name=await repository.unit_name(session, case.unit),
            title=case.title,
            due_date=case.due_date,
            level=Level(case.level),
            working_days_overdue=max(0, ctx.calendar.working_days_between(case.due_date, day)),
        )
        for case in cases
    ]
    held_notifications = sorted({d.notification_id for d in held})
    key = digest_id(recipient.code, day)
    occurrence = Occurrence(
        notification_id=key,
        topic=Topic.DIGEST,
        unit=recipient.unit or OFFICE_UNIT,
        source_event_id=key,
        fields=digest_fields(day, items, len(held_notifications)),
        facts={
            "date": day.isoformat(),
            "open_cases": [case.key for case in cases],
            "held_notifications": held_notifications,
        },
    )
    now = ctx.clock()
    rendered = ctx.templates.render(Topic.DIGEST, occurrence.fields)
    if not await _store(session, occurrence, rendered, now):
        return False
    await deliver(session, occurrence, rendered, recipient, reachable(recipient), now)
    deliveries = repository.table(Delivery)
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.id.in_([d.id for d in held]))
        .values(status=DeliveryStatus.DIGESTED.value, digest_id=key, updated_at=now)
    )
    return True
