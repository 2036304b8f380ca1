"""The data of every message on the bus. Services add theirs here; nothing else is shared."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.envelope import Message, UnitCode
from contracts.reasons import Reason

MeasureCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9-]{1,31}$",
        description="Catalogue code of a measure or sub-task, e.g. M07 or G4.",
        examples=["M07"],
    ),
]
Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class EvidenceRef(BaseModel):
    """A reference to evidence kept elsewhere, pinned by the SHA-256 of its content."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    uri: str = Field(min_length=1, max_length=2048)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title: str | None = Field(default=None, max_length=200)


Evidence = Annotated[list[EvidenceRef], Field(default_factory=list, max_length=50)]


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


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    loc: str
    msg: str


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


class InspectionKind(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合督查
    SPECIAL = "special"  # 专项督查
    INCIDENT = "incident"  # 事件调查
    ROUTINE = "routine"  # 日常督办
    CLUE = "clue"  # 线索核查


class InspectionMethod(StrEnum):
    SCHEDULED = "scheduled"  # 常规督查
    UNANNOUNCED = "unannounced"  # 四不两直 暗访
    DOCUMENT_REVIEW = "document_review"  # 资料审查
    REMOTE = "remote"  # 线上督查


class InspectionFiled(Message):
    """Event: an inspection was filed; one event per target unit, sharing `inspection_id`."""

    NAME = "InspectionFiled"
    inspection_id: str
    unit: UnitCode
    kind: InspectionKind
    method: InspectionMethod
    title: Name
    inspector: Name
    inspected_on: date
    target_units: list[UnitCode] = Field(min_length=1)
    measure_codes: list[MeasureCode] = Field(default_factory=list)
    evidence: Evidence


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
