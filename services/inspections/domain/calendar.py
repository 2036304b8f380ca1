"""Dates as the programme counts them: in China Standard Time, and months as periods."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Self

from services.runtime.workdays import PROGRAMME_TZ, local_date


def days_late(moment: datetime, due: date) -> int:
    """Whole days from `due` to the local date of `moment`; 0 when on or before `due`."""
    return max(0, (local_date(moment) - due).days)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), PROGRAMME_TZ)


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month in China time: [start, end) as instants."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Self:
        found = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
        if not found:
            raise ValueError(f"period {text!r} is not a month like 2026-03")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def containing(cls, moment: datetime) -> Self:
        day = local_date(moment)
        return cls(day.year, day.month)

    @property
    def label(self) -> str:
        return f"{self.year:04}-{self.month:02}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        return start_of(self.first_day)

    @property
    def end(self) -> datetime:
        return self.next().start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def next(self) -> "Period":
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Period":
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return self.label
