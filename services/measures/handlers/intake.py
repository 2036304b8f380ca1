"""Progress intake: a batch of reports (one from HTTP, up to a pulled batch from NATS) checked
against the unit's assignments with a fixed number of queries, stored, and announced as
ProgressReported through the outbox in the caller's transaction."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.common import FieldError
from contracts.envelope import UNIT_CODE_PATTERN, fact_id, wrap
from contracts.measures import AssignmentRole, IntakeRejected, ProgressReported, ReportProgress
from contracts.reasons import REASON_TEXT, Reason
from services.measures.adapters import repository
from services.measures.adapters.reference import Reference
from services.measures.adapters.tables import Assignment, Milestone
from services.measures.domain.deadlines import next_alert_on
from services.measures.domain.progress import (
    AssignmentFacts,
    Checked,
    Facts,
    MilestoneFacts,
    Refusal,
    check,
    fingerprint,
    reported_event,
)
from services.measures.handlers.common import SOURCE, Context, publish
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Accepted:
    report: Mapping[str, Any]  # the stored row
    duplicate: bool


Outcome = Accepted | Refusal


@dataclass(frozen=True)
class _Staged:
    """An accepted report's row and event, written once the whole batch is checked."""

    row: dict[str, Any]
    event: ProgressReported
    event_id: str


@dataclass
class _Batch:
    """What one batch reads, loaded up front."""

    ref: Reference
    existing: dict[tuple[str, str], Mapping[str, Any]]
    assignments: dict[int, Assignment]
    facts: dict[int, AssignmentFacts]
    milestones: dict[int, Milestone]
    milestone_facts: list[MilestoneFacts]


async def report_progress(
    session: AsyncSession, reports: Sequence[ReportProgress], ctx: Context, via: str
) -> list[Outcome]:
    """One outcome per report, in order."""
    batch = await _load(session, reports, ctx)
    now = ctx.clock()
    outcomes: list[Outcome] = []
    staged: list[_Staged] = []
    for report in reports:
        outcome = _duplicate(report, batch)
        if outcome is None:
            outcome = _accept(report, batch, ctx, via, now, staged)
        outcomes.append(outcome)
    if staged:
        # One multi-row insert (the rows' keys are not needed back), one flush of the milestones
        # and assignments moved, then the events: staging an event queries the outbox, which
        # would otherwise flush the session once per report.
        await session.execute(repository.REPORTS.insert(), [s.row for s in staged])
        await session.flush()
    for item in staged:
        await publish(session, item.event, unit=item.event.unit, event_id=item.event_id, time=now)
    return outcomes


async def _load(session: AsyncSession, reports: Sequence[ReportProgress], ctx: Context) -> _Batch:
    ref = await ctx.store.current(session)
    existing = await repository.find_reports(session, {(r.unit, r.report_id) for r in reports})
    named = await repository.assignments_by_ids(
        session, (r.assignment_id for r in reports if r.assignment_id)
    )
    implied = await repository.assignments_of_units(
        session,
        {r.unit for r in reports if not r.assignment_id},
        {local_date(r.reported_at).year for r in reports if not r.assignment_id},
    )
    assignments = {a.id: a for a in [*named, *implied] if a.id is not None}
    roles = await repository.roles_of(session, assignments)
    milestones = {
        m.id: m for m in await repository.milestones_of(session, assignments) if m.id is not None
    }
    return _Batch(
        ref=ref,
        existing=existing,
        assignments=assignments,
        facts={pk: _facts(a, roles[pk]) for pk, a in assignments.items()},
        milestones=milestones,
        milestone_facts=[_milestone_facts(m) for m in milestones.values()],
    )


def _facts(row: Assignment, roles: dict[str, str]) -> AssignmentFacts:
    assert row.id is not None
    return AssignmentFacts(
        pk=row.id,
        assignment_id=row.assignment_id,
        year=row.year,
        measure_code=row.measure_code,
        measure_root=row.measure_root,
        measure_type=row.measure_type,
        roles={unit: AssignmentRole(role) for unit, role in roles.items()},
        start_on=row.start_on,
        target_code=row.target_code,
        recurrence=row.recurrence,
    )


def _milestone_facts(row: Milestone) -> MilestoneFacts:
    assert row.id is not None
    return MilestoneFacts(
        pk=row.id,
        assignment_pk=row.assignment_pk,
        milestone_id=row.milestone_id,
        unit=row.unit,
        due_date=row.due_date,
    )


def _duplicate(report: ReportProgress, batch: _Batch) -> Outcome | None:
    """A retry of a stored report is accepted again as it was; a reused id is refused."""
    existing = batch.existing.get((report.unit, report.report_id))
    if existing is None:
        return None
    if existing["fingerprint"] == fingerprint(report):
        return Accepted(existing, duplicate=True)
    return Refusal(
        Reason.DUPLICATE_CONFLICT,
        f"report_id {report.report_id!r} was accepted with other content",
        f"报告编号 {report.report_id} 已用于内容不同的报告",
    )


def _accept(
    report: ReportProgress,
    batch: _Batch,
    ctx: Context,
    via: str,
    now: datetime,
    staged: list[_Staged],
) -> Outcome:
    facts = Facts(
        unit=batch.ref.units.unit(report.unit),
        catalogues=batch.ref.catalogues,
        candidates=list(batch.facts.values()),
        milestones=batch.milestone_facts,
    )
    checked = check(report, facts, now, ctx.clock_skew)
    if isinstance(checked, Refusal):
        return checked
    completed = _apply(report, checked, batch, ctx)
    event = reported_event(report, checked, completed)
    event_id = fact_id(ProgressReported.NAME, report.unit, report.report_id)
    row = _row(report, checked, event, event_id, via, now)
    batch.existing[(report.unit, report.report_id)] = row  # a later copy in the batch is a retry
    staged.append(_Staged(row, event, event_id))
    return Accepted(row, duplicate=False)


def _apply(report: ReportProgress, checked: Checked, batch: _Batch, ctx: Context) -> bool | None:
    """Move the milestone and the assignment to the newest report; returns whether the milestone
    is complete now (None when the report names none). An older report arriving late is stored
    but changes no state."""
    assignment = batch.assignments[checked.assignment.pk]
    if checked.assignment.roles[report.unit] is AssignmentRole.LEAD and _newer(
        report.reported_at, assignment.last_reported_at
    ):
        assignment.reported_percent = report.percent_complete
        assignment.last_reported_at = report.reported_at
    if checked.milestone is None:
        return None
    milestone = batch.milestones[checked.milestone.pk]
    if _newer(report.reported_at, milestone.last_reported_at):
        apply_to_milestone(milestone, report.percent_complete, report.reported_at, ctx)
    return milestone.completed_at is not None


def apply_to_milestone(
    milestone: Milestone, percent: float, reported_at: datetime | None, ctx: Context
) -> None:
    """Set a milestone's state from the report that now counts (None: no report counts)."""
    milestone.percent_complete = percent
    milestone.last_reported_at = reported_at
    if percent >= 100:
        milestone.completed_at = milestone.completed_at or reported_at
        milestone.alert_on = None
        return
    milestone.completed_at = None
    if milestone.missed_at is None:  # a miss already announced is not announced again
        milestone.alert_on = next_alert_on(
            milestone.due_date, ctx.reminder_offsets, milestone.reminded_offset
        )


def _newer(moment: datetime, than: datetime | None) -> bool:
    return than is None or moment >= than


def _row(
    report: ReportProgress,
    checked: Checked,
    event: ProgressReported,
    event_id: str,
    via: str,
    now: datetime,
) -> dict[str, Any]:
    return dict(
        unit=report.unit,
        report_id=report.report_id,
        measure_code=report.measure_code,
        milestone_id=event.milestone_id,
        percent_complete=report.percent_complete,
        summary=report.summary,
        reported_at=report.reported_at,
        reporter=report.reporter,
        evidence=[e.model_dump() for e in report.evidence],
        fingerprint=fingerprint(report),
        event_id=event_id,
        received_via=via,
        accepted_at=now,
        assignment_pk=checked.assignment.pk,
        milestone_pk=checked.milestone.pk if checked.milestone else None,
        assignment_id=checked.assignment.assignment_id,
        target_code=checked.target_code,
        target_value=report.target_value,
        on_time=event.on_time,
        review_status="pending",
        reviewed_by=None,
        reviewed_at=None,
        review_reason=None,
    )


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
        message_zh=f"{zh}：{refusal.detail_zh}" if refusal.detail_zh else zh,
        message_en=f"{en}: {refusal.detail}",
        errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in errors or []],
    )
    # A redelivered command is refused again with the same id, so the unit hears it once.
    event_id = fact_id("IntakeRejected", command_id, refusal.reason) if command_id else None
    event = wrap(rejection, subject=unit, source=SOURCE, id=event_id)
    await add_to_outbox(session, event, subjects.rejection(unit))
    return True
