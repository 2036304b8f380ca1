"""Rules for filing an inspection. Pure: no I/O, the date is passed in."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Evidence, MeasureCode, Name
from contracts.envelope import UnitCode
from contracts.inspections import InspectionFiled, InspectionKind, InspectionMethod

INSPECTION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
InspectionId = Annotated[
    str,
    Field(
        pattern=INSPECTION_ID_PATTERN,
        description="Chosen by the client; the idempotency key of the inspection.",
        examples=["2026-DC-0001"],
    ),
]

# Inspectors date their visits in local time; China Standard Time has no daylight saving.
PROGRAMME_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

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
    inspection_id: InspectionId
    kind: InspectionKind
    method: InspectionMethod
    title: Name
    inspector: Name
    inspected_on: date
    # Uniqueness is a refusal rule rather than a schema rule, so clients get a precise code.
    target_units: list[UnitCode] = Field(min_length=1, max_length=100)
    measure_codes: list[MeasureCode] = Field(default_factory=list, max_length=100)
    evidence: Evidence


class RefusalCode(StrEnum):
    INSPECTED_IN_FUTURE = "inspected_in_future"
    DUPLICATE_TARGET_UNITS = "duplicate_target_units"
    DUPLICATE_CONFLICT = "duplicate_conflict"


REFUSAL_TEXT: dict[RefusalCode, tuple[str, str]] = {
    RefusalCode.INSPECTED_IN_FUTURE: ("督查日期晚于今天", "The inspection is dated in the future"),
    RefusalCode.DUPLICATE_TARGET_UNITS: (
        "被督查单位重复",
        "A target unit is listed more than once",
    ),
    RefusalCode.DUPLICATE_CONFLICT: (
        "该督查编号已使用，且内容不同",
        "This inspection id was already used with different content",
    ),
}


@dataclass(frozen=True)
class Refusal:
    code: RefusalCode
    detail: str


def refusal_for(request: FileInspection, today: date) -> Refusal | None:
    """Why `request` cannot be filed, or None when it can; `today` is in PROGRAMME_TZ."""
    if request.inspected_on > today:
        return Refusal(
            RefusalCode.INSPECTED_IN_FUTURE,
            f"inspected_on {request.inspected_on.isoformat()} is after {today.isoformat()}",
        )
    repeated = sorted(unit for unit, n in Counter(request.target_units).items() if n > 1)
    if repeated:
        return Refusal(RefusalCode.DUPLICATE_TARGET_UNITS, f"listed more than once: {repeated}")
    return None


def fingerprint(request: FileInspection) -> str:
    """Content hash that tells a retried filing from a different one reusing its id."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
