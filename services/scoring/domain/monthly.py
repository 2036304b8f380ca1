"""A unit-year's observations by month, and what each month gives the cards that contain it.

Both rubric models count a month's observations once into a part (tallies, tasks, rates) and
make each card of a month, quarter or year from the parts of its months, so a year's 17 cards
cost about one pass over its observations; incremental scoring keeps a month's part while its
observations are the same (incremental.py)."""

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from services.scoring.domain.incremental import Recall
from services.scoring.domain.observation import Observation
from services.scoring.domain.periods import Period, PeriodKind

# The bucket of the observations that count in the year's card only (the earned model's targets).
YEAR_ONLY = 0
ALL_MONTHS = (*range(1, 13), YEAR_ONLY)
Part = TypeVar("Part")


def months_of(period: Period) -> tuple[int, ...]:
    if period.kind is PeriodKind.MONTH:
        return (period.index,)
    if period.kind is PeriodKind.QUARTER:
        return (3 * period.index - 2, 3 * period.index - 1, 3 * period.index)
    return ALL_MONTHS


def by_month(
    observations: Iterable[Observation], year_only: Callable[[Observation], bool]
) -> dict[int, list[Observation]]:
    """Observations by month (1-12, or YEAR_ONLY), each month's in the order given."""
    found: dict[int, list[Observation]] = {}
    for observation in observations:
        month = YEAR_ONLY if year_only(observation) else observation.day.month
        found.setdefault(month, []).append(observation)
    return found


def parts(
    observations: Iterable[Observation],
    periods: Iterable[Period],
    year_only: Callable[[Observation], bool],
    count: Callable[[list[Observation]], Part],
    months: Recall,
    key: tuple[Any, ...],
) -> dict[int, Part]:
    """The parts of the months `periods` need: counted, or what `months` recalls of the same
    observations under `key` (the rubric)."""
    wanted = {month for period in periods for month in months_of(period)}
    return {
        month: months((*key, month), tuple(observed), partial(count, observed))
        for month, observed in by_month(observations, year_only).items()
        if month in wanted
    }


def of_period(months: Mapping[int, Part], period: Period) -> list[Part]:
    """The parts of the period's months, in order."""
    return [months[m] for m in months_of(period) if m in months]
