"""Recording the office's verdicts (一票否决, 降等). The fact is stored in the same transaction as
the VerdictRecorded event in the outbox, so the card changes at the next recompute and a repeat of
the same `verdict_id` is recognised at once; the consumer's later copy of the fact collapses into
it (same event id)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import fact_id, wrap
from contracts.scoring import VerdictRecorded
from services.runtime.messaging import add_to_outbox
from services.scoring.adapters import repository
from services.scoring.domain.facts import FactKind, to_facts
from services.scoring.domain.rubric import EarnedRubric
from services.scoring.domain.workflow import Explained
from services.scoring.handlers.periods import NoRubric, UnknownUnit
from services.scoring.handlers.rulebook import SOURCE, RuleBook


class NoGrades(Explained):
    """The rubric in force for the period's year has no 等次 to veto or lower."""


class VerdictConflict(Explained):
    """The verdict id (its detail) is taken by a different verdict."""


async def record(
    session: AsyncSession, book: RuleBook, verdict: VerdictRecorded, now: datetime
) -> VerdictRecorded:
    reference = await repository.reference(session)
    info = reference.units.get(verdict.unit)
    if info is None or info.is_office:
        raise UnknownUnit(verdict.unit)
    await book.refresh(session)
    year = int(verdict.period[:4])
    rubric = book.in_force(year)
    if rubric is None:
        raise NoRubric.of_year(year)
    if not isinstance(rubric, EarnedRubric):
        raise NoGrades(
            f"考核评分细则 {rubric.version} 未设等次", f"rubric {rubric.version} has no grades"
        )
    event_id = fact_id(VerdictRecorded.NAME, verdict.verdict_id)
    for fact in await repository.unit_facts(session, verdict.unit, FactKind.VERDICT):
        if fact.event_id == event_id:
            stored = VerdictRecorded.model_validate(
                {**fact.data, "unit": fact.unit, "recorded_at": fact.known_at}
            )
            if stored.model_dump(exclude={"recorded_at"}) != verdict.model_dump(
                exclude={"recorded_at"}
            ):
                raise VerdictConflict(verdict.verdict_id)
            return stored
    envelope = wrap(verdict, subject=verdict.unit, source=SOURCE, id=event_id, time=now)
    await repository.add_facts(session, to_facts(envelope), now)
    await repository.mark_dirty(session, [verdict.unit])
    await add_to_outbox(session, envelope, subjects.event(VerdictRecorded.NAME, verdict.unit))
    return verdict
