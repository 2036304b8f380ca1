"""What the query API answers: cards with their publication status, rankings, histories. Reads
stored cards where they answer the question and computes from facts where they cannot (as of a
past date, under another rubric version, or a card not computed yet)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.scoring import RankingPublished
from services.runtime.workdays import local_date
from services.scoring.adapters import repository
from services.scoring.domain.cards import Scorecard, TypeScore
from services.scoring.domain.facts import Fact
from services.scoring.domain.periods import Period, PeriodKind
from services.scoring.domain.ranking import rank_cards
from services.scoring.domain.reference import Reference, reference_from
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.scoring import Context, score
from services.scoring.handlers.periods import NoRubric, UnknownUnit
from services.scoring.handlers.recompute import load_context
from services.scoring.handlers.rulebook import RuleBook


class UnknownRubricVersion(Exception):
    pass


class UnknownRevision(Exception):
    pass


class Publication(BaseModel):
    """The period as the office published it. `rank` and `total` are the published ranking's
    (the record); `card` is the unit's card from the facts known at `as_of`, which explains them."""

    revision: int
    as_of: datetime
    rubric_version: str
    closed_by: str
    closed_at: datetime
    peer_group: str | None
    rank: int | None
    total: Decimal | None
    card: Scorecard


class CardView(BaseModel):
    unit: str
    unit_name: str | None
    peer_group: str | None
    period: str
    status: Literal["open", "closed"]
    computed_on_request: bool
    revision: int | None
    updated_at: datetime | None
    card: Scorecard
    published: Publication | None
    changed_since_publication: bool
    late_events: list[str]


class HistoryPoint(BaseModel):
    period: str
    period_kind: PeriodKind
    total: Decimal | None
    rubric_version: str
    revision: int
    updated_at: datetime


class CardRevision(BaseModel):
    revision: int
    total: Decimal | None
    digest: str
    rubric_version: str
    recorded_at: datetime


class ProvisionalEntry(BaseModel):
    rank: int
    unit: str
    unit_name: str
    total: Decimal
    types: list[TypeScore]
    tied: bool
    honour: Literal["red", "black"] | None
    grade: str | None = None


class ProvisionalRanking(BaseModel):
    peer_group: str
    peer_group_name_zh: str | None
    peer_group_name_en: str | None
    rubric_version: str
    entries: list[ProvisionalEntry]
    unscored: list[str] = []


class RankingView(BaseModel):
    period: str
    status: Literal["provisional", "published"]
    revision: int | None
    published: list[RankingPublished]
    provisional: list[ProvisionalRanking]


def rubric_for(book: RuleBook, year: int, version: str | None) -> Rubric:
    """The given version of the year's rubric, or the one in force."""
    if version is not None:
        found = book.version(year, version)
        if found is None:
            raise UnknownRubricVersion(f"no rubric version {version} for {year}")
        return found
    in_force = book.in_force(year)
    if in_force is None:
        raise NoRubric(f"no rubric for programme year {year}")
    return in_force


def _same_score(a: Scorecard, b: Scorecard) -> bool:
    return (a.total, a.types, a.line_items) == (b.total, b.types, b.line_items)


async def card_view(
    session: AsyncSession,
    book: RuleBook,
    unit: str,
    period: Period,
    *,
    today: date,
    as_of: datetime | None = None,
    rubric_version: str | None = None,
) -> CardView:
    await book.refresh(session)
    rubric = rubric_for(book, period.year, rubric_version)
    reference_facts = await repository.reference_facts(session)
    reference = reference_from(reference_facts)
    facts = await repository.unit_facts(session, unit)
    if not facts and unit not in reference.units:
        raise UnknownUnit(unit)
    everything = [*facts, *reference_facts]
    stored = await repository.stored_card(session, unit, period.label)
    if as_of is None and stored is not None and stored.rubric_version == rubric.version:
        card, on_request = Scorecard.model_validate(stored.card), False
    else:
        context = await load_context(session, [rubric], reference, today, as_of)
        card, on_request = score(unit, everything, rubric, period, as_of, context), True
    closures = await repository.closures_of(session, period.label)
    published, late = None, []
    if closures:
        published = await _publication(
            session, book, unit, period, closures[-1], everything, reference
        )
        late = _late_events(facts, period, closures[-1].as_of)
    info = reference.units.get(unit)
    return CardView(
        unit=unit,
        unit_name=info.name_zh if info else None,
        peer_group=info.peer_group if info else None,
        period=period.label,
        status="closed" if closures else "open",
        computed_on_request=on_request,
        revision=None if on_request or stored is None else stored.revision,
        updated_at=None if on_request or stored is None else stored.updated_at,
        card=card,
        published=published,
        changed_since_publication=published is not None and not _same_score(published.card, card),
        late_events=late,
    )


async def _publication(
    session: AsyncSession,
    book: RuleBook,
    unit: str,
    period: Period,
    closure: Any,
    facts: list[Fact],
    reference: Reference,
) -> Publication:
    rubric = rubric_for(book, period.year, closure.rubric_version)
    as_of = closure.as_of
    context = await load_context(session, [rubric], reference, local_date(as_of), as_of)
    rankings = await repository.rankings_published(session, period.label, closure.revision)
    entry, group = next(
        ((e, r["peer_group"]) for r in rankings for e in r["entries"] if e["unit"] == unit),
        (None, None),
    )
    return Publication(
        revision=closure.revision,
        as_of=closure.as_of,
        rubric_version=closure.rubric_version,
        closed_by=closure.closed_by,
        closed_at=closure.closed_at,
        peer_group=group,
        rank=entry["rank"] if entry else None,
        total=Decimal(str(entry["total"])) if entry else None,
        card=score(unit, facts, rubric, period, as_of, context),
    )


def _late_events(facts: list[Fact], period: Period, as_of: datetime) -> list[str]:
    """Facts of the period that became known after it was published."""
    return sorted(
        f.event_id
        for f in facts
        if f.day is not None and period.contains(f.day) and f.known_at > as_of
    )


async def history(
    session: AsyncSession, unit: str, year: int | None, kind: PeriodKind | None
) -> list[HistoryPoint]:
    rows = await repository.unit_cards(session, unit, year)
    return [
        HistoryPoint.model_validate(row, from_attributes=True)
        for row in rows
        if kind is None or row.period_kind == kind.value
    ]


async def revisions(session: AsyncSession, unit: str, period: Period) -> list[CardRevision]:
    rows = await repository.card_revisions(session, unit, period.label)
    return [CardRevision.model_validate(row, from_attributes=True) for row in rows]


async def ranking_view(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    peer_group: str | None,
    revision: int | None,
    today: date,
) -> RankingView:
    closures = await repository.closures_of(session, period.label)
    if closures:
        chosen = revision or closures[-1].revision
        if chosen not in {c.revision for c in closures}:
            raise UnknownRevision(f"{period} was published in revisions 1-{closures[-1].revision}")
        rankings = [
            RankingPublished.model_validate(r)
            for r in await repository.rankings_published(session, period.label, chosen)
        ]
        return RankingView(
            period=period.label,
            status="published",
            revision=chosen,
            published=[r for r in rankings if peer_group in (None, r.peer_group)],
            provisional=[],
        )
    await book.refresh(session)
    rubric = rubric_for(book, period.year, None)
    provisional = await _provisional(session, rubric, period, peer_group, today)
    return RankingView(
        period=period.label,
        status="provisional",
        revision=None,
        published=[],
        provisional=provisional,
    )


async def _provisional(
    session: AsyncSession, rubric: Rubric, period: Period, peer_group: str | None, today: date
) -> list[ProvisionalRanking]:
    """The ranking the current cards give; nothing is published until the office closes."""
    reference_facts = await repository.reference_facts(session)
    reference = reference_from(reference_facts)
    stored = {
        row.unit: Scorecard.model_validate(row.card)
        for row in await repository.period_cards(session, period.label)
        if row.rubric_version == rubric.version
    }
    context = await load_context(session, [rubric], reference, today)
    result = []
    for group, (name_zh, name_en) in sorted(reference.peer_groups.items()):
        if peer_group not in (None, group):
            continue
        cards = await _group_cards(session, reference_facts, group, stored, rubric, period, context)
        ranked, unscored = rank_cards(cards, rubric)
        entries = [
            ProvisionalEntry(
                rank=r.rank,
                unit=r.unit,
                unit_name=reference.units[r.unit].name_zh,
                total=r.total,
                types=cards[r.unit].types,
                tied=r.tied,
                honour=r.honour,
                grade=r.grade,
            )
            for r in ranked
        ]
        result.append(
            ProvisionalRanking(
                peer_group=group,
                peer_group_name_zh=name_zh,
                peer_group_name_en=name_en,
                rubric_version=rubric.version,
                entries=entries,
                unscored=unscored,
            )
        )
    return result


async def _group_cards(
    session: AsyncSession,
    reference_facts: list[Fact],
    group: str,
    stored: dict[str, Scorecard],
    rubric: Rubric,
    period: Period,
    context: Context,
) -> dict[str, Scorecard]:
    cards = {}
    for unit in reference_from(reference_facts).ranked_units(group):
        card = stored.get(unit.code)
        if card is None:  # nothing to score yet, or not recomputed yet
            facts = await repository.unit_facts(session, unit.code)
            card = score(unit.code, [*facts, *reference_facts], rubric, period, None, context)
        cards[unit.code] = card
    return cards
