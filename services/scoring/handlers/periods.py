"""Closing a period: the rankings of every peer group as of the close, published once per
revision with the provisional results for their 公示; appeals (申诉) and the office's answers
(复核); the final results (定档). Every step is an event, restored as issued on a replay. The
rules are in domain/workflow.py."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.common import EvidenceRef
from contracts.envelope import Envelope, fact_id, wrap
from contracts.scoring import (
    AppealDecided,
    AppealFiled,
    LineAdjustment,
    RankingEntry,
    RankingPublished,
    ResultsFinalised,
    ResultsPublicised,
    UnitResult,
    period_name_zh,
)
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import WorkingCalendar, chinese_date, chinese_moment, local_date
from services.scoring.adapters import repository, results
from services.scoring.domain import workflow
from services.scoring.domain.periods import Period
from services.scoring.domain.policy import results_policy
from services.scoring.domain.ranking import rank_cards
from services.scoring.domain.reference import Reference
from services.scoring.domain.rubric import Rubric
from services.scoring.domain.scoring import Scorecard, score
from services.scoring.domain.workflow import (
    Explained,
    PeriodState,
    Publicity,
    Refused,
    Stage,
    UnitInfo,
)
from services.scoring.handlers.recompute import load_context, type_scores
from services.scoring.handlers.rulebook import SOURCE, RuleBook

log = structlog.get_logger()


class PeriodNotEnded(Explained):
    pass


class AlreadyClosed(Explained):
    def __init__(self, revision: int):
        super().__init__(f"已发布至第{revision}版", f"already closed (revision {revision})")
        self.revision = revision


class NoRubric(Explained):
    @classmethod
    def of_year(cls, year: int) -> "NoRubric":
        return cls(f"{year}年度没有考核评分细则", f"no rubric for programme year {year}")

    @classmethod
    def of_version(cls, version: str) -> "NoRubric":
        return cls(f"没有版本为 {version} 的考核评分细则", f"no rubric version {version}")


class UnknownUnit(Explained):
    """Its detail is the unit's code."""


class NoPeerGroups(Explained):
    """No unit registered in a peer group: there is nothing to rank."""


@dataclass(frozen=True)
class Published:
    rankings: list[RankingPublished]
    publicised: ResultsPublicised


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
) -> dict[str, Scorecard]:
    reference = await repository.reference(session)
    context = await load_context(session, [rubric], reference, local_date(as_of), as_of)
    known = await repository.reference(session, as_of)
    cards = {}
    for unit in units:
        facts = await repository.unit_facts(session, unit)
        cards[unit] = score(unit, facts, rubric, period, as_of, context, known)
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
    calendar: WorkingCalendar,
) -> Published:
    """Publish the period's rankings as of `now` and its provisional results for a 公示. Events
    that reach scoring later never change what was published; until 定档 the office may publish
    a revision (`revise`) to take them in, which starts a new 公示."""
    if period.end > now:
        raise PeriodNotEnded(
            f"{period_name_zh(period.label)}至{chinese_date(period.last_day)}结束",
            f"{period} ends at {period.end.isoformat()}",
        )
    (await period_state(session, period.label)).check_can_publish()
    await book.refresh(session)
    rubric = book.in_force(period.year)
    if rubric is None:
        raise NoRubric.of_year(period.year)
    previous = await repository.closures_of(session, period.label)
    if previous and not revise:
        raise AlreadyClosed(previous[-1].revision)
    closure = Closure(
        period, previous[-1].revision + 1 if previous else 1, now, rubric, closed_by, note
    )
    reference = await repository.reference(session)
    units = [u.code for group in reference.peer_groups for u in reference.ranked_units(group)]
    if not units:
        raise NoPeerGroups("尚无单位登记所属分组", "no unit is registered in a peer group yet")
    cards = await cards_as_of(session, units, rubric, period, now)
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
    publicised = _publicised(cards, reference, closure, calendar)
    results_event = wrap(
        publicised,
        subject=office,
        source=SOURCE,
        id=fact_id(ResultsPublicised.NAME, period.label, closure.revision),
        time=now,
    )
    await restore_stage(session, results_event)
    await add_to_outbox(session, results_event, subjects.event(ResultsPublicised.NAME, office))
    return Published(published, publicised)


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


# ----------------------------------------------------------------------------- the workflow


def _rows(cards: dict[str, Scorecard], reference: Reference, rubric: Rubric) -> list[UnitResult]:
    """Every ranked unit's result, ranked within its peer group."""
    policy = results_policy(rubric)
    rows = []
    for group in sorted(reference.peer_groups):
        members = [u for u in reference.ranked_units(group) if u.code in cards]
        group_rows = [
            workflow.result_row(cards[u.code], UnitInfo(u.code, u.name_zh, group), policy)
            for u in members
        ]
        rows.extend(workflow.rank_group(group_rows, rubric))
    return rows


def _publicised(
    cards: dict[str, Scorecard],
    reference: Reference,
    closure: Closure,
    calendar: WorkingCalendar,
) -> ResultsPublicised:
    policy = results_policy(closure.rubric)
    window = workflow.publicity(calendar, closure.revision, local_date(closure.as_of), policy)
    return ResultsPublicised(
        period=closure.period.label,
        period_kind=closure.period.kind.value,
        revision=closure.revision,
        rubric_version=closure.rubric.version,
        as_of=closure.as_of,
        comprehensive_share=float(policy.comprehensive_points),
        results=_rows(cards, reference, closure.rubric),
        publicised_at=closure.as_of,
        publicised_by=closure.closed_by,
        publicity_working_days=policy.publicity_working_days,
        publicity_ends_on=window.ends_on,
        appeal_deadline=window.appeal_deadline,
    )


async def period_state(session: AsyncSession, period: str) -> PeriodState:
    rows = await results.stages(session, period)
    if any(r.stage == Stage.FINALISED for r in rows):
        return PeriodState(Stage.FINALISED, _publicity(rows))
    if rows:
        return PeriodState(Stage.PUBLICISED, _publicity(rows))
    return PeriodState(Stage.OPEN)


def _publicity(rows: Sequence[Any]) -> Publicity | None:
    publicised = [r for r in rows if r.stage == Stage.PUBLICISED]
    if not publicised:
        return None
    latest = ResultsPublicised.model_validate(publicised[-1].data)
    return Publicity(
        revision=latest.revision,
        published_on=local_date(latest.publicised_at),
        ends_on=latest.publicity_ends_on,
        appeal_deadline=latest.appeal_deadline,
    )


async def publicised_results(session: AsyncSession, period: str) -> ResultsPublicised | None:
    rows = [r for r in await results.stages(session, period) if r.stage == Stage.PUBLICISED]
    return ResultsPublicised.model_validate(rows[-1].data) if rows else None


async def final_results(session: AsyncSession, period: str) -> ResultsFinalised | None:
    rows = [r for r in await results.stages(session, period) if r.stage == Stage.FINALISED]
    return ResultsFinalised.model_validate(rows[0].data) if rows else None


async def publicised_card(
    session: AsyncSession, book: RuleBook, unit: str, publicised: ResultsPublicised
) -> Scorecard:
    """The unit's card as publicised: its facts known at the close, under the close's rubric."""
    period = Period.parse(publicised.period)
    rubric = book.version(period.year, publicised.rubric_version)
    if rubric is None:
        raise NoRubric.of_version(publicised.rubric_version)
    facts = await repository.unit_facts(session, unit)
    as_of = publicised.as_of
    reference = await repository.reference(session)
    context = await load_context(session, [rubric], reference, local_date(as_of), as_of, unit)
    then = await repository.reference(session, as_of)
    return score(unit, facts, rubric, period, as_of, context, then)


def _unit_result(publicised: ResultsPublicised, unit: str) -> UnitResult:
    found = next((r for r in publicised.results if r.unit == unit), None)
    if found is None:
        raise Refused(
            422,
            "unit_not_assessed",
            "该单位不在本期公示结果中",
            "The unit is not among the publicised results",
        )
    return found


@dataclass(frozen=True)
class AppealRequest:
    reason: str
    line_items: list[str]
    evidence: list[EvidenceRef]
    filed_by: str


async def file_appeal(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    unit: str,
    request: AppealRequest,
    *,
    now: datetime,
) -> tuple[AppealFiled, bool]:
    """A unit's 申诉 against its publicised result; (the appeal, whether it is new). Filing the
    same appeal again is harmless; another appeal of the same unit and period is refused."""
    state = await period_state(session, period.label)
    window = state.check_appeal_window(local_date(now))
    publicised = await publicised_results(session, period.label)
    assert publicised is not None and publicised.revision == window.revision
    row = _unit_result(publicised, unit)
    await book.refresh(session)
    workflow.check_appeal(
        request.reason, request.line_items, await publicised_card(session, book, unit, publicised)
    )
    appeal = AppealFiled(
        appeal_id=fact_id(AppealFiled.NAME, period.label, unit),
        period=period.label,
        revision=publicised.revision,
        unit=unit,
        unit_name=row.unit_name,
        reason=request.reason.strip(),
        line_items=sorted(set(request.line_items)),
        evidence=request.evidence,
        filed_by=request.filed_by,
        filed_at=now,
    )
    existing = await results.appeal(session, period.label, unit)
    if existing is not None:
        earlier = AppealFiled.model_validate(existing.filed)
        if _same(earlier, appeal, "filed_at", "filed_by"):
            return earlier, False
        raise Refused(
            409,
            "appeal_exists",
            "本单位已就该考核周期提出申诉，不能重复申诉",
            "The unit has already appealed for this period",
            f"已于{chinese_moment(earlier.filed_at)}提出申诉（{earlier.appeal_id}）",
            f"appeal {earlier.appeal_id} filed at {earlier.filed_at.isoformat()}",
        )
    event = wrap(appeal, subject=unit, source=SOURCE, id=appeal.appeal_id, time=now)
    await restore_appeal(session, event)
    await add_to_outbox(session, event, subjects.event(AppealFiled.NAME, unit))
    return appeal, True


def _same(a: Any, b: Any, *ignored: str) -> bool:
    return bool(a.model_dump(exclude=set(ignored)) == b.model_dump(exclude=set(ignored)))


@dataclass(frozen=True)
class Decision:
    outcome: Literal["upheld", "corrected"]
    answer: str
    adjustments: list[LineAdjustment]
    decided_by: str


async def decide_appeal(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    unit: str,
    decision: Decision,
    *,
    now: datetime,
) -> tuple[AppealDecided, bool]:
    """The office's 复核 of a unit's appeal, answered in writing; (the answer, whether it is new).
    A correction is recorded as adjustments of line items, which the final results carry."""
    row = await results.appeal(session, period.label, unit)
    if row is None:
        raise Refused(404, "unknown_appeal", "该单位没有该周期的申诉", "No appeal of this unit")
    publicised = await publicised_results(session, period.label)
    assert publicised is not None
    await book.refresh(session)
    card = await publicised_card(session, book, unit, publicised)
    workflow.check_decision(decision.outcome, decision.answer, decision.adjustments, card)
    before = _unit_result(publicised, unit)
    rubric = _rubric(book, publicised)
    after = workflow.corrected(before, decision.adjustments, results_policy(rubric), rubric)
    answer = AppealDecided(
        appeal_id=row.appeal_id,
        period=period.label,
        unit=unit,
        unit_name=before.unit_name,
        outcome=decision.outcome,
        answer=decision.answer.strip(),
        adjustments=decision.adjustments,
        total_before=before.total,
        total_after=after.total,
        decided_by=decision.decided_by,
        decided_at=now,
    )
    if row.decision is not None:
        earlier = AppealDecided.model_validate(row.decision)
        if _same(earlier, answer, "decided_at", "decided_by"):
            return earlier, False
        raise Refused(
            409,
            "appeal_already_decided",
            "该申诉已复核答复，不能再作不同结论",
            "The appeal is already answered",
        )
    event = wrap(
        answer,
        subject=unit,
        source=SOURCE,
        id=fact_id(AppealDecided.NAME, period.label, unit),
        time=now,
    )
    await restore_decision(session, event)
    await add_to_outbox(session, event, subjects.event(AppealDecided.NAME, unit))
    return answer, True


def _rubric(book: RuleBook, publicised: ResultsPublicised) -> Rubric:
    rubric = book.version(int(publicised.period[:4]), publicised.rubric_version)
    if rubric is None:
        raise NoRubric.of_version(publicised.rubric_version)
    return rubric


async def finalise(
    session: AsyncSession,
    book: RuleBook,
    period: Period,
    *,
    finalised_by: str,
    now: datetime,
    office: str,
) -> tuple[ResultsFinalised, bool]:
    """定档: the publicised results with the corrections decided on appeal, final for good;
    (the results, whether they are new). A second 定档 returns the first."""
    done = await final_results(session, period.label)
    if done is not None:
        return done, False
    state = await period_state(session, period.label)
    appeals = await results.appeals_of(session, period.label)
    undecided = {a.unit: a.filed.get("unit_name") or a.unit for a in appeals if a.decision is None}
    state.check_can_finalise(local_date(now), undecided)
    publicised = await publicised_results(session, period.label)
    assert publicised is not None
    await book.refresh(session)
    rubric = _rubric(book, publicised)
    policy = results_policy(rubric)
    decisions = [a.decision for a in appeals if a.decision is not None]
    adjustments = workflow.adjustments_by_unit(decisions)
    rows = [
        workflow.corrected(r, adjustments.get(r.unit, []), policy, rubric)
        for r in publicised.results
    ]
    ranked = []
    for group in sorted({r.peer_group for r in rows}):
        ranked.extend(workflow.rank_group([r for r in rows if r.peer_group == group], rubric))
    final = ResultsFinalised(
        period=publicised.period,
        period_kind=publicised.period_kind,
        revision=publicised.revision,
        rubric_version=publicised.rubric_version,
        as_of=publicised.as_of,
        comprehensive_share=publicised.comprehensive_share,
        results=ranked,
        finalised_at=now,
        finalised_by=finalised_by,
        appeals=len(appeals),
        corrected=sum(1 for d in decisions if d["outcome"] == "corrected"),
    )
    event = wrap(
        final,
        subject=office,
        source=SOURCE,
        id=fact_id(ResultsFinalised.NAME, period.label),
        time=now,
    )
    await restore_stage(session, event)
    await add_to_outbox(session, event, subjects.event(ResultsFinalised.NAME, office))
    return final, True


async def restore_stage(
    session: AsyncSession, event: Envelope[ResultsPublicised] | Envelope[ResultsFinalised]
) -> None:
    """Keep publicised or final results as issued: at the time, or on a replay."""
    stage = Stage.PUBLICISED if isinstance(event.data, ResultsPublicised) else Stage.FINALISED
    await results.add_stage(
        session,
        period=event.data.period,
        stage=stage.value,
        revision=event.data.revision,
        event_id=event.id,
        data=event.data.model_dump(mode="json"),
        now=event.time,
    )


async def restore_appeal(session: AsyncSession, event: Envelope[AppealFiled]) -> None:
    appeal = event.data
    await results.add_appeal(
        session,
        period=appeal.period,
        unit=appeal.unit,
        appeal_id=appeal.appeal_id,
        filed=appeal.model_dump(mode="json"),
        filed_at=appeal.filed_at,
    )


async def restore_decision(session: AsyncSession, event: Envelope[AppealDecided]) -> None:
    answer = event.data
    await results.decide_appeal(
        session,
        period=answer.period,
        unit=answer.unit,
        decision=answer.model_dump(mode="json"),
        decided_at=answer.decided_at,
    )
