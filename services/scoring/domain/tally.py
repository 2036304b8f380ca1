"""Counting observations into the periods they fall in, and the per-event lines both rubric
models share."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from services.scoring.domain.cards import ZERO, ItemRef, LineItem, cents
from services.scoring.domain.inputs import Observation
from services.scoring.domain.periods import PeriodKind
from services.scoring.domain.rubric_parts import PerEvent, cap_for


def matches(observation: Observation, conditions: dict[str, frozenset[str]]) -> bool:
    return all(observation.attrs.get(name) in values for name, values in conditions.items())


def points_of(indicator: PerEvent, observation: Observation) -> Decimal:
    if indicator.points_by is not None:
        each = indicator.points_by.values[observation.attrs[indicator.points_by.attribute]]
    else:
        each = indicator.points or ZERO
    if indicator.multiply_by:
        return each * observation.numbers[indicator.multiply_by]
    return each


@dataclass
class Tally:
    """What one indicator counted in one type and one period, before any cap."""

    count: int = 0
    points: Decimal = ZERO  # per_event: the sum of points
    numerator: int = 0  # rate
    denominator: int = 0  # rate
    events: list[str] = field(default_factory=list)
    items: list[ItemRef] = field(default_factory=list)


# (indicator index, type) -> tally: what a card's observations, or one month's, counted
Tallies = dict[tuple[int, str], Tally]


def tally_per_event(
    index: int,
    indicator: PerEvent,
    observations: list[Observation],
    type_key: Callable[[Observation], str],
    tallies: Tallies,
) -> None:
    conditions = indicator.conditions
    for observation in observations:
        if not matches(observation, conditions):
            continue
        key = (index, type_key(observation))
        points = points_of(indicator, observation)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        tally.count += 1
        tally.points += points
        tally.events.extend(observation.events)
        if (item := observation.line_item(points=points)) is not None:
            tally.items.append(item)


def merged(months: Iterable[Tallies]) -> Tallies:
    """The tallies of a period from those of its months, taken in order: the events and items
    keep the order in which the period's observations would have been counted. Decimal sums of
    cents are exact, so adding months up gives the very total of counting the period at once."""
    found: Tallies = {}
    for tallies in months:
        for key, tally in tallies.items():
            into = found.get(key)
            if into is None:
                into = found[key] = Tally()
            into.count += tally.count
            into.points += tally.points
            into.numerator += tally.numerator
            into.denominator += tally.denominator
            into.events.extend(tally.events)
            into.items.extend(tally.items)
    return found


def cap_text(cap: Decimal | None, capped: bool) -> tuple[str, str]:
    if cap is None or not capped:
        return "", ""
    return f"，封顶 {cap} 分", f", capped at {cap}"


def per_event_line(indicator: PerEvent, type_code: str, tally: Tally, kind: PeriodKind) -> LineItem:
    cap = cap_for(indicator.cap, kind)
    raw = tally.points
    capped = min(raw, cap) if cap is not None else raw
    sign = -1 if indicator.effect == "deduction" else 1
    verb_zh, verb_en = ("扣", "deducted") if sign < 0 else ("加", "added")
    cap_zh, cap_en = cap_text(cap, capped < raw)
    return LineItem(
        rule=indicator.id,
        name_zh=indicator.name_zh,
        name_en=indicator.name_en,
        formula="per_event",
        effect=indicator.effect,
        type=type_code,
        points=sign * cents(capped),
        uncapped=sign * cents(raw),
        count=tally.count,
        detail={"cap": str(cap)} if cap is not None else {},
        explanation_zh=f"{tally.count} 项，共{verb_zh} {cents(raw)} 分{cap_zh}",
        explanation_en=f"{tally.count} item(s), {cents(raw)} {verb_en}{cap_en}",
        events=sorted(tally.events),
        items=sorted(tally.items, key=item_order),
    )


def item_order(item: ItemRef) -> tuple[str, str, str]:
    return (item.due_date.isoformat() if item.due_date else "", item.kind, item.id)
