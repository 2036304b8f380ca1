"""Queries over the inspections service's tables."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.inspections.adapters.tables import (
    Finding,
    FindingClue,
    IndicatorPeriod,
    Inspection,
    InspectionTarget,
    JournalEntry,
    MissedDeadline,
    PublicRequest,
    RequestStep,
    Submission,
    Suggestion,
    SupervisionListing,
    Supervisor,
    SupervisorTerm,
)
from services.inspections.domain.calendar import Period
from services.runtime.db import conflict_insert

# --- inspections ---------------------------------------------------------------------------


async def find_inspection(session: AsyncSession, inspection_id: str) -> Inspection | None:
    result = await session.execute(
        select(Inspection).where(Inspection.inspection_id == inspection_id)
    )
    return result.scalar_one_or_none()


async def add_inspection(session: AsyncSession, row: Inspection) -> None:
    """Store an inspection with one target row per unit it concerns."""
    session.add(row)
    await session.flush()  # assigns row.id for the target rows
    assert row.id is not None
    session.add_all(InspectionTarget(inspection_pk=row.id, unit=u) for u in row.target_units)
    await session.flush()


async def list_inspections(
    session: AsyncSession, unit: str | None, limit: int, offset: int
) -> list[Inspection]:
    """Newest inspections first, optionally only those targeting `unit`."""
    query = select(Inspection)
    if unit is not None:
        query = query.join(
            InspectionTarget, col(InspectionTarget.inspection_pk) == col(Inspection.id)
        ).where(InspectionTarget.unit == unit)
    result = await session.execute(
        query.order_by(col(Inspection.inspected_on).desc(), col(Inspection.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


# --- findings ------------------------------------------------------------------------------


async def find_finding(session: AsyncSession, finding_id: str) -> Finding | None:
    result = await session.execute(select(Finding).where(Finding.finding_id == finding_id))
    return result.scalar_one_or_none()


async def add_finding(session: AsyncSession, row: Finding) -> None:
    session.add(row)
    await session.flush()
    assert row.id is not None
    session.add_all(
        FindingClue(finding_pk=row.id, kind=clue["kind"], ref=clue["ref"]) for clue in row.clues
    )
    await session.flush()


async def findings_of_inspection(session: AsyncSession, inspection_pk: int) -> list[Finding]:
    result = await session.execute(
        select(Finding).where(Finding.inspection_pk == inspection_pk).order_by(col(Finding.id))
    )
    return list(result.scalars())


async def findings_citing(session: AsyncSession, kind: str, ref: str) -> list[Finding]:
    result = await session.execute(
        select(Finding)
        .join(FindingClue, col(FindingClue.finding_pk) == col(Finding.id))
        .where(FindingClue.kind == kind, FindingClue.ref == ref)
        .order_by(col(Finding.id))
    )
    return list(result.scalars())


async def citing_findings(
    session: AsyncSession, kind: str, refs: Sequence[str]
) -> dict[str, list[str]]:
    """For each clue ref, the ids of the findings that cite it."""
    cited: dict[str, list[str]] = {ref: [] for ref in refs}
    if not refs:
        return cited
    result = await session.execute(
        sa.select(col(FindingClue.ref), col(Finding.finding_id))
        .join(Finding, col(Finding.id) == col(FindingClue.finding_pk))
        .where(col(FindingClue.kind) == kind, col(FindingClue.ref).in_(refs))
        .order_by(col(Finding.id))
    )
    for ref, finding_id in result:
        cited[ref].append(finding_id)
    return cited


async def submissions_of(session: AsyncSession, finding_pk: int) -> list[Submission]:
    result = await session.execute(
        select(Submission)
        .where(Submission.finding_pk == finding_pk)
        .order_by(col(Submission.number))
    )
    return list(result.scalars())


async def inspections_by_pk(session: AsyncSession, pks: Iterable[int]) -> dict[int, Inspection]:
    wanted = set(pks)
    if not wanted:
        return {}
    result = await session.execute(select(Inspection).where(col(Inspection.id).in_(wanted)))
    return {row.id: row for row in result.scalars() if row.id is not None}


# --- public requests -----------------------------------------------------------------------


async def find_request(session: AsyncSession, request_id: str) -> PublicRequest | None:
    result = await session.execute(
        select(PublicRequest).where(PublicRequest.request_id == request_id)
    )
    return result.scalar_one_or_none()


async def step_recorded(session: AsyncSession, request_pk: int, fingerprint: str) -> bool:
    found = await session.scalar(
        sa.select(sa.literal(1)).where(
            col(RequestStep.request_pk) == request_pk, col(RequestStep.fingerprint) == fingerprint
        )
    )
    return found is not None


async def steps_of(session: AsyncSession, request_pks: Sequence[int]) -> list[RequestStep]:
    if not request_pks:
        return []
    result = await session.execute(
        select(RequestStep)
        .where(col(RequestStep.request_pk).in_(request_pks))
        .order_by(col(RequestStep.request_pk), col(RequestStep.id))
    )
    return list(result.scalars())


async def list_requests(
    session: AsyncSession,
    unit: str | None,
    state: str | None,
    received_from: datetime | None,
    received_before: datetime | None,
    limit: int,
    offset: int,
) -> list[PublicRequest]:
    query = select(PublicRequest)
    if unit is not None:
        query = query.where(PublicRequest.unit == unit)
    if state is not None:
        query = query.where(PublicRequest.state == state)
    if received_from is not None:
        query = query.where(col(PublicRequest.received_at) >= received_from)
    if received_before is not None:
        query = query.where(col(PublicRequest.received_at) < received_before)
    result = await session.execute(
        query.order_by(col(PublicRequest.received_at).desc(), col(PublicRequest.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def requests_touching(
    session: AsyncSession, unit: str, period: Period
) -> list[PublicRequest]:
    """A superset of the unit's requests that can count in `period`: received before it ends and
    with a step or the first time limit on or after it starts (steps are stored in order)."""
    result = await session.execute(
        select(PublicRequest).where(
            PublicRequest.unit == unit,
            col(PublicRequest.received_at) < period.end,
            sa.or_(
                col(PublicRequest.last_step_at) >= period.start,
                col(PublicRequest.first_due_at) >= period.start,
            ),
        )
    )
    return list(result.scalars())


async def count_period_changes(session: AsyncSession, unit: str, periods: Iterable[Period]) -> None:
    """Mark the unit's months whose figures a step may have changed."""
    table = IndicatorPeriod.__table__  # type: ignore[attr-defined]
    for period in sorted(set(periods)):
        statement = conflict_insert(session, table).values(unit=unit, period=period.label)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["unit", "period"], set_={"changes": table.c.changes + 1}
            )
        )


async def first_request_received(session: AsyncSession) -> datetime | None:
    found: datetime | None = await session.scalar(sa.select(sa.func.min(PublicRequest.received_at)))
    return found


async def add_missing_periods(
    session: AsyncSession, units: list[str], periods: list[Period]
) -> None:
    """Give every unit a row for every period, so an empty month is published too."""
    labels = [p.label for p in periods]
    if not labels or not units:
        return
    rows = await session.execute(
        sa.select(col(IndicatorPeriod.unit), col(IndicatorPeriod.period)).where(
            col(IndicatorPeriod.period).in_(labels)
        )
    )
    existing = {(unit, period) for unit, period in rows}
    missing = [
        {"unit": u, "period": label, "changes": 1, "published_changes": 0, "revision": 0}
        for label in labels
        for u in units
        if (u, label) not in existing
    ]
    if missing:
        table = IndicatorPeriod.__table__  # type: ignore[attr-defined]
        await session.execute(conflict_insert(session, table).on_conflict_do_nothing(), missing)


async def changed_periods(
    session: AsyncSession, up_to: Period, limit: int
) -> list[IndicatorPeriod]:
    result = await session.execute(
        select(IndicatorPeriod)
        .where(
            col(IndicatorPeriod.changes) > col(IndicatorPeriod.published_changes),
            col(IndicatorPeriod.period) <= up_to.label,
        )
        .order_by(col(IndicatorPeriod.period), col(IndicatorPeriod.unit))
        .limit(limit)
    )
    return list(result.scalars())


async def settle_period(
    session: AsyncSession,
    row: IndicatorPeriod,
    *,
    changes: int,
    revision: int,
    fingerprint: str,
    published_at: datetime | None,
) -> bool:
    """Record what was computed from `changes`; False when another publisher got there first."""
    values: dict[str, Any] = {
        "published_changes": changes,
        "revision": revision,
        "fingerprint": fingerprint,
    }
    if published_at is not None:
        values["published_at"] = published_at
    result = await session.execute(
        sa.update(IndicatorPeriod)
        .where(
            col(IndicatorPeriod.unit) == row.unit,
            col(IndicatorPeriod.period) == row.period,
            col(IndicatorPeriod.revision) == row.revision,
            col(IndicatorPeriod.published_changes) < changes,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def published_periods(
    session: AsyncSession, unit: str | None, period: str | None
) -> list[IndicatorPeriod]:
    query = select(IndicatorPeriod).where(col(IndicatorPeriod.revision) > 0)
    if unit is not None:
        query = query.where(IndicatorPeriod.unit == unit)
    if period is not None:
        query = query.where(IndicatorPeriod.period == period)
    result = await session.execute(
        query.order_by(col(IndicatorPeriod.period).desc(), col(IndicatorPeriod.unit))
    )
    return list(result.scalars())


# --- deadlines -----------------------------------------------------------------------------


async def overdue_findings(
    session: AsyncSession,
    states: Iterable[str],
    today: date,
    limit: int,
    due: Any = Finding.due_date,
    marker: Any = Finding.deadline_missed_for,
) -> list[Finding]:
    """Items in `states` whose deadline `due` (the report's, the plan's or the verification's)
    passed and was not yet reported missed in `marker`."""
    result = await session.execute(
        select(Finding)
        .where(
            col(Finding.state).in_(list(states)),
            col(due) < today,
            sa.or_(col(marker).is_(None), col(marker) != col(due)),
        )
        .order_by(col(due), col(Finding.id))
        .limit(limit)
    )
    return list(result.scalars())


async def findings_due_soon(
    session: AsyncSession, today: date, last_day: date, limit: int, after_id: int
) -> list[Finding]:
    """Unclosed items with a deadline of any stage from `today` to `last_day`, by id."""
    soon = [
        sa.and_(col(column) >= today, col(column) <= last_day)
        for column in (Finding.due_date, Finding.plan_due_date, Finding.verification_due_date)
    ]
    result = await session.execute(
        select(Finding)
        .where(
            col(Finding.state) != "closed",
            col(Finding.id) > after_id,
            sa.or_(*soon),
        )
        .order_by(col(Finding.id))
        .limit(limit)
    )
    return list(result.scalars())


async def claim_reminder(
    session: AsyncSession, model: Any, row_id: int, version: int, seen: str | None, marker: str
) -> bool:
    """Record on an item of `model` (a finding, suggestion or public request) that the reminder
    `marker` was sent, unless another sweeper did or the item moved on (its version changed);
    True when this caller won and must emit DeadlineApproaching."""
    reminded = model.reminded_for
    result = await session.execute(
        sa.update(model)
        .where(
            model.id == row_id,
            model.version == version,
            reminded.is_(None) if seen is None else reminded == seen,
        )
        .values(reminded_for=marker)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def listed_items(
    session: AsyncSession, item_types: Iterable[str], item_ids: Iterable[str]
) -> set[str]:
    """Of these items, those under 挂牌督办 now (listed and not lifted)."""
    wanted = set(item_ids)
    if not wanted:
        return set()
    result = await session.execute(
        select(SupervisionListing.item_id).where(
            col(SupervisionListing.item_type).in_(list(item_types)),
            col(SupervisionListing.item_id).in_(wanted),
            col(SupervisionListing.delisted_at).is_(None),
        )
    )
    return set(result.scalars())


async def overdue_requests(
    session: AsyncSession, states: Iterable[str], now: datetime, limit: int
) -> list[PublicRequest]:
    result = await session.execute(
        select(PublicRequest)
        .where(
            col(PublicRequest.state).in_(list(states)),
            col(PublicRequest.due_at) < now,
            sa.or_(
                col(PublicRequest.missed_due_at).is_(None),
                col(PublicRequest.missed_due_at) != col(PublicRequest.due_at),
            ),
        )
        .order_by(col(PublicRequest.due_at), col(PublicRequest.id))
        .limit(limit)
    )
    return list(result.scalars())


async def requests_within_limit(
    session: AsyncSession, states: Iterable[str], now: datetime, limit: int, after_id: int
) -> list[PublicRequest]:
    """Open requests whose time limit is still ahead, by id: the candidates for a reminder (how
    much of its own time limit each has left is decided in Python, portably)."""
    result = await session.execute(
        select(PublicRequest)
        .where(
            col(PublicRequest.state).in_(list(states)),
            col(PublicRequest.due_at) > now,
            col(PublicRequest.id) > after_id,
        )
        .order_by(col(PublicRequest.id))
        .limit(limit)
    )
    return list(result.scalars())


async def suggestions_due_soon(
    session: AsyncSession, state: str, today: date, last_day: date, limit: int, after_id: int
) -> list[Suggestion]:
    """Suggestions in `state` due from `today` to `last_day`, by id."""
    result = await session.execute(
        select(Suggestion)
        .where(
            Suggestion.state == state,
            col(Suggestion.due_date) >= today,
            col(Suggestion.due_date) <= last_day,
            col(Suggestion.id) > after_id,
        )
        .order_by(col(Suggestion.id))
        .limit(limit)
    )
    return list(result.scalars())


async def overdue_suggestions(
    session: AsyncSession, state: str, today: date, limit: int
) -> list[Suggestion]:
    result = await session.execute(
        select(Suggestion)
        .where(
            Suggestion.state == state,
            col(Suggestion.due_date) < today,
            sa.or_(
                col(Suggestion.deadline_missed_for).is_(None),
                col(Suggestion.deadline_missed_for) != col(Suggestion.due_date),
            ),
        )
        .order_by(col(Suggestion.due_date), col(Suggestion.id))
        .limit(limit)
    )
    return list(result.scalars())


async def claim_missed(
    session: AsyncSession,
    model: Any,
    row_id: int,
    marker: Any,
    due: date | datetime,
    *still: sa.ColumnElement[bool],
) -> bool:
    """Record in `marker` that the item's deadline `due` was reported missed, unless another
    sweeper already did or the item changed meanwhile (`still`: the item is still overdue on
    that deadline); True when this caller won and must emit DeadlineMissed. The WHERE clause is
    re-checked under the row lock on PostgreSQL and under the single writer lock on SQLite, so
    of two concurrent sweeps exactly one wins."""
    result = await session.execute(
        sa.update(model)
        .where(model.id == row_id, sa.or_(marker.is_(None), marker != due), *still)
        .values({marker.key: due})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# --- supervisors and suggestions -----------------------------------------------------------


async def find_supervisor(session: AsyncSession, supervisor_id: str) -> Supervisor | None:
    result = await session.execute(
        select(Supervisor).where(Supervisor.supervisor_id == supervisor_id)
    )
    return result.scalar_one_or_none()


async def terms_of(session: AsyncSession, supervisor_pks: Sequence[int]) -> list[SupervisorTerm]:
    if not supervisor_pks:
        return []
    result = await session.execute(
        select(SupervisorTerm)
        .where(col(SupervisorTerm.supervisor_pk).in_(supervisor_pks))
        .order_by(col(SupervisorTerm.supervisor_pk), col(SupervisorTerm.starts_on))
    )
    return list(result.scalars())


async def all_supervisors(session: AsyncSession) -> list[Supervisor]:
    result = await session.execute(select(Supervisor).order_by(col(Supervisor.supervisor_id)))
    return list(result.scalars())


async def supervisors_by_pk(session: AsyncSession, pks: Iterable[int]) -> dict[int, Supervisor]:
    wanted = set(pks)
    if not wanted:
        return {}
    result = await session.execute(select(Supervisor).where(col(Supervisor.id).in_(wanted)))
    return {row.id: row for row in result.scalars() if row.id is not None}


async def find_suggestion(session: AsyncSession, suggestion_id: str) -> Suggestion | None:
    result = await session.execute(
        select(Suggestion).where(Suggestion.suggestion_id == suggestion_id)
    )
    return result.scalar_one_or_none()


async def list_suggestions(
    session: AsyncSession,
    unit: str | None,
    supervisor_pk: int | None,
    state: str | None,
    limit: int,
    offset: int,
) -> list[Suggestion]:
    query = select(Suggestion)
    if unit is not None:
        query = query.where(Suggestion.unit == unit)
    if supervisor_pk is not None:
        query = query.where(Suggestion.supervisor_pk == supervisor_pk)
    if state is not None:
        query = query.where(Suggestion.state == state)
    result = await session.execute(
        query.order_by(col(Suggestion.filed_at).desc(), col(Suggestion.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


# --- missed deadlines seen on the bus, and the journal -------------------------------------


async def add_missed_deadline(session: AsyncSession, row: MissedDeadline) -> None:
    if await session.get(MissedDeadline, row.event_id) is None:
        session.add(row)
        await session.flush()


async def find_missed_deadline(session: AsyncSession, event_id: str) -> MissedDeadline | None:
    return await session.get(MissedDeadline, event_id)


async def list_missed_deadlines(
    session: AsyncSession, unit: str | None, limit: int, offset: int
) -> list[MissedDeadline]:
    query = select(MissedDeadline)
    if unit is not None:
        query = query.where(MissedDeadline.unit == unit)
    result = await session.execute(
        query.order_by(col(MissedDeadline.due_date).desc(), col(MissedDeadline.event_id))
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def journal(
    session: AsyncSession,
    entity_type: str | None,
    entity_id: str | None,
    unit: str | None,
    after_seq: int,
    limit: int,
) -> list[JournalEntry]:
    """Journal entries in the order they were written, after `after_seq` (a cursor)."""
    query = select(JournalEntry).where(col(JournalEntry.seq) > after_seq)
    if entity_type is not None:
        query = query.where(JournalEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(JournalEntry.entity_id == entity_id)
    if unit is not None:
        query = query.where(JournalEntry.unit == unit)
    result = await session.execute(query.order_by(col(JournalEntry.seq)).limit(limit))
    return list(result.scalars())


# --- 挂牌督办, 约谈, 问责 ---------------------------------------------------------------------


async def find_listing(session: AsyncSession, listing_id: str) -> SupervisionListing | None:
    result = await session.execute(
        select(SupervisionListing).where(SupervisionListing.listing_id == listing_id)
    )
    return result.scalar_one_or_none()


async def listings(
    session: AsyncSession, unit: str | None, active: bool | None, limit: int, offset: int
) -> list[SupervisionListing]:
    query = select(SupervisionListing)
    if unit is not None:
        query = query.where(SupervisionListing.unit == unit)
    if active is not None:
        lifted = col(SupervisionListing.delisted_at).is_(None)
        query = query.where(lifted if active else sa.not_(lifted))
    result = await session.execute(
        query.order_by(col(SupervisionListing.listed_at).desc(), col(SupervisionListing.id))
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def missed_item(session: AsyncSession, item_type: str, item_id: str) -> MissedDeadline | None:
    """The latest DeadlineMissed seen for an item of another service (a milestone, …)."""
    result = await session.execute(
        select(MissedDeadline)
        .where(MissedDeadline.item_type == item_type, MissedDeadline.item_id == item_id)
        .order_by(col(MissedDeadline.detected_at).desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def find_by_key(session: AsyncSession, model: Any, key: Any, value: str) -> Any:
    result = await session.execute(select(model).where(key == value))
    return result.scalar_one_or_none()


async def records_of(
    session: AsyncSession, model: Any, unit: str | None, limit: int, offset: int
) -> list[Any]:
    """Interviews or accountability decisions, newest first, of one unit or all."""
    query = select(model)
    if unit is not None:
        query = query.where(model.unit == unit)
    result = await session.execute(
        query.order_by(model.recorded_at.desc(), model.id).limit(limit).offset(offset)
    )
    return list(result.scalars())
