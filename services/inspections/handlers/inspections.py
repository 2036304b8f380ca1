"""Filing an inspection."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.inspections import InspectionFiled
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Inspection
from services.inspections.domain.fingerprint import fingerprint
from services.inspections.domain.inspections import FileInspection, filed_event, refusal_for
from services.inspections.domain.refusals import Refusal, id_conflict
from services.inspections.handlers.context import Change, Context, JournalActor, emit, journal
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Filed:
    inspection: Inspection
    duplicate: bool


async def file_inspection(
    session: AsyncSession, request: FileInspection, ctx: Context
) -> Filed | Refusal:
    now = ctx.clock()
    if refusal := refusal_for(request, local_date(now), ctx.reference):
        return refusal
    content = fingerprint(request)
    existing = await repository.find_inspection(session, request.inspection_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Filed(existing, duplicate=True)
        return id_conflict("inspection_id", request.inspection_id, "督查记录", "filed")
    row = Inspection(
        inspection_id=request.inspection_id,
        kind=request.kind.value,
        method=request.method.value,
        title=request.title,
        inspector=request.inspector,
        inspected_on=request.inspected_on,
        target_units=list(request.target_units),
        measure_codes=list(request.measure_codes),
        evidence=[e.model_dump() for e in request.evidence],
        fingerprint=content,
        filed_at=now,
    )
    await repository.add_inspection(session, row)
    for unit in request.target_units:
        event_id = fact_id(InspectionFiled.NAME, request.inspection_id, unit)
        await emit(session, filed_event(request, unit), unit, event_id, now)
    await journal(
        session,
        Change("inspection", request.inspection_id, None, "filed"),
        JournalActor.of(request.actor),
        now,
        {"title": request.title, "target_units": list(request.target_units)},
    )
    return Filed(row, duplicate=False)
