"""Missed deadlines seen on the bus, kept so that findings can cite them as clues."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope
from contracts.measures import DeadlineMissed
from services.inspections.adapters import repository
from services.inspections.adapters.tables import MissedDeadline


async def record_missed_deadlines(
    session: AsyncSession, batch: list[Envelope[DeadlineMissed]]
) -> None:
    for envelope in batch:
        data = envelope.data
        await repository.add_missed_deadline(
            session,
            MissedDeadline(
                event_id=envelope.id,
                item_type=data.item_type.value,
                item_id=data.item_id,
                unit=data.unit,
                title=data.title,
                measure_code=data.measure_code,
                due_date=data.due_date,
                detected_at=data.detected_at,
            ),
        )
