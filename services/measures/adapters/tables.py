"""The measures service's own tables (its own SQLModel registry, so no other service's tables
share its metadata)."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class MeasuresTable(SQLModel, registry=registry()):
    pass


# ----------------------------------------------------------------------------- reference data


class PeerGroupRow(MeasuresTable, table=True):
    __tablename__ = "peer_groups"

    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)


class UnitRow(MeasuresTable, table=True):
    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    peer_group: str | None = Field(default=None, max_length=40)
    is_office: bool = False
    updated_at: datetime = Field(sa_type=UtcDateTime)


class CatalogueVersion(MeasuresTable, table=True):
    """Every catalogue ever in force; the newest of a year is the one in force for that year.
    Versions are immutable, so past scores stay explainable by past rules."""

    __tablename__ = "catalogue_versions"
    __table_args__ = (sa.UniqueConstraint("year", "version", name="uq_catalogue_year_version"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    version: str = Field(max_length=32)
    document: dict[str, Any] = Field(sa_type=sa.JSON)
    content_hash: str = Field(max_length=64)
    imported_at: datetime = Field(sa_type=UtcDateTime)
    imported_by: str = Field(max_length=200)


class CalendarRow(MeasuresTable, table=True):
    __tablename__ = "calendars"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    document: dict[str, Any] = Field(sa_type=sa.JSON)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    updated_by: str = Field(max_length=200)


class ReferenceRevision(MeasuresTable, table=True):
    """One row counting changes to units, catalogues and calendars: replicas compare it with the
    revision their in-memory copy was read at, and reload when another replica changed them."""

    __tablename__ = "reference_revision"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int


# ----------------------------------------------------------------------------- assignments


class Assignment(MeasuresTable, table=True):
    __tablename__ = "assignments"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: str = Field(max_length=64, unique=True)
    year: int = Field(index=True)
    measure_code: str = Field(max_length=32)  # the item assigned: M12, M12-T1 or M12-S2
    measure_root: str = Field(max_length=8, index=True)  # its measure: M12
    measure_type: str | None = Field(default=None, max_length=20, index=True)
    title_zh: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    lead_unit: str = Field(max_length=40, index=True)
    co_units: list[str] = Field(sa_type=sa.JSON)
    start_on: date
    target_code: str | None = Field(default=None, max_length=32)
    target_value: float | None = None
    recurrence: str | None = Field(default=None, max_length=40)
    rule: str | None = Field(default=None, max_length=200)
    roll: str | None = Field(default=None, max_length=16)
    reported_percent: float = 0.0  # from the lead unit's latest report that was not returned
    last_reported_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    note: str = Field(sa_type=sa.Text)
    fingerprint: str = Field(max_length=64)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UtcDateTime)


class AssignmentUnit(MeasuresTable, table=True):
    """One row per unit on an assignment, so "a unit's assignments" is an indexed lookup."""

    __tablename__ = "assignment_units"

    assignment_pk: int = Field(foreign_key="assignments.id", primary_key=True)
    unit: str = Field(max_length=40, primary_key=True, index=True)
    role: str = Field(max_length=8)


class Milestone(MeasuresTable, table=True):
    """A dated milestone, or one occurrence of a recurring obligation.

    `alert_on` is the local date on which the deadline watcher next has something to say about
    it (a reminder, or the miss); None once it is complete or its miss was announced.
    """

    __tablename__ = "milestones"
    __table_args__ = (
        sa.UniqueConstraint("assignment_pk", "milestone_id", name="uq_milestone_assignment_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_pk: int = Field(foreign_key="assignments.id", index=True)
    milestone_id: str = Field(max_length=64)
    unit: str = Field(max_length=40, index=True)
    title: str = Field(max_length=200)
    due_date: date = Field(index=True)
    original_due_date: date
    expected_percent: float
    percent_complete: float = 0.0
    last_reported_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    missed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reminded_offset: int | None = None
    alert_on: date | None = Field(default=None, index=True)


class ProgressReport(MeasuresTable, table=True):
    __tablename__ = "progress_reports"
    __table_args__ = (sa.UniqueConstraint("unit", "report_id", name="uq_progress_unit_report"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(max_length=40, index=True)
    report_id: str = Field(max_length=64)
    measure_code: str = Field(max_length=32, index=True)
    milestone_id: str | None = Field(default=None, max_length=64)
    percent_complete: float
    summary: str = Field(sa_type=sa.Text)
    reported_at: datetime = Field(sa_type=UtcDateTime)
    reporter: str = Field(max_length=200)
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    fingerprint: str = Field(max_length=64)
    event_id: str = Field(max_length=128)
    received_via: str = Field(max_length=8)  # http | nats
    accepted_at: datetime = Field(sa_type=UtcDateTime)
    assignment_pk: int | None = Field(default=None, index=True)
    milestone_pk: int | None = Field(default=None, index=True)
    assignment_id: str | None = Field(default=None, max_length=64)
    target_code: str | None = Field(default=None, max_length=32)
    target_value: float | None = None
    on_time: bool | None = None
    review_status: str = Field(default="pending", max_length=16)  # pending|accepted|returned
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    review_reason: str | None = Field(default=None, sa_type=sa.Text)


class ChangeRequest(MeasuresTable, table=True):
    __tablename__ = "change_requests"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=64, unique=True)
    assignment_pk: int = Field(foreign_key="assignments.id", index=True)
    milestone_pk: int | None = None
    unit: str = Field(max_length=40, index=True)
    kind: str = Field(max_length=16)
    milestone_id: str | None = Field(default=None, max_length=64)
    current_due_date: date | None = None
    proposed_due_date: date | None = None
    proposed_title: str | None = Field(default=None, max_length=200)
    proposed_target_value: float | None = None
    reason: str = Field(sa_type=sa.Text)
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(max_length=16, index=True)  # pending|approved|refused
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision_reason: str | None = Field(default=None, sa_type=sa.Text)
    fingerprint: str = Field(max_length=64)


class Achievement(MeasuresTable, table=True):
    __tablename__ = "achievements"

    id: int | None = Field(default=None, primary_key=True)
    achievement_id: str = Field(max_length=64, unique=True)
    unit: str = Field(max_length=40, index=True)
    year: int = Field(index=True)
    kind: str = Field(max_length=32)
    level: str = Field(max_length=16, default="national")
    title: str = Field(max_length=200)
    measure_code: str = Field(max_length=32)
    recognised_on: date
    evidence: list[dict[str, str | None]] = Field(sa_type=sa.JSON)
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    fingerprint: str = Field(max_length=64)


# ----------------------------------------------------------------------------- journal, watcher


class JournalEntry(MeasuresTable, table=True):
    """Every change other than the reports themselves (kept in progress_reports): who, when,
    what and why, in the transaction that made the change."""

    __tablename__ = "journal"
    __table_args__ = (sa.Index("ix_journal_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=140)
    unit: str | None = Field(default=None, max_length=40, index=True)
    reason: str = Field(sa_type=sa.Text)
    details: dict[str, Any] = Field(sa_type=sa.JSON)


class JobLock(MeasuresTable, table=True):
    """One row per job that replicas sharing the database must not run at the same time (the
    deadline sweep, the seeding of reference data). The job's transaction first updates its row:
    a second replica waits on that row lock, then sees the first one's work as done."""

    __tablename__ = "job_locks"

    name: str = Field(primary_key=True, max_length=32)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
