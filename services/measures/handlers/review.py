"""The office's review of reports, the units' extension and change requests and the office's
decisions on them, and recorded recognitions. Every change is journaled and announced."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.measures import (
    DEFAULT_LEVEL,
    AchievementRecognized,
    ChangeKind,
    ChangeRequestDecided,
    ChangeRequested,
    ProgressAccepted,
    ProgressReturned,
)
from services.measures.adapters import repository
from services.measures.adapters.tables import Achievement, Assignment, ChangeRequest, Milestone
from services.measures.adapters.tables import ProgressReport as Report
from services.measures.domain.assignments import fingerprint
from services.measures.domain.catalogue import Target
from services.measures.domain.deadlines import next_alert_on
from services.measures.domain.errors import Code, Refused
from services.measures.domain.requests import (
    ACHIEVEMENT_MEASURE,
    DecideChange,
    Decision,
    RecordAchievement,
    RequestChange,
    ReviewReport,
    check_change,
    check_decision,
    check_review,
)
from services.measures.handlers.common import Context, journal, publish
from services.measures.handlers.intake import apply_to_milestone
from services.runtime.workdays import chinese_date, local_date

_STATUS = {Decision.ACCEPT: "accepted", Decision.RETURN: "returned"}
REVIEWED_ZH = {"accepted": "审核通过", "returned": "退回"}
DECIDED_ZH = {"approved": "批准", "refused": "不予批准"}

# ----------------------------------------------------------------------------- review


async def review_report(
    session: AsyncSession, unit: str, report_id: str, review: ReviewReport, ctx: Context
) -> tuple[Report, bool]:
    """Accept or return a report; returns it and whether this call changed it. A returned
    report stops counting: its milestone and assignment fall back to the newest report left."""
    check_review(review)
    report = await repository.find_report(session, unit, report_id)
    if report is None:
        raise Refused(
            Code.REPORT_NOT_FOUND,
            f"{unit} 没有编号为 {report_id} 的进展报告",
            f"{unit} has no report {report_id!r}",
        )
    status = _STATUS[review.decision]
    if report.review_status == status:
        return report, False
    if report.review_status != "pending":
        raise Refused(
            Code.ALREADY_REVIEWED,
            f"进展报告 {report_id} 已{REVIEWED_ZH.get(report.review_status, report.review_status)}",
            f"{report_id} was {report.review_status}",
        )
    now = ctx.clock()
    report.sqlmodel_update(
        {
            "review_status": status,
            "reviewed_by": review.reviewer,
            "reviewed_at": now,
            "review_reason": review.reason,
        }
    )
    assignment = (
        await session.get(Assignment, report.assignment_pk) if report.assignment_pk else None
    )
    completed = await _recount(session, report, assignment, ctx) if status == "returned" else None
    await _announce_review(session, report, assignment, review, completed, now)
    journal(
        session,
        at=now,
        actor=review.reviewer,
        action=f"report_{status}",
        entity=("report", f"{unit}/{report_id}"),
        unit=unit,
        reason=review.reason,
        details={"assignment_id": report.assignment_id, "milestone_id": report.milestone_id},
    )
    return report, True


async def _recount(
    session: AsyncSession, report: Report, assignment: Assignment | None, ctx: Context
) -> bool | None:
    """Recompute what the returned report had moved; returns whether its milestone is still
    complete (None when it named none)."""
    if assignment is None or assignment.id is None:
        return None
    await session.flush()  # the returned status must be visible to the queries below
    if report.unit == assignment.lead_unit:
        lead = await repository.latest_counting_report(
            session, assignment_pk=assignment.id, unit=assignment.lead_unit, milestone_pk=None
        )
        assignment.reported_percent = lead.percent_complete if lead else 0.0
        assignment.last_reported_at = lead.reported_at if lead else None
    if report.milestone_pk is None:
        return None
    milestone = await session.get(Milestone, report.milestone_pk)
    assert milestone is not None
    latest = await repository.latest_counting_report(
        session, assignment_pk=assignment.id, unit=None, milestone_pk=milestone.id
    )
    milestone.completed_at = None  # completion is re-derived from the reports left
    apply_to_milestone(
        milestone,
        latest.percent_complete if latest else 0.0,
        latest.reported_at if latest else None,
        ctx,
    )
    return milestone.completed_at is not None


async def _announce_review(
    session: AsyncSession,
    report: Report,
    assignment: Assignment | None,
    review: ReviewReport,
    completed: bool | None,
    now: datetime,
) -> None:
    common = {
        "report_id": report.report_id,
        "unit": report.unit,
        "assignment_id": report.assignment_id,
        "measure_code": report.measure_code,
        "measure_type": assignment.measure_type if assignment else None,
        "milestone_id": report.milestone_id,
        "reviewer": review.reviewer,
        "reviewed_at": now,
    }
    if review.decision is Decision.ACCEPT:
        event: ProgressAccepted | ProgressReturned = ProgressAccepted(**common)
    else:
        event = ProgressReturned(**common, reason=review.reason, milestone_completed=completed)
    await publish(
        session,
        event,
        unit=report.unit,
        event_id=fact_id(event.NAME, report.unit, report.report_id),
        time=now,
    )


# ----------------------------------------------------------------------------- change requests


async def request_change(
    session: AsyncSession, assignment_id: str, request: RequestChange, ctx: Context
) -> tuple[ChangeRequest, bool]:
    """File a unit's request; returns it and whether it is new."""
    existing = await repository.find_change_request(session, request.request_id)
    if existing is not None:
        if existing.fingerprint != fingerprint(request):
            raise Refused(
                Code.DUPLICATE_CONFLICT,
                f"申请编号 {request.request_id} 已用于内容不同的申请",
                f"request {request.request_id!r} exists with other content",
            )
        return existing, False
    assignment = await _assignment(session, assignment_id)
    assert assignment.id is not None
    roles = (await repository.roles_of(session, [assignment.id]))[assignment.id]
    if request.unit not in roles:
        raise Refused(
            Code.NOT_ASSIGNED,
            f"交办任务 {assignment_id} 未交办给 {request.unit}",
            f"{assignment_id} is not assigned to {request.unit!r}",
        )
    milestone = await _milestone(session, assignment, request.milestone_id)
    if milestone is not None and request.unit not in (milestone.unit, assignment.lead_unit):
        raise Refused(
            Code.NOT_ASSIGNED,
            f"节点任务 {milestone.milestone_id} 由 {milestone.unit} 负责",
            f"milestone {milestone.milestone_id} is delivered by {milestone.unit}",
        )
    target = await _target(session, assignment, ctx)
    check_change(request, milestone.due_date if milestone else None, target, assignment.year)
    now = ctx.clock()
    row = ChangeRequest(
        request_id=request.request_id,
        assignment_pk=assignment.id,
        milestone_pk=milestone.id if milestone else None,
        unit=request.unit,
        kind=request.kind.value,
        milestone_id=request.milestone_id,
        current_due_date=milestone.due_date if milestone else None,
        proposed_due_date=request.proposed_due_date,
        proposed_title=request.proposed_title,
        proposed_target_value=request.proposed_target_value,
        reason=request.reason,
        requested_by=request.requested_by,
        requested_at=now,
        status="pending",
        fingerprint=fingerprint(request),
    )
    session.add(row)
    await publish(
        session,
        ChangeRequested(
            request_id=request.request_id,
            unit=request.unit,
            assignment_id=assignment_id,
            kind=request.kind,
            milestone_id=request.milestone_id,
            current_due_date=row.current_due_date,
            proposed_due_date=request.proposed_due_date,
            proposed_title_zh=request.proposed_title,
            proposed_target_value=request.proposed_target_value,
            reason=request.reason,
            requested_by=request.requested_by,
        ),
        unit=request.unit,
        event_id=fact_id(ChangeRequested.NAME, request.request_id),
        time=now,
    )
    journal(
        session,
        at=now,
        actor=request.requested_by,
        action=f"{request.kind.value}_requested",
        entity=("change_request", request.request_id),
        unit=request.unit,
        reason=request.reason,
        details={"assignment_id": assignment_id, "milestone_id": request.milestone_id},
    )
    return row, True


def unknown_assignment(assignment_id: str) -> Refused:
    return Refused(
        Code.ASSIGNMENT_NOT_FOUND,
        f"没有编号为 {assignment_id} 的交办任务",
        f"no assignment {assignment_id!r}",
    )


async def _assignment(session: AsyncSession, assignment_id: str) -> Assignment:
    assignment = await repository.find_assignment(session, assignment_id)
    if assignment is None:
        raise unknown_assignment(assignment_id)
    return assignment


async def _milestone(
    session: AsyncSession, assignment: Assignment, milestone_id: str | None
) -> Milestone | None:
    if milestone_id is None:
        return None
    assert assignment.id is not None
    found = [
        m
        for m in await repository.milestones_of(session, [assignment.id])
        if m.milestone_id == milestone_id
    ]
    if not found:
        raise Refused(
            Code.MILESTONE_NOT_FOUND,
            f"交办任务 {assignment.assignment_id} 没有编号为 {milestone_id} 的节点任务",
            f"{assignment.assignment_id} has no milestone {milestone_id!r}",
        )
    return found[0]


async def _target(session: AsyncSession, assignment: Assignment, ctx: Context) -> Target | None:
    catalogue = (await ctx.store.current(session)).catalogues.get(assignment.year)
    measure = catalogue.measure(assignment.measure_root) if catalogue else None
    if measure is None or assignment.target_code is None:
        return None
    return next((t for t in measure.targets if t.code == assignment.target_code), None)


async def decide_change(
    session: AsyncSession, request_id: str, decision: DecideChange, ctx: Context
) -> tuple[ChangeRequest, bool]:
    """Approve (and apply) or refuse a request; returns it and whether this call decided it."""
    check_decision(decision)
    request = await repository.find_change_request(session, request_id)
    if request is None:
        raise Refused(
            Code.REQUEST_NOT_FOUND,
            f"没有编号为 {request_id} 的变更申请",
            f"no change request {request_id!r}",
        )
    status = "approved" if decision.approve else "refused"
    if request.status == status:
        return request, False
    if request.status != "pending":
        raise Refused(
            Code.ALREADY_DECIDED,
            f"申请 {request_id} 已{DECIDED_ZH.get(request.status, request.status)}",
            f"{request_id} was {request.status}",
        )
    assignment = await session.get(Assignment, request.assignment_pk)
    milestone = await session.get(Milestone, request.milestone_pk) if request.milestone_pk else None
    assert assignment is not None
    now = ctx.clock()
    before = milestone.due_date if milestone else None
    changes = _apply_change(request, assignment, milestone, ctx) if decision.approve else {}
    request.sqlmodel_update(
        {
            "status": status,
            "decided_by": decision.decided_by,
            "decided_at": now,
            "decision_reason": decision.reason,
        }
    )
    await publish(
        session,
        ChangeRequestDecided(
            request_id=request_id,
            unit=request.unit,
            assignment_id=assignment.assignment_id,
            kind=ChangeKind(request.kind),
            approved=decision.approve,
            milestone_id=request.milestone_id,
            due_date_before=before,
            due_date_after=milestone.due_date if milestone else None,
            decided_by=decision.decided_by,
            reason=decision.reason,
        ),
        unit=request.unit,
        event_id=fact_id(ChangeRequestDecided.NAME, request_id),
        time=now,
    )
    journal(
        session,
        at=now,
        actor=decision.decided_by,
        action=f"{request.kind}_{status}",
        entity=("assignment", assignment.assignment_id),
        unit=request.unit,
        reason=decision.reason,
        details={"request_id": request_id, "changes": changes},
    )
    return request, True


def _apply_change(
    request: ChangeRequest, assignment: Assignment, milestone: Milestone | None, ctx: Context
) -> dict[str, list[object]]:
    """Carry out an approved request; returns {field: [before, after]} for the journal."""
    changes: dict[str, list[object]] = {}
    if request.proposed_due_date is not None and milestone is not None:
        changes["due_date"] = [
            milestone.due_date.isoformat(),
            request.proposed_due_date.isoformat(),
        ]
        milestone.due_date = request.proposed_due_date
        # The new deadline gets its own reminders and, if missed, its own DeadlineMissed.
        milestone.missed_at, milestone.reminded_offset = None, None
        if milestone.completed_at is None:
            milestone.alert_on = next_alert_on(milestone.due_date, ctx.reminder_offsets, None)
    if request.proposed_title is not None:
        target: Milestone | Assignment = milestone or assignment
        old = target.title if isinstance(target, Milestone) else target.title_zh
        changes["title"] = [old, request.proposed_title]
        if isinstance(target, Milestone):
            target.title = request.proposed_title
        else:
            target.title_zh = request.proposed_title
    if request.proposed_target_value is not None:
        changes["target_value"] = [assignment.target_value, request.proposed_target_value]
        assignment.target_value = request.proposed_target_value
    return changes


# ----------------------------------------------------------------------------- recognition


async def record_achievement(
    session: AsyncSession, request: RecordAchievement, ctx: Context
) -> tuple[Achievement, bool]:
    """Record a recognition; a national one meets the unit's obligation for its year."""
    existing = await repository.find_achievement(session, request.achievement_id)
    if existing is not None:
        if existing.fingerprint != fingerprint(request):
            raise Refused(
                Code.DUPLICATE_CONFLICT,
                f"创先争优成果编号 {request.achievement_id} 已用于内容不同的记录",
                f"achievement {request.achievement_id!r} exists with other content",
            )
        return existing, False
    now = ctx.clock()
    measure_code, measure_type = await _recognised_measure(session, request, ctx, now)
    row = Achievement(
        achievement_id=request.achievement_id,
        unit=request.unit,
        year=request.recognised_on.year,
        kind=request.kind.value,
        level=(request.level or DEFAULT_LEVEL[request.kind]).value,
        title=request.title,
        measure_code=measure_code,
        recognised_on=request.recognised_on,
        evidence=[e.model_dump() for e in request.evidence],
        recorded_by=request.recorded_by,
        recorded_at=now,
        fingerprint=fingerprint(request),
    )
    session.add(row)
    await publish(
        session,
        AchievementRecognized(
            achievement_id=request.achievement_id,
            unit=request.unit,
            year=row.year,
            kind=request.kind,
            level=request.level or DEFAULT_LEVEL[request.kind],
            title=request.title,
            measure_code=measure_code,
            measure_type=measure_type,
            recognised_on=request.recognised_on,
            evidence=request.evidence,
            recorded_by=request.recorded_by,
        ),
        unit=request.unit,
        event_id=fact_id(AchievementRecognized.NAME, request.achievement_id),
        time=now,
    )
    journal(
        session,
        at=now,
        actor=request.recorded_by,
        action="achievement_recorded",
        entity=("achievement", request.achievement_id),
        unit=request.unit,
        details={"kind": request.kind.value, "measure_code": measure_code},
    )
    return row, True


async def _recognised_measure(
    session: AsyncSession, request: RecordAchievement, ctx: Context, now: datetime
) -> tuple[str, str | None]:
    ref = await ctx.store.current(session)
    unit = ref.units.unit(request.unit)
    if unit is None:
        raise Refused(
            Code.UNKNOWN_UNIT,
            f"单位名录中没有代码为 {request.unit} 的单位",
            f"unit {request.unit!r} is not in the directory",
        )
    if unit.is_office:
        raise Refused(
            Code.UNIT_NOT_ASSIGNABLE,
            f"{unit.name_zh}是市“五型”办，不参加考核",
            "the office is not ranked",
        )
    if request.recognised_on > local_date(now):
        raise Refused(
            Code.DATE_IN_FUTURE,
            f"认定日期{chinese_date(request.recognised_on)}晚于今天",
            f"recognised_on {request.recognised_on} is ahead",
        )
    year = request.recognised_on.year
    catalogue = ref.catalogues.get(year)
    if catalogue is None:
        raise Refused(
            Code.UNKNOWN_YEAR, f"{year}年度没有举措清单", f"no catalogue is in force for {year}"
        )
    code = request.measure_code or ACHIEVEMENT_MEASURE[request.kind]
    item = catalogue.item(code)
    if item is None:
        raise Refused(
            Code.UNKNOWN_MEASURE,
            f"{year}年度举措清单中没有 {code}",
            f"{code!r} is not in the {year} catalogue",
        )
    return code, item.measure.type
