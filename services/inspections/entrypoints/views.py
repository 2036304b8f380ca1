"""What the HTTP API answers with: stored rows plus the names a reader needs (Chinese names of
units, states, kinds, severities) and derived facts such as whether an item is overdue."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from contracts.common import EvidenceRef
from contracts.inspections import (
    ACCOUNTABILITY_FORM_NAMES,
    CATEGORY_NAMES,
    SEVERITY_NAMES,
    SOURCE_NAMES,
    AccountabilityForm,
    ClueKind,
    FindingSource,
    FiveType,
    InspectionKind,
    InspectionMethod,
    PlanMilestone,
    PublicChannel,
    RectificationCategory,
    Severity,
)
from contracts.measures import DeadlineItem
from services.inspections.adapters.tables import (
    AccountabilityDecision,
    Finding,
    Inspection,
    Interview,
    JournalEntry,
    MissedDeadline,
    PublicRequest,
    Submission,
    Suggestion,
    SupervisionListing,
    Supervisor,
    SupervisorTerm,
)
from services.inspections.domain.findings import STATE_NAMES, RectificationState, is_overdue
from services.inspections.domain.indicators import Indicators
from services.inspections.domain.inspections import KIND_NAMES, METHOD_NAMES
from services.inspections.domain.public_requests import (
    CHANNEL_NAMES,
    OPEN_STATES,
    RATING_NAMES,
    RequestState,
)
from services.inspections.domain.public_requests import STATE_NAMES as REQUEST_STATE_NAMES
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.supervision import (
    CATEGORY_NAMES as SUPERVISOR_CATEGORY_NAMES,
)
from services.inspections.domain.supervision import (
    SUGGESTION_STATE_NAMES,
    SuggestionState,
    SupervisorCategory,
    Term,
    serving,
)


class InspectionView(BaseModel):
    inspection_id: str
    kind: InspectionKind
    kind_name: str
    method: InspectionMethod
    method_name: str
    title: str
    inspector: str
    inspected_on: date
    target_units: list[str]
    measure_codes: list[str]
    evidence: list[EvidenceRef]
    filed_at: datetime

    @classmethod
    def of(cls, row: Inspection) -> "InspectionView":
        kind, method = InspectionKind(row.kind), InspectionMethod(row.method)
        return cls.model_validate(
            {
                **row.model_dump(),
                "kind": kind,
                "kind_name": KIND_NAMES[kind],
                "method": method,
                "method_name": METHOD_NAMES[method],
            }
        )


class ClueView(BaseModel):
    kind: ClueKind
    ref: str


class FindingView(BaseModel):
    """One row of the rectification ledger."""

    finding_id: str
    source: FindingSource
    source_name: str
    rectification_category: RectificationCategory
    rectification_category_name: str
    inspection_id: str
    inspection_title: str
    inspection_kind: InspectionKind
    inspection_kind_name: str
    unit: str
    unit_name: str
    severity: Severity
    severity_name: str
    measure_code: str | None
    measure_title: str | None
    measure_type: FiveType | None
    measure_type_name: str | None
    title: str
    description: str
    due_date: date
    state: RectificationState
    state_name: str
    overdue: bool
    raised_at: datetime
    submission_count: int
    return_count: int
    reopen_count: int
    last_submitted_at: datetime | None
    closed_at: datetime | None
    closed_on_time: bool | None
    deadline_missed_for: date | None
    plan_due_date: date | None
    plan_count: int
    plan_filed_at: datetime | None
    plan_measures: list[str] | None
    plan_milestones: list[PlanMilestone] | None
    responsible_leader: str | None
    responsible_person: str | None
    verification_due_date: date | None
    verification_opinion: str | None
    approved_by: str | None
    site_review: dict[str, Any] | None
    listed: bool
    clues: list[ClueView]
    evidence: list[EvidenceRef]
    version: int

    @classmethod
    def of(
        cls,
        row: Finding,
        inspection: Inspection,
        reference: ReferenceData,
        today: date,
        listed: bool = False,
    ) -> "FindingView":
        state, severity = RectificationState(row.state), Severity(row.severity)
        source = FindingSource(row.source)
        category = RectificationCategory(row.rectification_category)
        kind = InspectionKind(inspection.kind)
        measure = reference.measure(row.measure_code or "")
        kind_of = FiveType(row.measure_type) if row.measure_type else None
        return cls.model_validate(
            {
                **row.model_dump(),
                "inspection_id": inspection.inspection_id,
                "inspection_title": inspection.title,
                "inspection_kind": kind,
                "inspection_kind_name": KIND_NAMES[kind],
                "unit_name": reference.unit_name(row.unit),
                "severity": severity,
                "severity_name": SEVERITY_NAMES[severity][0],
                "measure_title": measure.title_zh if measure else None,
                "measure_type": kind_of,
                "measure_type_name": reference.types[kind_of].name_zh if kind_of else None,
                "state": state,
                "state_name": STATE_NAMES[state][0],
                "overdue": is_overdue(state, row.due_date, today),
                "source": source,
                "source_name": SOURCE_NAMES[source][0],
                "rectification_category": category,
                "rectification_category_name": CATEGORY_NAMES[category][0],
                "listed": listed,
            }
        )

    def export_row(self) -> dict[str, Any]:
        row = self.model_dump()
        row["clues"] = [f"{c.kind.value}:{c.ref}" for c in self.clues]
        row["progress"] = self.state_name + ("（逾期）" if self.overdue else "")
        row["plan_measures"] = "；".join(self.plan_measures or [])
        return row


class SubmissionView(BaseModel):
    number: int
    summary: str
    evidence: list[EvidenceRef]
    submitted_at: datetime
    actor_id: str
    actor_name: str

    @classmethod
    def of(cls, row: Submission) -> "SubmissionView":
        return cls.model_validate(row, from_attributes=True)


class FindingDetail(FindingView):
    submissions: list[SubmissionView]


class LedgerPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[FindingView]


class UnitLedgerSummary(BaseModel):
    unit: str
    unit_name: str
    total: int
    by_state: dict[RectificationState, int]
    overdue: int


class JournalEntryView(BaseModel):
    seq: int
    entity_type: str
    entity_id: str
    unit: str | None
    action: str
    from_state: str | None
    to_state: str | None
    actor_role: str
    actor_id: str
    actor_name: str
    actor_unit: str | None
    at: datetime
    details: dict[str, Any]
    event_id: str | None

    @classmethod
    def of(cls, row: JournalEntry) -> "JournalEntryView":
        return cls.model_validate(row, from_attributes=True)


class PublicRequestView(BaseModel):
    request_id: str
    unit: str
    unit_name: str
    channel: PublicChannel
    channel_name: str
    title: str
    content: str
    state: RequestState
    state_name: str
    overdue: bool
    received_at: datetime
    due_at: datetime
    first_due_at: datetime
    repeat_of: str | None
    first_closed_at: datetime | None
    closure_count: int
    reopen_count: int
    latest_rating: int | None
    latest_rating_name: str | None
    received_via: str
    cited_by_findings: list[str]

    @classmethod
    def of(
        cls, row: PublicRequest, reference: ReferenceData, now: datetime, cited_by: list[str]
    ) -> "PublicRequestView":
        state, channel = RequestState(row.state), PublicChannel(row.channel)
        return cls.model_validate(
            {
                **row.model_dump(),
                "unit_name": reference.unit_name(row.unit),
                "channel": channel,
                "channel_name": CHANNEL_NAMES[channel],
                "state": state,
                "state_name": REQUEST_STATE_NAMES[state][0],
                "overdue": state in OPEN_STATES and now > row.due_at,
                "latest_rating_name": RATING_NAMES.get(row.latest_rating or 0),
                "cited_by_findings": cited_by,
            }
        )


class IndicatorsView(BaseModel):
    """A unit's month, computed now from what is on record; `published_revision` is the last
    revision sent to scoring (0: not yet, e.g. the month has not ended)."""

    unit: str
    unit_name: str
    period: str
    received: int
    repeat_received: int
    due: int
    closed_on_time: int
    closures: int
    reopens: int
    ratings: int
    satisfied_ratings: int
    on_time_closure_rate: float | None
    satisfaction_rate: float | None
    repeat_complaint_rate: float | None
    reopen_rate: float | None
    published_revision: int

    @classmethod
    def of(
        cls,
        unit: str,
        period: str,
        indicators: Indicators,
        reference: ReferenceData,
        published_revision: int,
    ) -> "IndicatorsView":
        return cls(
            unit=unit,
            unit_name=reference.unit_name(unit),
            period=period,
            received=indicators.received,
            repeat_received=indicators.repeat_received,
            due=indicators.due,
            closed_on_time=indicators.closed_on_time,
            closures=indicators.closures,
            reopens=indicators.reopens,
            ratings=indicators.ratings,
            satisfied_ratings=indicators.satisfied_ratings,
            on_time_closure_rate=indicators.on_time_closure_rate,
            satisfaction_rate=indicators.satisfaction_rate,
            repeat_complaint_rate=indicators.repeat_complaint_rate,
            reopen_rate=indicators.reopen_rate,
            published_revision=published_revision,
        )


class TermView(BaseModel):
    starts_on: date
    ends_on: date
    exited_on: date | None
    exit_reason: str | None

    @classmethod
    def of(cls, row: SupervisorTerm) -> "TermView":
        return cls.model_validate(row, from_attributes=True)


class SupervisorView(BaseModel):
    supervisor_id: str
    name: str
    category: SupervisorCategory
    category_name: str
    affiliation: str | None
    serving: bool
    terms: list[TermView]
    entered_at: datetime

    @classmethod
    def of(cls, row: Supervisor, terms: list[SupervisorTerm], today: date) -> "SupervisorView":
        category = SupervisorCategory(row.category)
        spans = [Term(t.starts_on, t.ends_on, t.exited_on) for t in terms]
        return cls.model_validate(
            {
                **row.model_dump(),
                "category": category,
                "category_name": SUPERVISOR_CATEGORY_NAMES[category],
                "serving": serving(spans, today),
                "terms": [TermView.of(t) for t in terms],
            }
        )


class SuggestionView(BaseModel):
    suggestion_id: str
    supervisor_id: str
    supervisor_name: str
    unit: str
    unit_name: str
    title: str
    content: str
    state: SuggestionState
    state_name: str
    due_date: date
    overdue: bool
    filed_at: datetime
    answer_count: int
    last_answer: str | None
    last_answer_evidence: list[EvidenceRef]
    last_answered_at: datetime | None
    answered_on_time: bool | None
    feedback_satisfied: bool | None
    feedback_comment: str | None

    @classmethod
    def of(
        cls, row: Suggestion, supervisor: Supervisor, reference: ReferenceData, today: date
    ) -> "SuggestionView":
        state = SuggestionState(row.state)
        return cls.model_validate(
            {
                **row.model_dump(),
                "supervisor_id": supervisor.supervisor_id,
                "supervisor_name": supervisor.name,
                "unit_name": reference.unit_name(row.unit),
                "state": state,
                "state_name": SUGGESTION_STATE_NAMES[state][0],
                "overdue": state is SuggestionState.ASSIGNED and today > row.due_date,
            }
        )


class MissedDeadlineView(BaseModel):
    event_id: str
    item_type: str
    item_id: str
    unit: str
    unit_name: str
    title: str
    measure_code: str | None
    due_date: date
    detected_at: datetime

    @classmethod
    def of(cls, row: MissedDeadline, reference: ReferenceData) -> "MissedDeadlineView":
        return cls.model_validate({**row.model_dump(), "unit_name": reference.unit_name(row.unit)})


class ListingView(BaseModel):
    listing_id: str
    unit: str
    unit_name: str
    item_type: DeadlineItem
    item_id: str
    title: str
    reason: str
    document: str | None
    listed_by: str
    listed_at: datetime
    due_date: date
    delisted_at: datetime | None
    delisted_by: str | None
    active: bool

    @classmethod
    def of(cls, row: SupervisionListing, reference: ReferenceData) -> "ListingView":
        return cls.model_validate(
            {
                **row.model_dump(),
                "unit_name": reference.unit_name(row.unit),
                "active": row.delisted_at is None,
            }
        )


class InterviewView(BaseModel):
    interview_id: str
    unit: str
    unit_name: str
    held_on: date
    interviewer: str
    interviewees: list[str]
    reason: str
    outcome: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: Interview, reference: ReferenceData) -> "InterviewView":
        return cls.model_validate({**row.model_dump(), "unit_name": reference.unit_name(row.unit)})


class AccountabilityView(BaseModel):
    decision_id: str
    unit: str
    unit_name: str
    persons: list[str]
    form: AccountabilityForm
    form_name: str
    reason: str
    document: str
    decided_on: date
    item_type: DeadlineItem | None
    item_id: str | None
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: AccountabilityDecision, reference: ReferenceData) -> "AccountabilityView":
        form = AccountabilityForm(row.form)
        return cls.model_validate(
            {
                **row.model_dump(),
                "unit_name": reference.unit_name(row.unit),
                "form": form,
                "form_name": ACCOUNTABILITY_FORM_NAMES[form][0],
            }
        )
