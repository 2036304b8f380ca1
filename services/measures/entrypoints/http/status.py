"""HTTP routes for status: traffic lights per assignment and summaries per unit, measure and
type, overdue lists, the journal, and the ledger (台账) as a spreadsheet."""

from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import UNIT_CODE_PATTERN
from services.measures.adapters import repository
from services.measures.adapters.repository import AssignmentFilter
from services.measures.adapters.tables import Assignment, Milestone
from services.measures.domain.documents import write_rows
from services.measures.domain.status import Light, Status
from services.measures.entrypoints.http import ledger as ledger_sheet
from services.measures.entrypoints.http.views import (
    JournalView,
    OverdueItem,
    StatusCounts,
    StatusList,
    status_of,
    summary_of,
)
from services.measures.handlers.common import Context
from services.measures.settings import MeasuresSettings
from services.runtime.auth import EVERYONE, READERS, Principal, allow
from services.runtime.http import Offset, language
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date

MAX_ASSIGNMENTS = 20_000  # one status computation reads at most this many assignments


def filters(
    unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)] = None,
    measure: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")] = None,
    type: Annotated[str | None, Query(pattern=r"^[a-z]+$")] = None,
    year: Annotated[int | None, Query(ge=2022, le=2100)] = None,
    who: Principal = allow(*EVERYONE),
) -> AssignmentFilter:
    """Every role may filter; a unit reporter's filter is always its own unit."""
    return AssignmentFilter(unit=who.scope(unit), measure=measure, measure_type=type, year=year)


Filter = Annotated[AssignmentFilter, Depends(filters)]


def router(runtime: ServiceRuntime, ctx: Context, settings: MeasuresSettings) -> APIRouter:
    api = APIRouter(tags=["status"])

    async def assessed(
        session: AsyncSession, where: AssignmentFilter
    ) -> list[tuple[Assignment, list[Milestone], Status]]:
        rows = await repository.find_assignments(session, where, MAX_ASSIGNMENTS, 0)
        by_assignment: dict[int, list[Milestone]] = defaultdict(list)
        for m in await repository.milestones_of(session, (r.id for r in rows if r.id)):
            by_assignment[m.assignment_pk].append(m)
        now = ctx.clock()
        return [
            (
                r,
                by_assignment[r.id or 0],
                status_of(
                    r,
                    by_assignment[r.id or 0],
                    now,
                    settings.status_warn_days,
                    settings.status_tolerance_percent,
                ),
            )
            for r in rows
        ]

    @api.get(
        "/status",
        summary="Traffic lights of the assignments of a unit, a measure, a type or a year",
    )
    async def status(
        where: Filter,
        light: Light | None = None,
    ) -> StatusList:
        async with runtime.db.session() as session:
            found = await assessed(session, where)
        key = where.unit or where.measure or where.measure_type or str(where.year or "all")
        counts = StatusCounts(key=key)
        for _row, _milestones, s in found:
            counts.add(s.light)
        return StatusList(
            counts=counts,
            assignments=[summary_of(r, s) for r, _m, s in found if light in (None, s.light)],
        )

    @api.get(
        "/status/summary",
        summary="Green, yellow and red assignments counted per unit, per measure or per type",
        dependencies=[allow(*READERS)],
    )
    async def summary(
        by: Literal["unit", "measure", "type"],
        year: Annotated[int | None, Query(ge=2022, le=2100)] = None,
    ) -> list[StatusCounts]:
        async with runtime.db.session() as session:
            found = await assessed(session, AssignmentFilter(year=year))
            roles = await repository.roles_of(session, (r.id for r, _m, _s in found if r.id))
        groups: dict[str, StatusCounts] = {}
        for row, _milestones, s in found:
            keys = (
                list(roles[row.id or 0])
                if by == "unit"
                else [row.measure_root]
                if by == "measure"
                else [row.measure_type or "guarantee"]
            )
            for key in keys:
                groups.setdefault(key, StatusCounts(key=key)).add(s.light)
        return [groups[k] for k in sorted(groups)]

    @api.get("/overdue", summary="Open milestones and obligations past their due date")
    async def overdue(
        where: Filter,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Offset = 0,
    ) -> list[OverdueItem]:
        today = local_date(ctx.clock())
        async with runtime.db.session() as session:
            rows = await repository.overdue_milestones(session, where, today, limit, offset)
        return [
            OverdueItem(
                assignment_id=a.assignment_id,
                milestone_id=m.milestone_id,
                title=m.title,
                unit=m.unit,
                measure_code=a.measure_code,
                measure_type=a.measure_type,
                recurrence=a.recurrence,
                due_date=m.due_date,
                days_overdue=(today - m.due_date).days,
                missed_at=m.missed_at,
            )
            for m, a in rows
        ]

    @api.get("/journal", summary="Who changed what, when and why; newest first")
    async def journal(
        entity_type: Annotated[str | None, Query(max_length=32)] = None,
        entity_id: Annotated[str | None, Query(max_length=140)] = None,
        unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[JournalView]:
        entity = (entity_type, entity_id) if entity_type and entity_id else None
        async with runtime.db.session() as session:
            rows = await repository.journal_entries(
                session, entity=entity, unit=who.scope(unit), limit=limit, offset=offset
            )
        return [JournalView.of(r) for r in rows]

    @api.get(
        "/ledger/export",
        summary="The ledger (台账): one row per milestone with its assignment's traffic light",
    )
    async def ledger(
        request: Request,
        where: Filter,
        format: Literal["csv", "xlsx"] = "xlsx",
    ) -> Response:
        """Headers, names, traffic lights and dates in Chinese (交办任务编号, 东湖区, 红灯,
        2026年4月11日), or in English when the request says `Accept-Language: en`."""
        lang = language(request)
        async with runtime.db.session() as session:
            found = await assessed(session, where)
            reference = await ctx.store.current(session)
        rows = ledger_sheet.rows(found, reference, lang)
        columns = tuple(ledger_sheet.COLUMNS)
        title = "任务台账" if lang == "zh" else "ledger"
        content = write_rows(rows, columns, format, title, ledger_sheet.headers(lang))
        media = (
            "text/csv; charset=utf-8"
            if format == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="ledger.{format}"'},
        )

    return api
