"""Scorecards: a pure function of a unit's facts, a rubric, a period, an optional "as of" and the
scoring context (the day up to which open items keep costing, the peer group's averages).

The rubric's model decides how a card is computed: `deduction.py` (2026.1) or `earned.py`
(2026.2 on). Both derive the same observations from the facts (inputs.py)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from services.runtime.workdays import local_date
from services.scoring.domain import deduction, earned
from services.scoring.domain.cards import Scorecard
from services.scoring.domain.facts import Fact
from services.scoring.domain.incremental import Memory, Recall, Remembered, fresh, same_objects
from services.scoring.domain.inputs import Observation, observe
from services.scoring.domain.periods import Period, periods_of_year
from services.scoring.domain.reference import Reference, reference_from
from services.scoring.domain.rubric import DeductionRubric, EarnedRubric, Rubric


@dataclass(frozen=True)
class Context:
    """What a card depends on beyond the unit's own facts. `today`: open overdue items cost up to
    this day (the as-of date when there is one); `peers`: the peer groups' average rates of the
    indicators scored against them (earned.peer_averages)."""

    today: date | None = None
    peers: earned.PeerAverages = field(default_factory=dict)


def context_for(
    rubrics: Iterable[Rubric],
    public_service: Iterable[Fact],
    reference: Reference,
    today: date | None,
    as_of: datetime | None = None,
) -> Context:
    """The context of cards under `rubrics`: `today`, and the peer groups' averages of the
    indicators scored against them, from every unit's 12345 facts known by `as_of`."""
    earned_rubrics = [r for r in rubrics if isinstance(r, EarnedRubric)]
    by_unit: dict[str, list[Fact]] = {}
    for fact in _known(public_service, as_of):
        by_unit.setdefault(fact.unit, []).append(fact)
    observations = {unit: observe(facts, reference) for unit, facts in by_unit.items()}
    groups = {code: info.peer_group for code, info in reference.units.items()}
    peers: earned.PeerAverages = {}
    for rubric in earned_rubrics:
        periods = periods_of_year(rubric.programme_year)
        for group, averages in earned.peer_averages(rubric, observations, groups, periods).items():
            peers.setdefault(group, {}).update(averages)
    return Context(today=today, peers=peers)


def compares_peers(rubric: Rubric) -> bool:
    """Whether the rubric's cards need the peer groups' averages."""
    return isinstance(rubric, EarnedRubric) and any(
        i.source == "rate" and i.compare == "peer_average" for i in rubric.common
    )


def _known(facts: Iterable[Fact], as_of: datetime | None) -> list[Fact]:
    return [f for f in facts if as_of is None or f.known_at <= as_of]


def _by_year(observations: Iterable[Observation]) -> dict[int, list[Observation]]:
    by_year: dict[int, list[Observation]] = {}
    for observation in observations:
        by_year.setdefault(observation.day.year, []).append(observation)
    return by_year


def _model_cards(
    unit: str,
    facts: list[Fact],
    reference: Reference,
    observations: list[Observation],
    rubric: Rubric,
    periods: Sequence[Period],
    as_of: datetime | None,
    context: Context,
    months: Recall = fresh,
) -> list[Scorecard]:
    if isinstance(rubric, DeductionRubric):
        return deduction.year_cards(unit, observations, rubric, periods, as_of, months)
    info = reference.units.get(unit)
    averages = context.peers.get(info.peer_group if info else None, {})
    verdicts = earned.verdicts_of(facts)
    return earned.year_cards(unit, observations, rubric, periods, as_of, averages, verdicts, months)


def score_periods(
    unit: str,
    facts: Iterable[Fact],
    rubric: Rubric,
    periods: Sequence[Period],
    as_of: datetime | None = None,
    context: Context | None = None,
    reference: Reference | None = None,
) -> list[Scorecard]:
    """Cards of one unit for periods of the rubric's year, deriving the observations once.
    `reference`: as in `score_all`, from `reference_as_of` for many units at once."""
    if any(p.year != rubric.programme_year for p in periods):
        raise ValueError(f"rubric {rubric.version} applies to {rubric.programme_year} only")
    context = context or Context()
    known = _known(facts, as_of)
    reference = reference or reference_from(known)
    today = local_date(as_of) if as_of is not None else context.today
    observations = _by_year(observe(known, reference, today)).get(rubric.programme_year, [])
    return _model_cards(unit, known, reference, observations, rubric, periods, as_of, context)


def score(
    unit: str,
    facts: Iterable[Fact],
    rubric: Rubric,
    period: Period,
    as_of: datetime | None = None,
    context: Context | None = None,
    reference: Reference | None = None,
) -> Scorecard:
    """The card of `unit` for `period` under `rubric`, from the facts known by `as_of`."""
    return score_periods(unit, facts, rubric, [period], as_of, context, reference)[0]


def reference_as_of(reference_facts: Iterable[Fact], as_of: datetime | None) -> Reference:
    """The reference data as known at `as_of`, derived once for scoring many units."""
    return reference_from(_known(reference_facts, as_of))


def score_all(
    unit: str,
    facts: Iterable[Fact],
    rubrics: Mapping[int, Rubric],
    context: Context | None = None,
    memory: Memory | None = None,
    reference: Reference | None = None,
) -> list[Scorecard]:
    """The 17 cards (months, quarters, year) of every programme year that has a rubric and in
    which the unit has something to score. With a `memory` of the unit's last scoring, only
    what the facts changed since is derived and counted again (incremental.py). With the
    `reference` derived once for many units, `facts` need only be the unit's own: every pass
    over them would otherwise also cross every unit's registration."""
    context = context or Context()
    known = list(facts)
    reference = reference or reference_from(known)
    unit_memory = memory.of(unit) if memory is not None else None  # None: in full
    derived = Remembered(unit_memory.observations if unit_memory else None)
    months = Remembered(unit_memory.months if unit_memory else None, same_objects)
    observations = observe(known, reference, context.today, derived if unit_memory else fresh)
    by_year = _by_year(observations)
    cards = [
        card
        for year in sorted(set(by_year) & set(rubrics))
        for card in _model_cards(
            unit,
            known,
            reference,
            by_year[year],
            rubrics[year],
            periods_of_year(year),
            None,
            context,
            months if unit_memory else fresh,
        )
    ]
    if memory is not None and unit_memory is not None:
        unit_memory.observations, unit_memory.months = derived.kept, months.kept
        memory.holds(unit, len(observations))
    return cards
