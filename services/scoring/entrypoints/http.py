"""HTTP routes of the scoring service: cards, rankings, periods and rubrics. Routes translate
requests into handler and view calls; every refusal is a problem with a stable code."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Day, Evidence, Instant, Name, Text
from contracts.envelope import UNIT_CODE_PATTERN
from contracts.reasons import REASON_TEXT, Reason
from contracts.scoring import (
    Answer,
    AppealDecided,
    AppealFiled,
    LineAdjustment,
    LineItemKey,
    RankingPublished,
    ResultsFinalised,
    ResultsPublicised,
    VerdictRecorded,
)
from services.runtime.auth import EVERYONE, READERS, Principal, Role, allow, own_unit
from services.runtime.field_errors import FieldProblem
from services.runtime.http import Problem
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import WorkingCalendar, load_calendar, local_date
from services.scoring.adapters import documents, repository, stream
from services.scoring.domain.cards import LineItem, Verdict
from services.scoring.domain.earned import verdicts_of
from services.scoring.domain.facts import FactKind
from services.scoring.domain.periods import PERIOD_PATTERN, Period, PeriodKind
from services.scoring.domain.progress import UnitProgress, summarise
from services.scoring.domain.rubric import RubricRefused, parse_rubric
from services.scoring.domain.workflow import CardDiff, Explained, Refused, Stage, card_diff
from services.scoring.entrypoints import views
from services.scoring.entrypoints.bus import DURABLES
from services.scoring.handlers import periods, verdicts
from services.scoring.handlers.rulebook import RubricConflict, RubricNotNewer, RuleBook
from services.scoring.settings import ScoringSettings

UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]
PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="2026-03 (month), 2026-Q1 or 2026 (year)")
]
YearPath = Annotated[int, Path(ge=2022, le=2100)]
RUBRIC_MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "application/json")

# Exceptions of the domain and service layer -> (status, code, Chinese title, English title);
# each carries its detail in both languages.
_PROBLEMS: dict[type[Explained], tuple[int, str, str, str]] = {
    periods.UnknownUnit: (404, Reason.UNKNOWN_UNIT.value, *REASON_TEXT[Reason.UNKNOWN_UNIT]),
    periods.NoRubric: (404, "no_rubric", "该年度没有考核评分细则", "No rubric for this year"),
    views.UnknownRubricVersion: (
        404,
        "unknown_rubric_version",
        "评分细则版本不存在",
        "Unknown rubric version",
    ),
    views.UnknownRevision: (404, "unknown_revision", "该发布版次不存在", "Unknown revision"),
    views.UnknownPeerGroup: (422, "unknown_peer_group", "考核类别不存在", "Unknown peer group"),
    periods.PeriodNotEnded: (
        409,
        "period_not_ended",
        "考核周期尚未结束，不能发布",
        "The period has not ended yet",
    ),
    periods.AlreadyClosed: (
        409,
        "period_already_closed",
        "该考核周期已发布；如需修订请设置 revise",
        "The period is already published; set revise to publish a revision",
    ),
    periods.NoPeerGroups: (
        409,
        "no_peer_groups",
        "尚无可排名的责任单位",
        "No unit is registered in a peer group",
    ),
    verdicts.NoGrades: (
        409,
        "verdict_needs_grades",
        "该年度评分细则未设等次，不能记录一票否决或降等",
        "The rubric in force has no grades to veto or lower",
    ),
    verdicts.VerdictConflict: (
        409,
        "verdict_id_conflict",
        "该决定编号已用于另一项决定",
        "The verdict id is used by another verdict",
    ),
    RubricConflict: (
        409,
        "rubric_version_conflict",
        "该版本号已用于不同内容",
        "Version used for other content",
    ),
    RubricNotNewer: (
        409,
        "rubric_version_not_newer",
        "已有更新的评分细则版本生效",
        "A newer version is in force",
    ),
}


@asynccontextmanager
async def _problems() -> AsyncIterator[None]:
    try:
        yield
    except Refused as refused:
        raise Problem(
            refused.status,
            refused.code,
            refused.zh,
            refused.en,
            refused.detail,
            detail_en=refused.detail_en,
        ) from refused
    except RubricRefused as refused:
        problems = refused.problems
        raise Problem(
            422,
            "rubric_invalid",
            "评分细则未通过校验，原版本继续有效",
            "The rubric is invalid; the rubric in force stays",
            f"共 {len(problems)} 处问题",
            errors=[p.entry("zh") for p in problems],
            detail_en=f"{len(problems)} problem(s)",
            errors_en=[p.entry("en") for p in problems],
        ) from refused
    except tuple(_PROBLEMS) as exc:
        status, code, zh, en = _PROBLEMS[type(exc)]
        raise Problem(status, code, zh, en, exc.detail_zh, detail_en=exc.detail_en) from exc


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closed_by: Name = Field(description="Who publishes, e.g. 市“五型”办 or a person's name.")
    note: Text = ""
    revise: bool = Field(
        default=False, description="Publish a new revision of an already published period."
    )


class VerdictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="The office's key for the decision; the same key again changes nothing.",
    )
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026"])
    kind: Literal["veto", "downgrade"]
    steps: int = Field(default=1, ge=1, le=3, description="Grades to fall (降等 only).")
    reason: Text = Field(min_length=1)
    document: Name = Field(description="文号 of the decision, e.g. 洪五型办〔2026〕12号.")
    decided_on: Day


class Closed(BaseModel):
    period: str
    revision: int
    as_of: datetime
    rankings: list[RankingPublished]
    publicised: ResultsPublicised = Field(description="The provisional results and their 公示.")


class AppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Answer = Field(description="Why the unit contests its result (申诉理由).")
    line_items: list[LineItemKey] = Field(
        min_length=1, max_length=50, description="The contested line items (rule:type)."
    )
    evidence: Evidence


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["upheld", "corrected"] = Field(description="维持原结果 or 予以更正.")
    answer: Answer = Field(description="The written answer to the unit (复核意见).")
    adjustments: list[LineAdjustment] = Field(default_factory=list, max_length=50)


class FinaliseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text = ""


class ClosureView(BaseModel):
    revision: int
    as_of: datetime
    rubric_version: str
    closed_by: str
    note: str
    closed_at: datetime


class PeriodView(BaseModel):
    period: str
    status: Literal["open", "closed"]
    stage: Stage = Field(description="open, publicised (公示) or finalised (定档).")
    ends_at: datetime
    publicity_ends_on: date | None
    appeal_deadline: date | None
    finalised_at: datetime | None
    appeals: int
    appeals_undecided: int
    closures: list[ClosureView]


class RubricVersionView(BaseModel):
    version: str
    sha256: str
    source: str
    activated_at: datetime


class RubricYear(BaseModel):
    year: int
    in_force: str
    versions: list[RubricVersionView]


class RubricFile(BaseModel):
    file: str
    loaded: bool
    problems: list[str] = Field(description="Why the file was not loaded, in English.")
    problems_zh: list[str] = Field(description="The same in Chinese.")


class RubricIndex(BaseModel):
    years: list[RubricYear]
    files: list[RubricFile]


class RubricDocument(BaseModel):
    year: int
    version: str
    in_force: bool
    sha256: str
    document: dict[str, Any]


class Activation(BaseModel):
    year: int
    version: str
    activated: bool = Field(description="False when this exact version was already in force.")
    in_force: str


def _refusal_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"description": "Problem details (application/problem+json)"} for code in codes}


def router(
    runtime: ServiceRuntime,
    book: RuleBook,
    settings: ScoringSettings,
    clock: Callable[[], datetime],
) -> APIRouter:
    api = APIRouter(prefix="/v1")
    db = runtime.db
    calendar = load_calendar()

    @api.get(
        "/units/{unit}/progress",
        tags=["progress"],
        summary="A unit's latest progress",
        dependencies=[own_unit(*EVERYONE)],
    )
    async def unit_progress(unit: UnitPath) -> UnitProgress:
        async with db.session() as session:
            facts = [
                *await repository.unit_facts(session, unit, FactKind.PROGRESS),
                *await repository.unit_facts(session, unit, FactKind.PROGRESS_RETURNED),
            ]
        return summarise(unit, facts)

    @api.get(
        "/units/{unit}/cards/{period}",
        tags=["cards"],
        summary="A unit's scorecard for a period",
        dependencies=[own_unit(*EVERYONE)],
        description="The current card; with `as_of`, the card from the facts known then; with "
        "`rubric_version`, under that version (e.g. to settle an appeal). A published period "
        "also shows the card as published and the events that arrived after publication.",
        responses=_refusal_responses(404, 422),
    )
    async def card(
        unit: UnitPath,
        period: PeriodPath,
        as_of: Annotated[Instant | None, Query()] = None,
        rubric_version: Annotated[str | None, Query(pattern=r"^\d{4}\.\d+$")] = None,
    ) -> views.CardView:
        async with _problems(), db.session() as session:
            return await views.card_view(
                session,
                book,
                unit,
                Period.parse(period),
                today=local_date(clock()),
                as_of=as_of,
                rubric_version=rubric_version,
            )

    @api.get(
        "/units/{unit}/cards/{period}/line-items",
        tags=["cards"],
        summary="The line items of a unit's current card, optionally filtered",
        dependencies=[own_unit(*EVERYONE)],
        responses=_refusal_responses(404, 422),
    )
    async def line_items(
        unit: UnitPath,
        period: PeriodPath,
        type: Annotated[str | None, Query(pattern=r"^[a-z]+$")] = None,
        rule: Annotated[str | None, Query(max_length=48)] = None,
        effect: Annotated[Literal["earned", "deduction", "bonus"] | None, Query()] = None,
    ) -> list[LineItem]:
        async with _problems(), db.session() as session:
            view = await views.card_view(
                session, book, unit, Period.parse(period), today=local_date(clock())
            )
        return [
            item
            for item in view.card.line_items
            if type in (None, item.type)
            and rule in (None, item.rule)
            and effect in (None, item.effect)
        ]

    @api.get(
        "/units/{unit}/cards/{period}/revisions",
        tags=["cards"],
        summary="Every version the card has had, oldest first",
        dependencies=[own_unit(*EVERYONE)],
    )
    async def card_revisions(unit: UnitPath, period: PeriodPath) -> list[views.CardRevision]:
        async with db.session() as session:
            return await views.revisions(session, unit, Period.parse(period))

    @api.get(
        "/units/{unit}/history",
        tags=["cards"],
        summary="A unit's score over the periods of a year (or all years)",
        dependencies=[own_unit(*EVERYONE)],
    )
    async def unit_history(
        unit: UnitPath,
        year: Annotated[int | None, Query(ge=2022, le=2100)] = None,
        kind: Annotated[PeriodKind | None, Query()] = None,
    ) -> list[views.HistoryPoint]:
        async with db.session() as session:
            return await views.history(session, unit, year, kind)

    @api.get(
        "/rankings/{period}",
        tags=["rankings"],
        summary="Rankings within peer groups, with the red and black lists",
        dependencies=[allow(*EVERYONE)],
        description="Published rankings once the office has closed the period (the latest "
        "revision unless `revision` is given); until then the provisional ranking of the "
        "current cards.",
        responses=_refusal_responses(404, 422),
    )
    async def ranking(
        period: PeriodPath,
        peer_group: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]*$")] = None,
        revision: Annotated[int | None, Query(ge=1)] = None,
    ) -> views.RankingView:
        async with _problems(), db.session() as session:
            return await views.ranking_view(
                session, book, Period.parse(period), peer_group, revision, local_date(clock())
            )

    @api.get(
        "/periods/{period}",
        tags=["periods"],
        summary="Whether a period is published",
        dependencies=[allow(*EVERYONE)],
    )
    async def period_status(period: PeriodPath) -> PeriodView:
        chosen = Period.parse(period)
        async with db.session() as session:
            rows = await repository.closures_of(session, chosen.label)
            state = await periods.period_state(session, chosen.label)
            final = await periods.final_results(session, chosen.label)
            filed = await views.appeals(session, chosen.label)
        return PeriodView(
            period=chosen.label,
            status="closed" if rows else "open",
            stage=state.stage,
            ends_at=chosen.end,
            publicity_ends_on=state.publicity.ends_on if state.publicity else None,
            appeal_deadline=state.publicity.appeal_deadline if state.publicity else None,
            finalised_at=final.finalised_at if final else None,
            appeals=len(filed),
            appeals_undecided=sum(1 for a in filed if a.decision is None),
            closures=[ClosureView.model_validate(r, from_attributes=True) for r in rows],
        )

    @api.post(
        "/periods/{period}/close",
        tags=["periods"],
        status_code=201,
        summary="Close a period: publish its rankings and provisional results for a 公示",
        description="Waits until scoring has processed every event already in the stream, then "
        "publishes the rankings as of now (RankingPublished per peer group) and the provisional "
        "results (ResultsPublicised) with the 公示's last day and the appeal deadline. Events "
        "that arrive later never change what was published; they show as late events on the "
        "cards until the office publishes a revision (`revise`, which starts a new 公示; refused "
        "once the results are final).",
        responses=_refusal_responses(404, 409, 422, 503),
    )
    async def close(period: PeriodPath, body: CloseRequest, who: Principal = allow()) -> Closed:
        body = body.model_copy(update={"closed_by": who.subject})
        chosen = Period.parse(period)
        js = runtime.bus.jetstream()
        if js is None or not await stream.wait_caught_up(js, DURABLES, settings.close_wait_seconds):
            raise Problem(
                503,
                "scoring_catching_up",
                "评分服务正在处理积压事件，请稍后再发布",
                "Scoring is still processing events; try again shortly",
            )
        now = clock()
        async with _problems(), db.session() as session, session.begin():
            published = await periods.close_period(
                session,
                book,
                chosen,
                closed_by=body.closed_by,
                note=body.note,
                revise=body.revise,
                now=now,
                office=settings.office_unit,
                calendar=calendar,
            )
        runtime.relay.notify()
        return Closed(
            period=chosen.label,
            revision=published.publicised.revision,
            as_of=now,
            rankings=published.rankings,
            publicised=published.publicised,
        )

    @api.post(
        "/units/{unit}/verdicts",
        tags=["verdicts"],
        status_code=201,
        summary="Record 一票否决 (veto) or 降等 (downgrade) for a unit and period",
        description="The office records the decision with the document that made it; the unit's "
        "card for the period shows it and its 等次 follows (veto: 较差; downgrade: down by "
        "`steps`). Published as VerdictRecorded; the same `verdict_id` again changes nothing.",
        responses=_refusal_responses(404, 409, 422),
    )
    async def record_verdict(
        unit: UnitPath, body: VerdictRequest, who: Principal = allow()
    ) -> VerdictRecorded:
        now = clock()
        verdict = VerdictRecorded(
            **body.model_dump(exclude={"verdict_id"}),
            unit=unit,
            verdict_id=body.verdict_id or uuid.uuid4().hex,
            decided_by=who.subject,
            recorded_at=now,
        )
        async with _problems(), db.session() as session, session.begin():
            recorded = await verdicts.record(session, book, verdict, now)
        runtime.relay.notify()
        return recorded

    @api.get(
        "/units/{unit}/verdicts",
        tags=["verdicts"],
        summary="The office's verdicts on a unit (一票否决, 降等), by period",
        dependencies=[own_unit(*EVERYONE)],
    )
    async def unit_verdicts(unit: UnitPath) -> dict[str, list[Verdict]]:
        async with db.session() as session:
            facts = await repository.unit_facts(session, unit, FactKind.VERDICT)
        return verdicts_of(facts)

    workflow_routes(api, runtime, book, settings, clock, calendar)

    @api.get(
        "/rubrics",
        tags=["rubrics"],
        summary="Rubric versions per year, and rubric files",
        dependencies=[allow(*EVERYONE)],
    )
    async def rubrics() -> RubricIndex:
        async with db.session() as session:
            await book.refresh(session)
            rows = await repository.rubric_rows(session)
        years = []
        for year in book.years:
            in_force = book.in_force(year)
            assert in_force is not None
            years.append(
                RubricYear(
                    year=year,
                    in_force=in_force.version,
                    versions=[
                        RubricVersionView.model_validate(r, from_attributes=True)
                        for r in rows
                        if r.year == year
                    ],
                )
            )
        files = [
            RubricFile(
                file=name,
                loaded=not problems,
                problems=[p.said("en") for p in problems],
                problems_zh=[p.said("zh") for p in problems],
            )
            for name, problems in sorted(book.file_problems.items())
        ]
        return RubricIndex(years=years, files=files)

    @api.get(
        "/rubrics/{year}",
        tags=["rubrics"],
        summary="The rubric in force for a year, or another version of it",
        dependencies=[allow(*EVERYONE)],
        responses=_refusal_responses(404),
    )
    async def rubric(
        year: YearPath, version: Annotated[str | None, Query(pattern=r"^\d{4}\.\d+$")] = None
    ) -> RubricDocument:
        async with _problems(), db.session() as session:
            await book.refresh(session)
            found = views.rubric_for(book, year, version)
        in_force = book.in_force(year)
        return RubricDocument(
            year=year,
            version=found.version,
            in_force=in_force is not None and in_force.version == found.version,
            sha256=found.sha256,
            document=found.document(),
        )

    @api.put(
        "/rubrics/{year}",
        tags=["rubrics"],
        summary="Bring a new rubric version into force (YAML or JSON body)",
        dependencies=[allow(Role.OPERATOR)],
        description="The whole rubric is validated first; a refused rubric changes nothing and "
        "the answer lists every problem. 201 when the version came into force, 200 when this "
        "exact version already was. All cards of the year are then recomputed.",
        status_code=201,
        responses=_refusal_responses(409, 415, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {media: {"schema": {"type": "string"}} for media in RUBRIC_MEDIA_TYPES},
            }
        },
    )
    async def put_rubric(year: YearPath, request: Request, response: Response) -> Activation:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in RUBRIC_MEDIA_TYPES:
            raise Problem(
                415,
                "unsupported_media_type",
                "请以 YAML 或 JSON 提交评分细则",
                "Send the rubric as YAML or JSON",
                f"收到的类型为 {media or '（未注明）'}，可用：{'、'.join(RUBRIC_MEDIA_TYPES)}",
                detail_en=f"got {media or 'none'}; use one of {', '.join(RUBRIC_MEDIA_TYPES)}",
            )
        text = (await request.body()).decode("utf-8", errors="replace")
        async with _problems():
            rubric = parse_rubric(text, "api")
            if rubric.programme_year != year:
                mismatch = FieldProblem(
                    "programme_year",
                    f"为 {rubric.programme_year}，与地址中的 {year} 不符",
                    f"{rubric.programme_year}, not {year} as in the address",
                )
                raise RubricRefused("api", [mismatch])
            async with db.session() as session, session.begin():
                activated = await book.activate(session, rubric, "api", clock())
        async with db.session() as session:
            await book.refresh(session)
        runtime.relay.notify()
        response.status_code = 201 if activated else 200
        in_force = book.in_force(year)
        return Activation(
            year=year,
            version=rubric.version,
            activated=activated,
            in_force=in_force.version if in_force else rubric.version,
        )

    @api.post(
        "/rubrics/reload",
        tags=["rubrics"],
        summary="Read the rubric files again now (they are also checked periodically)",
        dependencies=[allow(Role.OPERATOR)],
    )
    async def reload() -> RubricIndex:
        await book.load_files(db, settings.rubric_dir, clock)
        return await rubrics()

    return api


def _document(content: bytes, media_type: str, filename: str) -> Response:
    # RFC 6266: an ASCII fallback name, and the Chinese one percent-encoded.
    disposition = f'attachment; filename="{filename.encode("ascii", "replace").decode()}"; '
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": disposition + f"filename*=UTF-8''{quote(filename)}"},
    )


def workflow_routes(
    api: APIRouter,
    runtime: ServiceRuntime,
    book: RuleBook,
    settings: ScoringSettings,
    clock: Callable[[], datetime],
    calendar: WorkingCalendar,
) -> None:
    """公示 → 申诉 → 复核 → 定档, the appeal evidence and the documents."""
    db = runtime.db
    office = settings.office_unit

    @api.get(
        "/periods/{period}/results",
        tags=["periods"],
        summary="The period's results: publicised (公示, with corrections so far) or final",
        dependencies=[allow(*EVERYONE)],
    )
    async def period_results(period: PeriodPath) -> views.ResultsView:
        async with _problems(), db.session() as session:
            return await views.results_view(session, book, Period.parse(period).label)

    @api.post(
        "/units/{unit}/appeals/{period}",
        tags=["periods"],
        status_code=201,
        summary="A unit appeals (申诉) against its publicised result (AppealFiled)",
        description="Within the appeal window of the 公示, once per unit and period, naming the "
        "contested line items of its card (rule:type, as on the card) with the reason and the "
        "evidence (uri and sha256). The same appeal again answers 200.",
        responses=_refusal_responses(403, 404, 409, 422),
    )
    async def appeal(
        unit: UnitPath,
        period: PeriodPath,
        body: AppealRequest,
        response: Response,
        who: Principal = own_unit(Role.UNIT_REPORTER),
    ) -> AppealFiled:
        request = periods.AppealRequest(
            reason=body.reason,
            line_items=body.line_items,
            evidence=body.evidence,
            filed_by=who.subject,
        )
        async with _problems(), db.session() as session, session.begin():
            filed, new = await periods.file_appeal(
                session, book, Period.parse(period), unit, request, now=clock()
            )
        runtime.relay.notify()
        response.status_code = 201 if new else 200
        return filed

    @api.get(
        "/units/{unit}/appeals/{period}",
        tags=["periods"],
        summary="A unit's appeal and the office's answer",
        dependencies=[own_unit(*EVERYONE)],
        responses=_refusal_responses(404),
    )
    async def unit_appeal(unit: UnitPath, period: PeriodPath) -> views.AppealView:
        async with db.session() as session:
            found = await views.appeals(session, Period.parse(period).label, unit)
        if not found:
            raise Problem(404, "unknown_appeal", "该单位没有该周期的申诉", "No appeal of this unit")
        return found[0]

    @api.get(
        "/periods/{period}/appeals",
        tags=["periods"],
        summary="Every appeal of a period, with the answers",
        dependencies=[allow(*READERS)],
    )
    async def period_appeals(period: PeriodPath) -> list[views.AppealView]:
        async with db.session() as session:
            return await views.appeals(session, Period.parse(period).label)

    @api.post(
        "/units/{unit}/appeals/{period}/decision",
        tags=["periods"],
        status_code=201,
        summary="The office's review (复核) of an appeal, answered in writing (AppealDecided)",
        description="`upheld` keeps the result; `corrected` lists adjustments (line item, signed "
        "points, reason) that the results carry from now on and the card's revisions show. The "
        "same decision again answers 200; a different one is refused.",
        responses=_refusal_responses(404, 409, 422),
    )
    async def decide(
        unit: UnitPath,
        period: PeriodPath,
        body: DecisionRequest,
        response: Response,
        who: Principal = allow(),
    ) -> AppealDecided:
        decision = periods.Decision(body.outcome, body.answer, body.adjustments, who.subject)
        async with _problems(), db.session() as session, session.begin():
            answer, new = await periods.decide_appeal(
                session, book, Period.parse(period), unit, decision, now=clock()
            )
        runtime.relay.notify()
        response.status_code = 201 if new else 200
        return answer

    @api.post(
        "/periods/{period}/finalise",
        tags=["periods"],
        status_code=201,
        summary="定档: the results become final (ResultsFinalised)",
        description="Once the 公示 is over and every appeal answered. A second 定档 answers 200 "
        "with the first. Afterwards nothing changes the period's results: see the late-event "
        "rule in docs/scoring.md.",
        responses=_refusal_responses(404, 409),
    )
    async def finalise(
        period: PeriodPath, response: Response, who: Principal = allow()
    ) -> ResultsFinalised:
        async with _problems(), db.session() as session, session.begin():
            final, new = await periods.finalise(
                session,
                book,
                Period.parse(period),
                finalised_by=who.subject,
                now=clock(),
                office=office,
            )
        runtime.relay.notify()
        response.status_code = 201 if new else 200
        return final

    @api.get(
        "/units/{unit}/cards/{period}/diff",
        tags=["cards"],
        summary="Line by line, how two versions of a card differ (appeal evidence)",
        description="Each side is the card as of a date (`*_as_of`) under a rubric version "
        "(`*_rubric_version`); an omitted side parameter means now and the rubric in force.",
        dependencies=[own_unit(*EVERYONE)],
        responses=_refusal_responses(404, 422),
    )
    async def diff(
        unit: UnitPath,
        period: PeriodPath,
        from_as_of: Annotated[Instant | None, Query()] = None,
        from_rubric_version: Annotated[str | None, Query(pattern=r"^\d{4}\.\d+$")] = None,
        to_as_of: Annotated[Instant | None, Query()] = None,
        to_rubric_version: Annotated[str | None, Query(pattern=r"^\d{4}\.\d+$")] = None,
    ) -> CardDiff:
        chosen, today = Period.parse(period), local_date(clock())
        async with _problems(), db.session() as session:
            before = await views.card_view(
                session,
                book,
                unit,
                chosen,
                today=today,
                as_of=from_as_of,
                rubric_version=from_rubric_version,
            )
            after = await views.card_view(
                session,
                book,
                unit,
                chosen,
                today=today,
                as_of=to_as_of,
                rubric_version=to_rubric_version,
            )
        return card_diff(before.card, after.card)

    async def _made(period: str, unit: str | None = None) -> documents.ResultsDocument:
        label = Period.parse(period).label
        async with _problems(), db.session() as session:
            return await views.results_document(session, book, label, local_date(clock()), unit)

    @api.get(
        "/periods/{period}/documents/results.xlsx",
        tags=["documents"],
        summary="The results workbook (考核结果表, XLSX), marked 公示稿 or 最终结果",
        dependencies=[allow(Role.VIEWER)],
        response_class=Response,
        responses={200: {"content": {documents.XLSX: {}}}, **_refusal_responses(404)},
    )
    async def results_workbook(period: PeriodPath) -> Response:
        made = await _made(period)
        name = f"{period}考核结果表（{made.mark}）.xlsx"
        return _document(documents.results_workbook(made), documents.XLSX, name)

    @api.get(
        "/periods/{period}/documents/notice.docx",
        tags=["documents"],
        summary="The draft 通报 of the results (DOCX), for the office to edit and issue",
        dependencies=[allow(Role.VIEWER)],
        response_class=Response,
        responses={200: {"content": {documents.DOCX: {}}}, **_refusal_responses(404)},
    )
    async def notice(period: PeriodPath) -> Response:
        made = await _made(period)
        name = f"{period}考核结果通报（{made.mark}）.docx"
        return _document(documents.notice_draft(made), documents.DOCX, name)

    @api.get(
        "/units/{unit}/documents/{period}/result-sheet.docx",
        tags=["documents"],
        summary="A unit's result sheet (DOCX) to attach to its 述职",
        dependencies=[own_unit(*EVERYONE)],
        response_class=Response,
        responses={200: {"content": {documents.DOCX: {}}}, **_refusal_responses(404)},
    )
    async def result_sheet(unit: UnitPath, period: PeriodPath) -> Response:
        made = await _made(period, unit)
        name = f"{period}-{unit}考核结果表（{made.mark}）.docx"
        return _document(documents.unit_sheet(made, unit), documents.DOCX, name)
