"""Messages of the measures service: progress intake, its answers, and deadlines."""

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.common import Evidence, FieldError, MeasureCode, Name, Text
from contracts.envelope import Message, UnitCode
from contracts.reasons import Reason
from contracts.spec import MessageSpec


class ReportProgress(Message):
    """Command: a unit's system reports progress on a measure assigned to it."""

    NAME = "ReportProgress"
    report_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="Chosen by the unit; the idempotency key of the report.",
    )
    unit: UnitCode
    measure_code: MeasureCode
    milestone_id: str | None = Field(default=None, max_length=64)
    percent_complete: float = Field(ge=0, le=100, allow_inf_nan=False)
    summary: Text = ""
    reported_at: AwareDatetime
    reporter: Name
    evidence: Evidence


class ProgressReported(Message):
    """Event: the measures service accepted and stored a progress report."""

    NAME = "ProgressReported"
    report_id: str
    unit: UnitCode
    unit_name: str
    measure_code: MeasureCode
    measure_title: str
    milestone_id: str | None = None
    percent_complete: float = Field(ge=0, le=100)
    summary: str = ""
    reported_at: AwareDatetime
    reporter: str
    evidence: Evidence


class IntakeRejected(Message):
    """Event: a command from a unit was refused; published on the unit's rejection subject."""

    NAME = "IntakeRejected"
    command_id: str | None = Field(description="Envelope id of the refused command, if readable.")
    command_type: str | None = None
    unit: UnitCode
    reference: str | None = Field(default=None, description="The unit's key, e.g. report_id.")
    reason: Reason
    message_zh: str
    message_en: str
    errors: list[FieldError] = Field(default_factory=list)


class DeadlineItem(StrEnum):
    MILESTONE = "milestone"
    OBLIGATION = "obligation"
    RECTIFICATION = "rectification"
    PUBLIC_REQUEST = "public_request"
    SUGGESTION = "suggestion"


class DeadlineMissed(Message):
    """Event: an item passed its deadline while open. Its envelope id is
    fact_id("DeadlineMissed", item_type, item_id, due_date), so every detector agrees on it."""

    NAME = "DeadlineMissed"
    item_type: DeadlineItem
    item_id: str = Field(min_length=1, max_length=64)
    unit: UnitCode
    title: str
    measure_code: MeasureCode | None = None
    due_date: date
    detected_at: AwareDatetime


SPECS = (
    MessageSpec(ReportProgress, "command", "unit systems", ("measures",)),
    MessageSpec(IntakeRejected, "rejection", "measures", ("unit systems",)),
    MessageSpec(ProgressReported, "event", "measures", ("scoring", "notifications")),
    MessageSpec(DeadlineMissed, "event", "measures, inspections", ("scoring", "notifications")),
)
