"""Event handlers of the notifications service; each runs in the consumer's transaction, after
the runtime has filtered out messages it already processed."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope, utcnow
from contracts.measures import ProgressReported
from services.notifications.adapters.tables import InboxMessage
from services.notifications.domain import templates

OFFICE = "office"  # the city Five-Type Office (市“五型”办)


async def notify_progress(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
    now = utcnow()
    for envelope in batch:
        rendered = templates.progress_reported(envelope.data)
        session.add(
            InboxMessage(
                recipient=OFFICE,
                event_id=envelope.id,
                kind=rendered.kind,
                unit=envelope.subject,
                title_zh=rendered.title_zh,
                title_en=rendered.title_en,
                body_zh=rendered.body_zh,
                body_en=rendered.body_en,
                created_at=now,
            )
        )
