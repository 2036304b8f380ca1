"""Rules for filing an inspection. Pure: no I/O, the date is passed in."""

from collections import Counter
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Day, Evidence, MeasureCode, Name
from contracts.envelope import UnitCode
from contracts.inspections import InspectionFiled, InspectionKind, InspectionMethod, ItemId
from contracts.reasons import Reason
from services.inspections.domain.actors import Actor, Role, require_role
from services.inspections.domain.reference import ReferenceData
from services.inspections.domain.refusals import Refusal, RefusalCode
from services.runtime.workdays import chinese_date

KIND_NAMES: dict[InspectionKind, str] = {
    InspectionKind.COMPREHENSIVE: "综合督查",
    InspectionKind.SPECIAL: "专项督查",
    InspectionKind.INCIDENT: "事件调查",
    InspectionKind.ROUTINE: "日常督办",
    InspectionKind.CLUE: "线索核查",
}
METHOD_NAMES: dict[InspectionMethod, str] = {
    InspectionMethod.SCHEDULED: "常规督查",
    InspectionMethod.UNANNOUNCED: "四不两直",
    InspectionMethod.DOCUMENT_REVIEW: "资料审查",
    InspectionMethod.REMOTE: "线上督查",
}


class FileInspection(BaseModel):
    """Request: an inspector files an inspection of one or more responsible units."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    inspection_id: ItemId
    actor: Actor
    kind: InspectionKind
    method: InspectionMethod
    title: Name
    inspector: Name = Field(description="The inspecting team, e.g. 市五型办督查组.")
    inspected_on: Day
    # Uniqueness is a refusal rule rather than a schema rule, so clients get a precise code.
    target_units: list[UnitCode] = Field(min_length=1, max_length=100)
    measure_codes: list[MeasureCode] = Field(default_factory=list, max_length=100)
    evidence: Evidence


def refusal_for(request: FileInspection, today: date, reference: ReferenceData) -> Refusal | None:
    """Why `request` cannot be filed, or None when it can; `today` is in China time."""
    action = ("登记督查", "file an inspection")
    if refusal := require_role(request.actor, Role.INSPECTOR, action=action):
        return refusal
    if request.inspected_on > today:
        return Refusal(
            RefusalCode.INSPECTED_IN_FUTURE,
            f"督查日期为{chinese_date(request.inspected_on)}，今天是{chinese_date(today)}",
            f"inspected_on {request.inspected_on.isoformat()} is after {today.isoformat()}",
        )
    repeated = sorted(unit for unit, n in Counter(request.target_units).items() if n > 1)
    if repeated:
        return Refusal(
            RefusalCode.DUPLICATE_TARGET_UNITS,
            f"重复列出的单位：{reference.unit_names(repeated)}",
            f"listed more than once: {repeated}",
        )
    if unknown := reference.unknown_units(request.target_units):
        return Refusal(
            Reason.UNKNOWN_UNIT,
            f"单位名录中没有：{'、'.join(unknown)}",
            f"not in the unit directory: {unknown}",
        )
    if unknown := sorted({c for c in request.measure_codes if reference.measure(c) is None}):
        return Refusal(
            Reason.UNKNOWN_MEASURE,
            f"{reference.catalogue_year}年度举措清单中没有：{'、'.join(unknown)}",
            f"not in the {reference.catalogue_year} catalogue: {unknown}",
        )
    return None


def filed_event(request: FileInspection, unit: str) -> InspectionFiled:
    """The event told to one target unit; every target gets the whole inspection."""
    return InspectionFiled(
        inspection_id=request.inspection_id,
        unit=unit,
        kind=request.kind,
        method=request.method,
        title=request.title,
        inspector=request.inspector,
        inspected_on=request.inspected_on,
        target_units=request.target_units,
        measure_codes=request.measure_codes,
        evidence=request.evidence,
    )
