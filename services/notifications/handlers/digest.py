"""The daily digest: what is open and overdue in a recipient's view, and what was held for it."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from services.notifications.adapters import repository
from services.notifications.adapters.channels import reachable
from services.notifications.adapters.tables import Delivery, EscalationCase, Recipient
from services.notifications.domain.delivery import DeliveryStatus
from services.notifications.domain.digest import OpenItem, digest_fields
from services.notifications.domain.escalation import Level
from services.notifications.domain.routing import UNIT_ROLES, Role
from services.notifications.domain.topics import Occurrence, Topic
from services.notifications.handlers.common import OFFICE_UNIT, Context
from services.notifications.handlers.fanout import deliver, store


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
    """Today's digest for one recipient: the open overdue items in its view, and the routine
    notifications held for it since the last one, counted by kind. False when there is nothing
    to say."""
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
        fields=digest_fields(day, items, await repository.topics_of(session, held_notifications)),
        facts={
            "date": day.isoformat(),
            "open_cases": [case.key for case in cases],
            "held_notifications": held_notifications,
        },
    )
    now = ctx.clock()
    rendered = ctx.templates.render(Topic.DIGEST, occurrence.fields)
    if not await store(session, occurrence, rendered, now):
        return False
    await deliver(session, occurrence, rendered, recipient, reachable(recipient), now, ctx.routine)
    deliveries = repository.table(Delivery)
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.id.in_([d.id for d in held]))
        .values(status=DeliveryStatus.DIGESTED.value, digest_id=key, updated_at=now)
    )
    return True
