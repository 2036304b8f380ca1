"""Inspections, their findings and each step of a rectification."""

from datetime import datetime

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inspections import ClueKind
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Finding, Inspection
from services.inspections.domain.findings import (
    FINDING_ITEMS,
    CloseRectification,
    FileRectificationPlan,
    RaiseFinding,
    ReopenRectification,
    ReturnRectification,
    SubmitRectification,
    Transition,
)
from services.inspections.domain.inspections import FileInspection
from services.inspections.domain.refusals import Refusal, RefusalCode
from services.inspections.entrypoints.common import (
    NOT_FOUND,
    PROBLEMS,
    ItemIdPath,
    Limit,
    UnitQuery,
    acting_as,
    command,
    not_found,
)
from services.inspections.entrypoints.views import (
    FindingDetail,
    FindingView,
    InspectionView,
    JournalEntryView,
    MissedDeadlineView,
    SubmissionView,
)
from services.inspections.handlers import findings as finding_handlers
from services.inspections.handlers import inspections as inspection_handlers
from services.inspections.handlers.context import Context
from services.runtime.auth import EVERYONE, READERS, Principal, Role, allow
from services.runtime.http import Offset
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date


async def finding_views(
    session: AsyncSession, rows: list[Finding], ctx: Context, now: datetime
) -> list[FindingView]:
    inspections = await repository.inspections_by_pk(session, (r.inspection_pk for r in rows))
    listed = await repository.listed_items(session, FINDING_ITEMS, (r.finding_id for r in rows))
    today = local_date(now)
    return [
        FindingView.of(
            r, inspections[r.inspection_pk], ctx.reference, today, r.finding_id in listed
        )
        for r in rows
    ]


async def finding_detail(session: AsyncSession, row: Finding, ctx: Context) -> FindingDetail:
    assert row.id is not None
    inspection = await session.get(Inspection, row.inspection_pk)
    assert inspection is not None
    listed = await repository.listed_items(session, FINDING_ITEMS, [row.finding_id])
    view = FindingView.of(row, inspection, ctx.reference, local_date(ctx.clock()), bool(listed))
    submissions = [SubmissionView.of(s) for s in await repository.submissions_of(session, row.id)]
    return FindingDetail(**view.model_dump(), submissions=submissions)


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter()
    _inspection_routes(api, runtime, ctx)
    _finding_routes(api, runtime, ctx)
    _rectification_routes(api, runtime, ctx)
    return api


def _inspection_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    @api.post(
        "/inspections",
        responses=PROBLEMS,
        tags=["inspections"],
        status_code=201,
        summary="File an inspection (201 created, 200 when the same inspection is retried)",
    )
    async def post_inspection(
        request: FileInspection,
        response: Response,
        who: Principal = allow(Role.INSPECTOR),
    ) -> InspectionView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> inspection_handlers.Filed | Refusal:
            return await inspection_handlers.file_inspection(session, request, ctx)

        outcome = await command(runtime, work)
        response.status_code = 200 if outcome.duplicate else 201
        response.headers["Location"] = f"/v1/inspections/{request.inspection_id}"
        return InspectionView.of(outcome.inspection)

    @api.get(
        "/inspections",
        tags=["inspections"],
        summary="Inspections, newest first, optionally of one target unit",
    )
    async def list_inspections(
        unit: UnitQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[InspectionView]:
        async with runtime.db.session() as session:
            rows = await repository.list_inspections(session, who.scope(unit), limit, offset)
        return [InspectionView.of(row) for row in rows]

    @api.get(
        "/inspections/{inspection_id}",
        responses=NOT_FOUND,
        tags=["inspections"],
        summary="One inspection",
    )
    async def get_inspection(
        inspection_id: ItemIdPath, who: Principal = allow(*EVERYONE)
    ) -> InspectionView:
        async with runtime.db.session() as session:
            row = await repository.find_inspection(session, inspection_id)
        if row is None or not who.sees(*row.target_units):
            raise not_found(RefusalCode.UNKNOWN_INSPECTION, inspection_id)
        return InspectionView.of(row)

    @api.get(
        "/inspections/{inspection_id}/findings",
        responses=NOT_FOUND,
        tags=["findings"],
        summary="The findings raised in one inspection",
        dependencies=[allow(*READERS)],
    )
    async def inspection_findings(inspection_id: ItemIdPath) -> list[FindingView]:
        async with runtime.db.session() as session:
            inspection = await repository.find_inspection(session, inspection_id)
            if inspection is None or inspection.id is None:
                raise not_found(RefusalCode.UNKNOWN_INSPECTION, inspection_id)
            rows = await repository.findings_of_inspection(session, inspection.id)
            return await finding_views(session, rows, ctx, ctx.clock())


def _finding_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    @api.post(
        "/inspections/{inspection_id}/findings",
        responses=PROBLEMS,
        tags=["findings"],
        status_code=201,
        summary="Raise a finding against one target unit (201 created, 200 when retried)",
    )
    async def post_finding(
        inspection_id: ItemIdPath,
        request: RaiseFinding,
        response: Response,
        who: Principal = allow(Role.INSPECTOR),
    ) -> FindingDetail:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> tuple[bool, FindingDetail] | Refusal:
            outcome = await finding_handlers.raise_finding(session, inspection_id, request, ctx)
            if isinstance(outcome, Refusal):
                return outcome
            return outcome.duplicate, await finding_detail(session, outcome.finding, ctx)

        duplicate, view = await command(runtime, work)
        response.status_code = 200 if duplicate else 201
        response.headers["Location"] = f"/v1/findings/{request.finding_id}"
        return view

    @api.get(
        "/findings/{finding_id}",
        responses=NOT_FOUND,
        tags=["findings"],
        summary="One finding with its rectification state and every submission",
    )
    async def get_finding(
        finding_id: ItemIdPath, who: Principal = allow(*EVERYONE)
    ) -> FindingDetail:
        async with runtime.db.session() as session:
            row = await repository.find_finding(session, finding_id)
            if row is None or not who.sees(row.unit):
                raise not_found(RefusalCode.UNKNOWN_FINDING, finding_id)
            return await finding_detail(session, row, ctx)

    @api.get(
        "/clues/{kind}/{ref}/findings",
        tags=["findings"],
        summary="The findings that cite a clue: from a complaint to its rectification",
        dependencies=[allow(*READERS)],
    )
    async def findings_citing(kind: ClueKind, ref: ItemIdPath) -> list[FindingView]:
        async with runtime.db.session() as session:
            rows = await repository.findings_citing(session, kind.value, ref)
            return await finding_views(session, rows, ctx, ctx.clock())

    @api.get(
        "/missed-deadlines",
        tags=["findings"],
        summary="Missed deadlines seen on the bus (any service), to cite as clues",
    )
    async def missed_deadlines(
        unit: UnitQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[MissedDeadlineView]:
        async with runtime.db.session() as session:
            rows = await repository.list_missed_deadlines(session, who.scope(unit), limit, offset)
        return [MissedDeadlineView.of(row, ctx.reference) for row in rows]

    @api.get(
        "/findings/{finding_id}/journal",
        responses=NOT_FOUND,
        tags=["ledger"],
        summary="Every change to one finding: who, when, what, from which state to which",
    )
    async def finding_journal(
        finding_id: ItemIdPath, who: Principal = allow(*EVERYONE)
    ) -> list[JournalEntryView]:
        async with runtime.db.session() as session:
            finding = await repository.find_finding(session, finding_id)
            if finding is None or not who.sees(finding.unit):
                raise not_found(RefusalCode.UNKNOWN_FINDING, finding_id)
            rows = await repository.journal(session, "finding", finding_id, None, 0, 10_000)
        return [JournalEntryView.of(row) for row in rows]


def _rectification_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    async def step(finding_id: str, request: Transition, who: Principal) -> FindingDetail:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> FindingDetail | Refusal:
            row = await repository.find_finding(session, finding_id)
            if row is not None and not who.sees(row.unit):
                return finding_handlers.unknown_finding(finding_id)
            outcome = await finding_handlers.change_rectification(session, finding_id, request, ctx)
            if isinstance(outcome, Refusal):
                return outcome
            return await finding_detail(session, outcome, ctx)

        return await command(runtime, work)

    @api.post(
        "/findings/{finding_id}/plan",
        responses=PROBLEMS,
        tags=["rectification"],
        summary="The responsible unit files its 整改方案: measures, leader, person, milestones",
    )
    async def file_plan(
        finding_id: ItemIdPath,
        request: FileRectificationPlan,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> FindingDetail:
        return await step(finding_id, request, who)

    @api.post(
        "/findings/{finding_id}/submissions",
        responses=PROBLEMS,
        tags=["rectification"],
        summary="The responsible unit submits its rectification with evidence",
    )
    async def submit(
        finding_id: ItemIdPath,
        request: SubmitRectification,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> FindingDetail:
        return await step(finding_id, request, who)

    @api.post(
        "/findings/{finding_id}/close",
        responses=PROBLEMS,
        tags=["rectification"],
        summary="验收 passed with a written opinion, 销号 approved by a named leader",
    )
    async def close(
        finding_id: ItemIdPath,
        request: CloseRectification,
        who: Principal = allow(Role.INSPECTOR, Role.OFFICE_ADMIN),
    ) -> FindingDetail:
        return await step(finding_id, request, who)

    @api.post(
        "/findings/{finding_id}/return",
        responses=PROBLEMS,
        tags=["rectification"],
        summary="验收 not passed: the opinion says why; optionally a new deadline",
    )
    async def send_back(
        finding_id: ItemIdPath,
        request: ReturnRectification,
        who: Principal = allow(Role.INSPECTOR, Role.OFFICE_ADMIN),
    ) -> FindingDetail:
        return await step(finding_id, request, who)

    @api.post(
        "/findings/{finding_id}/reopen",
        responses=PROBLEMS,
        tags=["rectification"],
        summary="反弹: reopen a closed item with a new deadline; the loop restarts",
    )
    async def reopen(
        finding_id: ItemIdPath,
        request: ReopenRectification,
        who: Principal = allow(Role.INSPECTOR, Role.OFFICE_ADMIN),
    ) -> FindingDetail:
        return await step(finding_id, request, who)
