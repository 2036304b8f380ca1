"""Recording facts and recomputing the cards they change: coalesced per unit, from a periodic
job; every changed card is stored with its history and announced as ScoreUpdated."""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Envelope, fact_id, wrap
from contracts.scoring import ScoreUpdated, TypeScore
from services.runtime import tracing
from services.runtime.db import Database
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import local_date
from services.scoring.adapters import repository
from services.scoring.domain.facts import REFERENCE_KINDS, FactKind, to_facts
from services.scoring.domain.incremental import Memory
from services.scoring.domain.reference import Reference
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.scoring import (
    Context,
    Scorecard,
    compares_peers,
    context_for,
    score_all,
)
from services.scoring.handlers.rulebook import SOURCE, RuleBook

log = structlog.get_logger()
# The facts' trace contexts by unit: a recompute's span links to the facts that caused it.
CAUSES = tracing.Causes()


async def record(session: AsyncSession, batch: Sequence[Envelope[Any]], now: datetime) -> None:
    """Store the facts of a batch and mark the units whose cards they may change."""
    found = [fact for envelope in batch for fact in to_facts(envelope)]
    for envelope in batch:
        CAUSES.add(envelope.subject, envelope.traceparent)
    await repository.add_facts(session, found, now)
    units = {f.unit for f in found if f.kind not in REFERENCE_KINDS}
    if any(f.kind is FactKind.CATALOGUE for f in found):  # measure types may have changed
        units.update(await repository.scored_units(session))
    if any(f.kind is FactKind.PUBLIC_SERVICE for f in found):  # the peers' averages move
        units.update(await _peers(session, units))
    await repository.mark_dirty(session, units)


async def _peers(session: AsyncSession, units: set[str]) -> set[str]:
    reference = await repository.reference(session)
    groups = {info.peer_group for code, info in reference.units.items() if code in units}
    return {code for code, info in reference.units.items() if info.peer_group in groups}


async def load_context(
    session: AsyncSession,
    rubrics: Iterable[Rubric],
    reference: Reference,
    today: date | None,
    as_of: datetime | None = None,
    unit: str | None = None,
) -> Context:
    """The context of cards under `rubrics`; for one `unit`'s cards, only its peer group's 12345
    facts are read (its averages are all its cards use), and none when no rubric compares peers."""
    rubrics = list(rubrics)
    if not any(compares_peers(r) for r in rubrics):
        return context_for(rubrics, [], reference, today, as_of)
    units = None
    if unit is not None:
        info = reference.units.get(unit)
        group = info.peer_group if info else None
        units = [code for code, i in reference.units.items() if group and i.peer_group == group]
    public_service = await repository.facts_of_kind(session, FactKind.PUBLIC_SERVICE, units)
    return context_for(rubrics, public_service, reference, today, as_of)


def type_scores(card: Scorecard) -> list[TypeScore]:
    return [
        TypeScore(type=t.type, score=float(t.score), full_marks=float(t.full_marks))
        for t in card.types
    ]


def _score_updated(
    card: Scorecard,
    digest: str,
    revision: int,
    previous: tuple[str, int, Any] | None,
    reference: Reference,
    closed: set[str],
    now: datetime,
) -> Envelope[ScoreUpdated]:
    info = reference.units.get(card.unit)
    event = ScoreUpdated(
        unit=card.unit,
        unit_name=info.name_zh if info else None,
        peer_group=info.peer_group if info else None,
        period=card.period,
        period_kind=card.period_kind.value,
        total=None if card.total is None else float(card.total),
        previous_total=float(previous[2]) if previous and previous[2] is not None else None,
        types=type_scores(card),
        bonus=float(card.bonus),
        grade=card.grade,
        rubric_version=card.rubric_version,
        revision=revision,
        card_digest=digest,
        period_closed=card.period in closed,
        computed_at=now,
    )
    event_id = fact_id("ScoreUpdated", card.unit, card.period, revision, digest)
    return wrap(event, subject=card.unit, source=SOURCE, id=event_id, time=now)


def rubrics_in_force(book: RuleBook) -> dict[int, Rubric]:
    return {year: rubric for year in book.years if (rubric := book.in_force(year)) is not None}


@dataclass
class Recomputer:
    """The periodic job that turns dirty marks into fresh cards and ScoreUpdated events.

    However many events marked a unit, it is recomputed once per run and each changed card gives
    one ScoreUpdated. Under load a run waits at least `pace` times as long as the last one
    took, so recomputing never takes more than 1/(1+pace) of the process's time. `memory`
    keeps what the last scoring of each unit derived, so that only what new facts change is
    derived and counted again (None: derive everything, as a rebuild does once per unit)."""

    db: Database
    book: RuleBook
    clock: Callable[[], datetime]
    notify: Callable[[], None]
    units_per_run: int = 200
    pace: float = 1.0
    publish: bool = True
    memory: Memory | None = field(default_factory=Memory)
    _next_run: float = field(default=0.0, init=False)
    _day: date | None = field(default=None, init=False)

    async def __call__(self) -> None:
        if time.monotonic() < self._next_run:
            return
        started = time.monotonic()
        await self._new_day()
        await self.run_once()
        self._next_run = time.monotonic() + (time.monotonic() - started) * self.pace

    async def _new_day(self) -> None:
        """Open overdue items cost up to today: when the day changes every card is due again."""
        today = local_date(self.clock())
        if today != self._day:
            async with self.db.session() as session, session.begin():
                await repository.mark_dirty(session, await repository.scored_units(session))
            self._day = today

    async def run_once(self) -> tuple[int, int]:
        """Recompute the marked units (up to `units_per_run`); returns (units, cards changed)."""
        async with self.db.session() as session:
            marked = await repository.dirty(session, self.units_per_run)
            if not marked:
                return 0, 0
            await self.book.refresh(session)
            reference = await repository.reference(session)
            closed = await repository.closed_periods(session)
            rubrics = rubrics_in_force(self.book)
            today = local_date(self.clock())
            context = await load_context(session, rubrics.values(), reference, today)
        changed = 0
        if self.memory is not None:
            self.memory.next_run()
        for unit, marks in marked:
            async with self.db.session() as session, session.begin():
                if not await repository.claim(session, unit):
                    continue  # cleared meanwhile, or another replica has it now
                links = CAUSES.take(unit)
                with tracing.tracer.start_as_current_span("recompute scorecard", links=links):
                    changed += await self._unit(session, unit, rubrics, reference, closed, context)
                # The marks read before this run's reference data: a mark since (a catalogue, a
                # fact) keeps the unit marked for the next run.
                await repository.clear_dirty(session, unit, marks)
        if changed and self.publish:
            self.notify()
        return len(marked), changed

    async def _unit(
        self,
        session: AsyncSession,
        unit: str,
        rubrics: dict[int, Rubric],
        reference: Reference,
        closed: set[str],
        context: Context,
    ) -> int:
        stored = await repository.card_states(session, unit)
        now = self.clock()
        changed: list[tuple[Scorecard, str, str, int]] = []
        # The facts are not held past scoring: their memory is free for the cards' JSON.
        facts = repository.unit_facts(session, unit)
        for card in score_all(unit, await facts, rubrics, context, self.memory, reference):
            text, digest = card.json_and_digest()
            previous = stored.get(card.period)
            if previous is not None and previous[0] == digest:
                continue
            revision = previous[1] + 1 if previous else 1
            changed.append((card, text, digest, revision))
            if self.publish:
                event = _score_updated(card, digest, revision, previous, reference, closed, now)
                await add_to_outbox(session, event, subjects.event(ScoreUpdated.NAME, unit))
        await repository.save_cards(session, changed, now)
        return len(changed)
