"""Messages of the inspections service: inspections, findings and their rectification."""

from datetime import date
from enum import StrEnum

from pydantic import Field

from contracts.common import Evidence, MeasureCode, Name
from contracts.envelope import Message, UnitCode
from contracts.spec import MessageSpec


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


SPECS = (MessageSpec(InspectionFiled, "event", "inspections", ("scoring", "notifications")),)
