"""The inspections service's own tables (its own SQLModel registry, so no other service's tables
share its metadata). Rows that change after creation carry a `version`: SQLAlchemy adds it to
every UPDATE's WHERE clause, so of two concurrent changes to one item exactly one wins and the
other fails with StaleDataError instead of silently overwriting."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr, registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class InspectionsTable(SQLModel, registry=registry()):
    pass


class Versioned(InspectionsTable):
    version: int = Field(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Inspection(InspectionsTable, table=True):
    __tablename__ = "inspections"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    method: str = Field(max_length=32)
    title: str = Field(max_length=200)
    inspector: str = Field(max_length=200)
    inspected_on: date = Field(index=True)
    target_units: list[str] = Field(sa_type=sa.JSON)
    measure_codes: list[str] = Field(sa_type=sa.JSON)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    fingerprint: str = Field(max_length=64)
    filed_at: datetime = Field(sa_type=UtcDateTime)


class InspectionTarget(InspectionsTable, table=True):
    """One row per target unit, so listing a unit's inspections is an indexed join on every
    backend instead of a JSON query that SQLite and PostgreSQL spell differently."""

    __tablename__ = "inspection_targets"

    inspection_pk: int = Field(foreign_key="inspections.id", primary_key=True)
    unit: str = Field(max_length=40, primary_key=True, index=True)


class Finding(Versioned, table=True):
    """A finding and the state of its rectification: one row of the ledger (台账)."""

    __tablename__ = "findings"
    __table_args__ = (sa.Index("ix_findings_state_due_date", "state", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    finding_id: str = Field(max_length=64, unique=True)
    inspection_pk: int = Field(foreign_key="inspections.id", index=True)
    unit: str = Field(max_length=40, index=True)
    severity: str = Field(max_length=16)
    measure_code: str | None = Field(default=None, max_length=32)
    measure_type: str | None = Field(default=None, max_length=16)
    title: str = Field(max_length=200)
    description: str = Field(sa_type=sa.Text)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    clues: list[dict[str, str]] = Field(sa_type=sa.JSON)
    state: str = Field(max_length=16)
    due_date: date
    raised_at: datetime = Field(sa_type=UtcDateTime)
    submission_count: int = 0
    return_count: int = 0
    reopen_count: int = 0
    last_submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_on_time: bool | None = None
    # The due date a DeadlineMissed was emitted for: at most one per item and due date.
    deadline_missed_for: date | None = None
    fingerprint: str = Field(max_length=64)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    source: str = Field(default="supervision", max_length=24)
    rectification_category: str = Field(default="immediate", max_length=16)
    # The plan stage (限期整改, 长期坚持): when the 整改方案 is due, and the latest plan filed.
    plan_due_date: date | None = None
    plan_missed_for: date | None = None
    plan_count: int = 0
    plan_filed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    plan_measures: list[str] | None = Field(default=None, sa_type=sa.JSON)
    plan_milestones: list[dict[str, str]] | None = Field(default=None, sa_type=sa.JSON)
    responsible_leader: str | None = Field(default=None, max_length=200)
    responsible_person: str | None = Field(default=None, max_length=200)
    # The office's verification (验收) of the latest report, and its outcome.
    verification_due_date: date | None = None
    verification_missed_for: date | None = None
    verification_opinion: str | None = Field(default=None, sa_type=sa.Text)
    approved_by: str | None = Field(default=None, max_length=200)
    site_review: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # The reminder (DeadlineApproaching) last sent: "<item type>:<due date>:<offset>".
    reminded_for: str | None = Field(default=None, max_length=64)
    # The fingerprint of the step last applied (domain/fingerprint.py): its retry is no refusal.
    last_step: str | None = Field(default=None, max_length=64)


class SupervisionListing(Versioned, table=True):
    """An item under 挂牌督办 until it is lifted (`delisted_at`)."""

    __tablename__ = "supervision_listings"
    __table_args__ = (sa.Index("ix_supervision_listings_item", "item_type", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_id: str = Field(max_length=64, unique=True)
    unit: str = Field(max_length=40, index=True)
    item_type: str = Field(max_length=24)
    item_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    reason: str = Field(sa_type=sa.Text)
    document: str | None = Field(default=None, max_length=100)
    listed_by: str = Field(max_length=200)
    listed_at: datetime = Field(sa_type=UtcDateTime)
    due_date: date
    delisted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    delisted_by: str | None = Field(default=None, max_length=200)
    fingerprint: str = Field(max_length=64)


class Interview(InspectionsTable, table=True):
    """A 约谈 the office held with a unit's leaders."""

    __tablename__ = "interviews"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(max_length=64, unique=True)
    unit: str = Field(max_length=40, index=True)
    held_on: date
    interviewer: str = Field(max_length=200)
    interviewees: list[str] = Field(sa_type=sa.JSON)
    reason: str = Field(sa_type=sa.Text)
    outcome: str = Field(sa_type=sa.Text)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    fingerprint: str = Field(max_length=64)


class AccountabilityDecision(InspectionsTable, table=True):
    """A 问责 decision the office recorded, with the document that decided it."""

    __tablename__ = "accountability_decisions"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: str = Field(max_length=64, unique=True)
    unit: str = Field(max_length=40, index=True)
    persons: list[str] = Field(sa_type=sa.JSON)
    form: str = Field(max_length=32)
    reason: str = Field(sa_type=sa.Text)
    document: str = Field(max_length=100)
    decided_on: date
    item_type: str | None = Field(default=None, max_length=24)
    item_id: str | None = Field(default=None, max_length=64)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    fingerprint: str = Field(max_length=64)


class FindingClue(InspectionsTable, table=True):
    """The clues a finding cites, indexed for the way back: which findings cite this request?"""

    __tablename__ = "finding_clues"
    __table_args__ = (sa.Index("ix_finding_clues_kind_ref", "kind", "ref"),)

    finding_pk: int = Field(foreign_key="findings.id", primary_key=True)
    kind: str = Field(max_length=24, primary_key=True)
    ref: str = Field(max_length=64, primary_key=True)


class Submission(InspectionsTable, table=True):
    """Each rectification a unit submitted, with its evidence."""

    __tablename__ = "rectification_submissions"

    id: int | None = Field(default=None, primary_key=True)
    finding_pk: int = Field(foreign_key="findings.id", index=True)
    number: int
    summary: str = Field(sa_type=sa.Text)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    submitted_at: datetime = Field(sa_type=UtcDateTime)
    actor_id: str = Field(max_length=128)
    actor_name: str = Field(max_length=200)


class JournalEntry(InspectionsTable, table=True):
    """Every change to every item: who, when, what, from which state to which, and why."""

    __tablename__ = "journal"
    __table_args__ = (sa.Index("ix_journal_entity", "entity_type", "entity_id"),)

    seq: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=24)
    entity_id: str = Field(max_length=64)
    unit: str | None = Field(default=None, max_length=40, index=True)
    action: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    actor_role: str = Field(max_length=16)
    actor_id: str = Field(max_length=128)
    actor_name: str = Field(max_length=200)
    actor_unit: str | None = Field(default=None, max_length=40)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    details: dict[str, Any] = Field(sa_type=sa.JSON)
    event_id: str | None = Field(default=None, max_length=128)


class PublicRequest(Versioned, table=True):
    __tablename__ = "public_requests"
    __table_args__ = (sa.Index("ix_public_requests_state_due_at", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=64, unique=True)
    unit: str = Field(max_length=40, index=True)
    channel: str = Field(max_length=24)
    title: str = Field(max_length=200)
    content: str = Field(sa_type=sa.Text)
    state: str = Field(max_length=16)
    received_at: datetime = Field(sa_type=UtcDateTime, index=True)
    due_at: datetime = Field(sa_type=UtcDateTime)
    first_due_at: datetime = Field(sa_type=UtcDateTime)
    repeat_of: str | None = Field(default=None, max_length=64)
    first_closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_step_at: datetime = Field(sa_type=UtcDateTime)
    rated_since_closure: bool = False
    latest_rating: int | None = None
    closure_count: int = 0
    reopen_count: int = 0
    # The time limit a DeadlineMissed was emitted for: at most one per request and limit.
    missed_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    fingerprint: str = Field(max_length=64)
    received_via: str = Field(max_length=8)  # http | nats
    # The reminder (DeadlineApproaching) last sent: "<time limit>:<share of it left>%".
    reminded_for: str | None = Field(default=None, max_length=64)


class RequestStep(InspectionsTable, table=True):
    """Each step of a request as reported; the fingerprint makes a resent step harmless."""

    __tablename__ = "public_request_steps"
    __table_args__ = (
        sa.UniqueConstraint("request_pk", "fingerprint", name="uq_public_request_steps_content"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_pk: int = Field(foreign_key="public_requests.id", index=True)
    step: str = Field(max_length=16)
    at: datetime = Field(sa_type=UtcDateTime)
    rating: int | None = None
    details: dict[str, Any] = Field(sa_type=sa.JSON)
    fingerprint: str = Field(max_length=64)


class IndicatorPeriod(InspectionsTable, table=True):
    """One unit's month of public-request indicators and what was last published for it. Every
    step that can change the month's figures counts up `changes`; the publisher records the count
    it computed from, so a step that lands while it computes is picked up by its next run."""

    __tablename__ = "indicator_periods"

    unit: str = Field(max_length=40, primary_key=True)
    period: str = Field(max_length=7, primary_key=True)
    changes: int = 1
    published_changes: int = 0
    revision: int = 0
    fingerprint: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Supervisor(InspectionsTable, table=True):
    __tablename__ = "supervisors"

    id: int | None = Field(default=None, primary_key=True)
    supervisor_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=16)
    affiliation: str | None = Field(default=None, max_length=200)
    fingerprint: str = Field(max_length=64)
    entered_at: datetime = Field(sa_type=UtcDateTime)


class SupervisorTerm(InspectionsTable, table=True):
    __tablename__ = "supervisor_terms"

    id: int | None = Field(default=None, primary_key=True)
    supervisor_pk: int = Field(foreign_key="supervisors.id", index=True)
    starts_on: date
    ends_on: date
    exited_on: date | None = None
    exit_reason: str | None = Field(default=None, sa_type=sa.Text)


class Suggestion(Versioned, table=True):
    __tablename__ = "suggestions"
    __table_args__ = (sa.Index("ix_suggestions_state_due_date", "state", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: str = Field(max_length=64, unique=True)
    supervisor_pk: int = Field(foreign_key="supervisors.id", index=True)
    unit: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    content: str = Field(sa_type=sa.Text)
    state: str = Field(max_length=16)
    due_date: date
    filed_at: datetime = Field(sa_type=UtcDateTime)
    answer_count: int = 0
    last_answer: str | None = Field(default=None, sa_type=sa.Text)
    last_answer_evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    last_answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    answered_on_time: bool | None = None
    feedback_satisfied: bool | None = None
    feedback_comment: str | None = Field(default=None, sa_type=sa.Text)
    deadline_missed_for: date | None = None
    fingerprint: str = Field(max_length=64)
    # The reminder (DeadlineApproaching) last sent: "<due date>:<offset>".
    reminded_for: str | None = Field(default=None, max_length=64)
    # The fingerprint of the step last applied (domain/fingerprint.py): its retry is no refusal.
    last_step: str | None = Field(default=None, max_length=64)


class MissedDeadline(InspectionsTable, table=True):
    """DeadlineMissed events seen on the bus, from any service: the clues a finding can cite."""

    __tablename__ = "missed_deadlines"

    event_id: str = Field(max_length=128, primary_key=True)
    item_type: str = Field(max_length=24)
    item_id: str = Field(max_length=64)
    unit: str = Field(max_length=40, index=True)
    title: str = Field(sa_type=sa.Text)
    measure_code: str | None = Field(default=None, max_length=32)
    due_date: date
    detected_at: datetime = Field(sa_type=UtcDateTime)


class ReferenceUnit(InspectionsTable, table=True):
    """The unit directory as the measures service published it (UnitRegistered)."""

    __tablename__ = "reference_units"

    code: str = Field(max_length=40, primary_key=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    peer_group: str | None = Field(default=None, max_length=40)
    is_office: bool = False
    published_at: datetime = Field(sa_type=UtcDateTime)


class ReferenceCatalogue(InspectionsTable, table=True):
    """The catalogue in force per programme year as published (CataloguePublished)."""

    __tablename__ = "reference_catalogues"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: str = Field(max_length=32)
    types: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    measures: list[dict[str, Any]] = Field(sa_type=sa.JSON)
    published_at: datetime = Field(sa_type=UtcDateTime)
