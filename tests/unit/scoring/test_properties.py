"""Property tests: a card is a function of the set of facts. Any order and any duplication of
the same events gives the same cards, and so does delivering them in batches to the store with
recomputations in between (live) against storing them all and scoring once (rebuild), under the
deduction model (2026.1) and the earned model (2026.2, whose 12345 lines compare peers).
Incremental scoring (the months whose observations did not change taken from the cache) gives
the cards a full rescoring gives, on generated unit-years delivered in random batches."""

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import Envelope
from services.runtime import messaging
from services.runtime.db import Database
from services.scoring.adapters import repository
from services.scoring.adapters.tables import metadata
from services.scoring.domain.facts import REFERENCE_KINDS, Fact, FactKind, to_facts
from services.scoring.domain.incremental import Memory
from services.scoring.domain.periods import Period
from services.scoring.domain.reference import reference_from
from services.scoring.domain.rubric import Rubric, parse_rubric
from services.scoring.domain.scoring import Context, context_for, reference_as_of, score, score_all
from services.scoring.handlers import recompute
from services.scoring.handlers.rulebook import RuleBook, store_activation
from tests.unit.scoring import workload
from tests.unit.scoring.events import EARNED_2026, RUBRIC_2026, history, unit_registered

RUBRIC = parse_rubric(RUBRIC_2026, "2026.yaml")
EARNED = parse_rubric(EARNED_2026, "2026.yaml")
EVENTS: list[Envelope[Any]] = [
    *history("360102"),
    *history("360103")[1:],
    unit_registered("360102", "东湖区", "county"),
    unit_registered("360103", "西湖区", "county"),
]
NOW = datetime(2026, 12, 1, tzinfo=UTC)
TODAY = Context(today=date(2026, 12, 1))


def cards_of(
    envelopes: list[Envelope[Any]], unit: str = "360102", rubric: Rubric = RUBRIC
) -> list[str]:
    facts = [f for e in envelopes for f in to_facts(e)]
    return [c.model_dump_json() for c in score_all(unit, facts, {2026: rubric}, TODAY)]


# Deliveries: every event at least once, in any order, some several times.
deliveries = st.lists(st.integers(0, len(EVENTS) - 1), max_size=15).flatmap(
    lambda extra: st.permutations([*range(len(EVENTS)), *extra])
)
EXPECTED = cards_of(EVENTS)
EXPECTED_EARNED = cards_of(EVENTS, rubric=EARNED)


@given(deliveries)
@settings(max_examples=40, deadline=None)
def test_any_order_and_duplication_gives_the_same_cards(order: list[int]) -> None:
    assert cards_of([EVENTS[i] for i in order]) == EXPECTED
    assert cards_of([EVENTS[i] for i in order], rubric=EARNED) == EXPECTED_EARNED


random_facts = st.lists(
    st.builds(
        lambda kind, unit_day, severity: (kind, unit_day, severity),
        st.sampled_from(["finding", "missed", "rectification"]),
        st.integers(0, 364),
        st.sampled_from(["minor", "general", "serious", "critical"]),
    ),
    max_size=25,
)


@given(random_facts, st.randoms(use_true_random=False))
@settings(max_examples=40, deadline=None)
def test_random_histories_do_not_depend_on_order(
    items: list[tuple[str, int, str]], shuffler: Any
) -> None:
    from contracts.inspections import Severity
    from contracts.measures import DeadlineItem
    from tests.unit.scoring.events import at, finding, missed

    envelopes: list[Envelope[Any]] = []
    for n, (kind, offset, severity) in enumerate(items):
        day = date(2026, 1, 1) + timedelta(days=offset)
        if kind == "finding":
            envelopes.append(finding("360102", f"F{n}", Severity(severity), at(day)))
        else:
            item = (
                DeadlineItem.RECTIFICATION if kind == "rectification" else DeadlineItem.OBLIGATION
            )
            envelopes.append(missed("360102", f"X{n}", day, item_type=item, measure_type=None))
    shuffled = [*envelopes, *envelopes[: len(envelopes) // 2]]
    shuffler.shuffle(shuffled)
    assert cards_of(shuffled) == cards_of(envelopes)


async def _store(directory: Path, rubric: Rubric) -> tuple[Database, RuleBook]:
    db = Database(f"sqlite:///{directory / 'scoring.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.run_sync(messaging.metadata.create_all)
    book = RuleBook(office="office")
    async with db.session() as session, session.begin():
        await store_activation(session, rubric, "test", NOW, "office")
    return db, book


async def _stored_cards(db: Database) -> dict[tuple[str, str], Any]:
    async with db.session() as session:
        rows = await session.execute(sa.text("SELECT unit, period, card FROM scorecards"))
        return {(r.unit, r.period): r.card for r in rows}


async def _settle(db: Database, book: RuleBook, publish: bool) -> None:
    recomputer = recompute.Recomputer(db, book, lambda: NOW, lambda: None, publish=publish)
    while (await recomputer.run_once())[0]:
        pass


async def _live_and_rebuild(order: list[int], cuts: list[int], rubric: Rubric) -> None:
    with TemporaryDirectory() as live_dir, TemporaryDirectory() as rebuild_dir:
        live, live_book = await _store(Path(live_dir), rubric)
        start = 0
        for cut in [*sorted(cuts), len(order)]:
            async with live.session() as session, session.begin():
                await recompute.record(session, [EVENTS[i] for i in order[start:cut]], NOW)
            await _settle(live, live_book, publish=True)
            start = cut
        rebuilt, rebuilt_book = await _store(Path(rebuild_dir), rubric)
        async with rebuilt.session() as session, session.begin():
            facts = [f for e in EVENTS for f in to_facts(e)]
            await repository.add_facts(session, facts, NOW)
            await repository.mark_dirty(
                session, {f.unit for f in facts if f.kind not in ("catalogue", "unit")}
            )
        await _settle(rebuilt, rebuilt_book, publish=False)
        live_cards, rebuilt_cards = await _stored_cards(live), await _stored_cards(rebuilt)
        assert live_cards == rebuilt_cards and len(live_cards) == 2 * 17
        await live.dispose()
        await rebuilt.dispose()


@given(
    deliveries, st.lists(st.integers(0, len(EVENTS)), max_size=4), st.sampled_from([RUBRIC, EARNED])
)
@settings(max_examples=12, deadline=None)
def test_live_processing_in_batches_equals_a_rebuild(
    order: list[int], cuts: list[int], rubric: Rubric
) -> None:
    asyncio.run(_live_and_rebuild(order, cuts, rubric))


def _batches(rng: random.Random, facts: list[Fact], count: int) -> list[list[Fact]]:
    """`facts` in random order, cut into `count` deliveries, some facts delivered twice."""
    shuffled = [*facts, *rng.sample(facts, len(facts) // 5)]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(shuffled)), min(count - 1, len(shuffled) - 1)))
    return [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]


def _json(cards: list[Any]) -> list[str]:
    return [card.model_dump_json() for card in cards]


@given(st.integers(0, 10**6), st.integers(1, 8), st.sampled_from([RUBRIC, EARNED]))
@settings(max_examples=30, deadline=None)
def test_incremental_scoring_gives_the_cards_of_a_full_rescoring(
    seed: int, deliveries: int, rubric: Rubric
) -> None:
    """After every delivery (and a later day: open findings keep costing), the cards scored
    with the cache of earlier runs are those scored from scratch."""
    rng = random.Random(seed)
    reference = workload.reference()
    mine = workload.unit_year(rng, "u1", rng.randint(10, 120))
    peers = workload.unit_year(rng, "u2", 30)
    memory, known = Memory(), list(reference)
    for number, batch in enumerate(_batches(rng, mine, deliveries)):
        known += batch
        today = date(2026, 1, 31) + timedelta(days=40 * number + rng.randrange(40))
        public_service = [f for f in [*known, *peers] if f.kind is FactKind.PUBLIC_SERVICE]
        context = context_for([rubric], public_service, reference_from(reference), today)
        incremental = score_all("u1", known, {2026: rubric}, context, memory)
        assert _json(incremental) == _json(score_all("u1", known, {2026: rubric}, context))


@given(st.integers(0, 10**6), st.sampled_from([RUBRIC, EARNED]))
@settings(max_examples=20, deadline=None)
def test_a_unit_scored_with_the_reference_derived_once_gets_the_cards_of_all_facts(
    seed: int, rubric: Rubric
) -> None:
    """The recompute job derives the reference data once per run and scores each unit from its
    own facts: the cards are those scored from the unit's facts with every reference fact."""
    rng = random.Random(seed)
    reference = workload.reference()
    mine = workload.unit_year(rng, "u1", rng.randint(10, 120))
    peers = workload.unit_year(rng, "u2", 30)
    public_service = [f for f in [*mine, *peers] if f.kind is FactKind.PUBLIC_SERVICE]
    context = context_for([rubric], public_service, reference_from(reference), date(2026, 12, 1))
    once = score_all("u1", mine, {2026: rubric}, context, reference=reference_from(reference))
    assert _json(once) == _json(score_all("u1", [*reference, *mine], {2026: rubric}, context))
    # As of a moment: the reference data as known then (a period's close, a group's cards).
    as_of = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(365))
    period = Period.parse("2026")
    known = reference_as_of(reference, as_of)
    assert _json([score("u1", mine, rubric, period, as_of, context, known)]) == _json(
        [score("u1", [*reference, *mine], rubric, period, as_of, context)]
    )


def test_a_new_fact_derives_and_counts_again_only_what_it_changes() -> None:
    facts = [f for e in EVENTS for f in to_facts(e)]
    memory = Memory()
    score_all("360102", facts, {2026: EARNED}, TODAY, memory)
    remembered = memory.of("360102")
    assert remembered is not None
    before = dict(remembered.months)
    interview = {"interview_id": "V-1", "title": "约谈"}
    may = Fact("interview", FactKind.INTERVIEW, "360102", date(2026, 5, 6), NOW, interview)
    cards = score_all("360102", [*facts, may], {2026: EARNED}, TODAY, memory)
    recounted = [
        key for key, (_seen, part) in remembered.months.items() if before[key][1] is not part
    ]
    assert recounted == [("2026.2", EARNED.sha256, 2026, 5)]
    assert _json(cards) == _json(score_all("360102", [*facts, may], {2026: EARNED}, TODAY))


def test_the_memory_keeps_the_units_it_has_room_for_when_every_run_visits_them_all() -> None:
    memory = Memory(capacity=30)
    for _run in range(3):
        memory.next_run()
        kept = []
        for unit in ("u1", "u2", "u3", "u4", "u5"):
            if memory.of(unit) is not None:
                memory.holds(unit, 10)
                kept.append(unit)
        assert kept == ["u1", "u2", "u3"]
    memory.next_run()  # u1 and u2 are not scored any more: u4 and u5 take their room
    assert memory.of("u3") is not None and memory.of("u4") is not None
    memory.holds("u4", 10)
    assert memory.of("u5") is not None


async def _store_facts(db: Database, facts: list[Fact]) -> None:
    async with db.session() as session, session.begin():
        await repository.add_facts(session, facts, NOW)
        units = {f.unit for f in facts if f.kind not in REFERENCE_KINDS}
        await repository.mark_dirty(session, units)


async def _incremental_and_full(seed: int, deliveries: int, rubric: Rubric) -> None:
    rng = random.Random(seed)
    facts = [
        *workload.unit_year(rng, "u1", rng.randint(20, 80)),
        *workload.unit_year(rng, "u2", rng.randint(5, 40)),
    ]
    with TemporaryDirectory() as live_dir, TemporaryDirectory() as full_dir:
        live, live_book = await _store(Path(live_dir), rubric)
        await _store_facts(live, workload.reference())
        for batch in _batches(rng, facts, deliveries):
            await _store_facts(live, batch)
            await _settle(live, live_book, publish=True)
        full, full_book = await _store(Path(full_dir), rubric)
        await _store_facts(full, [*workload.reference(), *facts])
        recomputer = recompute.Recomputer(
            full, full_book, lambda: NOW, lambda: None, publish=False, memory=None
        )
        while (await recomputer.run_once())[0]:
            pass
        live_cards, full_cards = await _stored_cards(live), await _stored_cards(full)
        assert live_cards == full_cards and len(live_cards) == 2 * 17
        await live.dispose()
        await full.dispose()


@given(st.integers(0, 10**6), st.integers(2, 6), st.sampled_from([RUBRIC, EARNED]))
@settings(max_examples=6, deadline=None)
def test_the_recompute_job_scoring_incrementally_stores_the_cards_of_a_full_rescoring(
    seed: int, deliveries: int, rubric: Rubric
) -> None:
    asyncio.run(_incremental_and_full(seed, deliveries, rubric))
