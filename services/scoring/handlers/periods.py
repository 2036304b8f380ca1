"""Closing a period: the rankings of every peer group as of the close, published once per
revision, and restored as published on a replay."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import Envelope, fact_id, wrap
from contracts.scoring import RankingEntry, RankingPublished
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import local_date
from services.scoring.adapters import repository
from services.scoring.domain.facts import Fact
from services.scoring.domain.periods import Period
from services.scoring.domain.ranking import rank_cards
from services.scoring.domain.reference import Reference, reference_from
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.scoring import Scorecard, score
from services.scoring.handlers.recompute import load_context, type_scores
from services.scoring.handlers.rulebook import SOURCE, RuleBook

log = structlog.get_logger()


class PeriodNotEnded(Exception):
    pass


class AlreadyClosed(Exception):
    def __init__(self, revision: int):
        super().__init__(f"already closed (revision {revision})")
        self.revision = revision


class NoRubric(Exception):
    pass


class UnknownUnit(Exception):
    pass


class NoPeerGroups(Exception):
    """No unit registered in a peer group: there is nothing to rank."""


@dataclass(frozen=True)
class Closure:
    period: Period
    revision: int
    as_of: datetime
    rubric: Rubric
    closed_by: str
    note: str


def rankings(
    cards: dict[str, Scorecard], reference: Reference, closure: Closure
) -> list[RankingPublished]:
    """One RankingPublished per peer group, from the cards as of the closure."""
    published = []
    for group, (name_zh, name_en) in sorted(reference.peer_groups.items()):
        members = [u for u in reference.ranked_units(group) if u.code in cards]
        names = {u.code: u.name_zh for u in members}
        ranked, unscored = rank_cards({u.code: cards[u.code] for u in members}, closure.rubric)
        entries = [
            RankingEntry(
                rank=r.rank,
                unit=r.unit,
                unit_name=names[r.unit],
                total=float(r.total),
                types=type_scores(cards[r.unit]),
                tied=r.tied,
                honour=r.honour,
                grade=r.grade,
            )
            for r in ranked
        ]
        published.append(
            RankingPublished(
                period=closure.period.label,
                period_kind=closure.period.kind.value,
                revision=closure.revision,
                peer_group=group,
                peer_group_name_zh=name_zh,
                peer_group_name_en=name_en,
                rubric_version=closure.rubric.version,
                as_of=closure.as_of,
                closed_at=closure.as_of,
                closed_by=closure.closed_by,
                note=closure.note,
                entries=entries,
                red_list=[e.unit for e in entries if e.honour == "red"],
                black_list=[e.unit for e in entries if e.honour == "black"],
                unscored=unscored,
            )
        )
    return published


async def cards_as_of(
    session: AsyncSession,
    units: Sequence[str],
    rubric: Rubric,
    period: Period,
    as_of: datetime,
    reference_facts: list[Fact],
) -> dict[str, Scorecard]:
    reference = reference_from(reference_facts)
    context = await load_context(session, [rubric], reference, local_date(as_of), as_of)
    cards = {}
    for unit in units:
        facts = await repository.unit_facts(session, unit)
        cards[unit] = score(unit, [*facts, *reference_facts], rubric, period, as_of, context)
    return cards


async def close_period(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    *,
    closed_by: str,
    note: str,
    revise: bool,
    now: datetime,
    office: str,
) -> list[RankingPublished]:
    """Publish the period's rankings as of `now`. Events that reach scoring later never change
    what was published; the office may publish a revision (`revise`) to take them in."""
    if period.end > now:
        raise PeriodNotEnded(f"{period} ends at {period.end.isoformat()}")
    await book.refresh(session)
    rubric = book.in_force(period.year)
    if rubric is None:
        raise NoRubric(f"no rubric for programme year {period.year}")
    previous = await repository.closures_of(session, period.label)
    if previous and not revise:
        raise AlreadyClosed(previous[-1].revision)
    closure = Closure(
        period, previous[-1].revision + 1 if previous else 1, now, rubric, closed_by, note
    )
    reference_facts = await repository.reference_facts(session)
    reference = reference_from(reference_facts)
    units = [u.code for group in reference.peer_groups for u in reference.ranked_units(group)]
    if not units:
        raise NoPeerGroups("no unit is registered in a peer group yet")
    cards = await cards_as_of(session, units, rubric, period, now, reference_facts)
    published = rankings(cards, reference, closure)
    await repository.add_closure(
        session,
        period=period.label,
        revision=closure.revision,
        as_of=now,
        rubric_version=rubric.version,
        closed_by=closed_by,
        note=note,
        closed_at=now,
    )
    for ranking in published:
        event = wrap(
            ranking,
            subject=office,
            source=SOURCE,
            id=fact_id("RankingPublished", period.label, closure.revision, ranking.peer_group),
            time=now,
        )
        await restore_ranking(session, event)
        await add_to_outbox(session, event, subjects.event(RankingPublished.NAME, office))
    return published


async def restore_ranking(session: AsyncSession, event: Envelope[RankingPublished]) -> None:
    """Keep a published ranking (and its closure) as published: at the close, or on a replay."""
    ranking = event.data
    await repository.add_closure(
        session,
        period=ranking.period,
        revision=ranking.revision,
        as_of=ranking.as_of,
        rubric_version=ranking.rubric_version,
        closed_by=ranking.closed_by,
        note=ranking.note,
        closed_at=ranking.closed_at,
    )
    await repository.add_published_ranking(
        session,
        period=ranking.period,
        revision=ranking.revision,
        peer_group=ranking.peer_group,
        event_id=event.id,
        ranking=ranking.model_dump(mode="json"),
    )
