"""Recurring obligations on the 2026 working-day calendar: weekends, public holidays and the
weekend days worked to make up for them (调休)."""

from datetime import date

import pytest
from pydantic import ValidationError

from services.measures.domain.calendar import (
    CalendarYear,
    shipped_calendar_years,
    working_calendar,
)
from services.measures.domain.recurrence import (
    TEMPLATES,
    ObligationKind,
    RecurrenceError,
    Roll,
    occurrences,
)

CALENDAR = working_calendar(shipped_calendar_years())


def dues(kind: ObligationKind, year: int = 2026) -> dict[str, date]:
    template = TEMPLATES[kind]
    return {o.key: o.due for o in occurrences(template.rule, template.roll, year, CALENDAR)}


def test_the_shipped_2026_calendar() -> None:
    assert CALENDAR.is_working_day(date(2026, 1, 4))  # Sunday, worked for New Year
    assert not CALENDAR.is_working_day(date(2026, 1, 2))  # Friday, New Year holiday
    assert CALENDAR.is_working_day(date(2026, 2, 14))  # Saturday before Spring Festival
    assert not CALENDAR.is_working_day(date(2026, 2, 23))  # Monday, last day of Spring Festival
    assert not CALENDAR.is_working_day(date(2026, 10, 7))
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday after National Day
    assert not CALENDAR.is_working_day(date(2026, 11, 28))  # an ordinary Saturday


def test_weekly_feature_report_is_due_on_each_weeks_last_working_day() -> None:
    weekly = dues(ObligationKind.WEEKLY_FEATURE_REPORT)
    assert len(weekly) == 51  # 52 Sundays, less the week that is all Spring Festival
    assert weekly["2026-01-04"] == date(2026, 1, 4)  # 1-4 Jan: the make-up Sunday is worked
    assert weekly["2026-01-11"] == date(2026, 1, 9)  # an ordinary week: Friday
    assert weekly["2026-02-15"] == date(2026, 2, 14)  # the make-up Saturday before the holiday
    assert weekly["2026-03-01"] == date(2026, 2, 28)  # make-up Saturday
    assert weekly["2026-06-21"] == date(2026, 6, 18)  # Dragon Boat Friday off: Thursday
    assert weekly["2026-10-04"] == date(2026, 9, 30)  # National Day from Thursday 1 October
    assert weekly["2026-10-11"] == date(2026, 10, 10)  # make-up Saturday


def test_a_week_without_a_working_day_has_no_occurrence() -> None:
    # 16-22 February 2026 is all Spring Festival: nobody is asked for a report that week.
    weekly = dues(ObligationKind.WEEKLY_FEATURE_REPORT)
    assert "2026-02-22" not in weekly
    assert sorted(weekly.values()) == sorted(set(weekly.values()))  # never two on one day


def test_half_yearly_round_and_annual_obligations() -> None:
    assert dues(ObligationKind.HALF_YEARLY_BOTTLENECK_ROUND) == {
        "2026-06-30": date(2026, 6, 30),
        "2026-12-31": date(2026, 12, 31),
    }
    assert dues(ObligationKind.ANNUAL_PLAN) == {"2026-03-31": date(2026, 3, 31)}
    assert dues(ObligationKind.ANNUAL_REPORT) == {"2026-12-31": date(2026, 12, 31)}
    # 2027 has no calendar yet: weekends only. 31 December 2027 is a Friday.
    assert dues(ObligationKind.ANNUAL_REPORT, 2027) == {"2027-12-31": date(2027, 12, 31)}


def test_period_end_deadlines_move_back_fixed_dates_move_forward() -> None:
    # 30 June 2029 is a Saturday.
    half = TEMPLATES[ObligationKind.HALF_YEARLY_BOTTLENECK_ROUND]
    found = occurrences(half.rule, half.roll, 2029, CALENDAR)
    assert found[0].due == date(2029, 6, 29)
    # A fixed date inside the National Day holiday moves to the first working day after it.
    national_day = occurrences(
        "FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=3", Roll.FOLLOWING, 2026, CALENDAR
    )
    assert [o.due for o in national_day] == [date(2026, 10, 8)]
    unmoved = occurrences("FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=3", Roll.NONE, 2026, CALENDAR)
    assert [o.due for o in unmoved] == [date(2026, 10, 3)]


def test_monthly_rule_with_holidays() -> None:
    monthly = occurrences("FREQ=MONTHLY;BYMONTHDAY=-1", Roll.PRECEDING, 2026, CALENDAR)
    by_key = {o.key: o.due for o in monthly}
    assert len(by_key) == 12
    assert by_key["2026-01-31"] == date(2026, 1, 30)  # Saturday: back to Friday
    assert by_key["2026-05-31"] == date(2026, 5, 29)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=WEEKLY;BYDAY=XX",
        "DTSTART:20260101T000000\nRRULE:FREQ=WEEKLY",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "nonsense",
        "",
    ],
)
def test_rules_that_cannot_describe_an_obligation(rule: str) -> None:
    with pytest.raises(RecurrenceError):
        occurrences(rule, Roll.PRECEDING, 2026, CALENDAR)


def test_the_shared_holiday_file_seeds_one_document_per_year() -> None:
    (year,) = [y for y in shipped_calendar_years() if y.year == 2026]
    assert len(year.workdays) == 6
    assert date(2026, 10, 7) in year.holidays


def test_calendar_documents_are_validated() -> None:
    with pytest.raises(ValidationError, match="not on a weekend"):
        CalendarYear(year=2026, workdays=(date(2026, 3, 4),))
    with pytest.raises(ValidationError, match="is not in 2026"):
        CalendarYear(year=2026, holidays=(date(2027, 1, 1),))
    with pytest.raises(ValidationError, match="both a holiday"):
        CalendarYear(year=2026, holidays=(date(2026, 3, 7),), workdays=(date(2026, 3, 7),))
