"""Command handlers of the measures service. Each runs inside the caller's transaction, so the
stored state and the events staged in the outbox commit or roll back together."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.common import FieldError
from contracts.envelope import UNIT_CODE_PATTERN, fact_id, wrap
from contracts.measures import IntakeRejected, ReportProgress
from contracts.reasons import REASON_TEXT, Reason
from services.measures.adapters import repository
from services.measures.adapters.tables import ProgressReport
from services.measures.domain.catalogue import Catalogue, UnitDirectory
from services.measures.domain.progress import Refusal, fingerprint, refusal_for, reported_event
from services.runtime.messaging import add_to_outbox

SOURCE = "fivetype/measures"


@dataclass(frozen=True)
class Intake:
    """What the intake handlers read besides the database: the read-mostly reference data."""

    catalogue: Catalogue
    units: UnitDirectory
    clock: Callable[[], datetime]
    clock_skew: timedelta


@dataclass(frozen=True)
class Accepted:
    report: ProgressReport
    duplicate: bool


async def report_progress(
    session: AsyncSession, report: ReportProgress, intake: Intake, via: str
) -> Accepted | Refusal:
    refusal = refusal_for(report, intake.catalogue, intake.units, intake.clock(), intake.clock_skew)
    if refusal is not None:
        return refusal
    content = fingerprint(report)
    existing = await repository.find_report(session, report.unit, report.report_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Accepted(existing, duplicate=True)
        return Refusal(
            Reason.DUPLICATE_CONFLICT,
            f"report_id {report.report_id!r} was accepted with other content",
        )
    event = wrap(
        reported_event(report, intake.catalogue, intake.units),
        subject=report.unit,
        source=SOURCE,
        id=fact_id("ProgressReported", report.unit, report.report_id),
    )
    row = ProgressReport(
        unit=report.unit,
        report_id=report.report_id,
        measure_code=report.measure_code,
        milestone_id=report.milestone_id,
        percent_complete=report.percent_complete,
        summary=report.summary,
        reported_at=report.reported_at,
        reporter=report.reporter,
        evidence=[e.model_dump() for e in report.evidence],
        fingerprint=content,
        event_id=event.id,
        received_via=via,
        accepted_at=intake.clock(),
    )
    session.add(row)
    await add_to_outbox(session, event, subjects.event(event.type, report.unit))
    return Accepted(row, duplicate=False)


async def reject(
    session: AsyncSession,
    unit: str,
    refusal: Refusal,
    *,
    command_id: str | None,
    command_type: str | None,
    reference: str | None,
    errors: list[dict[str, str]] | None = None,
) -> bool:
    """Answer a refused command on the unit's rejection subject; False if the unit is unreadable."""
    if not re.match(UNIT_CODE_PATTERN, unit):
        return False
    zh, en = REASON_TEXT[refusal.reason]
    rejection = IntakeRejected(
        command_id=command_id,
        command_type=command_type,
        unit=unit,
        reference=reference,
        reason=refusal.reason,
        message_zh=f"{zh}：{refusal.detail}",
        message_en=f"{en}: {refusal.detail}",
        errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in errors or []],
    )
    # A redelivered command is refused again with the same id, so the unit hears it once.
    event_id = fact_id("IntakeRejected", command_id, refusal.reason) if command_id else None
    event = wrap(rejection, subject=unit, source=SOURCE, id=event_id)
    await add_to_outbox(session, event, subjects.rejection(unit))
    return True
