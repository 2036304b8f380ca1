"""HTTP routes for assignments and obligations, change requests and recognitions."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import UNIT_CODE_PATTERN
from services.measures.adapters import repository
from services.measures.adapters.tables import Assignment, ChangeRequest
from services.measures.domain.assignments import CreateAssignment, CreateObligations
from services.measures.domain.errors import Code
from services.measures.domain.requests import DecideChange, RecordAchievement, RequestChange
from services.measures.entrypoints.http.problems import not_found, refused, transact
from services.measures.entrypoints.http.views import (
    AchievementView,
    AssignmentView,
    ChangeRequestView,
    ReportView,
    status_of,
    view_of,
)
from services.measures.handlers import assignments, review
from services.measures.handlers.common import Context
from services.measures.settings import MeasuresSettings
from services.runtime.auth import EVERYONE, Principal, Role, allow
from services.runtime.http import Offset
from services.runtime.service import ServiceRuntime

KeyPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
UnitQuery = Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The id exists with other content"}
}


class ObligationCreated(BaseModel):
    assignment_id: str
    unit: str
    created: bool


async def visible_assignment(
    session: AsyncSession, assignment_id: str, who: Principal
) -> Assignment:
    """The assignment, or 404 when there is none or it is another unit's (a unit reporter sees
    those of which its unit is the lead or a co-operating unit)."""
    row = await repository.find_assignment(session, assignment_id)
    if row is None or not who.sees(row.lead_unit, *row.co_units):
        raise refused(review.unknown_assignment(assignment_id))
    return row


def router(runtime: ServiceRuntime, ctx: Context, settings: MeasuresSettings) -> APIRouter:
    api = APIRouter()

    async def view(row: Assignment) -> AssignmentView:
        assert row.id is not None
        async with runtime.db.session() as session:
            milestones = await repository.milestones_of(session, [row.id])
        status = status_of(
            row,
            milestones,
            ctx.clock(),
            settings.status_warn_days,
            settings.status_tolerance_percent,
        )
        return view_of(row, milestones, status)

    @api.post(
        "/assignments",
        tags=["assignments"],
        status_code=201,
        summary="Assign a measure, target or sub-task to a lead unit and co-operating units, "
        "with milestones or a recurrence rule (201 created, 200 the same request again)",
        responses={**CONFLICT, 422: {"description": "Invalid assignment, with a code"}},
    )
    async def create(
        request: CreateAssignment, response: Response, who: Principal = allow()
    ) -> AssignmentView:
        request = request.model_copy(update={"created_by": who.subject})
        created = await transact(runtime, lambda s: assignments.create_assignment(s, request, ctx))
        response.status_code = 200 if created.duplicate else 201
        response.headers["Location"] = f"/v1/assignments/{request.assignment_id}"
        return await view(created.assignment)

    @api.get("/assignments/{assignment_id}", tags=["assignments"])
    async def get_assignment(
        assignment_id: KeyPath, who: Principal = allow(*EVERYONE)
    ) -> AssignmentView:
        async with runtime.db.session() as session:
            row = await visible_assignment(session, assignment_id, who)
        return await view(row)

    @api.get(
        "/assignments/{assignment_id}/progress-reports",
        tags=["assignments"],
        summary="Every report on an assignment, oldest first",
    )
    async def assignment_reports(
        assignment_id: KeyPath, who: Principal = allow(*EVERYONE)
    ) -> list[ReportView]:
        async with runtime.db.session() as session:
            row = await visible_assignment(session, assignment_id, who)
            assert row.id is not None
            reports = await repository.reports_of_assignment(session, row.id)
        return [ReportView.of(r) for r in reports]

    @api.post(
        "/obligations",
        tags=["assignments"],
        summary="Create a standard recurring obligation (weekly feature report, half-yearly "
        "bottleneck round, annual plan, annual report, national recognition) for units",
        responses={**CONFLICT, 422: {"description": "Invalid request"}},
    )
    async def obligations(
        request: CreateObligations, who: Principal = allow()
    ) -> list[ObligationCreated]:
        request = request.model_copy(update={"created_by": who.subject})
        created = await transact(runtime, lambda s: assignments.create_obligations(s, request, ctx))
        return [
            ObligationCreated(
                assignment_id=c.assignment.assignment_id,
                unit=c.assignment.lead_unit,
                created=not c.duplicate,
            )
            for c in created
        ]

    @api.post(
        "/assignments/{assignment_id}/change-requests",
        tags=["change requests"],
        status_code=201,
        summary="A unit asks for a deadline extension or a change (201 new, 200 the same again)",
        responses={
            **CONFLICT,
            404: {"description": "No such assignment or milestone"},
            422: {"description": "Invalid request"},
        },
    )
    async def request_change(
        assignment_id: KeyPath,
        request: RequestChange,
        response: Response,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> ChangeRequestView:
        who.check_unit(request.unit)
        request = request.model_copy(update={"requested_by": who.subject})

        async def work(session: AsyncSession) -> tuple[ChangeRequest, bool]:
            await visible_assignment(session, assignment_id, who)
            return await review.request_change(session, assignment_id, request, ctx)

        row, created = await transact(runtime, work)
        response.status_code = 201 if created else 200
        return ChangeRequestView.of(row)

    @api.get("/change-requests", tags=["change requests"])
    async def change_requests(
        status: Annotated[str | None, Query(pattern="^(pending|approved|refused)$")] = None,
        unit: UnitQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[ChangeRequestView]:
        async with runtime.db.session() as session:
            rows = await repository.change_requests(session, status, who.scope(unit), limit, offset)
        return [ChangeRequestView.of(r) for r in rows]

    @api.get("/change-requests/{request_id}", tags=["change requests"])
    async def change_request(
        request_id: KeyPath, who: Principal = allow(*EVERYONE)
    ) -> ChangeRequestView:
        async with runtime.db.session() as session:
            row = await repository.find_change_request(session, request_id)
        if row is None or not who.sees(row.unit):
            raise not_found(
                Code.REQUEST_NOT_FOUND,
                f"没有编号为 {request_id} 的变更申请",
                f"no change request {request_id!r}",
            )
        return ChangeRequestView.of(row)

    @api.post(
        "/change-requests/{request_id}/decision",
        tags=["change requests"],
        summary="The office approves (and applies) or refuses a request",
        responses={
            404: {"description": "No such request"},
            409: {"description": "Already decided otherwise"},
            422: {"description": "A refusal without a reason"},
        },
    )
    async def decide(
        request_id: KeyPath, decision: DecideChange, who: Principal = allow()
    ) -> ChangeRequestView:
        decision = decision.model_copy(update={"decided_by": who.subject})
        row, _changed = await transact(
            runtime, lambda s: review.decide_change(s, request_id, decision, ctx)
        )
        return ChangeRequestView.of(row)

    @api.post(
        "/achievements",
        tags=["recognition"],
        status_code=201,
        summary="Record a national recognition, national pilot, State Council incentive or "
        "demonstration title (201 new, 200 the same again)",
        responses={**CONFLICT, 422: {"description": "Invalid record"}},
    )
    async def record(
        request: RecordAchievement, response: Response, who: Principal = allow()
    ) -> AchievementView:
        request = request.model_copy(update={"recorded_by": who.subject})
        row, created = await transact(runtime, lambda s: review.record_achievement(s, request, ctx))
        response.status_code = 201 if created else 200
        return AchievementView.of(row)

    @api.get("/achievements", tags=["recognition"])
    async def achievements(
        unit: UnitQuery = None,
        year: Annotated[int | None, Query(ge=2022, le=2100)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[AchievementView]:
        async with runtime.db.session() as session:
            rows = await repository.achievements(session, who.scope(unit), year, limit, offset)
        return [AchievementView.of(r) for r in rows]

    return api
