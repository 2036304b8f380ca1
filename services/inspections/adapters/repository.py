"""Queries over the inspections service's tables."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.inspections.adapters.tables import Inspection, InspectionTarget


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
