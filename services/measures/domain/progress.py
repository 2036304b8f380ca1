"""Rules for accepting a unit's progress report. Pure: no I/O, the clock is passed in."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.measures import ProgressReported, ReportProgress
from contracts.reasons import Reason
from services.measures.domain.catalogue import Catalogue, UnitDirectory


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    detail: str


def refusal_for(
    report: ReportProgress,
    catalogue: Catalogue,
    units: UnitDirectory,
    now: datetime,
    clock_skew: timedelta,
) -> Refusal | None:
    """Why `report` cannot be accepted, or None when it can."""
    if units.unit(report.unit) is None:
        return Refusal(Reason.UNKNOWN_UNIT, f"unit {report.unit!r} is not in the directory")
    if catalogue.measure(report.measure_code) is None:
        return Refusal(
            Reason.UNKNOWN_MEASURE,
            f"measure {report.measure_code!r} is not in the {catalogue.year} catalogue",
        )
    if report.reported_at > now + clock_skew:
        return Refusal(
            Reason.REPORTED_IN_FUTURE,
            f"reported_at {report.reported_at.isoformat()} is after {now.isoformat()}",
        )
    return None


def fingerprint(report: ReportProgress) -> str:
    """Content hash that tells a retried report from a different one reusing its id."""
    canonical = json.dumps(report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reported_event(
    report: ReportProgress, catalogue: Catalogue, units: UnitDirectory
) -> ProgressReported:
    unit = units.unit(report.unit)
    measure = catalogue.measure(report.measure_code)
    assert unit is not None and measure is not None, "call refusal_for first"
    return ProgressReported(
        report_id=report.report_id,
        unit=report.unit,
        unit_name=unit.name_zh,
        measure_code=report.measure_code,
        measure_title=measure.title_zh,
        milestone_id=report.milestone_id,
        percent_complete=report.percent_complete,
        summary=report.summary,
        reported_at=report.reported_at,
        reporter=report.reporter,
        evidence=report.evidence,
    )
