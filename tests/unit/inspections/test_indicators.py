"""The public-service indicators on hand-computed months, including empty months and requests
that span month boundaries (months are China time, UTC+8)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inspections.domain.calendar import Period
from services.inspections.domain.indicators import Indicators, RequestHistory, compute, percent

MARCH, APRIL = Period(2026, 3), Period(2026, 4)


def at(text: str) -> datetime:
    """A moment in Beijing time, e.g. at('03-05 10:00') in 2026."""
    return datetime.fromisoformat(f"2026-{text}:00+08:00")


def test_an_empty_month_has_counts_of_zero_and_no_rates() -> None:
    result = compute(MARCH, [])
    assert result == Indicators()
    assert result.on_time_closure_rate is None
    assert result.satisfaction_rate is None
    assert result.repeat_complaint_rate is None
    assert result.reopen_rate is None


def test_a_month_with_activity_only_in_other_months_is_empty_too() -> None:
    february = RequestHistory(
        received_at=at("02-02 10:00"),
        first_due_at=at("02-05 10:00"),
        repeat=False,
        closures=(at("02-04 10:00"),),
        ratings=((at("02-04 12:00"), 5),),
    )
    assert compute(MARCH, [february]) == Indicators()


R1 = RequestHistory(  # closed on time, very satisfied
    received_at=at("03-02 10:00"),
    first_due_at=at("03-05 10:00"),
    repeat=False,
    closures=(at("03-04 09:00"),),
    ratings=((at("03-04 15:00"), 5),),
)
R2 = RequestHistory(  # closed late, dissatisfied, reopened, closed again, basically satisfied
    received_at=at("03-03 08:00"),
    first_due_at=at("03-06 18:00"),
    repeat=False,
    closures=(at("03-07 09:00"), at("03-11 09:00")),
    reopens=(at("03-09 09:00"),),
    ratings=((at("03-08 09:00"), 2), (at("03-12 09:00"), 3)),
)
R3 = RequestHistory(  # repeats R2, still open past its limit
    received_at=at("03-10 08:00"), first_due_at=at("03-13 08:00"), repeat=True
)
R4 = RequestHistory(  # received in March, due in April, closed in March
    received_at=at("03-25 08:00"),
    first_due_at=at("04-02 08:00"),
    repeat=False,
    closures=(at("03-28 08:00"),),
)


def test_march_by_hand() -> None:
    result = compute(MARCH, [R1, R2, R3, R4])
    assert result == Indicators(
        received=4,  # R1 R2 R3 R4
        repeat_received=1,  # R3
        due=3,  # R1 R2 R3 (R4 is due in April)
        closed_on_time=1,  # R1; R2 first closed late; R3 not closed
        closures=4,  # R1, R2 twice, R4
        reopens=1,  # R2
        ratings=3,  # R1:5, R2:2, R2:3
        satisfied_ratings=2,  # 5 and 3
    )
    assert result.repeat_complaint_rate == 25.0
    assert result.on_time_closure_rate == 33.33
    assert result.reopen_rate == 25.0
    assert result.satisfaction_rate == 66.67


def test_april_by_hand_counts_only_the_request_due_in_april() -> None:
    result = compute(APRIL, [R1, R2, R3, R4])
    assert result == Indicators(due=1, closed_on_time=1)
    assert result.on_time_closure_rate == 100.0
    assert result.repeat_complaint_rate is None
    assert result.reopen_rate is None
    assert result.satisfaction_rate is None


def test_month_boundaries_are_midnight_in_beijing() -> None:
    late_march = RequestHistory(
        received_at=datetime.fromisoformat("2026-03-31T15:30:00+00:00"),  # 23:30 Beijing
        first_due_at=datetime.fromisoformat("2026-03-31T15:59:59+00:00"),  # 23:59:59 Beijing
        repeat=True,
    )
    early_april = RequestHistory(
        received_at=datetime.fromisoformat("2026-03-31T16:30:00+00:00"),  # 00:30 on 1 April
        first_due_at=datetime.fromisoformat("2026-04-01T00:00:00+08:00"),  # the first instant
        repeat=False,
        closures=(datetime.fromisoformat("2026-04-01T00:00:00+08:00"),),  # exactly at the limit
    )
    march = compute(MARCH, [late_march, early_april])
    april = compute(APRIL, [late_march, early_april])
    assert (march.received, march.repeat_received, march.due, march.closed_on_time) == (1, 1, 1, 0)
    assert (april.received, april.repeat_received, april.due, april.closed_on_time) == (1, 0, 1, 1)
    assert april.closures == 1 and march.closures == 0


def test_only_the_first_closure_decides_on_time() -> None:
    reclosed = RequestHistory(
        received_at=at("03-01 08:00"),
        first_due_at=at("03-03 08:00"),
        repeat=False,
        closures=(at("03-02 08:00"), at("03-10 08:00")),  # on time, then again after a reopen
        reopens=(at("03-05 08:00"),),
    )
    late_then_on_time = RequestHistory(
        received_at=at("03-01 08:00"),
        first_due_at=at("03-03 08:00"),
        repeat=False,
        closures=(at("03-04 08:00"),),
    )
    result = compute(MARCH, [reclosed, late_then_on_time])
    assert (result.due, result.closed_on_time) == (2, 1)
    assert result.reopen_rate == percent(1, 3) == 33.33


def test_a_request_spanning_three_months_counts_once_in_each_role() -> None:
    long_running = RequestHistory(
        received_at=at("01-30 10:00"),  # received in January
        first_due_at=at("02-27 10:00"),  # due in February
        repeat=False,
        closures=(at("03-02 10:00"),),  # closed (late) in March
        ratings=((at("03-03 10:00"), 4),),
    )
    january = compute(Period(2026, 1), [long_running])
    february = compute(Period(2026, 2), [long_running])
    march = compute(MARCH, [long_running])
    assert january == Indicators(received=1)
    assert february == Indicators(due=1, closed_on_time=0)
    assert march == Indicators(closures=1, ratings=1, satisfied_ratings=1)
    assert february.on_time_closure_rate == 0.0


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 5, 0.0),
        (5, 5, 100.0),
        (1, 3, 33.33),
        (2, 3, 66.67),
        (1, 6, 16.67),
        (1, 800, 0.13),  # 0.125 rounds half up, as users round, not to the even 0.12
        (3, 0, None),
    ],
)
def test_rates_are_percentages_rounded_half_up(
    numerator: int, denominator: int, expected: float | None
) -> None:
    assert percent(numerator, denominator) == expected


def test_moments_name_every_instant_that_can_count() -> None:
    assert set(R2.moments()) == {
        R2.received_at,
        R2.first_due_at,
        *R2.closures,
        *R2.reopens,
        *(moment for moment, _ in R2.ratings),
    }


_MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59)
).map(lambda moment: moment.replace(tzinfo=UTC))


@st.composite
def histories(draw: st.DrawFn) -> RequestHistory:
    received = draw(_MOMENTS)
    steps = sorted(draw(st.lists(_MOMENTS.filter(lambda m: m >= received), max_size=6)))
    closures = tuple(steps[0::2])
    return RequestHistory(
        received_at=received,
        first_due_at=received + timedelta(hours=draw(st.integers(1, 24 * 40))),
        repeat=draw(st.booleans()),
        closures=closures,
        reopens=tuple(steps[1::2]),
        ratings=tuple((moment, draw(st.integers(1, 5))) for moment in closures),
    )


@given(st.lists(histories(), max_size=30))
@settings(max_examples=100, deadline=None)
def test_every_count_lands_in_exactly_one_month(requests: list[RequestHistory]) -> None:
    months = [Period(2025, 12)]
    while months[-1] < Period(2027, 3):
        months.append(months[-1].next())
    results = [compute(month, requests) for month in months]
    assert sum(r.received for r in results) == len(requests)
    assert sum(r.repeat_received for r in results) == sum(h.repeat for h in requests)
    assert sum(r.due for r in results) == len(requests)
    assert sum(r.closed_on_time for r in results) == sum(
        h.first_closed_at is not None and h.first_closed_at <= h.first_due_at for h in requests
    )
    assert sum(r.closures for r in results) == sum(len(h.closures) for h in requests)
    assert sum(r.ratings for r in results) == sum(len(h.ratings) for h in requests)
    for result in results:
        for rate in (
            result.on_time_closure_rate,
            result.satisfaction_rate,
            result.repeat_complaint_rate,
        ):
            assert rate is None or 0 <= rate <= 100
