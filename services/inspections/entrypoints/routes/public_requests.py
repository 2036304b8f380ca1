"""Public requests (12345 hotline, mailboxes, …) and their monthly indicators."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inspections import PERIOD_PATTERN, ClueKind, PublicRequestStep
from contracts.reasons import Reason
from services.inspections.adapters import repository
from services.inspections.adapters.tables import PublicRequest
from services.inspections.domain.actors import Actor
from services.inspections.domain.calendar import Period
from services.inspections.domain.public_requests import RequestState, permission_refusal
from services.inspections.domain.refusals import Refusal
from services.inspections.entrypoints.common import (
    NOT_FOUND,
    PROBLEMS,
    ItemIdPath,
    Limit,
    UnitPath,
    UnitQuery,
    acting_as,
    command,
    not_found,
    problem,
)
from services.inspections.entrypoints.views import IndicatorsView, PublicRequestView
from services.inspections.handlers import public_requests as handlers
from services.inspections.handlers.context import Context
from services.inspections.handlers.indicators import indicators_of
from services.runtime.auth import EVERYONE, READERS, Principal, Role, allow
from services.runtime.http import Offset
from services.runtime.service import ServiceRuntime

PeriodQuery = Annotated[str, Query(pattern=PERIOD_PATTERN, examples=["2026-03"])]


class ReportStep(BaseModel):
    """Request: one step of a public request, as the NATS command carries it, with the actor."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actor: Actor
    step: PublicRequestStep


async def request_views(
    session: AsyncSession, rows: list[PublicRequest], ctx: Context
) -> list[PublicRequestView]:
    kind = ClueKind.PUBLIC_REQUEST.value
    cited = await repository.citing_findings(session, kind, [r.request_id for r in rows])
    now = ctx.clock()
    return [PublicRequestView.of(r, ctx.reference, now, cited[r.request_id]) for r in rows]


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(tags=["public requests"])

    @api.post(
        "/units/{unit}/public-requests/{request_id}/steps",
        responses=PROBLEMS,
        status_code=201,
        summary="Report a step of a public request: received (201), closed, rated or reopened",
    )
    async def post_step(
        unit: UnitPath,
        request_id: ItemIdPath,
        body: ReportStep,
        response: Response,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> PublicRequestView:
        who.check_unit(unit)
        body = body.model_copy(update={"actor": acting_as(who, body.actor)})
        if refusal := permission_refusal(body.actor, body.step, unit):
            raise problem(refusal)

        async def work(session: AsyncSession) -> tuple[bool, PublicRequestView] | Refusal:
            outcome = await handlers.record_step(
                session, request_id, unit, body.step, body.actor, ctx, via="http"
            )
            if isinstance(outcome, Refusal):
                return outcome
            return outcome.created, (await request_views(session, [outcome.request], ctx))[0]

        created, view = await command(runtime, work)
        response.status_code = 201 if created else 200
        response.headers["Location"] = f"/v1/public-requests/{request_id}"
        return view

    @api.get("/public-requests", summary="Public requests, newest first, filtered")
    async def list_requests(
        unit: UnitQuery = None,
        state: RequestState | None = None,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[PublicRequestView]:
        async with runtime.db.session() as session:
            rows = await repository.list_requests(
                session,
                who.scope(unit),
                state.value if state else None,
                received_from,
                received_before,
                limit,
                offset,
            )
            return await request_views(session, rows, ctx)

    @api.get(
        "/public-requests/{request_id}",
        responses=NOT_FOUND,
        summary="One public request, with the findings that cite it as a clue",
    )
    async def get_request(
        request_id: ItemIdPath, who: Principal = allow(*EVERYONE)
    ) -> PublicRequestView:
        async with runtime.db.session() as session:
            row = await repository.find_request(session, request_id)
            if row is None or not who.sees(row.unit):
                raise not_found(Reason.UNKNOWN_PUBLIC_REQUEST, request_id)
            return (await request_views(session, [row], ctx))[0]

    @api.get(
        "/units/{unit}/indicators",
        summary="A unit's public-service indicators for a month, computed from what is on record",
    )
    async def unit_indicators(
        unit: UnitPath, period: PeriodQuery, who: Principal = allow(*EVERYONE)
    ) -> IndicatorsView:
        who.check_unit(unit)
        if ctx.reference.unit(unit) is None:
            raise not_found(Reason.UNKNOWN_UNIT, unit)
        month = Period.parse(period)
        async with runtime.db.session() as session:
            indicators = await indicators_of(session, unit, month)
            published = await repository.published_periods(session, unit, month.label)
        revision = published[0].revision if published else 0
        return IndicatorsView.of(unit, month.label, indicators, ctx.reference, revision)

    @api.get(
        "/indicators",
        summary="Every unit's public-service indicators for a month",
        dependencies=[allow(*READERS)],
    )
    async def all_indicators(period: PeriodQuery) -> list[IndicatorsView]:
        month = Period.parse(period)
        async with runtime.db.session() as session:
            published = {
                p.unit: p.revision
                for p in await repository.published_periods(session, None, month.label)
            }
            return [
                IndicatorsView.of(
                    unit,
                    month.label,
                    await indicators_of(session, unit, month),
                    ctx.reference,
                    published.get(unit, 0),
                )
                for unit in ctx.reference.ranked_units()
            ]

    return api
