"""Months in China time."""

from datetime import UTC, date, datetime

import pytest

from services.inspections.domain.calendar import Period, days_late
from services.runtime.workdays import PROGRAMME_TZ, local_date


def test_a_month_runs_from_midnight_to_midnight_in_beijing() -> None:
    march = Period.parse("2026-03")
    assert march.start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert march.end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    assert march.contains(datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC))
    assert not march.contains(datetime(2026, 3, 31, 16, tzinfo=UTC))
    assert (march.first_day, march.last_day) == (date(2026, 3, 1), date(2026, 3, 31))


def test_neighbours_cross_years_and_leap_februaries() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert Period(2028, 2).last_day == date(2028, 2, 29)
    assert Period(2026, 2).last_day == date(2026, 2, 28)
    assert Period(2026, 3) < Period(2026, 4) < Period(2027, 1)
    assert str(Period(2026, 3)) == "2026-03"


def test_the_month_containing_an_instant_is_its_beijing_month() -> None:
    assert Period.containing(datetime(2026, 3, 31, 16, 30, tzinfo=UTC)) == Period(2026, 4)
    assert Period.containing(datetime(2026, 4, 1, 0, 30, tzinfo=PROGRAMME_TZ)) == Period(2026, 4)


@pytest.mark.parametrize("text", ["2026-13", "2026-3", "26-03", "2026-00", "march"])
def test_malformed_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month"):
        Period.parse(text)


def test_days_late_counts_beijing_dates() -> None:
    due = date(2026, 6, 30)
    assert local_date(datetime(2026, 6, 30, 16, tzinfo=UTC)) == date(2026, 7, 1)
    assert days_late(datetime(2026, 6, 30, 15, 59, tzinfo=UTC), due) == 0
    assert days_late(datetime(2026, 7, 2, 1, tzinfo=UTC), due) == 2
    assert days_late(datetime(2026, 6, 1, tzinfo=UTC), due) == 0
