"""Raising findings and moving their rectification through its states."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import Message, fact_id
from contracts.inspections import (
    ClueKind,
    ClueRef,
    FindingRaised,
    InspectionKind,
    RectificationCategory,
    RectificationClosed,
    RectificationPlanFiled,
    RectificationReopened,
    RectificationReturned,
    RectificationSubmitted,
)
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Finding, Inspection, Submission
from services.inspections.domain.calendar import days_late
from services.inspections.domain.findings import (
    CloseRectification,
    FileRectificationPlan,
    RaiseFinding,
    RectificationState,
    ReopenRectification,
    ReturnRectification,
    SubmitRectification,
    Transition,
    action_of,
    clues_refusal,
    measure_type,
    next_state,
    raise_refusal,
    submitted_on_time,
    transition_refusal,
)
from services.inspections.domain.fingerprint import fingerprint, is_retry, step_fingerprint
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode, id_conflict
from services.inspections.handlers.context import Change, Context, JournalActor, emit, journal
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Raised:
    finding: Finding
    duplicate: bool


def facts(row: Finding, inspection: Inspection, reference: ReferenceData) -> dict[str, Any]:
    """The fields every finding and rectification event carries."""
    return {
        "finding_id": row.finding_id,
        "inspection_id": inspection.inspection_id,
        "unit": row.unit,
        "unit_name": reference.unit_name(row.unit),
        "finding_title": row.title,
        "severity": row.severity,
        "measure_code": row.measure_code,
        "measure_type": row.measure_type,
        "due_date": row.due_date,
    }


async def unknown_clues(session: AsyncSession, clues: list[ClueRef]) -> list[ClueRef]:
    unknown = []
    for clue in clues:
        if clue.kind is ClueKind.PUBLIC_REQUEST:
            known = await repository.find_request(session, clue.ref) is not None
        else:
            known = await repository.find_missed_deadline(session, clue.ref) is not None
        if not known:
            unknown.append(clue)
    return unknown


async def raise_finding(
    session: AsyncSession, inspection_id: str, request: RaiseFinding, ctx: Context
) -> Raised | Refusal:
    now = ctx.clock()
    inspection = await repository.find_inspection(session, inspection_id)
    if inspection is None or inspection.id is None:
        return Refusal(
            RefusalCode.UNKNOWN_INSPECTION, inspection_id, f"inspection {inspection_id!r}"
        )
    if refusal := raise_refusal(request, inspection.target_units, local_date(now), ctx.reference):
        return refusal
    content = fingerprint(request)
    existing = await repository.find_finding(session, request.finding_id)
    if existing is not None:
        if existing.fingerprint == content and existing.inspection_pk == inspection.id:
            return Raised(existing, duplicate=True)
        return id_conflict("finding_id", request.finding_id, "督查问题", "raised")
    unknown = await unknown_clues(session, request.clues)
    if refusal := clues_refusal(RefusalCode.UNKNOWN_CLUE, unknown, "没有这些线索", "not on record"):
        return refusal
    today, category = local_date(now), request.rectification_category
    due = request.due_date or ctx.rules.default_due_date(
        category, request.severity, today, ctx.calendar
    )
    row = Finding(
        finding_id=request.finding_id,
        inspection_pk=inspection.id,
        unit=request.unit,
        severity=request.severity.value,
        measure_code=request.category.measure_code,
        measure_type=measure_type(request.category, ctx.reference),
        title=request.title,
        description=request.description,
        evidence=[e.model_dump() for e in request.evidence],
        clues=[c.model_dump(mode="json") for c in request.clues],
        state=RectificationState.OPEN.value,
        due_date=due,
        raised_at=now,
        fingerprint=content,
        updated_at=now,
        source=request.source.value,
        rectification_category=category.value,
        plan_due_date=_plan_due(category, today, due, ctx),
    )
    await repository.add_finding(session, row)
    event = FindingRaised(
        **facts(row, inspection, ctx.reference),
        inspection_title=inspection.title,
        inspection_kind=InspectionKind(inspection.kind),
        inspector=inspection.inspector,
        description=request.description,
        clues=request.clues,
        evidence=request.evidence,
        raised_at=now,
        source=request.source,
        rectification_category=category,
        plan_due_date=row.plan_due_date,
    )
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.finding_id), now)
    await journal(
        session,
        Change("finding", row.finding_id, row.unit, "raised", None, row.state),
        JournalActor.of(request.actor),
        now,
        {
            "inspection_id": inspection_id,
            "severity": row.severity,
            "source": row.source,
            "rectification_category": row.rectification_category,
            "due_date": row.due_date.isoformat(),
            "plan_due_date": row.plan_due_date.isoformat() if row.plan_due_date else None,
            "clues": row.clues,
        },
        event_id,
    )
    return Raised(row, duplicate=False)


def _plan_due(category: RectificationCategory, start: date, due: date, ctx: Context) -> date | None:
    """The 整改方案's deadline, never after the rectification's own."""
    plan_due = ctx.rules.plan_due_date(category, start, ctx.calendar)
    return None if plan_due is None else min(plan_due, due)


def unknown_finding(finding_id: str) -> Refusal:
    return Refusal(RefusalCode.UNKNOWN_FINDING, finding_id, f"finding {finding_id!r}")


async def change_rectification(
    session: AsyncSession, finding_id: str, request: Transition, ctx: Context
) -> Finding | Refusal:
    """Apply one step of the rectification; a concurrent change to the same item makes the
    flush fail with StaleDataError (the caller retries once on fresh state)."""
    now = ctx.clock()
    row = await repository.find_finding(session, finding_id)
    if row is None:
        return unknown_finding(finding_id)
    before = RectificationState(row.state)
    needs_plan = row.rectification_category != RectificationCategory.IMMEDIATE.value
    step = step_fingerprint(action_of(request).value, request)
    if refusal := transition_refusal(request, before, row.unit, local_date(now), needs_plan):
        return row if is_retry(refusal, row.last_step, step) else refusal
    inspection = await session.get(Inspection, row.inspection_pk)
    assert inspection is not None, "a finding always has its inspection"
    previous_due, plan_due = row.due_date, row.plan_due_date
    after = next_state(before, action_of(request))
    assert isinstance(after, RectificationState), "transition_refusal checked it"
    await _apply(session, row, request, now, ctx)
    row.state, row.updated_at, row.last_step = after.value, now, step
    await session.flush()  # bumps row.version, or fails if someone else changed the row
    common = facts(row, inspection, ctx.reference)
    event = _event(request, row, common, previous_due, plan_due, now)
    event_id = await emit(
        session, event, row.unit, fact_id(event.NAME, row.finding_id, row.version), now
    )
    await journal(
        session,
        Change("finding", row.finding_id, row.unit, action_of(request).value, before, after),
        JournalActor.of(request.actor),
        now,
        _details(request, previous_due, row.due_date),
        event_id,
    )
    return row


async def _apply(
    session: AsyncSession, row: Finding, request: Transition, now: datetime, ctx: Context
) -> None:
    assert row.id is not None
    today = local_date(now)
    match request:
        case FileRectificationPlan():
            row.plan_count += 1
            row.plan_filed_at = now
            row.plan_measures = [m.strip() for m in request.measures if m.strip()]
            row.plan_milestones = [m.model_dump(mode="json") for m in request.milestones]
            row.responsible_leader = request.responsible_leader.strip()
            row.responsible_person = request.responsible_person.strip()
        case SubmitRectification():
            row.submission_count += 1
            row.last_submitted_at = now
            row.verification_due_date = ctx.rules.verification_due_date(today, ctx.calendar)
            session.add(
                Submission(
                    finding_pk=row.id,
                    number=row.submission_count,
                    summary=request.summary,
                    evidence=[e.model_dump() for e in request.evidence],
                    submitted_at=now,
                    actor_id=request.actor.id,
                    actor_name=request.actor.name,
                )
            )
        case CloseRectification():
            assert row.last_submitted_at is not None, "only a submitted item can be closed"
            row.closed_at = now
            row.closed_on_time = submitted_on_time(row.last_submitted_at, row.due_date)
            row.verification_opinion = request.opinion.strip()
            row.approved_by = request.approved_by.strip()
            row.site_review = (
                request.site_review.model_dump(mode="json") if request.site_review else None
            )
        case ReturnRectification():
            row.return_count += 1
            row.due_date = request.due_date or row.due_date
            row.verification_opinion = request.reason
        case ReopenRectification():
            # 反弹: the loop restarts, with a new plan where the category has a plan stage.
            row.reopen_count += 1
            row.due_date = request.due_date
            category = RectificationCategory(row.rectification_category)
            row.plan_due_date = _plan_due(category, today, request.due_date, ctx)
            row.closed_at = row.closed_on_time = None


def _event(
    request: Transition,
    row: Finding,
    common: dict[str, Any],
    previous_due: date,
    plan_due: date | None,
    now: datetime,
) -> Message:
    actor_name = request.actor.name
    match request:
        case FileRectificationPlan():
            assert plan_due is not None, "only an item with a plan stage takes a plan"
            return RectificationPlanFiled(
                **common,
                category=RectificationCategory(row.rectification_category),
                plan_due_date=plan_due,
                plan_number=row.plan_count,
                measures=row.plan_measures or [],
                responsible_leader=row.responsible_leader or "",
                responsible_person=row.responsible_person or "",
                milestones=request.milestones,
                filed_at=now,
                on_time=submitted_on_time(now, plan_due),
                actor_name=actor_name,
            )
        case SubmitRectification():
            return RectificationSubmitted(
                **common,
                submission_number=row.submission_count,
                summary=request.summary,
                evidence=request.evidence,
                submitted_at=now,
                on_time=submitted_on_time(now, row.due_date),
                actor_name=actor_name,
            )
        case CloseRectification():
            assert row.last_submitted_at is not None and row.closed_on_time is not None
            return RectificationClosed(
                **common,
                closed_at=now,
                submitted_at=row.last_submitted_at,
                on_time=row.closed_on_time,
                days_late=days_late(row.last_submitted_at, row.due_date),
                actor_name=actor_name,
                opinion=row.verification_opinion or "",
                approved_by=row.approved_by,
                site_reviewed=request.site_review is not None,
            )
        case ReturnRectification():
            return RectificationReturned(
                **common,
                return_number=row.return_count,
                reason=request.reason,
                previous_due_date=previous_due,
                returned_at=now,
                actor_name=actor_name,
            )
        case ReopenRectification():
            return RectificationReopened(
                **common,
                reopen_number=row.reopen_count,
                reason=request.reason,
                previous_due_date=previous_due,
                reopened_at=now,
                actor_name=actor_name,
            )


def _details(request: Transition, previous_due: date, due: date) -> dict[str, Any]:
    details = request.model_dump(mode="json", exclude={"actor"})
    if previous_due != due:
        details["previous_due_date"] = previous_due.isoformat()
    return details
