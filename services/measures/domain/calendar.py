"""Working-day calendars per programme year, as the office keeps them: public holidays and the
weekend days worked to make up for them (调休上班).

The rules for a working day are the runtime's shared `WorkingCalendar`; this module adds the
per-year document the office edits over the API, seeded from the runtime's shared holiday file.
A date in a year without a calendar is a working day exactly when it is Monday to Friday.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Day
from services.runtime.workdays import (
    DEFAULT_CALENDAR_PATH,
    WorkingCalendar,
    load_calendar,
)

SATURDAY = 5


class CalendarYear(BaseModel):
    """The holidays (weekdays off) and make-up working days (weekend days worked) of a year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2022, le=2100)
    holidays: tuple[Day, ...] = Field(default=(), max_length=60)
    workdays: tuple[Day, ...] = Field(default=(), max_length=30)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for day in (*self.holidays, *self.workdays):
            if day.year != self.year:
                raise ValueError(f"{day} is not in {self.year}")
        for day in self.workdays:
            if day.weekday() < SATURDAY:
                raise ValueError(f"make-up working day {day} is not on a weekend")
        if both := sorted(set(self.holidays) & set(self.workdays)):
            raise ValueError(f"{both[0]} is both a holiday and a make-up working day")
        return self


def working_calendar(years: Iterable[CalendarYear]) -> WorkingCalendar:
    years = list(years)
    return WorkingCalendar(
        holidays=frozenset(d for y in years for d in y.holidays),
        workdays=frozenset(d for y in years for d in y.workdays),
    )


def shipped_calendar_years(path: Path = DEFAULT_CALENDAR_PATH) -> list[CalendarYear]:
    """The shared holiday file, one document per year."""
    shared = load_calendar(path)
    years = sorted({d.year for d in shared.holidays | shared.workdays})
    return [
        CalendarYear(
            year=year,
            holidays=tuple(sorted(d for d in shared.holidays if d.year == year)),
            workdays=tuple(sorted(d for d in shared.workdays if d.year == year)),
        )
        for year in years
    ]
