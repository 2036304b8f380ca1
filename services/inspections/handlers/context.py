"""What every handler reads besides the database, and how it stages events and journals."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Message, wrap
from services.inspections.adapters.tables import JournalEntry
from services.inspections.domain.actors import Actor
from services.inspections.domain.rectification import RectificationRules, load_rules
from services.inspections.domain.reference import ReferenceData
from services.runtime.clock import Clock
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import WorkingCalendar, load_calendar

SOURCE = "fivetype/inspections"


@dataclass(frozen=True)
class Context:
    reference: ReferenceData
    clock: Clock
    clock_skew: timedelta
    suggestion_answer_days: int
    # Channels report steps with some delay: a request is reported overdue only once it has
    # been open this long past its limit, so a closure reported a little late raises no alarm.
    request_report_lag: timedelta = timedelta(hours=1)
    # The office's time limits of the rectification loop, counted in working days.
    rules: RectificationRules = field(default_factory=load_rules)
    calendar: WorkingCalendar = field(default_factory=load_calendar)


@dataclass(frozen=True)
class JournalActor:
    """Who a journal entry names: a request's actor, or the service itself."""

    role: str
    id: str
    name: str
    unit: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> "JournalActor":
        return cls(actor.role.value, actor.id, actor.name, actor.unit)


DEADLINE_WATCHER = JournalActor("system", "deadline-watcher", "逾期监测")


async def emit(session: AsyncSession, data: Message, unit: str, event_id: str, at: datetime) -> str:
    """Stage `data` for the bus in the caller's transaction; returns the event id."""
    envelope = wrap(data, subject=unit, source=SOURCE, id=event_id, time=at)
    await add_to_outbox(session, envelope, subjects.event(data.NAME, unit))
    return event_id


@dataclass(frozen=True)
class Change:
    """One journal entry: what happened to which item, from which state to which."""

    entity_type: str
    entity_id: str
    unit: str | None
    action: str
    from_state: str | None = None
    to_state: str | None = None


async def journal(
    session: AsyncSession,
    change: Change,
    actor: JournalActor,
    at: datetime,
    details: dict[str, Any],
    event_id: str | None = None,
) -> None:
    session.add(
        JournalEntry(
            entity_type=change.entity_type,
            entity_id=change.entity_id,
            unit=change.unit,
            action=change.action,
            from_state=change.from_state,
            to_state=change.to_state,
            actor_role=actor.role,
            actor_id=actor.id,
            actor_name=actor.name,
            actor_unit=actor.unit,
            at=at,
            details=details,
            event_id=event_id,
        )
    )
