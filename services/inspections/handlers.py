"""Command handlers of the inspections service. Each runs inside the caller's transaction, so the
stored state and the events staged in the outbox commit or roll back together."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import fact_id, wrap
from contracts.inspections import InspectionFiled
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Inspection
from services.inspections.domain.inspections import (
    PROGRAMME_TZ,
    FileInspection,
    Refusal,
    RefusalCode,
    filed_event,
    fingerprint,
    refusal_for,
)
from services.runtime.messaging import add_to_outbox

SOURCE = "fivetype/inspections"


@dataclass(frozen=True)
class Filed:
    inspection: Inspection
    duplicate: bool


async def file_inspection(
    session: AsyncSession, request: FileInspection, clock: Callable[[], datetime]
) -> Filed | Refusal:
    now = clock()
    refusal = refusal_for(request, now.astimezone(PROGRAMME_TZ).date())
    if refusal is not None:
        return refusal
    content = fingerprint(request)
    existing = await repository.find_inspection(session, request.inspection_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Filed(existing, duplicate=True)
        return Refusal(
            RefusalCode.DUPLICATE_CONFLICT,
            f"inspection_id {request.inspection_id!r} was filed with other content",
        )
    # Target units are unchecked until a replicated unit list arrives (measures owns the directory).
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
        event = wrap(
            filed_event(request, unit),
            subject=unit,
            source=SOURCE,
            id=fact_id(InspectionFiled.NAME, request.inspection_id, unit),
            time=now,
        )
        await add_to_outbox(session, event, subjects.event(InspectionFiled.NAME, unit))
    return Filed(row, duplicate=False)
