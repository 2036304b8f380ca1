"""A unit's progress as scoring knows it. Pure: works on facts in any order."""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel

from services.scoring.domain.facts import Fact, FactKind


class MeasureProgress(BaseModel):
    measure_code: str
    percent_complete: float
    reported_at: datetime
    event_id: str


class UnitProgress(BaseModel):
    unit: str
    reports: int
    measures: list[MeasureProgress]


def summarise(unit: str, facts: Iterable[Fact]) -> UnitProgress:
    """Latest report per measure by the time it was reported, not the order it arrived in; ties
    break on event id so every replica and every replay agrees. A report the office returned no
    longer counts."""
    facts = list(facts)
    returned = {f.data["report_id"] for f in facts if f.kind is FactKind.PROGRESS_RETURNED}
    reports = {
        f.event_id: f
        for f in facts
        if f.kind is FactKind.PROGRESS and f.data["report_id"] not in returned
    }
    latest: dict[str, MeasureProgress] = {}
    for fact in reports.values():
        entry = MeasureProgress(
            measure_code=fact.data["measure_code"],
            percent_complete=fact.data["percent_complete"],
            reported_at=datetime.fromisoformat(fact.data["reported_at"]),
            event_id=fact.event_id,
        )
        current = latest.get(entry.measure_code)
        if current is None or (entry.reported_at, entry.event_id) > (
            current.reported_at,
            current.event_id,
        ):
            latest[entry.measure_code] = entry
    return UnitProgress(
        unit=unit,
        reports=len(reports),
        measures=[latest[code] for code in sorted(latest)],
    )
