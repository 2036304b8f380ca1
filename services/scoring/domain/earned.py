"""The earned model's cards (rubric 2026.2 on). Rules, each with a worked example, in
docs/scoring.md ("The earned model").

1. 个性指标: each type in which the unit has tasks (milestones, obligation occurrences, targets)
   is worth `tasks.points × its weight / the weights of the types with tasks`; it earns that times
   the weighted completion of its items: on time 1, late `late_credit` (only if completed by the
   period's end), missed 0, a target by degree (met 1, partly in proportion, not met 0).
2. 共性指标: guarantee-measure tasks like tasks; rates against a target or the peer group's
   average, only from `min_cases` cases.
3. The parts the unit has are rescaled to make up `base`: nothing assigned in a type never gives
   that type's marks, and a unit with no task in the period has no score (暂无考核数据).
4. 扣分 (capped per indicator and in all) and 加分 (capped), then 等次 by bands and the office's
   verdicts (一票否决: 较差; 降等: down by steps).
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import cast

from services.scoring.domain.cards import (
    CENT,
    NO_DATA_ZH,
    TYPE_NAMES,
    ZERO,
    ItemRef,
    LineItem,
    Scorecard,
    TypeScore,
    Verdict,
    cents,
)
from services.scoring.domain.facts import Fact, FactKind
from services.scoring.domain.incremental import Recall, fresh
from services.scoring.domain.monthly import by_month, of_period, parts
from services.scoring.domain.observation import FIVE_TYPES, Observation
from services.scoring.domain.periods import Period, PeriodKind
from services.scoring.domain.rubric_earned import (
    GRADE_ORDER,
    CommonIndicator,
    EarnedRubric,
)
from services.scoring.domain.rubric_parts import PerEvent, Selector, cap_for
from services.scoring.domain.tally import (
    Tallies,
    item_order,
    matches,
    merged,
    per_event_line,
    tally_per_event,
)

ONE = Decimal(1)
HUNDRED = Decimal(100)
ALL = "all"  # the type key of lines that concern the whole card
# peer group -> period -> common indicator id -> the group's average rate (0-1)
PeerAverages = dict[str | None, dict[Period, dict[str, Decimal]]]
OUTCOME_ZH = {"on_time": "按时完成", "late": "逾期完成", "missed": "未完成"}


def verdicts_of(facts: Iterable[Fact]) -> dict[str, list[Verdict]]:
    """The office's verdicts by period label."""
    found: dict[str, list[Verdict]] = defaultdict(list)
    for fact in sorted(facts, key=lambda f: (f.known_at, f.event_id)):
        if fact.kind is FactKind.VERDICT:
            data = fact.data
            found[data["period"]].append(
                Verdict(
                    kind=data["kind"],
                    steps=data["steps"],
                    reason=data["reason"],
                    document=data["document"],
                    decided_by=data["decided_by"],
                    decided_on=date.fromisoformat(data["decided_on"]),
                    event_id=fact.event_id,
                )
            )
    return found


# ----------------------------------------------------------------------------- tasks


def task_credit(observation: Observation, last_day: date, rubric: EarnedRubric) -> Decimal:
    """What one task or target earns in a period ending on `last_day`, from 0 to 1."""
    if observation.input == "target":
        if observation.attrs["outcome"] == "level":
            return rubric.tasks.level_target_credit
        return observation.credit or ZERO
    outcome = observation.attrs["outcome"]
    if outcome == "on_time":
        return ONE
    done = observation.completed_on
    if outcome == "missed" or done is None or done > last_day:
        return ZERO  # not completed by the period's end
    return _late_credit(observation, rubric)


def _late_credit(observation: Observation, rubric: EarnedRubric) -> Decimal:
    late = rubric.tasks.late_credit
    days = observation.numbers["days_late"]
    return max(late.floor, late.first_day - late.per_day * (days - 1))


def _weight(observation: Observation, rubric: EarnedRubric) -> Decimal:
    weights = rubric.tasks.item_weights
    if observation.input == "target":
        return weights.target
    return weights.obligation if observation.attrs["kind"] == "obligation" else weights.milestone


@dataclass(frozen=True, slots=True)
class _Late:
    """A task of the month completed after the month ended: its credit counts in the cards of
    the periods that end after its completion, nothing in the others."""

    done: date
    weight: Decimal
    credit: Decimal
    credited: ItemRef | None
    uncredited: ItemRef | None


@dataclass
class _Tasks:
    """One type's tasks (or the guarantee measures') in one month, or the year's targets."""

    weight: Decimal = ZERO
    earned: Decimal = ZERO  # exact: the sum of weight × credit that every card counts alike
    terms: list[Decimal] = field(default_factory=list)  # targets: added one by one (may round)
    outcomes: Counter[str] = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)
    items: list[ItemRef | _Late] = field(default_factory=list)

    def add(self, observation: Observation, rubric: EarnedRubric, month_end: date) -> None:
        weight = _weight(observation, rubric)
        self.weight += weight
        is_task = observation.input == "task"
        outcome = observation.attrs["outcome"] if is_task else "target"
        self.outcomes[outcome] += 1
        self.events.extend(observation.events)
        item, done = observation.item, observation.completed_on
        if outcome == "late" and done is not None and done > month_end:
            # Completed after its month: credited only by the periods that end after that.
            late = _late_credit(observation, rubric)
            credited = item.ref(credit=cents(late)) if item else None
            uncredited = item.ref(credit=cents(ZERO)) if item else None
            self.items.append(_Late(done, weight, late, credited, uncredited))
            return
        credit = task_credit(observation, month_end, rubric)
        if is_task:
            self.earned += weight * credit
        else:
            self.terms.append(weight * credit)
        if item is not None:
            self.items.append(item.ref(credit=cents(credit)))


@dataclass
class _Work:
    """The tasks of one type (or of the guarantee measures) in one period."""

    weight: Decimal = ZERO
    earned: Decimal = ZERO
    outcomes: Counter[str] = field(default_factory=Counter)
    items: list[ItemRef] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @property
    def rate(self) -> Decimal:
        return self.earned / self.weight if self.weight else ZERO

    def summary_zh(self) -> str:
        parts = [f"{OUTCOME_ZH[k]} {self.outcomes[k]} 项" for k in OUTCOME_ZH if self.outcomes[k]]
        if self.outcomes["target"]:
            parts.append(f"量化目标 {self.outcomes['target']} 项")
        return "，".join(parts)


def _work(months: Sequence[_Tasks], last_day: date) -> _Work:
    """A period's tasks of one type from its months' (the year's targets last), summed as the
    period's tasks taken one by one would be: the tasks' products are exact, so their order does
    not matter; the targets' are added in order."""
    work = _Work()
    earned = ZERO
    for month in months:
        work.weight += month.weight
        earned += month.earned
        work.outcomes.update(month.outcomes)
        work.events.extend(month.events)
        for entry in month.items:
            if isinstance(entry, _Late):
                credited = entry.done <= last_day
                earned += entry.weight * (entry.credit if credited else ZERO)
                item = entry.credited if credited else entry.uncredited
                if item is not None:
                    work.items.append(item)
            else:
                work.items.append(entry)
        for term in month.terms:
            earned += term
    work.earned = earned
    return work


# ----------------------------------------------------------------------------- common rates


def _selected(observations: Mapping[str, list[Observation]], selector: Selector) -> Decimal:
    """How many observations the selector matches, or the sum of its number over them."""
    total, conditions = ZERO, selector.conditions
    for observation in observations.get(selector.input, ()):
        if matches(observation, conditions):
            total += observation.numbers[selector.sum] if selector.sum else 1
    return total


def rate_of(
    indicator: CommonIndicator, numerator: Decimal, denominator: Decimal
) -> tuple[Decimal, Decimal] | None:
    """(numerator, denominator) of a rate indicator, or None below its minimum of cases."""
    if denominator <= 0 or denominator < indicator.min_cases:
        return None
    return numerator, denominator


def _rate_credit(indicator: CommonIndicator, rate: Decimal, average: Decimal | None) -> Decimal:
    """Met or beaten: 1; short of it: in proportion (an `at_most` rate by the room left)."""
    goal = average if indicator.compare == "peer_average" else (indicator.target or ZERO) / HUNDRED
    if goal is None:
        return ONE  # no peer has enough cases to compare with
    if indicator.direction == "at_least":
        return ONE if goal <= 0 or rate >= goal else rate / goal
    if rate <= goal:
        return ONE
    return max(ZERO, (ONE - rate) / (ONE - goal)) if goal < ONE else ZERO


@dataclass(frozen=True)
class _Part:
    line: LineItem
    available: Decimal  # points before rescaling; 0 when not assessable
    rate: Decimal


def _common_line(
    indicator: CommonIndicator,
    numerator: Decimal,
    denominator: Decimal,
    events: list[str],
    average: Decimal | None,
) -> _Part | None:
    found = rate_of(indicator, numerator, denominator)
    base = {
        "rule": indicator.id,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "formula": "rate",
        "effect": "earned",
        "type": ALL,
        "uncapped": ZERO,
        "events": sorted(events),
    }
    if found is None:
        cases = int(denominator)
        if not cases:
            return None  # nothing of the kind in the period: no line at all
        note = f"样本不足（{cases} 件，少于 {indicator.min_cases} 件），本项不计分"
        line = LineItem(
            **base,
            points=ZERO,
            count=cases,
            detail={"min_cases": str(indicator.min_cases)},
            explanation_zh=note,
            explanation_en=f"Too few cases ({cases} < {indicator.min_cases}): not scored",
            full_marks=ZERO,
        )
        return _Part(line, ZERO, ZERO)
    rate = numerator / denominator
    credit = _rate_credit(indicator, rate, average)
    percent = cents(rate * HUNDRED)
    if indicator.compare == "target":
        against = f"目标 {indicator.target}%"
    elif average is None:
        against = "全组暂无可比数据，按达标计"
    else:
        against = f"全组平均 {cents(average * HUNDRED)}%"
    line = LineItem(
        **base,
        points=ZERO,  # set when the parts are rescaled
        count=int(denominator),
        detail={
            "numerator": str(numerator),
            "denominator": str(denominator),
            "rate_percent": str(percent),
            "credit": str(cents(credit)),
            **({"peer_average_percent": str(cents(average * HUNDRED))} if average else {}),
        },
        explanation_zh=f"{numerator}/{denominator} = {percent}%（{against}）",
        explanation_en=f"{numerator}/{denominator} = {percent}%",
    )
    return _Part(line, indicator.points, credit)


def _task_line(
    rule: str, name: tuple[str, str], type_code: str, work: _Work, available: Decimal
) -> _Part:
    line = LineItem(
        rule=rule,
        name_zh=name[0],
        name_en=name[1],
        formula="tasks",
        effect="earned",
        type=type_code,
        points=ZERO,
        uncapped=ZERO,
        count=len(work.items),
        detail={
            "weight": str(work.weight),
            "earned_weight": str(cents(work.earned)),
            "completion_percent": str(cents(work.rate * HUNDRED)),
        },
        explanation_zh=f"{work.summary_zh()}；完成度 {cents(work.rate * HUNDRED)}%",
        explanation_en=f"{len(work.items)} item(s), completion {cents(work.rate * HUNDRED)}%",
        events=sorted(work.events),
        items=sorted(work.items, key=item_order),
    )
    return _Part(line, available, work.rate)


def _earned_parts(
    months: Sequence["_Month"],
    period: Period,
    rubric: EarnedRubric,
    averages: Mapping[str, Decimal],
) -> list[_Part]:
    types: dict[str | None, list[_Tasks]] = defaultdict(list)
    for month in months:
        for type_code, tasks in month.tasks.items():
            types[type_code].append(tasks)
    works = {t: _work(found, period.last_day) for t, found in types.items()}
    weights = rubric.tasks.weights
    typed_weight = sum((weights[t] for t in works if t is not None), ZERO)
    parts = []
    for type_code in FIVE_TYPES:
        if type_code in works:
            share = rubric.tasks.points * weights[type_code] / typed_weight
            name_zh, name_en = TYPE_NAMES[type_code]
            names = (f"{name_zh}交办任务", f"{name_en} tasks")
            parts.append(
                _task_line(f"tasks_{type_code}", names, type_code, works[type_code], share)
            )
    for index, indicator in enumerate(rubric.common):
        if indicator.source == "guarantee_tasks":
            if None in works:
                names = (indicator.name_zh, indicator.name_en)
                parts.append(_task_line(indicator.id, names, ALL, works[None], indicator.points))
            continue
        numerator, denominator = _rate_sums((m.rates for m in months), index)
        assert indicator.denominator is not None
        events = [e for m in months for e in m.cases.get(indicator.denominator.input, ())]
        average = averages.get(indicator.id)
        if (part := _common_line(indicator, numerator, denominator, events, average)) is not None:
            parts.append(part)
    return parts


def _rate_sums(
    months: Iterable[Mapping[int, tuple[Decimal, Decimal]]], index: int
) -> tuple[Decimal, Decimal]:
    """A rate's (numerator, denominator) over months, from each month's sums by indicator."""
    numerator = denominator = ZERO
    for rates in months:
        found = rates.get(index)
        if found is not None:
            numerator += found[0]
            denominator += found[1]
    return numerator, denominator


def _rescaled(parts: list[_Part], base: Decimal) -> list[LineItem]:
    """Each assessable part's full marks rescaled so they add up to `base`, and its points (of
    the full marks as shown, so a unit that earns every part in full has exactly `base`)."""
    lines = []
    for part, full in zip(parts, apportioned([p.available for p in parts], base), strict=True):
        points = cents(full * part.rate)
        text = f"，得 {points} 分（满分 {full} 分）" if part.available else ""
        lines.append(
            part.line.model_copy(
                update={
                    "points": points,
                    "uncapped": points,
                    "full_marks": full,
                    "explanation_zh": part.line.explanation_zh + text,
                    "explanation_en": part.line.explanation_en
                    + (f", {points} of {full}" if part.available else ""),
                }
            )
        )
    return lines


def apportioned(shares: Sequence[Decimal], base: Decimal) -> list[Decimal]:
    """`base` split in proportion to `shares`, in cents that add up to `base` exactly: each
    share's cents rounded down, and the cents left over go to the largest remainders (the
    earlier share on a tie). Rounding each share alone gave three equal thirds of 100 as 99.99,
    so units that earned everything ranked apart by a cent, and some totals went over 100."""
    available = sum(shares, ZERO)
    if not available:
        return [cents(ZERO) for _ in shares]
    exact = [base * share / available for share in shares]
    floors = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    left = int((base - sum(floors, ZERO)) / CENT)
    by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for index in by_remainder[:left]:
        floors[index] += CENT
    return floors


# ----------------------------------------------------------------------------- adjustments


def _adjustments(
    indicators: Sequence[PerEvent], tallies: Tallies, kind: PeriodKind
) -> list[LineItem]:
    return [
        per_event_line(indicator, ALL, tallies[(index, ALL)], kind)
        for index, indicator in enumerate(indicators)
        if (index, ALL) in tallies
    ]


def _tally_adjustments(
    indicators: Sequence[PerEvent], by_input: Mapping[str, list[Observation]]
) -> Tallies:
    tallies: Tallies = {}
    for index, indicator in enumerate(indicators):
        found = by_input.get(indicator.input, [])
        tally_per_event(index, indicator, found, lambda _o: ALL, tallies)
    return tallies


def _capped(lines: list[LineItem], cap: Decimal | None) -> tuple[Decimal, Decimal]:
    """(capped, uncapped) sum of the lines' magnitudes."""
    raw = sum((abs(li.points) for li in lines), ZERO)
    return (min(raw, cap) if cap is not None else raw), raw


# ----------------------------------------------------------------------------- a month


@dataclass
class _Month:
    """What one month's observations (or the year's targets) give every card containing it."""

    observations: int
    settled: int  # tasks (not targets)
    on_time: int
    assessed: int  # tasks and targets
    tasks: dict[str | None, _Tasks]
    rates: dict[int, tuple[Decimal, Decimal]]  # common indicator index -> sums
    cases: dict[str, list[str]]  # a rate's denominator input -> its observations' events
    deductions: Tallies
    bonuses: Tallies


def _month_counter(
    rubric: EarnedRubric, month_end: Callable[[date], date]
) -> Callable[[list[Observation]], _Month]:
    def count(observations: list[Observation]) -> _Month:
        by_input: dict[str, list[Observation]] = defaultdict(list)
        for observation in observations:
            by_input[observation.input].append(observation)
        tasks: dict[str | None, _Tasks] = defaultdict(_Tasks)
        for observation in (*by_input.get("task", ()), *by_input.get("target", ())):
            tasks[observation.measure_type].add(observation, rubric, month_end(observation.day))
        rates, cases = {}, {}
        for index, indicator in enumerate(rubric.common):
            if indicator.numerator is None or indicator.denominator is None:
                continue
            rates[index] = (
                _selected(by_input, indicator.numerator),
                _selected(by_input, indicator.denominator),
            )
            source = indicator.denominator.input
            cases[source] = [e for o in by_input.get(source, ()) for e in o.events]
        settled = by_input.get("task", [])
        return _Month(
            observations=len(observations),
            settled=len(settled),
            on_time=sum(1 for o in settled if o.attrs["outcome"] == "on_time"),
            assessed=len(settled) + len(by_input.get("target", ())),
            tasks=dict(tasks),
            rates=rates,
            cases=cases,
            deductions=_tally_adjustments(rubric.deductions, by_input),
            bonuses=_tally_adjustments(rubric.bonuses, by_input),
        )

    return count


# ----------------------------------------------------------------------------- grades


def band_grade(total: Decimal, rubric: EarnedRubric) -> str:
    bands = rubric.grades
    if total >= bands.excellent:
        return "excellent"
    if total >= bands.good:
        return "good"
    return "fair" if total >= bands.fair else "poor"


def apply_verdicts(grade: str, verdicts: Sequence[Verdict]) -> str:
    if any(v.kind == "veto" for v in verdicts):
        return "poor"
    steps = sum(v.steps for v in verdicts if v.kind == "downgrade")
    return GRADE_ORDER[min(GRADE_ORDER.index(grade) + steps, len(GRADE_ORDER) - 1)]


# ----------------------------------------------------------------------------- the card


def _card(
    unit: str,
    period: Period,
    months: Sequence[_Month],
    rubric: EarnedRubric,
    as_of: datetime | None,
    averages: Mapping[str, Decimal],
    verdicts: Sequence[Verdict],
) -> Scorecard:
    earned_lines = _rescaled(_earned_parts(months, period, rubric, averages), rubric.base)
    deductions = _adjustments(rubric.deductions, merged(m.deductions for m in months), period.kind)
    bonuses = _adjustments(rubric.bonuses, merged(m.bonuses for m in months), period.kind)
    deducted, deducted_raw = _capped(deductions, cap_for(rubric.deduction_cap, period.kind))
    bonus, bonus_raw = _capped(bonuses, cap_for(rubric.bonus_cap, period.kind))
    types = [_type_score(t, earned_lines) for t in FIVE_TYPES]
    settled = sum(m.settled for m in months)
    on_time = sum(m.on_time for m in months)
    assessed = any(m.assessed for m in months)
    total = grade = band = None
    earned = None
    if assessed:
        earned = sum((li.points for li in earned_lines), ZERO)
        total = cents(max(ZERO, earned + bonus - deducted))
        band = band_grade(total, rubric)
        grade = apply_verdicts(band, verdicts)
    return Scorecard(
        unit=unit,
        period=period.label,
        period_kind=period.kind,
        rubric_version=rubric.version,
        as_of=as_of.astimezone(UTC) if as_of else None,
        base=cents(rubric.base),
        total=total,
        types=types,
        bonus=cents(bonus),
        bonus_uncapped=cents(bonus_raw),
        line_items=[*earned_lines, *bonuses, *deductions],
        observations=sum(m.observations for m in months),
        model="earned",
        note_zh=None if assessed else NO_DATA_ZH,
        earned=cents(earned) if earned is not None else None,
        deductions=ZERO - cents(deducted),  # never "-0.00"
        deductions_uncapped=ZERO - cents(deducted_raw),
        on_time_rate=cents(Decimal(on_time) / settled) if settled else None,
        band_grade=band,
        grade=grade,
        verdicts=list(verdicts),
    )


def _type_score(type_code: str, lines: Sequence[LineItem]) -> TypeScore:
    name_zh, name_en = TYPE_NAMES[type_code]
    line = next((li for li in lines if li.rule == f"tasks_{type_code}"), None)
    return TypeScore(
        type=type_code,
        name_zh=name_zh,
        name_en=name_en,
        full_marks=(line.full_marks or cents(ZERO)) if line else cents(ZERO),
        deductions=cents(ZERO),
        score=line.points if line else cents(ZERO),
        assessed=line is not None,
    )


def _is_target(observation: Observation) -> bool:
    """A target is judged once a year: it counts in the year's card only."""
    return observation.input == "target"


def _months(
    observations: list[Observation],
    rubric: EarnedRubric,
    periods: Sequence[Period],
    recall: Recall,
) -> dict[int, _Month]:
    ends = {m: Period(rubric.programme_year, PeriodKind.MONTH, m).last_day for m in range(1, 13)}
    count = _month_counter(rubric, lambda day: ends[day.month])
    key = (rubric.version, rubric.sha256, rubric.programme_year)
    return parts(observations, periods, _is_target, count, recall, key)


def year_cards(
    unit: str,
    observations: list[Observation],
    rubric: EarnedRubric,
    periods: Sequence[Period],
    as_of: datetime | None,
    averages: Mapping[Period, Mapping[str, Decimal]],
    verdicts: Mapping[str, Sequence[Verdict]],
    recall: Recall = fresh,
) -> list[Scorecard]:
    months = _months(observations, rubric, periods, recall)
    return [
        _card(
            unit,
            period,
            of_period(months, period),
            rubric,
            as_of,
            averages.get(period, {}),
            verdicts.get(period.label, ()),
        )
        for period in periods
    ]


def peer_averages(
    rubric: EarnedRubric,
    observations_by_unit: Mapping[str, list[Observation]],
    groups: Mapping[str, str | None],
    periods: Sequence[Period],
) -> PeerAverages:
    """The mean rate of each peer-compared indicator over the group's units that have enough
    cases, per period (units taken in code order, so that the mean does not depend on the order
    the facts were read in)."""
    compared = [
        (index, indicator)
        for index, indicator in enumerate(rubric.common)
        if indicator.source == "rate" and indicator.compare == "peer_average"
    ]
    rates: dict[tuple[str | None, Period, str], list[Decimal]] = defaultdict(list)
    for unit in sorted(observations_by_unit):
        if groups.get(unit) is None:
            continue  # a unit in no peer group is compared with nobody
        months = {
            month: _rate_month(observed, compared)
            for month, observed in by_month(observations_by_unit[unit], _is_target).items()
        }
        for period in periods:
            found_months = of_period(months, period)
            for index, indicator in compared:
                sums = _rate_sums(found_months, index)
                if (found := rate_of(indicator, *sums)) is not None:
                    rates[(groups.get(unit), period, indicator.id)].append(found[0] / found[1])
    averages: PeerAverages = {}
    for (group, period, indicator_id), values in rates.items():
        mean = sum(values, ZERO) / len(values)
        averages.setdefault(group, {}).setdefault(period, {})[indicator_id] = mean
    return cast(PeerAverages, averages)


def _rate_month(
    observations: list[Observation], compared: Sequence[tuple[int, CommonIndicator]]
) -> dict[int, tuple[Decimal, Decimal]]:
    by_input: dict[str, list[Observation]] = defaultdict(list)
    for observation in observations:
        by_input[observation.input].append(observation)
    sums = {}
    for index, indicator in compared:
        assert indicator.numerator is not None and indicator.denominator is not None
        sums[index] = (
            _selected(by_input, indicator.numerator),
            _selected(by_input, indicator.denominator),
        )
    return sums
