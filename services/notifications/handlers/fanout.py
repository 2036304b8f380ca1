"""Fan-out: a notification stored once, routed by the rules and delivered to each recipient on
the channels it can be reached on (the inbox at once; email and webhook queued or held)."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope, fact_id
from services.notifications.adapters import repository
from services.notifications.adapters.channels import delivery_target, reachable
from services.notifications.adapters.tables import (
    Delivery,
    DeliveryAttempt,
    InboxMessage,
    Notification,
    Recipient,
)
from services.notifications.domain.delivery import DeliveryStatus, Outcome
from services.notifications.domain.routing import Channel, route
from services.notifications.domain.templates import Rendered
from services.notifications.domain.topics import SENT_AT_ONCE, Occurrence, Topic
from services.notifications.handlers.common import BatchHandler, Context, Mapper


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
    if not await store(session, occurrence, rendered, now):
        return []
    recipients = await plan(session, occurrence, now)
    for code in sorted(recipients):
        recipient, channels = recipients[code]
        await deliver(session, occurrence, rendered, recipient, channels, now, ctx.routine)
    return sorted(recipients)


async def store(
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
    routine: frozenset[Topic],
) -> None:
    """For a recipient who prefers a digest, a routine topic is held for it on every channel,
    the inbox too, and any other topic that is not urgent is held on email and webhook. Else the
    inbox is written at once, and email and webhook are queued for the dispatcher."""
    held_everywhere = recipient.digest and occurrence.topic in routine
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
        if held_everywhere or (hold and channel is not Channel.INBOX):
            await repository.insert_ignore(
                session, Delivery, values | {"status": DeliveryStatus.HELD.value}
            )
        elif channel is Channel.INBOX:
            await _to_inbox(session, occurrence, rendered, recipient.code, values, now)
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
