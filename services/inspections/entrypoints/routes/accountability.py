"""挂牌督办, 约谈 and 问责: recorded by the office, read by everyone (a unit sees its own)."""

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspections.adapters import repository
from services.inspections.adapters.tables import AccountabilityDecision, Interview
from services.inspections.domain.accountability import (
    DelistItem,
    ListItem,
    RecordAccountability,
    RecordInterview,
)
from services.inspections.domain.refusals import Refusal
from services.inspections.entrypoints.common import (
    PROBLEMS,
    ItemIdPath,
    Limit,
    UnitQuery,
    acting_as,
    command,
)
from services.inspections.entrypoints.views import AccountabilityView, InterviewView, ListingView
from services.inspections.handlers import accountability as handlers
from services.inspections.handlers.accountability import Recorded
from services.inspections.handlers.context import Context
from services.runtime.auth import EVERYONE, Principal, Role, allow
from services.runtime.http import Offset
from services.runtime.service import ServiceRuntime

OFFICE_ONLY = allow(Role.OFFICE_ADMIN)


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(tags=["accountability"])
    _listing_routes(api, runtime, ctx)
    _record_routes(api, runtime, ctx)
    return api


def _created(response: Response, outcome: Recorded, location: str) -> None:
    response.status_code = 200 if outcome.duplicate else 201
    response.headers["Location"] = location


def _listing_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    @api.post(
        "/supervision-listings",
        responses=PROBLEMS,
        status_code=201,
        summary="挂牌督办: put an open item under listed supervision (201, 200 when retried)",
    )
    async def post_listing(
        request: ListItem, response: Response, who: Principal = OFFICE_ONLY
    ) -> ListingView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> Recorded | Refusal:
            return await handlers.list_item(session, request, ctx)

        outcome = await command(runtime, work)
        _created(response, outcome, f"/v1/supervision-listings/{request.listing_id}")
        return ListingView.of(outcome.row, ctx.reference)

    @api.post(
        "/supervision-listings/{listing_id}/delist",
        responses=PROBLEMS,
        summary="摘牌: lift a listing",
    )
    async def delist(
        listing_id: ItemIdPath, request: DelistItem, who: Principal = OFFICE_ONLY
    ) -> ListingView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> ListingView | Refusal:
            outcome = await handlers.delist_item(session, listing_id, request, ctx)
            return (
                outcome if isinstance(outcome, Refusal) else ListingView.of(outcome, ctx.reference)
            )

        return await command(runtime, work)

    @api.get("/supervision-listings", summary="Listings, newest first; `active` to filter")
    async def get_listings(
        unit: UnitQuery = None,
        active: bool | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[ListingView]:
        async with runtime.db.session() as session:
            rows = await repository.listings(session, who.scope(unit), active, limit, offset)
        return [ListingView.of(row, ctx.reference) for row in rows]


def _record_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    @api.post(
        "/interviews",
        responses=PROBLEMS,
        status_code=201,
        summary="约谈: record a talk with a unit's leaders (201, 200 when retried)",
    )
    async def post_interview(
        request: RecordInterview, response: Response, who: Principal = OFFICE_ONLY
    ) -> InterviewView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> Recorded | Refusal:
            return await handlers.record_interview(session, request, ctx)

        outcome = await command(runtime, work)
        _created(response, outcome, f"/v1/interviews/{request.interview_id}")
        return InterviewView.of(outcome.row, ctx.reference)

    @api.get("/interviews", summary="约谈 on record, newest first")
    async def get_interviews(
        unit: UnitQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[InterviewView]:
        async with runtime.db.session() as session:
            rows = await repository.records_of(session, Interview, who.scope(unit), limit, offset)
        return [InterviewView.of(row, ctx.reference) for row in rows]

    @api.post(
        "/accountability",
        responses=PROBLEMS,
        status_code=201,
        summary="问责: record an accountability decision with its document (201, 200 when retried)",
    )
    async def post_accountability(
        request: RecordAccountability, response: Response, who: Principal = OFFICE_ONLY
    ) -> AccountabilityView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> Recorded | Refusal:
            return await handlers.record_accountability(session, request, ctx)

        outcome = await command(runtime, work)
        _created(response, outcome, f"/v1/accountability/{request.decision_id}")
        return AccountabilityView.of(outcome.row, ctx.reference)

    @api.get("/accountability", summary="问责 decisions on record, newest first")
    async def get_accountability(
        unit: UnitQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[AccountabilityView]:
        async with runtime.db.session() as session:
            rows = await repository.records_of(
                session, AccountabilityDecision, who.scope(unit), limit, offset
            )
        return [AccountabilityView.of(row, ctx.reference) for row in rows]
