"""Event handlers of the scoring service; each runs in the consumer's transaction, after the
runtime has filtered out messages it already processed."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope, utcnow
from contracts.measures import ProgressReported
from services.scoring.adapters.tables import ProgressFact


async def record_progress(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
    now = utcnow()
    for envelope in batch:
        data = envelope.data
        session.add(
            ProgressFact(
                event_id=envelope.id,
                unit=data.unit,
                measure_code=data.measure_code,
                report_id=data.report_id,
                percent_complete=data.percent_complete,
                reported_at=data.reported_at,
                recorded_at=now,
            )
        )
