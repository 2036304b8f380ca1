from datetime import date
from pathlib import Path

import pytest

from services.runtime.workdays import WorkingCalendar, load_calendar

CALENDAR = load_calendar()


def test_weekends_holidays_and_make_up_days() -> None:
    assert CALENDAR.is_working_day(date(2026, 11, 26))  # a Thursday
    assert not CALENDAR.is_working_day(date(2026, 11, 28))  # a Saturday
    assert not CALENDAR.is_working_day(date(2026, 10, 1))  # 国庆节
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday made a working day


def test_adding_working_days_skips_the_national_day_week() -> None:
    # Tue 29 Sep 2026 + 3 working days: Wed 30 Sep, then 1-7 Oct off, Thu 8 Oct, Fri 9 Oct.
    assert CALENDAR.add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 9)
    assert CALENDAR.add_working_days(date(2026, 10, 9), -3) == date(2026, 9, 29)
    assert CALENDAR.add_working_days(date(2026, 9, 29), 0) == date(2026, 9, 29)


def test_counting_working_days_between_dates() -> None:
    assert CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CALENDAR.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


def test_a_bad_calendar_is_refused_precisely(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("2026:\n  holidays: [2026-13-01]\n")
    with pytest.raises(ValueError):
        load_calendar(path)
    path.write_text("2026:\n  holidays: [tomorrow]\n")
    with pytest.raises(ValueError, match="tomorrow"):
        load_calendar(path)
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(frozenset({date(2026, 1, 1)}), frozenset({date(2026, 1, 1)}))
