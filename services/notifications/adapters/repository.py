"""Queries and idempotent writes over the notifications service's tables."""

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from services.notifications.adapters.tables import (
    Delivery,
    EscalationCase,
    ItemClosure,
    Notification,
    Recipient,
    RoutingRule,
    Unit,
)
from services.notifications.domain.delivery import DeliveryStatus
from services.notifications.domain.escalation import CaseStatus
from services.notifications.domain.routing import (
    ALL_UNITS,
    ROLE_TARGETS,
    Role,
    Rule,
    RuleSpec,
    named_recipient,
    unit_mailbox,
)
from services.notifications.domain.topics import Topic
from services.runtime.db import conflict_insert

ROLE_NAMES = {Role.CONTACT: ("联络员", "contact"), Role.HEAD: ("主要负责人", "head")}


def table(model: type[SQLModel]) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


def _insert_ignore(session: AsyncSession, model: type[SQLModel], values: dict[str, Any]) -> Any:
    return conflict_insert(session, table(model)).values(**values).on_conflict_do_nothing()


async def insert_ignore(
    session: AsyncSession, model: type[SQLModel], values: dict[str, Any]
) -> bool:
    """Insert a row unless its key exists (ON CONFLICT DO NOTHING); True if it was inserted.
    Deterministic keys make every write of a redelivered or replayed fact collapse here."""
    # RETURNING tells inserted from ignored on every driver (psycopg reports rowcount -1).
    statement = _insert_ignore(session, model, values).returning(sa.literal(1))
    return (await session.execute(statement)).first() is not None


async def insert_ignore_id(
    session: AsyncSession, model: type[SQLModel], values: dict[str, Any]
) -> int | None:
    """`insert_ignore` for a table with an integer id: the new row's id, or None."""
    statement = _insert_ignore(session, model, values).returning(table(model).c.id)
    new_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return new_id


# ------------------------------------------------------------------------------------ units


async def unit_of(session: AsyncSession, code: str) -> Unit | None:
    return await session.get(Unit, code)


async def unit_name(session: AsyncSession, code: str) -> str:
    unit = await unit_of(session, code)
    return unit.name_zh if unit is not None else code


async def units(session: AsyncSession) -> list[Unit]:
    return list((await session.execute(select(Unit).order_by(col(Unit.code)))).scalars())


async def peer_groups(session: AsyncSession) -> set[str]:
    found = await session.execute(
        select(Unit.peer_group).where(col(Unit.peer_group).is_not(None)).distinct()
    )
    return {g for g in found.scalars() if g is not None}


# ------------------------------------------------------------------------------- recipients


async def ensure_unit_mailboxes(session: AsyncSession, unit: str, name: str, now: datetime) -> None:
    """Every unit has a contact and a head mailbox (inbox only until someone adds addresses)."""
    for role, (zh, _en) in ROLE_NAMES.items():
        await insert_ignore(
            session,
            Recipient,
            {
                "code": unit_mailbox(unit, role),
                "role": role.value,
                "unit": unit,
                "name": f"{name}{zh}",
                "language": "zh",
                "emails": [],
                "webhook_url": None,
                "webhook_secret": None,
                "digest": False,
                "active": True,
                "created_at": now,
                "updated_at": now,
            },
        )


async def recipients_for(
    session: AsyncSession, targets: Iterable[str], unit: str, now: datetime
) -> dict[str, list[Recipient]]:
    """The active recipients each target stands for, for a notification about `unit`."""
    found: dict[str, list[Recipient]] = {}
    for target in targets:
        role = ROLE_TARGETS.get(target)
        rows: list[Recipient | None]
        if target == ALL_UNITS:
            query = select(Recipient).where(Recipient.role == Role.CONTACT.value)
            rows = list((await session.execute(query.order_by(col(Recipient.code)))).scalars())
        elif role in (Role.CONTACT, Role.HEAD):
            await ensure_unit_mailboxes(session, unit, await unit_name(session, unit), now)
            rows = [await session.get(Recipient, unit_mailbox(unit, role))]
        elif role is not None:
            rows = list(
                (await session.execute(select(Recipient).where(Recipient.role == role.value)))
                .scalars()
                .all()
            )
        else:
            code = named_recipient(target)
            rows = [await session.get(Recipient, code)] if code else []
        found[target] = [r for r in rows if r is not None and r.active]
    return found


async def recipients(
    session: AsyncSession, role: str | None, unit: str | None, limit: int, offset: int
) -> list[Recipient]:
    query = select(Recipient)
    if role is not None:
        query = query.where(Recipient.role == role)
    if unit is not None:
        query = query.where(Recipient.unit == unit)
    query = query.order_by(col(Recipient.code)).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())


async def digest_recipients(session: AsyncSession) -> list[Recipient]:
    query = select(Recipient).where(
        col(Recipient.digest).is_(True), col(Recipient.active).is_(True)
    )
    return list((await session.execute(query.order_by(col(Recipient.code)))).scalars())


async def rules_naming(session: AsyncSession, code: str) -> list[str]:
    """Ids of the rules that name recipient `code` as a target."""
    target = f"recipient:{code}"
    return [rule.id for rule in await all_rules(session) if target in rule.targets]


# ------------------------------------------------------------------------------------ rules


def rule_of(row: RoutingRule) -> Rule:
    spec = RuleSpec.model_validate(
        {
            "description": row.description,
            "topic": row.topic,
            "unit": row.unit,
            "peer_group": row.peer_group,
            "min_severity": row.min_severity,
            "item_types": row.item_types,
            "targets": row.targets,
            "channels": row.channels,
            "enabled": row.enabled,
        }
    )
    return Rule(row.id, spec)


async def all_rules(session: AsyncSession) -> list[RoutingRule]:
    return list(
        (await session.execute(select(RoutingRule).order_by(col(RoutingRule.id)))).scalars()
    )


async def rules_for_topic(session: AsyncSession, topic: str) -> list[Rule]:
    rows = await session.execute(
        select(RoutingRule).where(RoutingRule.topic == topic, col(RoutingRule.enabled).is_(True))
    )
    return [rule_of(row) for row in rows.scalars()]


# ---------------------------------------------------------------------------- deliveries


async def held_deliveries(session: AsyncSession, recipient: str) -> list[Delivery]:
    query = select(Delivery).where(
        Delivery.recipient == recipient, Delivery.status == DeliveryStatus.HELD.value
    )
    return list((await session.execute(query)).scalars())


async def due_delivery_ids(
    session: AsyncSession, now: datetime, limit: int, exclude: Collection[int] = ()
) -> list[int]:
    """Pending deliveries whose time has come and that no worker holds (nor `exclude`, those
    this worker is sending); locked on PostgreSQL so that replicas take disjoint rows."""
    query = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING.value,
            col(Delivery.next_attempt_at) <= now,
            sa.or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
            col(Delivery.id).not_in(list(exclude)),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [i for i in (await session.execute(query)).scalars() if i is not None]


async def deliveries(
    session: AsyncSession,
    *,
    recipient: str | None,
    channel: str | None,
    status: str | None,
    notification: str | None,
    limit: int,
    offset: int,
) -> list[Delivery]:
    query = select(Delivery)
    for column, value in (
        (Delivery.recipient, recipient),
        (Delivery.channel, channel),
        (Delivery.status, status),
        (Delivery.notification_id, notification),
    ):
        if value is not None:
            query = query.where(column == value)
    query = query.order_by(col(Delivery.id).desc()).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())


# ------------------------------------------------------------------------------ escalation


async def closing_fact(
    session: AsyncSession, ref_type: str, ref: str, unit: str
) -> Sequence[ItemClosure]:
    query = select(ItemClosure).where(
        ItemClosure.ref_type == ref_type, ItemClosure.ref == ref, ItemClosure.unit == unit
    )
    return (await session.execute(query)).scalars().all()


async def live_cases_of(
    session: AsyncSession, ref_type: str, ref: str, unit: str
) -> list[EscalationCase]:
    query = select(EscalationCase).where(
        EscalationCase.ref_type == ref_type,
        EscalationCase.ref == ref,
        EscalationCase.unit == unit,
        EscalationCase.status == CaseStatus.OPEN.value,
    )
    return list((await session.execute(query)).scalars())


async def closures_undone(
    session: AsyncSession, unit: str, event_id: str | None, ref: tuple[str, str] | None
) -> list[str]:
    """Delete the closures recorded from `event_id`, or of item `ref`; their event ids."""
    closures = table(ItemClosure)
    where = [closures.c.unit == unit]
    if event_id is not None:
        where.append(closures.c.event_id == event_id)
    if ref is not None:
        where += [closures.c.ref_type == ref[0], closures.c.ref == ref[1]]
    result = await session.execute(sa.delete(closures).where(*where).returning(closures.c.event_id))
    return list(result.scalars())


async def cases_closed_by(session: AsyncSession, event_ids: list[str]) -> list[EscalationCase]:
    if not event_ids:
        return []
    query = select(EscalationCase).where(
        EscalationCase.status == CaseStatus.CLOSED.value,
        col(EscalationCase.closed_by).in_(event_ids),
    )
    return list((await session.execute(query)).scalars())


async def cases_overdue_by(
    session: AsyncSession, end: date, closed_after: datetime, unit: str | None = None
) -> list[EscalationCase]:
    """Cases due before `end` that were open at `closed_after` (still open, or closed later):
    the candidates of a bulletin whose period ends on `end`."""
    query = select(EscalationCase).where(
        col(EscalationCase.due_date) < end,
        sa.or_(
            col(EscalationCase.status) == CaseStatus.OPEN.value,
            col(EscalationCase.closed_at) >= closed_after,
        ),
    )
    if unit is not None:
        query = query.where(EscalationCase.unit == unit)
    return list((await session.execute(query)).scalars())


async def open_cases(session: AsyncSession, unit: str | None = None) -> list[EscalationCase]:
    query = select(EscalationCase).where(EscalationCase.status == CaseStatus.OPEN.value)
    if unit is not None:
        query = query.where(EscalationCase.unit == unit)
    return list((await session.execute(query.order_by(col(EscalationCase.due_date)))).scalars())


async def open_cases_notified_to(session: AsyncSession, recipient: str) -> list[EscalationCase]:
    notified = (
        select(Notification.case_key)
        .join(Delivery, col(Delivery.notification_id) == col(Notification.id))
        .where(Delivery.recipient == recipient, col(Notification.case_key).is_not(None))
    )
    query = select(EscalationCase).where(
        EscalationCase.status == CaseStatus.OPEN.value, col(EscalationCase.key).in_(notified)
    )
    return list((await session.execute(query.order_by(col(EscalationCase.due_date)))).scalars())


async def cases(
    session: AsyncSession,
    *,
    unit: str | None,
    status: str | None,
    level: int | None,
    limit: int,
    offset: int,
) -> list[EscalationCase]:
    query = select(EscalationCase)
    if unit is not None:
        query = query.where(EscalationCase.unit == unit)
    if status is not None:
        query = query.where(EscalationCase.status == status)
    if level is not None:
        query = query.where(EscalationCase.level == level)
    query = query.order_by(col(EscalationCase.opened_at).desc(), col(EscalationCase.key))
    return list((await session.execute(query.limit(limit).offset(offset))).scalars())


async def climb(
    session: AsyncSession, key: str, from_level: int, to_level: int, today: date
) -> bool:
    """Move an open case up one level, unless another worker did it first."""
    column = {2: "supervision_on"}[to_level]
    cases = table(EscalationCase)
    result = await session.execute(
        sa.update(cases)
        .where(
            cases.c.key == key,
            cases.c.level == from_level,
            cases.c.status == CaseStatus.OPEN.value,
        )
        .values(level=to_level, level_on=today, **{column: today})
        .returning(cases.c.key)
    )
    return result.first() is not None


async def mark_sign_reminded(session: AsyncSession, key: str, today: date) -> bool:
    """Record the reminder to sign, unless another worker did it first."""
    cases = table(EscalationCase)
    result = await session.execute(
        sa.update(cases)
        .where(cases.c.key == key, cases.c.sign_reminded_on.is_(None))
        .values(sign_reminded_on=today)
        .returning(cases.c.key)
    )
    return result.first() is not None


async def topics_of(session: AsyncSession, ids: Iterable[str]) -> list[Topic]:
    """The topic of each notification named (one entry per notification found)."""
    wanted = list(ids)
    if not wanted:
        return []
    found = await session.execute(
        select(Notification.topic).where(col(Notification.id).in_(wanted))
    )
    return [Topic(topic) for topic in found.scalars()]


async def facts_of_notification(session: AsyncSession, notification: str) -> dict[str, Any] | None:
    """What the notification `notification` was about, as it was sent; None if it was not."""
    row = await session.get(Notification, notification)
    return row.facts if row is not None else None


async def notifications_exist(session: AsyncSession, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    if not wanted:
        return set()
    found = await session.execute(select(Notification.id).where(col(Notification.id).in_(wanted)))
    return set(found.scalars())
