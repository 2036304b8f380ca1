"""A unit's progress as scoring knows it. Pure: works on facts in any order."""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel


class Fact(BaseModel):
    event_id: str
    measure_code: str
    report_id: str
    percent_complete: float
    reported_at: datetime


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
    """Latest report per measure by the time it was reported, not the order it arrived in;
    ties break on event id so every replica and every replay agrees."""
    latest: dict[str, Fact] = {}
    count = 0
    for fact in facts:
        count += 1
        current = latest.get(fact.measure_code)
        if current is None or (fact.reported_at, fact.event_id) > (
            current.reported_at,
            current.event_id,
        ):
            latest[fact.measure_code] = fact
    return UnitProgress(
        unit=unit,
        reports=count,
        measures=[
            MeasureProgress(
                measure_code=f.measure_code,
                percent_complete=f.percent_complete,
                reported_at=f.reported_at,
                event_id=f.event_id,
            )
            for f in sorted(latest.values(), key=lambda f: f.measure_code)
        ],
    )
