"""What the query API answers: cards with their publication status, rankings, histories. Reads
stored cards where they answer the question and computes from facts where they cannot (as of a
past date, under another rubric version, or a card not computed yet)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.scoring import (
    AppealDecided,
    AppealFiled,
    LineAdjustment,
    RankingPublished,
    ResultsFinalised,
    ResultsPublicised,
    UnitResult,
    period_name_zh,
)
from services.runtime.workdays import local_date
from services.scoring.adapters import repository, results
from services.scoring.adapters.documents import ResultsDocument
from services.scoring.domain.cards import Scorecard, TypeScore
from services.scoring.domain.facts import Fact
from services.scoring.domain.periods import Period, PeriodKind
from services.scoring.domain.policy import results_policy
from services.scoring.domain.ranking import rank_cards
from services.scoring.domain.reference import Reference
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.scoring import Context, score
from services.scoring.domain.workflow import Explained, Refused, Stage, corrected
from services.scoring.handlers import periods
from services.scoring.handlers.periods import NoRubric, UnknownUnit
from services.scoring.handlers.recompute import load_context
from services.scoring.handlers.rulebook import RuleBook


class UnknownRubricVersion(Explained):
    pass


class UnknownRevision(Explained):
    pass


class UnknownPeerGroup(Explained):
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
    stage: Stage
    result: UnitResult | None = Field(
        description="The unit's result as publicised (with corrections decided on appeal) or "
        "as finalised; None before the period's results are publicised."
    )
    corrections: list[LineAdjustment] = Field(
        description="Adjustments of the card's line items decided on the unit's appeal."
    )


class HistoryPoint(BaseModel):
    period: str
    period_kind: PeriodKind
    total: Decimal | None
    rubric_version: str
    revision: int
    updated_at: datetime


class CardRevision(BaseModel):
    """A version of the card: recomputed from facts, or corrected on review of an appeal (the
    correction carries the answer, the adjusted line items, points and reasons)."""

    revision: int
    kind: Literal["recomputed", "review_correction"] = "recomputed"
    total: Decimal | None
    digest: str
    rubric_version: str
    recorded_at: datetime
    correction: AppealDecided | None = None


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
            raise UnknownRubricVersion(
                f"{year}年度没有版本为 {version} 的考核评分细则",
                f"no rubric version {version} for {year}",
            )
        return found
    in_force = book.in_force(year)
    if in_force is None:
        raise NoRubric.of_year(year)
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
    reference = await repository.reference(session)
    facts = await repository.unit_facts(session, unit)
    if not facts and unit not in reference.units:
        raise UnknownUnit(unit)
    stored = await repository.stored_card(session, unit, period.label)
    if as_of is None and stored is not None and stored.rubric_version == rubric.version:
        card, on_request = Scorecard.model_validate(stored.card), False
    else:
        context = await load_context(session, [rubric], reference, today, as_of, unit)
        then = await repository.reference(session, as_of)
        card, on_request = score(unit, facts, rubric, period, as_of, context, then), True
    closures = await repository.closures_of(session, period.label)
    published, late = None, []
    if closures:
        published = await _publication(session, book, unit, period, closures[-1], facts, reference)
        late = _late_events(facts, period, closures[-1].as_of)
    info = reference.units.get(unit)
    stage = (await periods.period_state(session, period.label)).stage
    decision = await _decision(session, period.label, unit)
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
        stage=stage,
        result=await unit_result(session, book, period.label, unit),
        corrections=decision.adjustments if decision else [],
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
    """`facts`: the unit's own."""
    rubric = rubric_for(book, period.year, closure.rubric_version)
    as_of = closure.as_of
    context = await load_context(session, [rubric], reference, local_date(as_of), as_of, unit)
    then = await repository.reference(session, as_of)
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
        card=score(unit, facts, rubric, period, as_of, context, then),
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
    found = [CardRevision.model_validate(row, from_attributes=True) for row in rows]
    decision = await _decision(session, period.label, unit)
    if decision is not None and decision.outcome == "corrected":
        publicised = await periods.publicised_results(session, period.label)
        assert publicised is not None
        corrects = [r for r in found if r.recorded_at <= publicised.as_of] or found[:1]
        found.append(
            CardRevision(
                revision=corrects[-1].revision if corrects else 0,
                kind="review_correction",
                total=None if decision.total_after is None else Decimal(str(decision.total_after)),
                digest=corrects[-1].digest if corrects else "",
                rubric_version=publicised.rubric_version,
                recorded_at=decision.decided_at,
                correction=decision,
            )
        )
    return sorted(found, key=lambda r: r.recorded_at)


# ----------------------------------------------------------------------------- the workflow


async def _decision(session: AsyncSession, period: str, unit: str) -> AppealDecided | None:
    row = await results.appeal(session, period, unit)
    return (
        None if row is None or row.decision is None else AppealDecided.model_validate(row.decision)
    )


class GroupName(BaseModel):
    zh: str | None
    en: str | None


class ResultsView(BaseModel):
    period: str
    stage: Stage
    publicised: ResultsPublicised | None
    final: ResultsFinalised | None
    current: list[UnitResult] = Field(
        description="The results as they stand: final once finalised, else the publicised "
        "results with the corrections decided so far."
    )
    peer_groups: dict[str, GroupName] = Field(
        default_factory=dict, description="Each peer group's name, by its code."
    )


async def results_view(session: AsyncSession, book: RuleBook, period: str) -> ResultsView:
    state = await periods.period_state(session, period)
    publicised = await periods.publicised_results(session, period)
    final = await periods.final_results(session, period)
    groups = (await repository.reference(session)).peer_groups
    return ResultsView(
        period=period,
        stage=state.stage,
        publicised=publicised,
        final=final,
        current=await _current(session, book, publicised, final),
        peer_groups={code: GroupName(zh=zh, en=en) for code, (zh, en) in groups.items()},
    )


async def _current(
    session: AsyncSession,
    book: RuleBook,
    publicised: ResultsPublicised | None,
    final: ResultsFinalised | None,
) -> list[UnitResult]:
    if final is not None:
        return final.results
    if publicised is None:
        return []
    await book.refresh(session)
    rubric = rubric_for(book, int(publicised.period[:4]), publicised.rubric_version)
    policy = results_policy(rubric)
    decided = {
        row.unit: AppealDecided.model_validate(row.decision)
        for row in await results.appeals_of(session, publicised.period)
        if row.decision is not None
    }
    return [
        corrected(r, decided[r.unit].adjustments if r.unit in decided else [], policy, rubric)
        for r in publicised.results
    ]


async def unit_result(
    session: AsyncSession, book: RuleBook, period: str, unit: str
) -> UnitResult | None:
    view = await results_view(session, book, period)
    return next((r for r in view.current if r.unit == unit), None)


class AppealView(BaseModel):
    filed: AppealFiled
    decision: AppealDecided | None


async def appeals(session: AsyncSession, period: str, unit: str | None = None) -> list[AppealView]:
    return [
        AppealView(
            filed=AppealFiled.model_validate(row.filed),
            decision=None if row.decision is None else AppealDecided.model_validate(row.decision),
        )
        for row in await results.appeals_of(session, period)
        if unit in (None, row.unit)
    ]


def no_results(period: str) -> Refused:
    return Refused(
        404,
        "no_results",
        "该考核周期尚无公示或定档的结果",
        "The period has no publicised or final results",
        period_name_zh(period),
        period,
    )


async def results_document(
    session: AsyncSession, book: RuleBook, period: str, issued_on: date, unit: str | None = None
) -> ResultsDocument:
    """What the documents are made from: the final results, else the publicised ones (with the
    cards' line items as publicised, and the answers to appeals)."""
    view = await results_view(session, book, period)
    issued = view.final or view.publicised
    if issued is None:
        raise no_results(period)
    if view.final is None and view.publicised is not None:
        issued = view.publicised.model_copy(update={"results": view.current})
    await book.refresh(session)
    reference = await repository.reference(session)
    units = [unit] if unit is not None else [r.unit for r in issued.results]
    if unit is not None and unit not in {r.unit for r in issued.results}:
        raise UnknownUnit(unit)
    publicised = view.publicised
    assert publicised is not None
    line_items = {
        u: (await periods.publicised_card(session, book, u, publicised)).line_items for u in units
    }
    decisions = {a.filed.unit: a.decision for a in await appeals(session, period) if a.decision}
    return ResultsDocument(
        results=issued,
        group_names={g: zh or g for g, (zh, _en) in reference.peer_groups.items()},
        issued_on=issued_on,
        line_items=line_items,
        decisions=decisions,
    )


async def ranking_view(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    peer_group: str | None,
    revision: int | None,
    today: date,
) -> RankingView:
    if peer_group is not None:
        known = (await repository.reference(session)).peer_groups
        if peer_group not in known:
            listed = ", ".join(sorted(known))
            raise UnknownPeerGroup(
                f"没有考核类别 {peer_group}（现有：{listed}）",
                f"no peer group {peer_group} (known: {listed})",
            )
    closures = await repository.closures_of(session, period.label)
    if closures:
        chosen = revision or closures[-1].revision
        if chosen not in {c.revision for c in closures}:
            raise UnknownRevision(
                f"{period_name_zh(period.label)}共发布了{closures[-1].revision}版",
                f"{period} was published in revisions 1-{closures[-1].revision}",
            )
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
    reference = await repository.reference(session)
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
        cards = await _group_cards(session, reference, group, stored, rubric, period, context)
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
    reference: Reference,
    group: str,
    stored: dict[str, Scorecard],
    rubric: Rubric,
    period: Period,
    context: Context,
) -> dict[str, Scorecard]:
    cards = {}
    for unit in reference.ranked_units(group):
        card = stored.get(unit.code)
        if card is None:  # nothing to score yet, or not recomputed yet
            facts = await repository.unit_facts(session, unit.code)
            card = score(unit.code, facts, rubric, period, None, context, reference)
        cards[unit.code] = card
    return cards
