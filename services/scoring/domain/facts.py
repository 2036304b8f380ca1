"""Facts: the events scoring consumes, each reduced to the fields a score depends on.

A fact is stored once per event id, whatever the order or number of deliveries, and a card is
always a function of the set of facts, so processing events live and replaying them from the
stream give the same cards by construction. `known_at` is the producer's envelope time (when the
platform learnt the fact): "as of" filters on it. `day` places the fact in a period.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope, Message, fact_id
from contracts.inspections import (
    AccountabilityRecorded,
    FindingRaised,
    InterviewRecorded,
    PublicServiceIndicators,
    RectificationClosed,
    RectificationReopened,
    RectificationReturned,
    SuggestionAnswered,
    SupervisionListed,
)
from contracts.measures import (
    DEFAULT_LEVEL,
    AchievementRecognized,
    AssignmentCreated,
    CataloguePublished,
    ChangeKind,
    ChangeRequestDecided,
    DeadlineMissed,
    ProgressAccepted,
    ProgressReported,
    ProgressReturned,
    UnitRegistered,
)
from contracts.notifications import BulletinIssued, EscalationRaised
from contracts.scoring import VerdictRecorded
from services.runtime.workdays import local_date


class FactKind(StrEnum):
    PROGRESS = "progress"
    PROGRESS_ACCEPTED = "progress_accepted"
    PROGRESS_RETURNED = "progress_returned"
    ASSIGNMENT = "assignment"
    EXTENSION = "extension"
    DEADLINE_MISSED = "deadline_missed"
    ACHIEVEMENT = "achievement"
    FINDING = "finding"
    RECTIFICATION_RETURNED = "rectification_returned"
    RECTIFICATION_CLOSED = "rectification_closed"
    RECTIFICATION_REOPENED = "rectification_reopened"
    SUGGESTION_ANSWERED = "suggestion_answered"
    PUBLIC_SERVICE = "public_service"
    ESCALATION = "escalation"
    BULLETIN = "bulletin"
    LISTING = "listing"
    INTERVIEW = "interview"
    ACCOUNTABILITY = "accountability"
    VERDICT = "verdict"
    UNIT = "unit"
    CATALOGUE = "catalogue"


# Facts that describe the world rather than a unit's performance: they change how other facts
# are read (a unit's peer group, a measure's type), so they are loaded for every unit.
REFERENCE_KINDS = frozenset({FactKind.UNIT, FactKind.CATALOGUE})


@dataclass(frozen=True, slots=True)
class Fact:
    event_id: str
    kind: FactKind
    unit: str
    day: date | None
    known_at: datetime
    data: Mapping[str, Any]  # JSON-safe: dates as ISO strings


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc(moment: datetime) -> str:
    """In UTC, so that comparing the strings compares the instants."""
    return moment.astimezone(UTC).isoformat()


def _progress(envelope: Envelope[ProgressReported]) -> Fact:
    report = envelope.data
    reported_on = local_date(report.reported_at)
    # A report answers the deadline of its milestone or obligation occurrence: it counts in the
    # period of that deadline, so a late report still lands where it was due.
    day = report.milestone_due_date or reported_on
    return Fact(
        envelope.id,
        FactKind.PROGRESS,
        report.unit,
        day,
        envelope.time,
        {
            "report_id": report.report_id,
            "measure_code": report.measure_code,
            "measure_type": report.measure_type,
            "assignment_id": report.assignment_id,
            "milestone_id": report.milestone_id,
            "milestone_due_date": _iso(report.milestone_due_date),
            "reported_at": _utc(report.reported_at),
            "reported_on": reported_on.isoformat(),
            "percent_complete": report.percent_complete,
            "on_time": report.on_time,
            "milestone_completed": report.milestone_completed,
            "empty": not report.summary.strip() and not report.evidence,
            "recurrence": report.recurrence,
            "measure_title": report.measure_title,
            "target_code": report.target_code,
            "target_value": report.target_value,
        },
    )


def _review(kind: FactKind) -> Callable[[Envelope[Any]], Fact]:
    def normalise(envelope: Envelope[ProgressAccepted | ProgressReturned]) -> Fact:
        review = envelope.data
        return Fact(
            envelope.id,
            kind,
            review.unit,
            None,
            envelope.time,
            {"report_id": review.report_id, "reviewed_at": _utc(review.reviewed_at)},
        )

    return normalise


def _assignment(envelope: Envelope[AssignmentCreated]) -> Fact:
    assignment = envelope.data
    return Fact(
        envelope.id,
        FactKind.ASSIGNMENT,
        assignment.unit,
        None,
        envelope.time,
        {
            "assignment_id": assignment.assignment_id,
            "measure_code": assignment.measure_code,
            "measure_type": assignment.measure_type,
            # Co-operating units receive the whole plan; only their own milestones are theirs.
            "milestones": {
                m.milestone_id: m.due_date.isoformat()
                for m in assignment.milestones
                if m.unit == assignment.unit
            },
            "titles": {
                m.milestone_id: m.title for m in assignment.milestones if m.unit == assignment.unit
            },
            "title": assignment.title_zh,
            "year": assignment.year,
            "recurrence": assignment.recurrence,
            "target_code": assignment.target_code,
            "target_value": assignment.target_value,
        },
    )


def _extension(envelope: Envelope[ChangeRequestDecided]) -> Fact | None:
    decision = envelope.data
    if not (
        decision.approved
        and decision.kind is ChangeKind.EXTENSION
        and decision.milestone_id
        and decision.due_date_after
    ):
        return None  # only an approved extension of a milestone changes what is scored
    return Fact(
        envelope.id,
        FactKind.EXTENSION,
        decision.unit,
        None,
        envelope.time,
        {
            "assignment_id": decision.assignment_id,
            "milestone_id": decision.milestone_id,
            "due_date_before": _iso(decision.due_date_before),
            "due_date_after": decision.due_date_after.isoformat(),
        },
    )


def _deadline_missed(envelope: Envelope[DeadlineMissed]) -> Fact:
    missed = envelope.data
    return Fact(
        envelope.id,
        FactKind.DEADLINE_MISSED,
        missed.unit,
        missed.due_date,
        envelope.time,
        {
            "item_type": missed.item_type.value,
            "item_id": missed.item_id,
            "measure_code": missed.measure_code,
            "measure_type": missed.measure_type,
            "assignment_id": missed.assignment_id,
            "milestone_id": missed.milestone_id,
            "due_date": missed.due_date.isoformat(),
            "title": missed.title,
        },
    )


def _achievement(envelope: Envelope[AchievementRecognized]) -> Fact:
    achievement = envelope.data
    return Fact(
        envelope.id,
        FactKind.ACHIEVEMENT,
        achievement.unit,
        achievement.recognised_on,
        envelope.time,
        {
            "achievement_id": achievement.achievement_id,
            "kind": achievement.kind.value,
            "level": (achievement.level or DEFAULT_LEVEL[achievement.kind]).value,
            "title": achievement.title,
            "measure_code": achievement.measure_code,
            "measure_type": achievement.measure_type,
        },
    )


def _finding(envelope: Envelope[FindingRaised]) -> Fact:
    finding = envelope.data
    return Fact(
        envelope.id,
        FactKind.FINDING,
        finding.unit,
        local_date(finding.raised_at),
        envelope.time,
        {
            "finding_id": finding.finding_id,
            "severity": finding.severity.value,
            "measure_code": finding.measure_code,
            "measure_type": finding.measure_type,
            "inspection_kind": finding.inspection_kind.value,
            "due_date": finding.due_date.isoformat(),
            "title": finding.finding_title,
        },
    )


def _rectification(
    kind: FactKind, moment: Callable[[Any], datetime]
) -> Callable[[Envelope[Any]], Fact]:
    def normalise(
        envelope: Envelope[RectificationReturned | RectificationClosed | RectificationReopened],
    ) -> Fact:
        step = envelope.data
        data: dict[str, Any] = {
            "finding_id": step.finding_id,
            "severity": step.severity.value,
            "measure_code": step.measure_code,
            "measure_type": step.measure_type,
            "due_date": step.due_date.isoformat(),
            "title": step.finding_title,
        }
        if isinstance(step, RectificationClosed):
            data |= {
                "on_time": step.on_time,
                "days_late": step.days_late,
                # The unit's part ended with the submission the office accepted.
                "submitted_on": local_date(step.submitted_at).isoformat(),
            }
        return Fact(envelope.id, kind, step.unit, local_date(moment(step)), envelope.time, data)

    return normalise


def _suggestion_answered(envelope: Envelope[SuggestionAnswered]) -> Fact:
    answer = envelope.data
    return Fact(
        envelope.id,
        FactKind.SUGGESTION_ANSWERED,
        answer.unit,
        local_date(answer.answered_at),
        envelope.time,
        {
            "suggestion_id": answer.suggestion_id,
            "on_time": answer.on_time,
            "days_late": answer.days_late,
        },
    )


PUBLIC_SERVICE_COUNTS = (
    "received",
    "repeat_received",
    "due",
    "closed_on_time",
    "closures",
    "reopens",
    "ratings",
    "satisfied_ratings",
)


def _public_service(envelope: Envelope[PublicServiceIndicators]) -> Fact:
    indicators = envelope.data
    return Fact(
        envelope.id,
        FactKind.PUBLIC_SERVICE,
        indicators.unit,
        indicators.period_start,
        envelope.time,
        {
            "period": indicators.period,
            "revision": indicators.revision,
            **{name: getattr(indicators, name) for name in PUBLIC_SERVICE_COUNTS},
        },
    )


def _unit(envelope: Envelope[UnitRegistered]) -> Fact:
    unit = envelope.data
    return Fact(
        envelope.id,
        FactKind.UNIT,
        unit.unit,
        None,
        envelope.time,
        {
            "name_zh": unit.name_zh,
            "name_en": unit.name_en,
            "peer_group": unit.peer_group,
            "peer_group_name_zh": unit.peer_group_name_zh,
            "peer_group_name_en": unit.peer_group_name_en,
            "is_office": unit.is_office,
        },
    )


def _catalogue(envelope: Envelope[CataloguePublished]) -> Fact:
    catalogue = envelope.data
    return Fact(
        envelope.id,
        FactKind.CATALOGUE,
        envelope.subject,
        None,
        envelope.time,
        {
            "year": catalogue.year,
            "version": catalogue.version,
            "types": {t.code: [t.name_zh, t.name_en] for t in catalogue.types},
            "measure_types": {m.code: m.type for m in catalogue.measures},
            "measure_names": {m.code: m.title_zh for m in catalogue.measures},
            "targets": {
                t.code: t.model_dump(mode="json") for m in catalogue.measures for t in m.targets
            },
        },
    )


def _escalation(envelope: Envelope[EscalationRaised]) -> Fact:
    step = envelope.data
    return Fact(
        envelope.id,
        FactKind.ESCALATION,
        step.unit,
        local_date(step.raised_at),
        envelope.time,
        {
            "case_id": step.case_id,
            "level": step.level.value,
            "item_type": step.item_type.value,
            "item_id": step.item_id,
            "title": step.title,
            "measure_code": step.measure_code,
            "due_date": step.due_date.isoformat(),
        },
    )


def _bulletin(envelope: Envelope[BulletinIssued]) -> list[Fact]:
    """One fact per listed item: a periodic 通报 names many units."""
    bulletin = envelope.data
    return [
        Fact(
            fact_id("BulletinEntry", envelope.id, entry.unit, entry.item_type.value, entry.item_id),
            FactKind.BULLETIN,
            entry.unit,
            bulletin.period_end,
            envelope.time,
            {
                "bulletin_id": bulletin.bulletin_id,
                "kind": bulletin.kind.value,
                "item_type": entry.item_type.value,
                "item_id": entry.item_id,
                "title": entry.title,
                "due_date": entry.due_date.isoformat(),
                "working_days_overdue": entry.working_days_overdue,
            },
        )
        for entry in bulletin.entries
    ]


def _listing(envelope: Envelope[SupervisionListed]) -> Fact:
    listing = envelope.data
    return Fact(
        envelope.id,
        FactKind.LISTING,
        listing.unit,
        local_date(listing.listed_at),
        envelope.time,
        {
            "listing_id": listing.listing_id,
            "item_type": listing.item_type.value,
            "item_id": listing.item_id,
            "title": listing.title,
            "due_date": listing.due_date.isoformat(),
            "document": listing.document,
        },
    )


def _interview(envelope: Envelope[InterviewRecorded]) -> Fact:
    interview = envelope.data
    return Fact(
        envelope.id,
        FactKind.INTERVIEW,
        interview.unit,
        interview.held_on,
        envelope.time,
        {"interview_id": interview.interview_id, "title": interview.reason},
    )


def _accountability(envelope: Envelope[AccountabilityRecorded]) -> Fact:
    decision = envelope.data
    return Fact(
        envelope.id,
        FactKind.ACCOUNTABILITY,
        decision.unit,
        decision.decided_on,
        envelope.time,
        {
            "decision_id": decision.decision_id,
            "form": decision.form.value,
            "title": decision.reason,
            "document": decision.document,
        },
    )


def _verdict(envelope: Envelope[VerdictRecorded]) -> Fact:
    verdict = envelope.data
    return Fact(
        envelope.id,
        FactKind.VERDICT,
        verdict.unit,
        None,
        envelope.time,
        {
            "verdict_id": verdict.verdict_id,
            "period": verdict.period,
            "kind": verdict.kind,
            "steps": verdict.steps,
            "reason": verdict.reason,
            "document": verdict.document,
            "decided_by": verdict.decided_by,
            "decided_on": verdict.decided_on.isoformat(),
        },
    )


Normaliser = Callable[[Envelope[Any]], Fact | list[Fact] | None]

# Every message scoring consumes, and how it becomes a fact. The bus subscriptions and the
# rebuild both read this table, so they cannot disagree on what is consumed.
NORMALISERS: Mapping[type[Message], Normaliser] = {
    ProgressReported: _progress,
    ProgressAccepted: _review(FactKind.PROGRESS_ACCEPTED),
    ProgressReturned: _review(FactKind.PROGRESS_RETURNED),
    AssignmentCreated: _assignment,
    ChangeRequestDecided: _extension,
    DeadlineMissed: _deadline_missed,
    AchievementRecognized: _achievement,
    FindingRaised: _finding,
    RectificationReturned: _rectification(FactKind.RECTIFICATION_RETURNED, lambda s: s.returned_at),
    RectificationClosed: _rectification(FactKind.RECTIFICATION_CLOSED, lambda s: s.closed_at),
    RectificationReopened: _rectification(FactKind.RECTIFICATION_REOPENED, lambda s: s.reopened_at),
    SuggestionAnswered: _suggestion_answered,
    PublicServiceIndicators: _public_service,
    EscalationRaised: _escalation,
    BulletinIssued: _bulletin,
    SupervisionListed: _listing,
    InterviewRecorded: _interview,
    AccountabilityRecorded: _accountability,
    VerdictRecorded: _verdict,
    UnitRegistered: _unit,
    CataloguePublished: _catalogue,
}


def to_facts(envelope: Envelope[Any]) -> list[Fact]:
    """The facts an event establishes: none for an event that changes no score, several for one
    that concerns several units (a bulletin)."""
    found = NORMALISERS[type(envelope.data)](envelope)
    if found is None:
        return []
    return found if isinstance(found, list) else [found]
