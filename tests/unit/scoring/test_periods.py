from datetime import UTC, date, datetime

import pytest

from services.scoring.domain.periods import Period, PeriodKind, periods_containing, periods_of_year


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2026-02", PeriodKind.MONTH, date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-12", PeriodKind.MONTH, date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods_parse_and_span_local_dates(
    text: str, kind: PeriodKind, first: date, last: date
) -> None:
    period = Period.parse(text)
    assert (period.kind, period.first_day, period.last_day, period.label) == (
        kind,
        first,
        last,
        text,
    )


def test_a_period_ends_at_midnight_china_time() -> None:
    assert Period.parse("2026-03").end == datetime(2026, 3, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26-01", "2026-1", "2026-M01"])
def test_malformed_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month"):
        Period.parse(text)


def test_a_year_is_scored_in_17_periods_and_a_day_falls_in_three() -> None:
    assert len(periods_of_year(2026)) == 17
    labels = [p.label for p in periods_containing(date(2026, 8, 15))]
    assert labels == ["2026-08", "2026-Q3", "2026"]
