"""Reads and writes of the scoring service's tables."""

import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db import conflict_insert
from services.scoring.adapters.tables import (
    card_history,
    closures,
    dirty_units,
    facts,
    published_rankings,
    rubric_versions,
    scorecards,
)
from services.scoring.domain.facts import REFERENCE_KINDS, Fact, FactKind
from services.scoring.domain.reference import Reference, reference_from
from services.scoring.domain.scoring import Scorecard, reference_as_of

_REFERENCE = [k.value for k in REFERENCE_KINDS]


def _row(fact: Fact, now: datetime) -> dict[str, Any]:
    return {
        "event_id": fact.event_id,
        "kind": fact.kind.value,
        "unit": fact.unit,
        "day": fact.day,
        "known_at": fact.known_at,
        "data": fact.data,
        "recorded_at": now,
    }


async def add_facts(session: AsyncSession, batch: Sequence[Fact], now: datetime) -> None:
    """Store facts once each: a fact already stored (same event id) is left as it is."""
    if batch:
        statement = conflict_insert(session, facts).on_conflict_do_nothing(
            index_elements=["event_id"]
        )
        await session.execute(statement, [_row(f, now) for f in batch])


async def mark_dirty(session: AsyncSession, units: Iterable[str]) -> None:
    rows = [{"unit": u, "marks": 1} for u in sorted(set(units))]
    if rows:
        statement = conflict_insert(session, dirty_units)
        statement = statement.on_conflict_do_update(
            index_elements=["unit"], set_={"marks": dirty_units.c.marks + 1}
        )
        await session.execute(statement, rows)


async def scored_units(session: AsyncSession) -> list[str]:
    """Every unit that has facts other than reference data."""
    query = sa.select(facts.c.unit).where(facts.c.kind.not_in(_REFERENCE)).distinct()
    return list(await session.scalars(query))


async def dirty(session: AsyncSession, limit: int) -> list[tuple[str, int]]:
    query = sa.select(dirty_units.c.unit, dirty_units.c.marks).order_by(dirty_units.c.unit)
    return [(r.unit, r.marks) for r in await session.execute(query.limit(limit))]


# The first key of the advisory locks by which replicas take turns on a unit ("SC" in ASCII).
_CLAIMS = 0x5343


async def claim(session: AsyncSession, unit: str) -> bool:
    """Take `unit` for recomputing in the session's transaction: False when it is no longer
    marked or (PostgreSQL) another replica is recomputing it. The claim is an advisory lock held
    to the end of the transaction, not a row lock, so the consumers marking the unit meanwhile
    are not held up; a replica that finds it taken moves on to the next unit."""
    if session.get_bind().dialect.name == "postgresql":
        taken = sa.select(sa.func.pg_try_advisory_xact_lock(_CLAIMS, sa.func.hashtext(unit)))
        if not await session.scalar(taken):
            return False
    query = sa.select(dirty_units.c.unit).where(dirty_units.c.unit == unit)
    return await session.scalar(query) is not None


async def clear_dirty(session: AsyncSession, unit: str, marks: int) -> None:
    """Unmark `unit` unless it was marked again since `marks` was read."""
    await session.execute(
        dirty_units.delete().where(dirty_units.c.unit == unit, dirty_units.c.marks == marks)
    )


def _fact(row: Any) -> Fact:
    return Fact(row.event_id, FactKind(row.kind), row.unit, row.day, row.known_at, row.data)


_FACT_COLUMNS = (
    facts.c.event_id,
    facts.c.kind,
    facts.c.unit,
    facts.c.day,
    facts.c.known_at,
    facts.c.data,
)


async def unit_facts(session: AsyncSession, unit: str, kind: FactKind | None = None) -> list[Fact]:
    query = sa.select(*_FACT_COLUMNS).where(facts.c.unit == unit)
    query = query.where(facts.c.kind == kind.value if kind else facts.c.kind.not_in(_REFERENCE))
    return [_fact(row) for row in await session.execute(query)]


async def facts_of_kind(
    session: AsyncSession, kind: FactKind, units: Sequence[str] | None = None
) -> list[Fact]:
    """Every unit's facts of one kind (the 12345 indicators the peer averages come from), or
    those of `units`."""
    query = sa.select(*_FACT_COLUMNS).where(facts.c.kind == kind.value)
    if units is not None:
        query = query.where(facts.c.unit.in_(units))
    return [_fact(row) for row in await session.execute(query)]


async def reference_facts(session: AsyncSession) -> list[Fact]:
    """The units' registrations and the catalogues."""
    rows = await session.execute(sa.select(*_FACT_COLUMNS).where(facts.c.kind.in_(_REFERENCE)))
    return [_fact(row) for row in rows]


# Per database: the reference derived from its reference facts, with how many there were and
# the latest recorded. Every recompute run, every batch with a 12345 case and every card on
# request needs it: at 10,000 units that was 10,000 registrations read and derived each time
# (0.2 s). Facts are only ever added, so the count and the latest insert tell when to derive it
# again; the latest `known_at` tells whether a moment asked about already knew all of them.
_REFERENCES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], Any, Reference]] = (
    weakref.WeakKeyDictionary()
)


async def reference(session: AsyncSession, as_of: datetime | None = None) -> Reference:
    """The units and catalogues as known now, or at `as_of`."""
    counted = sa.select(
        sa.func.count(), sa.func.max(facts.c.recorded_at), sa.func.max(facts.c.known_at)
    ).where(facts.c.kind.in_(_REFERENCE))
    count, recorded, known = (await session.execute(counted)).one()
    database = session.get_bind()
    kept = _REFERENCES.get(database)
    if kept is None or kept[0] != (count, recorded):
        derived = reference_from(await reference_facts(session))
        kept = _REFERENCES[database] = ((count, recorded), known, derived)
    if as_of is None or kept[1] is None or as_of >= kept[1]:
        return kept[2]
    return reference_as_of(await reference_facts(session), as_of)


async def fact_count(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(facts)) or 0)


# ----------------------------------------------------------------------------- scorecards


async def card_states(session: AsyncSession, unit: str) -> dict[str, tuple[str, int, Decimal]]:
    """period -> (digest, revision, total) of the unit's stored cards."""
    query = sa.select(
        scorecards.c.period, scorecards.c.digest, scorecards.c.revision, scorecards.c.total
    ).where(scorecards.c.unit == unit)
    return {r.period: (r.digest, r.revision, r.total) for r in await session.execute(query)}


async def save_cards(
    session: AsyncSession, cards: Sequence[tuple[Scorecard, str, str, int]], now: datetime
) -> None:
    """Store a unit's changed cards, each given as (card, its JSON, its digest, its revision),
    and append them to the history: two statements for all of them. The JSON is the text the
    digest was computed from, stored as it is rather than serialised again."""
    if not cards:
        return
    text = sa.bindparam("card_json", type_=sa.Text)
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = conflict_insert(session, scorecards).values(
        card=sa.cast(text, sa.JSON) if postgres else text  # SQLite keeps JSON as its text
    )
    changing = ("year", "period_kind", "rubric_version", "total", "digest", "card")
    upsert = insert.on_conflict_do_update(
        index_elements=["unit", "period"],
        set_={
            **{name: insert.excluded[name] for name in changing},
            "revision": insert.excluded.revision,
            "updated_at": insert.excluded.updated_at,
        },
    )
    rows = [
        {
            "unit": card.unit,
            "period": card.period,
            "year": int(card.period[:4]),
            "period_kind": card.period_kind.value,
            "rubric_version": card.rubric_version,
            "total": card.total,
            "digest": digest,
            "card_json": text_json,
            "revision": revision,
            "updated_at": now,
        }
        for card, text_json, digest, revision in cards
    ]
    await session.execute(upsert, rows)
    history = [
        {
            "unit": row["unit"],
            "period": row["period"],
            "revision": row["revision"],
            "total": row["total"],
            "digest": row["digest"],
            "rubric_version": row["rubric_version"],
            "recorded_at": now,
        }
        for row in rows
    ]
    await session.execute(card_history.insert(), history)


async def stored_card(session: AsyncSession, unit: str, period: str) -> sa.Row[Any] | None:
    query = sa.select(scorecards).where(scorecards.c.unit == unit, scorecards.c.period == period)
    return (await session.execute(query)).one_or_none()


async def period_cards(session: AsyncSession, period: str) -> list[sa.Row[Any]]:
    query = sa.select(scorecards).where(scorecards.c.period == period)
    return list(await session.execute(query.order_by(scorecards.c.unit)))


async def unit_cards(session: AsyncSession, unit: str, year: int | None) -> list[sa.Row[Any]]:
    query = sa.select(
        scorecards.c.period,
        scorecards.c.period_kind,
        scorecards.c.total,
        scorecards.c.rubric_version,
        scorecards.c.revision,
        scorecards.c.updated_at,
    ).where(scorecards.c.unit == unit)
    if year is not None:
        query = query.where(scorecards.c.year == year)
    return list(await session.execute(query.order_by(scorecards.c.period)))


async def card_revisions(session: AsyncSession, unit: str, period: str) -> list[sa.Row[Any]]:
    query = (
        sa.select(card_history)
        .where(card_history.c.unit == unit, card_history.c.period == period)
        .order_by(card_history.c.revision)
    )
    return list(await session.execute(query))


# ----------------------------------------------------------------------------- rubrics


async def rubric_rows(session: AsyncSession) -> list[sa.Row[Any]]:
    query = sa.select(rubric_versions).order_by(rubric_versions.c.year, rubric_versions.c.number)
    return list(await session.execute(query))


async def add_rubric(
    session: AsyncSession,
    document: dict[str, Any],
    *,
    year: int,
    version: str,
    number: int,
    sha256: str,
    source: str,
    activated_at: datetime,
) -> None:
    statement = conflict_insert(session, rubric_versions).values(
        year=year,
        version=version,
        number=number,
        sha256=sha256,
        document=document,
        source=source[:300],
        activated_at=activated_at,
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["year", "version"]))


# ----------------------------------------------------------------------------- closures


async def closures_of(session: AsyncSession, period: str) -> list[sa.Row[Any]]:
    query = sa.select(closures).where(closures.c.period == period).order_by(closures.c.revision)
    return list(await session.execute(query))


async def closed_periods(session: AsyncSession) -> set[str]:
    return set(await session.scalars(sa.select(closures.c.period).distinct()))


async def add_closure(
    session: AsyncSession,
    *,
    period: str,
    revision: int,
    as_of: datetime,
    rubric_version: str,
    closed_by: str,
    note: str,
    closed_at: datetime,
) -> None:
    """Record a closure; a replayed one (same period and revision) is kept as first stored."""
    statement = conflict_insert(session, closures).values(
        period=period,
        revision=revision,
        as_of=as_of,
        rubric_version=rubric_version,
        closed_by=closed_by,
        note=note,
        closed_at=closed_at,
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["period", "revision"]))


async def add_published_ranking(
    session: AsyncSession,
    *,
    period: str,
    revision: int,
    peer_group: str,
    event_id: str,
    ranking: dict[str, Any],
) -> None:
    statement = conflict_insert(session, published_rankings).values(
        period=period, revision=revision, peer_group=peer_group, event_id=event_id, ranking=ranking
    )
    await session.execute(
        statement.on_conflict_do_nothing(index_elements=["period", "revision", "peer_group"])
    )


async def rankings_published(
    session: AsyncSession, period: str, revision: int
) -> list[dict[str, Any]]:
    query = (
        sa.select(published_rankings.c.ranking)
        .where(published_rankings.c.period == period, published_rankings.c.revision == revision)
        .order_by(published_rankings.c.peer_group)
    )
    return list(await session.scalars(query))
