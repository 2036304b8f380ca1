"""Assessment periods: a month (2026-03), a quarter (2026-Q1) or a programme year (2026), all in
China time, which has no daylight saving."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Self

from services.runtime.workdays import PROGRAMME_TZ

# Years 2000-2999 in ASCII digits: a period of year 0 or 9999 has no representable end, and
# \d would also admit other scripts' digits.
PERIOD_PATTERN = r"^2[0-9]{3}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
_PARSE = re.compile(r"(?P<year>2[0-9]{3})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    """`index` is the month (1-12) or the quarter (1-4); 0 for a year."""

    year: int
    kind: PeriodKind
    index: int = 0

    @classmethod
    def parse(cls, text: str) -> Self:
        found = _PARSE.fullmatch(text)
        if not found:
            raise ValueError(f"period {text!r} is not a month (2026-03), quarter (2026-Q1) or year")
        year = int(found["year"])
        if found["month"]:
            return cls(year, PeriodKind.MONTH, int(found["month"]))
        if found["quarter"]:
            return cls(year, PeriodKind.QUARTER, int(found["quarter"]))
        return cls(year, PeriodKind.YEAR)

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.year:04}-{self.index:02}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year:04}-Q{self.index}"
        return f"{self.year:04}"

    # Cached: scoring asks every observation's period for its bounds (the instance dict is not
    # a dataclass field, so equality, order and hashing are unchanged).
    @cached_property
    def first_day(self) -> date:
        if self.kind is PeriodKind.MONTH:
            return date(self.year, self.index, 1)
        if self.kind is PeriodKind.QUARTER:
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @cached_property
    def last_day(self) -> date:
        if self.kind is PeriodKind.YEAR or (self.kind is PeriodKind.QUARTER and self.index == 4):
            return date(self.year, 12, 31)
        last_month = self.index if self.kind is PeriodKind.MONTH else 3 * self.index
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), PROGRAMME_TZ).astimezone(
            UTC
        )

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return self.label


def periods_of_year(year: int) -> tuple[Period, ...]:
    """The 17 periods a programme year is scored in: 12 months, 4 quarters, the year."""
    return (
        *(Period(year, PeriodKind.MONTH, m) for m in range(1, 13)),
        *(Period(year, PeriodKind.QUARTER, q) for q in range(1, 5)),
        Period(year, PeriodKind.YEAR),
    )


def periods_containing(day: date) -> tuple[Period, Period, Period]:
    """The month, quarter and year a date falls in."""
    return (
        Period(day.year, PeriodKind.MONTH, day.month),
        Period(day.year, PeriodKind.QUARTER, (day.month - 1) // 3 + 1),
        Period(day.year, PeriodKind.YEAR),
    )
