"""A unit-year's observations by month, and what each month gives the cards that contain it.

Both rubric models count a month's observations once into a part (tallies, tasks, rates) and
make each card of a month, quarter or year from the parts of its months, so a year's 17 cards
cost about one pass over its observations. `MonthCache` keeps recent parts with the exact
observations they came from: when a unit is scored again, a month whose observations are the
same is not counted again. A card is a function of its observations either way, so a cached
part gives the card a full rescoring gives."""

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

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


def _exact(value: Any) -> Any:
    # Decimal("1") == Decimal("1.00"), yet the two print differently on a card.
    return str(value) if isinstance(value, Decimal) else value


def _key(observation: Observation) -> tuple[Any, ...]:
    """Everything of an observation a part depends on, compared exactly."""
    item = observation.item
    return (
        observation.input,
        observation.day,
        observation.measure_type,
        tuple(observation.attrs.items()),
        tuple(observation.numbers.items()),
        observation.events,
        None if item is None else tuple(map(_exact, item.__dict__.values())),
        observation.completed_on,
        _exact(observation.credit),
    )


class MonthCache:
    """The parts of recently scored unit-months, by (unit, rubric, year, month), each with the
    observations it was counted from; the least recently used go first once more than
    `capacity` observations are held."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._held = 0
        self._parts: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()

    def part(
        self,
        key: tuple[Any, ...],
        observations: list[Observation],
        count: Callable[[list[Observation]], Part],
    ) -> Part:
        signature = tuple(map(_key, observations))
        found = self._parts.get(key)
        if found is not None and found[0] == signature:
            self._parts.move_to_end(key)
            self.hits += 1
            return found[1]
        self.misses += 1
        part = count(observations)
        if found is not None:
            self._held -= len(found[0])
        self._parts[key] = (signature, part)
        self._parts.move_to_end(key)
        self._held += len(signature)
        while self._held > self.capacity and self._parts:
            _dropped_key, (dropped, _part) = self._parts.popitem(last=False)
            self._held -= len(dropped)
        return part


def parts(
    unit: str,
    rubric_key: tuple[Any, ...],
    observations: Iterable[Observation],
    periods: Iterable[Period],
    year_only: Callable[[Observation], bool],
    count: Callable[[list[Observation]], Part],
    cache: MonthCache | None,
) -> dict[int, Part]:
    """The parts of the months `periods` need, counted, or taken from `cache`."""
    wanted = {month for period in periods for month in months_of(period)}
    found: dict[int, Part] = {}
    for month, observed in by_month(observations, year_only).items():
        if month not in wanted:
            continue
        if cache is None:
            found[month] = count(observed)
        else:
            found[month] = cache.part((unit, *rubric_key, month), observed, count)
    return found


def of_period(months: Mapping[int, Part], period: Period) -> list[Part]:
    """The parts of the period's months, in order."""
    return [months[m] for m in months_of(period) if m in months]
