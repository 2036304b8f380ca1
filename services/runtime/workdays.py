"""Working days: Monday to Friday, less public holidays, plus the weekend days that are made
working days (调休). Deadlines counted "in working days" by any service use this calendar."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import yaml

DEFAULT_CALENDAR_PATH = Path(__file__).parent / "data" / "holidays-cn.yaml"
# Deadlines and periods are dates in the city's time zone (China Standard Time, no daylight
# saving): a milestone due on 30 June is missed from 1 July 00:00 Beijing time.
PROGRAMME_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    return moment.astimezone(PROGRAMME_TZ).date()


def chinese_date(day: date) -> str:
    """A date as official documents write it: 2026年4月11日."""
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_moment(moment: datetime) -> str:
    """An instant in China time as an office writes it: 2026年4月11日09:30."""
    local = moment.astimezone(PROGRAMME_TZ)
    return f"{chinese_date(local.date())}{local:%H:%M}"


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"dates both holiday and working day: {sorted(both)}")

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (before it when negative)."""
        step = 1 if days >= 0 else -1
        current, remaining = start, abs(days)
        while remaining:
            current += timedelta(days=step)
            remaining -= self.is_working_day(current)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            self.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1)
        )


def _dates(values: Iterable[object], year: object, kind: str) -> set[date]:
    found = set()
    for value in values:
        if not isinstance(value, date):
            raise ValueError(f"{year} {kind}: {value!r} is not a date (YYYY-MM-DD)")
        found.add(value)
    return found


def load_calendar(path: Path = DEFAULT_CALENDAR_PATH) -> WorkingCalendar:
    """Read a calendar file: {year: {holidays: [dates], workdays: [dates]}}."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    holidays: set[date] = set()
    workdays: set[date] = set()
    for year, entry in document.items():
        holidays |= _dates(entry.get("holidays", []), year, "holidays")
        workdays |= _dates(entry.get("workdays", []), year, "workdays")
    return WorkingCalendar(frozenset(holidays), frozenset(workdays))
