"""Scorecards: a pure function of a unit's facts, a rubric, a period and an optional "as of".

Each type starts at its full marks (base × weight / weights_total); deductions are taken from
the type they concern and a type never falls below `type_floor` (扣完为止); bonuses are added on
top up to `bonus_cap`; the total never falls below `total_floor`. Every line item names the rule
that produced it and the events it counted. Points are decimals rounded half up to 0.01 per line.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict

from services.scoring.domain.facts import Fact
from services.scoring.domain.inputs import FIVE_TYPES, Observation, observe
from services.scoring.domain.periods import Period, PeriodKind, periods_containing, periods_of_year
from services.scoring.domain.reference import reference_from
from services.scoring.domain.rubric import PerEvent, Proportional, Rate, Rubric, cap_for

CENT = Decimal("0.01")
ZERO = Decimal(0)
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "loyal": ("忠诚型", "Loyal"),
    "innovative": ("创新型", "Innovative"),
    "responsible": ("担当型", "Responsible"),
    "service": ("服务型", "Service-oriented"),
    "disciplined": ("过硬型", "Disciplined"),
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class LineItem(_Model):
    rule: str
    name_zh: str
    name_en: str
    formula: Literal["per_event", "rate"]
    effect: Literal["deduction", "bonus"]
    type: str
    points: Decimal  # signed: below zero a deduction, above zero a bonus; after the cap
    uncapped: Decimal
    count: int
    detail: dict[str, str]
    explanation_zh: str
    explanation_en: str
    events: list[str]


class TypeScore(_Model):
    type: str
    name_zh: str
    name_en: str
    full_marks: Decimal
    deductions: Decimal
    score: Decimal


class Scorecard(_Model):
    unit: str
    period: str
    period_kind: PeriodKind
    rubric_version: str
    as_of: datetime | None
    base: Decimal
    total: Decimal
    types: list[TypeScore]
    bonus: Decimal
    bonus_uncapped: Decimal
    line_items: list[LineItem]
    observations: int

    @property
    def digest(self) -> str:
        """Identifies the card's content; equal cards have equal digests."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def _matches(observation: Observation, conditions: dict[str, frozenset[str]]) -> bool:
    return all(observation.attrs.get(name) in values for name, values in conditions.items())


def _type_of(observation: Observation, indicator: PerEvent | Rate, rubric: Rubric) -> str:
    if indicator.type is not None:
        return indicator.type
    return observation.measure_type or indicator.fallback_type or rubric.default_type


def _points(indicator: PerEvent, observation: Observation) -> Decimal:
    if indicator.points_by is not None:
        each = indicator.points_by.values[observation.attrs[indicator.points_by.attribute]]
    else:
        each = indicator.points or ZERO
    if indicator.multiply_by:
        return each * observation.numbers[indicator.multiply_by]
    return each


@dataclass
class _Tally:
    """What one indicator counted in one type and one period, before any cap."""

    count: int = 0
    points: Decimal = ZERO  # per_event: the sum of points
    numerator: int = 0  # rate
    denominator: int = 0  # rate
    events: list[str] = field(default_factory=list)


# period -> (indicator index, type) -> tally
Tallies = dict[Period, dict[tuple[int, str], _Tally]]


class _Periods:
    """The month, quarter and year of a day, computed once per day."""

    def __init__(self) -> None:
        self._cache: dict[date, tuple[Period, ...]] = {}

    def __call__(self, day: date) -> tuple[Period, ...]:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = periods_containing(day)
        return found


def _tally_per_event(
    index: int,
    indicator: PerEvent,
    observations: list[Observation],
    rubric: Rubric,
    periods: _Periods,
    tallies: Tallies,
) -> None:
    conditions = indicator.conditions
    for observation in observations:
        if not _matches(observation, conditions):
            continue
        key = (index, _type_of(observation, indicator, rubric))
        points = _points(indicator, observation)
        for period in periods(observation.day):
            tally = tallies.setdefault(period, {}).setdefault(key, _Tally())
            tally.count += 1
            tally.points += points
            tally.events.extend(observation.events)


def _tally_rate(
    index: int,
    indicator: Rate,
    by_input: dict[str, list[Observation]],
    rubric: Rubric,
    periods: _Periods,
    tallies: Tallies,
) -> None:
    for part, selector in (
        ("numerator", indicator.numerator),
        ("denominator", indicator.denominator),
    ):
        conditions = selector.conditions
        for observation in by_input.get(selector.input, ()):
            if not _matches(observation, conditions):
                continue
            key = (index, _type_of(observation, indicator, rubric))
            value = observation.numbers[selector.sum] if selector.sum else 1
            for period in periods(observation.day):
                tally = tallies.setdefault(period, {}).setdefault(key, _Tally())
                if part == "numerator":
                    tally.numerator += value
                else:
                    tally.denominator += value
                    tally.count += 1
                    tally.events.extend(observation.events)


def _tallies(observations: list[Observation], rubric: Rubric) -> Tallies:
    """Every indicator's tallies, each observation matched once and counted in its month,
    quarter and year."""
    by_input: dict[str, list[Observation]] = {}
    for observation in observations:
        by_input.setdefault(observation.input, []).append(observation)
    periods, tallies = _Periods(), cast(Tallies, {})
    for index, indicator in enumerate(rubric.indicators):
        if isinstance(indicator, PerEvent):
            found = by_input.get(indicator.input, [])
            _tally_per_event(index, indicator, found, rubric, periods, tallies)
        else:
            _tally_rate(index, indicator, by_input, rubric, periods, tallies)
    return tallies


def _cap_text(cap: Decimal | None, capped: bool) -> tuple[str, str]:
    if cap is None or not capped:
        return "", ""
    return f"，封顶 {cap} 分", f", capped at {cap}"


def _per_event_line(
    indicator: PerEvent, type_code: str, tally: _Tally, kind: PeriodKind
) -> LineItem:
    cap = cap_for(indicator.cap, kind)
    raw = tally.points
    capped = min(raw, cap) if cap is not None else raw
    sign = -1 if indicator.effect == "deduction" else 1
    verb_zh, verb_en = ("扣", "deducted") if sign < 0 else ("加", "added")
    cap_zh, cap_en = _cap_text(cap, capped < raw)
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
    )


def _rate_deduction(
    indicator: Rate, rate: Decimal, type_code: str, rubric: Rubric, kind: PeriodKind
) -> tuple[Decimal, Decimal | None, dict[str, str]]:
    """(deduction before the cap, the cap, extra detail) for one rate."""
    scoring = indicator.scoring
    if isinstance(scoring, Proportional):
        size = scoring.points or (scoring.share_of_type or ZERO) * rubric.full_marks(type_code)
        return size * (1 - min(rate, Decimal(1))), None, {"points": str(cents(size))}
    percent = rate * 100
    gap = scoring.target - percent if scoring.direction == "at_least" else percent - scoring.target
    detail = {"target": str(scoring.target), "direction": scoring.direction}
    return max(ZERO, gap) * scoring.points_per_percent, cap_for(scoring.cap, kind), detail


def _rate_line(
    indicator: Rate, type_code: str, tally: _Tally, rubric: Rubric, kind: PeriodKind
) -> LineItem:
    numerator, denominator = tally.numerator, tally.denominator
    rate = Decimal(numerator) / Decimal(denominator)
    raw, cap, extra = _rate_deduction(indicator, rate, type_code, rubric, kind)
    capped = min(raw, cap) if cap is not None else raw
    cap_zh, cap_en = _cap_text(cap, capped < raw)
    percent, ratio = cents(rate * 100), f"{numerator}/{denominator}"
    return LineItem(
        rule=indicator.id,
        name_zh=indicator.name_zh,
        name_en=indicator.name_en,
        formula="rate",
        effect="deduction",
        type=type_code,
        points=-cents(capped),
        uncapped=-cents(raw),
        count=denominator,
        detail={
            "numerator": str(numerator),
            "denominator": str(denominator),
            "rate_percent": str(percent),
            **extra,
            **({"cap": str(cap)} if cap is not None else {}),
        },
        explanation_zh=f"{ratio} = {percent}%，扣 {cents(raw)} 分{cap_zh}",
        explanation_en=f"{ratio} = {percent}%, {cents(raw)} deducted{cap_en}",
        events=sorted(tally.events),
    )


def _lines(
    tallies: dict[tuple[int, str], _Tally], rubric: Rubric, kind: PeriodKind
) -> list[LineItem]:
    lines = []
    for index, indicator in enumerate(rubric.indicators):
        for type_code in FIVE_TYPES:
            tally = tallies.get((index, type_code))
            if tally is None:
                continue
            if isinstance(indicator, PerEvent):
                lines.append(_per_event_line(indicator, type_code, tally, kind))
            elif tally.denominator:  # nothing to measure yet: no deduction
                lines.append(_rate_line(indicator, type_code, tally, rubric, kind))
    return lines


def _card(
    unit: str,
    period: Period,
    tallies: dict[tuple[int, str], _Tally],
    observations: int,
    rubric: Rubric,
    as_of: datetime | None,
) -> Scorecard:
    lines = _lines(tallies, rubric, period.kind)
    types = []
    for type_code in FIVE_TYPES:
        full = cents(rubric.full_marks(type_code))
        deductions = sum(
            (li.points for li in lines if li.type == type_code and li.effect == "deduction"), ZERO
        )
        name_zh, name_en = TYPE_NAMES[type_code]
        score = max(rubric.type_floor, full + deductions)
        types.append(
            TypeScore(
                type=type_code,
                name_zh=name_zh,
                name_en=name_en,
                full_marks=full,
                deductions=deductions,
                score=cents(score),
            )
        )
    bonus = sum((li.points for li in lines if li.effect == "bonus"), ZERO)
    bonus_cap = cap_for(rubric.bonus_cap, period.kind) or ZERO
    capped_bonus = min(bonus, bonus_cap)
    total = max(rubric.total_floor, sum((t.score for t in types), ZERO) + capped_bonus)
    return Scorecard(
        unit=unit,
        period=period.label,
        period_kind=period.kind,
        rubric_version=rubric.version,
        as_of=as_of.astimezone(UTC) if as_of else None,
        base=cents(rubric.base),
        total=cents(total),
        types=types,
        bonus=cents(capped_bonus),
        bonus_uncapped=cents(bonus),
        line_items=lines,
        observations=observations,
    )


def _observations_by_year(
    facts: Iterable[Fact], as_of: datetime | None
) -> dict[int, list[Observation]]:
    known = [f for f in facts if as_of is None or f.known_at <= as_of]
    by_year: dict[int, list[Observation]] = {}
    for observation in observe(known, reference_from(known)):
        by_year.setdefault(observation.day.year, []).append(observation)
    return by_year


def _year_cards(
    unit: str,
    observations: list[Observation],
    rubric: Rubric,
    periods: Sequence[Period],
    as_of: datetime | None,
) -> list[Scorecard]:
    tallies = _tallies(observations, rubric)
    counts: dict[Period, int] = {}
    days = _Periods()
    for observation in observations:
        for period in days(observation.day):
            counts[period] = counts.get(period, 0) + 1
    return [_card(unit, p, tallies.get(p, {}), counts.get(p, 0), rubric, as_of) for p in periods]


def score_periods(
    unit: str,
    facts: Iterable[Fact],
    rubric: Rubric,
    periods: Sequence[Period],
    as_of: datetime | None = None,
) -> list[Scorecard]:
    """Cards of one unit for periods of the rubric's year, deriving the observations once."""
    if any(p.year != rubric.programme_year for p in periods):
        raise ValueError(f"rubric {rubric.version} applies to {rubric.programme_year} only")
    observations = _observations_by_year(facts, as_of).get(rubric.programme_year, [])
    return _year_cards(unit, observations, rubric, periods, as_of)


def score(
    unit: str,
    facts: Iterable[Fact],
    rubric: Rubric,
    period: Period,
    as_of: datetime | None = None,
) -> Scorecard:
    """The card of `unit` for `period` under `rubric`, from the facts known by `as_of`."""
    return score_periods(unit, facts, rubric, [period], as_of)[0]


def score_all(unit: str, facts: Iterable[Fact], rubrics: Mapping[int, Rubric]) -> list[Scorecard]:
    """The 17 cards (months, quarters, year) of every programme year that has a rubric and in
    which the unit has something to score."""
    by_year = _observations_by_year(facts, None)
    return [
        card
        for year in sorted(set(by_year) & set(rubrics))
        for card in _year_cards(unit, by_year[year], rubrics[year], periods_of_year(year), None)
    ]
