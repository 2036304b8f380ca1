"""What every handler of the notifications service shares: the context it reads besides the
database, and the shape of a batch handler."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Envelope
from services.notifications.domain.bulletin import Cadence
from services.notifications.domain.escalation import LadderPolicy
from services.notifications.domain.items import ItemKinds
from services.notifications.domain.templates import Templates
from services.notifications.domain.topics import DEFAULT_ROUTINE, Occurrence, Topic
from services.runtime.workdays import WorkingCalendar

SOURCE = "fivetype/notifications"
OFFICE_UNIT = "office"  # digests for recipients outside any unit come from the office
Clock = Callable[[], datetime]
Mapper = Callable[[Envelope[Any], str], Occurrence]
BatchHandler = Callable[[AsyncSession, list[Envelope[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Context:
    """What handlers read besides the database."""

    templates: Templates
    items: ItemKinds
    clock: Clock
    calendar: WorkingCalendar
    policy: LadderPolicy
    cadence: Cadence = Cadence.WEEKLY
    routine: frozenset[Topic] = DEFAULT_ROUTINE  # held for a digest, on every channel


def both(*handlers: BatchHandler) -> BatchHandler:
    async def handle(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for handler in handlers:
            await handler(session, batch)

    return handle
