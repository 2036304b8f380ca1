"""The unit replica: names and peer groups from UnitRegistered, and each unit's mailboxes."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope
from contracts.measures import UnitRegistered
from services.notifications.adapters import repository
from services.notifications.adapters.tables import Unit
from services.notifications.handlers.common import Context


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
