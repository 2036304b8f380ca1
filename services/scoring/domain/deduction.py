"""The deduction model's cards (rubric 2026.1): each type starts at its full marks (base × weight
/ weights_total); deductions are taken from the type they concern and a type never falls below
`type_floor` (扣完为止); bonuses are added on top up to `bonus_cap`; the total never falls below
`total_floor`. Every line item names the rule that produced it and the events it counted."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from services.scoring.domain.cards import TYPE_NAMES, ZERO, LineItem, Scorecard, TypeScore, cents
from services.scoring.domain.incremental import Recall, fresh
from services.scoring.domain.inputs import FIVE_TYPES, Observation
from services.scoring.domain.monthly import of_period, parts
from services.scoring.domain.periods import Period, PeriodKind
from services.scoring.domain.rubric_deduction import DeductionRubric, Proportional, Rate
from services.scoring.domain.rubric_parts import PerEvent, cap_for
from services.scoring.domain.tally import (
    Tallies,
    Tally,
    cap_text,
    matches,
    merged,
    per_event_line,
    tally_per_event,
)


def type_of(observation: Observation, indicator: PerEvent | Rate, rubric: DeductionRubric) -> str:
    if indicator.type is not None:
        return indicator.type
    return observation.measure_type or indicator.fallback_type or rubric.default_type


def _typed(indicator: PerEvent | Rate, rubric: DeductionRubric) -> Callable[[Observation], str]:
    return lambda observation: type_of(observation, indicator, rubric)


def _tally_rate(
    index: int,
    indicator: Rate,
    by_input: dict[str, list[Observation]],
    rubric: DeductionRubric,
    tallies: Tallies,
) -> None:
    for part, selector in (
        ("numerator", indicator.numerator),
        ("denominator", indicator.denominator),
    ):
        conditions = selector.conditions
        for observation in by_input.get(selector.input, ()):
            if not matches(observation, conditions):
                continue
            key = (index, type_of(observation, indicator, rubric))
            value = observation.numbers[selector.sum] if selector.sum else 1
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = Tally()
            if part == "numerator":
                tally.numerator += value
            else:
                tally.denominator += value
                tally.count += 1
                tally.events.extend(observation.events)


def _month(rubric: DeductionRubric) -> Callable[[list[Observation]], tuple[Tallies, int]]:
    """What a month's observations give its cards: every indicator's tallies (each observation
    matched once), and how many there are."""

    def count(observations: list[Observation]) -> tuple[Tallies, int]:
        by_input: dict[str, list[Observation]] = {}
        for observation in observations:
            by_input.setdefault(observation.input, []).append(observation)
        tallies: Tallies = {}
        for index, indicator in enumerate(rubric.indicators):
            if isinstance(indicator, PerEvent):
                found = by_input.get(indicator.input, [])
                tally_per_event(index, indicator, found, _typed(indicator, rubric), tallies)
            else:
                _tally_rate(index, indicator, by_input, rubric, tallies)
        return tallies, len(observations)

    return count


def _rate_deduction(
    indicator: Rate, rate: Decimal, type_code: str, rubric: DeductionRubric, kind: PeriodKind
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
    indicator: Rate, type_code: str, tally: Tally, rubric: DeductionRubric, kind: PeriodKind
) -> LineItem:
    numerator, denominator = tally.numerator, tally.denominator
    rate = Decimal(numerator) / Decimal(denominator)
    raw, cap, extra = _rate_deduction(indicator, rate, type_code, rubric, kind)
    capped = min(raw, cap) if cap is not None else raw
    cap_zh, cap_en = cap_text(cap, capped < raw)
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
    tallies: dict[tuple[int, str], Tally], rubric: DeductionRubric, kind: PeriodKind
) -> list[LineItem]:
    lines = []
    for index, indicator in enumerate(rubric.indicators):
        for type_code in FIVE_TYPES:
            tally = tallies.get((index, type_code))
            if tally is None:
                continue
            if isinstance(indicator, PerEvent):
                lines.append(per_event_line(indicator, type_code, tally, kind))
            elif tally.denominator:  # nothing to measure yet: no deduction
                lines.append(_rate_line(indicator, type_code, tally, rubric, kind))
    return lines


def _card(
    unit: str,
    period: Period,
    tallies: dict[tuple[int, str], Tally],
    observations: int,
    rubric: DeductionRubric,
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
                deductions=cents(deductions),
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


def year_cards(
    unit: str,
    observations: list[Observation],
    rubric: DeductionRubric,
    periods: Sequence[Period],
    as_of: datetime | None,
    recall: Recall = fresh,
) -> list[Scorecard]:
    key = (rubric.version, rubric.sha256, rubric.programme_year)
    months = parts(observations, periods, lambda _o: False, _month(rubric), recall, key)
    cards = []
    for period in periods:
        found = of_period(months, period)
        tallies = merged(tallies for tallies, _count in found)
        cards.append(_card(unit, period, tallies, sum(n for _t, n in found), rubric, as_of))
    return cards
