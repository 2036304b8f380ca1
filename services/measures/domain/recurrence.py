"""Recurring obligations: an RFC 5545 recurrence rule expanded over one programme year, each
occurrence's nominal date then moved onto a working day.

Every occurrence owns the period that ends on its nominal date (the first one starts on 1 January).
`preceding` moves a deadline back to the last working day of that period, which is what "by the end
of the week/half-year" means; a period without a working day (a week inside a holiday) has no
occurrence. `following` moves it forward to the next working day (顺延), never into the next period.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from dateutil.rrule import rrule, rrulestr

from services.runtime.workdays import WorkingCalendar

MAX_OCCURRENCES = 400
MAX_ROLL_DAYS = 31  # no holiday season in China is longer
_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_FREQ = re.compile(r"(?:^|;)FREQ=([A-Z]+)(?:;|$)")


class Roll(StrEnum):
    PRECEDING = "preceding"
    FOLLOWING = "following"
    NONE = "none"


class ObligationKind(StrEnum):
    WEEKLY_FEATURE_REPORT = "weekly_feature_report"
    HALF_YEARLY_BOTTLENECK_ROUND = "half_yearly_bottleneck_round"
    ANNUAL_PLAN = "annual_plan"
    ANNUAL_REPORT = "annual_report"


@dataclass(frozen=True)
class Template:
    """The standard shape of an obligation the policy document sets; the catalogue says which
    target it counts for and who carries it (`Target.obligation`)."""

    kind: ObligationKind
    rule: str
    roll: Roll
    title_zh: str
    title_en: str


TEMPLATES = {
    t.kind: t
    for t in (
        # G3: 每周刊发不少于一篇专题报道 — due on the week's last working day.
        Template(
            ObligationKind.WEEKLY_FEATURE_REPORT,
            "FREQ=WEEKLY;BYDAY=SU",
            Roll.PRECEDING,
            "每周专题报道",
            "Weekly feature report",
        ),
        # M10: 坚持每半年一轮次 — one round by the end of June and one by the end of December.
        Template(
            ObligationKind.HALF_YEARLY_BOTTLENECK_ROUND,
            "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=-1",
            Roll.PRECEDING,
            "半年一轮破解瓶颈问题",
            "Half-yearly round of solving bottleneck problems",
        ),
        # G1: 每年细化实化思路举措并报市“五型”办 — filed in the first quarter.
        Template(
            ObligationKind.ANNUAL_PLAN,
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31",
            Roll.FOLLOWING,
            "年度思路举措报备",
            "Annual plan filed with the office",
        ),
        # G4: 向市“五型”办提交年度书面专题报告 — by the year's last working day.
        Template(
            ObligationKind.ANNUAL_REPORT,
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31",
            Roll.PRECEDING,
            "年度书面专题报告",
            "Annual written report",
        ),
    )
}


class RecurrenceError(ValueError):
    """A recurrence rule that cannot describe an obligation."""


@dataclass(frozen=True)
class Occurrence:
    key: str  # the nominal date, ISO: stable when the calendar moves the deadline
    period_start: date
    nominal: date
    due: date


def _parse(text: str, year: int) -> rrule:
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise RecurrenceError("give one RRULE line without DTSTART (the year starts it)")
    found = _FREQ.search(text.upper())
    if found is None or found[1] not in _FREQUENCIES:
        raise RecurrenceError(f"FREQ must be one of {', '.join(sorted(_FREQUENCIES))}")
    try:
        parsed = rrulestr(text, dtstart=datetime(year, 1, 1))
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"not a recurrence rule: {exc}") from exc
    if not isinstance(parsed, rrule):
        raise RecurrenceError("give a single RRULE")
    return parsed


def occurrences(rule: str, roll: Roll, year: int, calendar: WorkingCalendar) -> list[Occurrence]:
    """The occurrences of `rule` in `year`, with deadlines on working days."""
    nominal = [
        d.date()
        for d in _parse(rule, year).between(
            datetime(year, 1, 1), datetime(year, 12, 31, 23, 59), inc=True
        )
    ]
    if not nominal:
        raise RecurrenceError(f"the rule yields no date in {year}")
    if len(nominal) > MAX_OCCURRENCES:
        raise RecurrenceError(f"the rule yields {len(nominal)} dates; at most {MAX_OCCURRENCES}")
    found: list[Occurrence] = []
    period_start = date(year, 1, 1)
    for index, day in enumerate(nominal):
        following = nominal[index + 1] if index + 1 < len(nominal) else None
        due = _move(day, roll, calendar, period_start, following)
        if due is not None:
            found.append(Occurrence(day.isoformat(), period_start, day, due))
        period_start = day + timedelta(days=1)
    return found


def _move(
    day: date, roll: Roll, calendar: WorkingCalendar, period_start: date, next_nominal: date | None
) -> date | None:
    if roll is Roll.PRECEDING:
        return _preceding(calendar, day, not_before=period_start)
    if roll is Roll.FOLLOWING:
        limit = day + timedelta(days=MAX_ROLL_DAYS)
        if next_nominal is not None:
            limit = min(limit, next_nominal - timedelta(days=1))
        return _following(calendar, day, last=limit)
    return day


def _preceding(calendar: WorkingCalendar, day: date, not_before: date) -> date | None:
    """The last working day on or before `day`, not before `not_before`."""
    while day >= not_before:
        if calendar.is_working_day(day):
            return day
        day -= timedelta(days=1)
    return None


def _following(calendar: WorkingCalendar, day: date, last: date) -> date | None:
    """The first working day on or after `day`, not after `last`."""
    while day <= last:
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)
    return None
