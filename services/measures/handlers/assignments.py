"""Handlers that create assignments and recurring obligations."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.measures import AssignmentCreated
from services.measures.adapters import repository
from services.measures.adapters.reference import Reference
from services.measures.adapters.tables import Assignment, AssignmentUnit, Milestone
from services.measures.domain.assignments import (
    CreateAssignment,
    CreateObligations,
    Plan,
    declared_obligation,
    fingerprint,
    obligation_request,
    obligation_units,
    plan_assignment,
)
from services.measures.domain.deadlines import next_alert_on
from services.measures.domain.errors import Code, Refused
from services.measures.handlers.common import Context, journal, publish
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Created:
    assignment: Assignment
    duplicate: bool


async def create_assignment(
    session: AsyncSession, request: CreateAssignment, ctx: Context
) -> Created:
    """Store an assignment with its milestones and announce it to every unit on it; the same
    request again changes nothing, the same id with other content is refused."""
    existing = await repository.find_assignment(session, request.assignment_id)
    if existing is not None:
        if existing.fingerprint != fingerprint(request):
            raise Refused(
                Code.DUPLICATE_CONFLICT,
                f"交办任务编号 {request.assignment_id} 已用于内容不同的交办任务",
                f"assignment {request.assignment_id!r} exists with other content",
            )
        return Created(existing, duplicate=True)
    ref = await ctx.store.current(session)
    plan = plan_assignment(
        request,
        ref.catalogues.get(request.year),
        ref.units,
        ref.calendar,
        today=local_date(ctx.clock()),
    )
    row = await _store(session, plan, ctx)
    await _announce(session, plan, ctx)
    return Created(row, duplicate=False)


async def create_obligations(
    session: AsyncSession, request: CreateObligations, ctx: Context
) -> list[Created]:
    """The standard obligation of one kind, one recurring assignment per unit that carries it."""
    ref: Reference = await ctx.store.current(session)
    catalogue = ref.catalogues.get(request.year)
    obligation = declared_obligation(catalogue, request)
    assert catalogue is not None, "declared_obligation checked it"
    lead_units: list[str] = []
    if obligation.carried_by == "lead_units":
        declared = catalogue.obligation(obligation.kind)
        assert declared is not None
        lead_units = await repository.lead_units_of(session, request.year, declared[0].code)
    units = obligation_units(request, obligation, ref.units, lead_units)
    return [
        await create_assignment(session, obligation_request(request, unit, catalogue), ctx)
        for unit in units
    ]


async def _store(session: AsyncSession, plan: Plan, ctx: Context) -> Assignment:
    request, now = plan.request, ctx.clock()
    row = Assignment(
        assignment_id=request.assignment_id,
        year=request.year,
        measure_code=plan.item.code,
        measure_root=plan.item.measure.code,
        measure_type=plan.measure_type,
        title_zh=plan.title_zh,
        title_en=plan.title_en,
        lead_unit=request.lead_unit,
        co_units=list(request.co_units),
        start_on=plan.start_on,
        target_code=plan.target_code,
        target_value=plan.target_value,
        recurrence=plan.recurrence,
        rule=plan.rule,
        roll=plan.roll.value if plan.roll else None,
        note=request.note,
        fingerprint=fingerprint(request),
        created_by=request.created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()  # assigns row.id
    assert row.id is not None
    session.add_all(
        AssignmentUnit(assignment_pk=row.id, unit=unit, role=role.value)
        for unit, role in plan.roles.items()
    )
    session.add_all(
        Milestone(
            assignment_pk=row.id,
            milestone_id=m.milestone_id,
            unit=m.unit,
            title=m.title,
            due_date=m.due_date,
            original_due_date=m.due_date,
            expected_percent=m.expected_percent,
            alert_on=next_alert_on(m.due_date, ctx.reminder_offsets, None),
        )
        for m in plan.milestones
    )
    journal(
        session,
        at=now,
        actor=request.created_by,
        action="assignment_created",
        entity=("assignment", request.assignment_id),
        unit=request.lead_unit,
        reason=request.note,
        details={
            "measure_code": plan.item.code,
            "co_units": list(request.co_units),
            "milestones": len(plan.milestones),
            "recurrence": plan.recurrence,
        },
    )
    return row


async def _announce(session: AsyncSession, plan: Plan, ctx: Context) -> None:
    request = plan.request
    for unit, role in plan.roles.items():
        await publish(
            session,
            AssignmentCreated(
                assignment_id=request.assignment_id,
                unit=unit,
                role=role,
                lead_unit=request.lead_unit,
                co_units=list(request.co_units),
                year=request.year,
                measure_code=plan.item.code,
                measure_type=plan.measure_type,
                title_zh=plan.title_zh,
                title_en=plan.title_en,
                target_code=plan.target_code,
                target_value=plan.target_value,
                recurrence=plan.recurrence,
                milestones=list(plan.milestones),
                created_by=request.created_by,
            ),
            unit=unit,
            event_id=fact_id(AssignmentCreated.NAME, request.assignment_id, unit),
            time=ctx.clock(),
        )
