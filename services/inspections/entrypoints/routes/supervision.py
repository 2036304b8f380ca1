"""Public supervisors (监督员): the roster with its terms, and their suggestions."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inspections import ITEM_ID_PATTERN
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Suggestion, Supervisor
from services.inspections.domain.refusals import Refusal, RefusalCode
from services.inspections.domain.supervision import (
    AddTerm,
    AnswerSuggestion,
    EnterSupervisor,
    ExitSupervisor,
    FileSuggestion,
    SuggestionFeedback,
    SuggestionState,
)
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
from services.inspections.entrypoints.views import SuggestionView, SupervisorView
from services.inspections.handlers import supervision as handlers
from services.inspections.handlers.context import Context
from services.runtime.auth import EVERYONE, Principal, Role, allow
from services.runtime.http import Offset
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter()
    _roster_routes(api, runtime, ctx)
    _suggestion_routes(api, runtime, ctx)
    return api


async def supervisor_views(
    session: AsyncSession, rows: list[Supervisor], ctx: Context
) -> list[SupervisorView]:
    terms = await repository.terms_of(session, [r.id for r in rows if r.id is not None])
    today = local_date(ctx.clock())
    return [
        SupervisorView.of(row, [t for t in terms if t.supervisor_pk == row.id], today)
        for row in rows
    ]


async def suggestion_views(
    session: AsyncSession, rows: list[Suggestion], ctx: Context
) -> list[SuggestionView]:
    supervisors = await repository.supervisors_by_pk(session, (r.supervisor_pk for r in rows))
    today = local_date(ctx.clock())
    return [
        SuggestionView.of(row, supervisors[row.supervisor_pk], ctx.reference, today) for row in rows
    ]


def _roster_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    async def view_of(session: AsyncSession, supervisor: Supervisor) -> SupervisorView:
        return (await supervisor_views(session, [supervisor], ctx))[0]

    @api.post(
        "/supervisors",
        responses=PROBLEMS,
        tags=["supervisors"],
        status_code=201,
        summary="Enter a supervisor on the roster with a first term (201, 200 when retried)",
    )
    async def enter(
        request: EnterSupervisor, response: Response, who: Principal = allow()
    ) -> SupervisorView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> tuple[bool, SupervisorView] | Refusal:
            outcome = await handlers.enter_supervisor(session, request, ctx)
            if isinstance(outcome, Refusal):
                return outcome
            return outcome.duplicate, await view_of(session, outcome.supervisor)

        duplicate, view = await command(runtime, work)
        response.status_code = 200 if duplicate else 201
        response.headers["Location"] = f"/v1/supervisors/{request.supervisor_id}"
        return view

    @api.get(
        "/supervisors",
        tags=["supervisors"],
        summary="The roster, by supervisor id",
        dependencies=[allow(*EVERYONE)],
    )
    async def roster(
        serving: Annotated[bool | None, Query(description="Only those serving today")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[SupervisorView]:
        async with runtime.db.session() as session:
            # The roster is small: filter on the derived `serving` in memory, then page.
            views = await supervisor_views(session, await repository.all_supervisors(session), ctx)
        chosen = [v for v in views if serving is None or v.serving == serving]
        return chosen[offset : offset + limit]

    @api.get(
        "/supervisors/{supervisor_id}",
        responses=NOT_FOUND,
        tags=["supervisors"],
        summary="One supervisor",
        dependencies=[allow(*EVERYONE)],
    )
    async def get_supervisor(supervisor_id: ItemIdPath) -> SupervisorView:
        async with runtime.db.session() as session:
            row = await repository.find_supervisor(session, supervisor_id)
            if row is None:
                raise not_found(RefusalCode.UNKNOWN_SUPERVISOR, supervisor_id)
            return await view_of(session, row)

    @api.post(
        "/supervisors/{supervisor_id}/terms",
        responses=PROBLEMS,
        tags=["supervisors"],
        summary="Re-appoint a supervisor for a new term (also after an exit)",
    )
    async def add_term(
        supervisor_id: ItemIdPath, request: AddTerm, who: Principal = allow()
    ) -> SupervisorView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> SupervisorView | Refusal:
            outcome = await handlers.add_term(session, supervisor_id, request, ctx)
            return outcome if isinstance(outcome, Refusal) else await view_of(session, outcome)

        return await command(runtime, work)

    @api.post(
        "/supervisors/{supervisor_id}/exit",
        responses=PROBLEMS,
        tags=["supervisors"],
        summary="End a supervisor's current term early (退出)",
    )
    async def exit_roster(
        supervisor_id: ItemIdPath, request: ExitSupervisor, who: Principal = allow()
    ) -> SupervisorView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> SupervisorView | Refusal:
            outcome = await handlers.exit_supervisor(session, supervisor_id, request, ctx)
            return outcome if isinstance(outcome, Refusal) else await view_of(session, outcome)

        return await command(runtime, work)


def _suggestion_routes(api: APIRouter, runtime: ServiceRuntime, ctx: Context) -> None:
    async def view_of(session: AsyncSession, suggestion: Suggestion) -> SuggestionView:
        return (await suggestion_views(session, [suggestion], ctx))[0]

    @api.post(
        "/suggestions",
        responses=PROBLEMS,
        tags=["suggestions"],
        status_code=201,
        summary="File a supervisor's suggestion and assign it to a unit (201, 200 when retried)",
    )
    async def file(
        request: FileSuggestion,
        response: Response,
        who: Principal = allow(Role.SUPERVISOR),
    ) -> SuggestionView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> tuple[bool, SuggestionView] | Refusal:
            outcome = await handlers.file_suggestion(session, request, ctx)
            if isinstance(outcome, Refusal):
                return outcome
            return outcome.duplicate, await view_of(session, outcome.suggestion)

        duplicate, view = await command(runtime, work)
        response.status_code = 200 if duplicate else 201
        response.headers["Location"] = f"/v1/suggestions/{request.suggestion_id}"
        return view

    @api.get(
        "/suggestions",
        responses=NOT_FOUND,  # an unknown supervisor_id
        tags=["suggestions"],
        summary="Suggestions, newest first",
    )
    async def list_suggestions(
        unit: UnitQuery = None,
        supervisor_id: Annotated[str | None, Query(pattern=ITEM_ID_PATTERN)] = None,
        state: SuggestionState | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[SuggestionView]:
        unit = who.scope(unit)
        async with runtime.db.session() as session:
            supervisor_pk = None
            if supervisor_id is not None:
                supervisor = await repository.find_supervisor(session, supervisor_id)
                if supervisor is None:
                    raise not_found(RefusalCode.UNKNOWN_SUPERVISOR, supervisor_id)
                supervisor_pk = supervisor.id
            rows = await repository.list_suggestions(
                session, unit, supervisor_pk, state.value if state else None, limit, offset
            )
            return await suggestion_views(session, rows, ctx)

    @api.get(
        "/suggestions/{suggestion_id}",
        responses=NOT_FOUND,
        tags=["suggestions"],
        summary="One suggestion",
    )
    async def get_suggestion(
        suggestion_id: ItemIdPath, who: Principal = allow(*EVERYONE)
    ) -> SuggestionView:
        async with runtime.db.session() as session:
            row = await repository.find_suggestion(session, suggestion_id)
            if row is None or not who.sees(row.unit):
                raise not_found(RefusalCode.UNKNOWN_SUGGESTION, suggestion_id)
            return await view_of(session, row)

    @api.post(
        "/suggestions/{suggestion_id}/answer",
        responses=PROBLEMS,
        tags=["suggestions"],
        summary="The assigned unit answers the suggestion",
    )
    async def answer(
        suggestion_id: ItemIdPath,
        request: AnswerSuggestion,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> SuggestionView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> SuggestionView | Refusal:
            row = await repository.find_suggestion(session, suggestion_id)
            if row is not None and not who.sees(row.unit):
                return handlers.unknown_suggestion(suggestion_id)
            outcome = await handlers.answer_suggestion(session, suggestion_id, request, ctx)
            return outcome if isinstance(outcome, Refusal) else await view_of(session, outcome)

        return await command(runtime, work)

    @api.post(
        "/suggestions/{suggestion_id}/feedback",
        responses=PROBLEMS,
        tags=["suggestions"],
        summary="The supervisor's verdict on the answer: settled, or answer again by a date",
    )
    async def feedback(
        suggestion_id: ItemIdPath,
        request: SuggestionFeedback,
        who: Principal = allow(Role.SUPERVISOR),
    ) -> SuggestionView:
        request = request.model_copy(update={"actor": acting_as(who, request.actor)})

        async def work(session: AsyncSession) -> SuggestionView | Refusal:
            outcome = await handlers.record_feedback(session, suggestion_id, request, ctx)
            return outcome if isinstance(outcome, Refusal) else await view_of(session, outcome)

        return await command(runtime, work)
