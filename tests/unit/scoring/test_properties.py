"""Property tests: a card is a function of the set of facts. Any order and any duplication of
the same events gives the same cards, and so does delivering them in batches to the store with
recomputations in between (live) against storing them all and scoring once (rebuild), under the
deduction model (2026.1) and the earned model (2026.2, whose 12345 lines compare peers)."""

import asyncio
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
from services.scoring.domain.facts import to_facts
from services.scoring.domain.rubric import Rubric, parse_rubric
from services.scoring.domain.scoring import Context, score_all
from services.scoring.handlers import recompute
from services.scoring.handlers.rulebook import RuleBook, store_activation
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
