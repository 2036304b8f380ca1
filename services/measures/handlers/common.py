"""What every handler of the measures service uses: its context, the outbox and the journal."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Message, wrap
from services.measures.adapters.reference import ReferenceStore
from services.measures.adapters.tables import JournalEntry
from services.runtime.messaging import add_to_outbox

SOURCE = "fivetype/measures"
OFFICE = "office"  # subject of events about the whole programme


@dataclass(frozen=True)
class Context:
    """What handlers read besides the database."""

    store: ReferenceStore
    clock: Callable[[], datetime]
    clock_skew: timedelta
    reminder_offsets: tuple[int, ...]


async def publish(
    session: AsyncSession, data: Message, *, unit: str, event_id: str, time: datetime
) -> None:
    """Stage an event in the caller's transaction; its id makes a re-derived fact collapse."""
    envelope = wrap(data, subject=unit, source=SOURCE, id=event_id, time=time)
    await add_to_outbox(session, envelope, subjects.event(data.NAME, unit))


def journal(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: tuple[str, str],
    unit: str | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Record who changed what, when and why, in the transaction that made the change."""
    entity_type, entity_id = entity
    session.add(
        JournalEntry(
            at=at,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            unit=unit,
            reason=reason,
            details=details or {},
        )
    )
