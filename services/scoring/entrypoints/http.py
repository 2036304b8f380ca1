"""HTTP routes of the scoring service: cards, rankings, periods and rubrics. Routes translate
requests into handler and view calls; every refusal is a problem with a stable code."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Instant, Name, Text
from contracts.envelope import UNIT_CODE_PATTERN
from contracts.reasons import REASON_TEXT, Reason
from contracts.scoring import RankingPublished
from services.runtime.auth import EVERYONE, Principal, Role, allow, own_unit
from services.runtime.http import Problem
from services.runtime.service import ServiceRuntime
from services.scoring.adapters import repository, stream
from services.scoring.domain.facts import FactKind
from services.scoring.domain.periods import PERIOD_PATTERN, Period, PeriodKind
from services.scoring.domain.progress import UnitProgress, summarise
from services.scoring.domain.rubric import RubricRefused, parse_rubric
from services.scoring.domain.scoring import LineItem
from services.scoring.entrypoints import views
from services.scoring.entrypoints.bus import DURABLES
from services.scoring.handlers import periods
from services.scoring.handlers.rulebook import RubricConflict, RubricNotNewer, RuleBook
from services.scoring.settings import ScoringSettings

UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]
PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="2026-03 (month), 2026-Q1 or 2026 (year)")
]
YearPath = Annotated[int, Path(ge=2022, le=2100)]
RUBRIC_MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "application/json")

# Exceptions of the domain and service layer -> (status, code, Chinese title, English title).
_PROBLEMS: dict[type[Exception], tuple[int, str, str, str]] = {
    views.UnknownUnit: (404, Reason.UNKNOWN_UNIT.value, *REASON_TEXT[Reason.UNKNOWN_UNIT]),
    periods.NoRubric: (404, "no_rubric", "该年度没有考核评分细则", "No rubric for this year"),
    views.UnknownRubricVersion: (
        404,
        "unknown_rubric_version",
        "评分细则版本不存在",
        "Unknown rubric version",
    ),
    views.UnknownRevision: (404, "unknown_revision", "该发布版次不存在", "Unknown revision"),
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
    except RubricRefused as refused:
        errors = [dict(zip(("loc", "msg"), e.split(": ", 1), strict=False)) for e in refused.errors]
        raise Problem(
            422,
            "rubric_invalid",
            "评分细则未通过校验，原版本继续有效",
            "The rubric is invalid; the rubric in force stays",
            detail=f"{len(errors)} problem(s)",
            errors=errors,
        ) from refused
    except tuple(_PROBLEMS) as exc:
        status, code, zh, en = _PROBLEMS[type(exc)]
        raise Problem(status, code, zh, en, detail=str(exc) or None) from exc


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closed_by: Name = Field(description="Who publishes, e.g. 市“五型”办 or a person's name.")
    note: Text = ""
    revise: bool = Field(
        default=False, description="Publish a new revision of an already published period."
    )


class Closed(BaseModel):
    period: str
    revision: int
    as_of: datetime
    rankings: list[RankingPublished]


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
    ends_at: datetime
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
    problems: list[str]


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
        effect: Annotated[Literal["deduction", "bonus"] | None, Query()] = None,
    ) -> list[LineItem]:
        async with _problems(), db.session() as session:
            view = await views.card_view(session, book, unit, Period.parse(period))
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
                session, book, Period.parse(period), peer_group, revision
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
        return PeriodView(
            period=chosen.label,
            status="closed" if rows else "open",
            ends_at=chosen.end,
            closures=[ClosureView.model_validate(r, from_attributes=True) for r in rows],
        )

    @api.post(
        "/periods/{period}/close",
        tags=["periods"],
        status_code=201,
        summary="Close a period: publish its rankings (RankingPublished per peer group)",
        description="Waits until scoring has processed every event already in the stream, then "
        "publishes the rankings as of now. Events that arrive later never change what was "
        "published; they show as late events on the cards until the office publishes a "
        "revision (`revise`).",
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
            )
        runtime.relay.notify()
        return Closed(
            period=chosen.label,
            revision=published[0].revision if published else 1,
            as_of=now,
            rankings=published,
        )

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
            RubricFile(file=name, loaded=not problems, problems=problems)
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
                detail=f"got {media or 'none'}; use one of {', '.join(RUBRIC_MEDIA_TYPES)}",
            )
        text = (await request.body()).decode("utf-8", errors="replace")
        async with _problems():
            rubric = parse_rubric(text, "api")
            if rubric.programme_year != year:
                mismatch = f"programme_year: {rubric.programme_year}, not {year} as in the address"
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
