"""Bus subscriptions of the scoring service: one durable consumer per message it scores (the
table in domain/facts.py), all recording facts the same way."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import Envelope, Message
from contracts.measures import ProgressReported
from services.runtime.bus import Bus
from services.scoring.domain.facts import NORMALISERS
from services.scoring.handlers import recompute


def durable(model: type[Message]) -> str:
    if model is ProgressReported:
        return "scoring-progress"  # the foundation's name, kept so its consumer state carries on
    return "scoring-" + subjects.token(model.NAME).replace("_", "-")


DURABLES = tuple(durable(model) for model in NORMALISERS)


def register(bus: Bus, clock: Callable[[], datetime]) -> None:
    async def on_batch(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        await recompute.record(session, batch, clock())

    for model in NORMALISERS:
        bus.consume(model, subjects.event(model.NAME), streams.EVENTS, durable(model), on_batch)
