"""Catching up after a restore.

A durable consumer acknowledges a message once the store has committed its effects, and never
delivers it again. A store brought back from a backup, or rolled back to a point in time, has
lost the effects of what was acknowledged since: without more, the service would silently miss
those messages (scores short, deadlines never escalated). So each consumer keeps its position in
its own store (`messaging.positions`): the highest stream sequence it has processed, advanced in
the same transaction as the work, and the consumer's ack floor as last sampled, below which the
store holds everything.

At start, before it resumes, a consumer compares its store with its durable consumer. The store
is behind when `fivetype restore` marked it so (`behind_since`), when its position is below what
the durable consumer has acknowledged (a rollback by other means, e.g. PostgreSQL point-in-time
recovery), or when it holds nothing of a consumer that has delivered messages (a store lost
and started empty). It then replays the gap, from its floor to the last sequence the durable
consumer had delivered, through a consumer of its own (`Durable.catch_up`) and the same handler
and inbox as live messages: what the store already holds is a duplicate and changes nothing.

The mark is written before the replay and cleared after it, so a catch-up cut short by a crash
starts again from the same floor; the floor is not sampled while a store is behind.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db import Database
from services.runtime.messaging import positions, processed


@dataclass(frozen=True)
class Gap:
    after: int  # the replay starts at the sequence after this one (the store's floor)
    through: int  # the last sequence the durable consumer had delivered
    acknowledged: int  # the durable consumer's ack floor
    processed: int  # the store's position
    reason: str


async def find_gap(js: JetStreamContext, db: Database, stream: str, durable: str) -> Gap | None:
    """Whether the store is behind `durable`, and from where to where to replay; a gap found is
    marked in the store (`behind_since`) before this returns."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return None  # created on first start: it delivers from the stream's first message
    delivered = (info.delivered.stream_seq if info.delivered else 0) or 0
    floor = (info.ack_floor.stream_seq if info.ack_floor else 0) or 0
    now = datetime.now(UTC)
    async with db.session() as session, session.begin():
        row = (
            await session.execute(sa.select(positions).where(positions.c.consumer == durable))
        ).first()
        if row is None:
            if delivered == 0:
                return None
            if await _has_processed(session, durable):
                # The store predates positions (an upgrade): it was trusted to be where its
                # consumer is, as before; from now on it keeps its own position.
                await session.execute(
                    positions.insert().values(
                        consumer=durable, processed_seq=floor, floor_seq=floor, updated_at=now
                    )
                )
                return None
            await session.execute(
                positions.insert().values(
                    consumer=durable, processed_seq=0, floor_seq=0, behind_since=now, updated_at=now
                )
            )
            return Gap(0, delivered, floor, 0, "the store holds nothing of this consumer")
        start = min(row.floor_seq, row.processed_seq)
        if row.behind_since is not None:
            return Gap(start, delivered, floor, row.processed_seq, "the store was restored")
        if row.processed_seq >= floor:
            return None
        await session.execute(
            positions.update().where(positions.c.consumer == durable).values(behind_since=now)
        )
        return Gap(
            start, delivered, floor, row.processed_seq, "the store is behind what was acknowledged"
        )


async def _has_processed(session: AsyncSession, durable: str) -> bool:
    found = await session.scalar(
        sa.select(processed.c.message_id).where(processed.c.consumer == durable).limit(1)
    )
    return found is not None


async def caught_up(db: Database, durable: str) -> None:
    """The replay is over: the store holds what the durable consumer had acknowledged."""
    async with db.session() as session, session.begin():
        await session.execute(
            positions.update().where(positions.c.consumer == durable).values(behind_since=None)
        )


async def record_floors(db: Database, floors: dict[str, int]) -> None:
    """The durable consumers' ack floors, as just read from the server: everything at or below
    one was committed before it was acknowledged, so a later replay may start there. Never for
    a store marked behind (its floor must stay where its contents are)."""
    if not floors:
        return
    async with db.session() as session, session.begin():
        for durable, floor in floors.items():
            await session.execute(
                positions.update()
                .where(positions.c.consumer == durable, positions.c.behind_since.is_(None))
                .values(floor_seq=floor)
            )
