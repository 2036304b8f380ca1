"""Queries over the measures service's tables."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.measures.adapters.tables import (
    Achievement,
    Assignment,
    AssignmentUnit,
    CatalogueVersion,
    ChangeRequest,
    JobLock,
    JournalEntry,
    Milestone,
    ProgressReport,
)

SelectT = TypeVar("SelectT", bound=Any)
REPORTS = cast(sa.Table, ProgressReport.__table__)  # type: ignore[attr-defined]


async def lock_job(session: AsyncSession, name: str, now: datetime) -> None:
    """Serialise a job across replicas for the rest of the transaction (see JobLock)."""
    await session.execute(
        sa.update(JobLock).where(col(JobLock.name) == name).values(started_at=now)
    )


# ----------------------------------------------------------------------------- reports


async def find_report(session: AsyncSession, unit: str, report_id: str) -> ProgressReport | None:
    result = await session.execute(
        select(ProgressReport).where(
            ProgressReport.unit == unit, ProgressReport.report_id == report_id
        )
    )
    return result.scalar_one_or_none()


async def find_reports(
    session: AsyncSession, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Reports by (unit, report_id), for a whole intake batch in one query; plain rows, since
    intake only compares and answers them (building ORM objects cost more than the query)."""
    if not keys:
        return {}
    # Both columns, so the lookup runs on the (unit, report_id) unique index rather than
    # scanning every report: report_id alone leads no index.
    result = await session.execute(
        sa.select(REPORTS).where(
            REPORTS.c.unit.in_({u for u, _ in keys}),
            REPORTS.c.report_id.in_({r for _, r in keys}),
        )
    )
    found = {(row["unit"], row["report_id"]): dict(row) for row in result.mappings()}
    return {key: row for key, row in found.items() if key in keys}


async def reports_of_unit(
    session: AsyncSession, unit: str, limit: int, offset: int
) -> list[ProgressReport]:
    result = await session.execute(
        select(ProgressReport)
        .where(ProgressReport.unit == unit)
        .order_by(col(ProgressReport.reported_at).desc(), col(ProgressReport.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def reports_of_assignment(session: AsyncSession, assignment_pk: int) -> list[ProgressReport]:
    result = await session.execute(
        select(ProgressReport)
        .where(ProgressReport.assignment_pk == assignment_pk)
        .order_by(col(ProgressReport.reported_at), col(ProgressReport.id))
    )
    return list(result.scalars())


async def latest_counting_report(
    session: AsyncSession, *, assignment_pk: int, unit: str | None, milestone_pk: int | None
) -> ProgressReport | None:
    """The newest report that still counts (not returned) on a milestone, or on the assignment
    from `unit` when no milestone is given."""
    query = select(ProgressReport).where(
        ProgressReport.assignment_pk == assignment_pk, ProgressReport.review_status != "returned"
    )
    if milestone_pk is not None:
        query = query.where(ProgressReport.milestone_pk == milestone_pk)
    if unit is not None:
        query = query.where(ProgressReport.unit == unit)
    result = await session.execute(
        query.order_by(col(ProgressReport.reported_at).desc(), col(ProgressReport.id).desc()).limit(
            1
        )
    )
    return result.scalar_one_or_none()


# ----------------------------------------------------------------------------- assignments


@dataclass(frozen=True)
class AssignmentFilter:
    unit: str | None = None
    measure: str | None = None  # a measure code (M12) or an item code (M12-T1)
    measure_type: str | None = None
    year: int | None = None


def _about(query: SelectT, where: AssignmentFilter) -> SelectT:
    """Narrow a query joined to assignments to a measure, a type and a year."""
    if where.measure is not None:
        query = query.where(
            sa.or_(
                col(Assignment.measure_root) == where.measure,
                col(Assignment.measure_code) == where.measure,
            )
        )
    if where.measure_type is not None:
        query = query.where(Assignment.measure_type == where.measure_type)
    if where.year is not None:
        query = query.where(Assignment.year == where.year)
    return query


async def find_assignment(session: AsyncSession, assignment_id: str) -> Assignment | None:
    result = await session.execute(
        select(Assignment).where(Assignment.assignment_id == assignment_id)
    )
    return result.scalar_one_or_none()


async def assignments_by_ids(session: AsyncSession, ids: Iterable[str]) -> list[Assignment]:
    wanted = set(ids)
    if not wanted:
        return []
    result = await session.execute(
        select(Assignment).where(col(Assignment.assignment_id).in_(wanted))
    )
    return list(result.scalars())


async def assignments_of_units(
    session: AsyncSession, units: Iterable[str], years: Iterable[int]
) -> list[Assignment]:
    """Every assignment of these years that one of these units is on."""
    on_them = select(AssignmentUnit.assignment_pk).where(col(AssignmentUnit.unit).in_(set(units)))
    result = await session.execute(
        select(Assignment).where(
            col(Assignment.id).in_(on_them), col(Assignment.year).in_(set(years))
        )
    )
    return list(result.scalars())


async def roles_of(
    session: AsyncSession, assignment_pks: Iterable[int]
) -> dict[int, dict[str, str]]:
    pks = set(assignment_pks)
    roles: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    if not pks:
        return roles
    result = await session.execute(
        select(AssignmentUnit).where(col(AssignmentUnit.assignment_pk).in_(pks))
    )
    for row in result.scalars():
        roles[row.assignment_pk][row.unit] = row.role
    return roles


async def milestones_of(session: AsyncSession, assignment_pks: Iterable[int]) -> list[Milestone]:
    pks = set(assignment_pks)
    if not pks:
        return []
    result = await session.execute(
        select(Milestone)
        .where(col(Milestone.assignment_pk).in_(pks))
        .order_by(col(Milestone.assignment_pk), col(Milestone.due_date), col(Milestone.id))
    )
    return list(result.scalars())


async def find_assignments(
    session: AsyncSession, where: AssignmentFilter, limit: int, offset: int
) -> list[Assignment]:
    query = select(Assignment)
    if where.unit is not None:
        query = query.join(
            AssignmentUnit, col(AssignmentUnit.assignment_pk) == col(Assignment.id)
        ).where(AssignmentUnit.unit == where.unit)
    query = _about(query, where)
    result = await session.execute(query.order_by(col(Assignment.id)).limit(limit).offset(offset))
    return list(result.scalars())


async def overdue_milestones(
    session: AsyncSession, where: AssignmentFilter, today: date, limit: int, offset: int
) -> Sequence[tuple[Milestone, Assignment]]:
    """Open milestones past their due date, oldest first."""
    query = (
        select(Milestone, Assignment)
        .join(Assignment, col(Assignment.id) == col(Milestone.assignment_pk))
        .where(col(Milestone.completed_at).is_(None), col(Milestone.due_date) < today)
    )
    if where.unit is not None:
        query = query.where(Milestone.unit == where.unit)
    query = _about(query, where)
    result = await session.execute(
        query.order_by(col(Milestone.due_date), col(Milestone.id)).limit(limit).offset(offset)
    )
    return [(m, a) for m, a in result.tuples()]


async def due_alerts(
    session: AsyncSession, today: date, limit: int
) -> Sequence[tuple[Milestone, Assignment]]:
    """Milestones the deadline watcher has something to say about today (index range scan)."""
    result = await session.execute(
        select(Milestone, Assignment)
        .join(Assignment, col(Assignment.id) == col(Milestone.assignment_pk))
        .where(col(Milestone.alert_on) <= today)
        .order_by(col(Milestone.alert_on), col(Milestone.id))
        .limit(limit)
    )
    return [(m, a) for m, a in result.tuples()]


async def lead_units_of(session: AsyncSession, year: int, measure: str) -> list[str]:
    """The units leading a non-recurring assignment of `measure` (or one of its parts) in `year`."""
    result = await session.execute(
        select(Assignment.lead_unit)
        .where(
            Assignment.year == year,
            Assignment.measure_root == measure,
            col(Assignment.recurrence).is_(None),
        )
        .distinct()
    )
    return list(result.scalars())


# ----------------------------------------------------------------------------- requests, journal


async def find_change_request(session: AsyncSession, request_id: str) -> ChangeRequest | None:
    result = await session.execute(
        select(ChangeRequest).where(ChangeRequest.request_id == request_id)
    )
    return result.scalar_one_or_none()


async def change_requests(
    session: AsyncSession, status: str | None, unit: str | None, limit: int, offset: int
) -> list[ChangeRequest]:
    query = select(ChangeRequest)
    if status is not None:
        query = query.where(ChangeRequest.status == status)
    if unit is not None:
        query = query.where(ChangeRequest.unit == unit)
    result = await session.execute(
        query.order_by(col(ChangeRequest.id).desc()).limit(limit).offset(offset)
    )
    return list(result.scalars())


async def find_achievement(session: AsyncSession, achievement_id: str) -> Achievement | None:
    result = await session.execute(
        select(Achievement).where(Achievement.achievement_id == achievement_id)
    )
    return result.scalar_one_or_none()


async def achievements(
    session: AsyncSession, unit: str | None, year: int | None, limit: int, offset: int
) -> list[Achievement]:
    query = select(Achievement)
    if unit is not None:
        query = query.where(Achievement.unit == unit)
    if year is not None:
        query = query.where(Achievement.year == year)
    result = await session.execute(
        query.order_by(col(Achievement.recognised_on).desc(), col(Achievement.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(result.scalars())


async def journal_entries(
    session: AsyncSession,
    *,
    entity: tuple[str, str] | None,
    unit: str | None,
    limit: int,
    offset: int,
) -> list[JournalEntry]:
    query = select(JournalEntry)
    if entity is not None:
        query = query.where(
            JournalEntry.entity_type == entity[0], JournalEntry.entity_id == entity[1]
        )
    if unit is not None:
        query = query.where(JournalEntry.unit == unit)
    result = await session.execute(
        query.order_by(col(JournalEntry.id).desc()).limit(limit).offset(offset)
    )
    return list(result.scalars())


async def catalogue_versions(session: AsyncSession) -> list[CatalogueVersion]:
    result = await session.execute(select(CatalogueVersion).order_by(col(CatalogueVersion.id)))
    return list(result.scalars())
