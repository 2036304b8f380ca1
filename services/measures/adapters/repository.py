"""Queries over the measures service's tables."""

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.measures.adapters.tables import ProgressReport


async def find_report(session: AsyncSession, unit: str, report_id: str) -> ProgressReport | None:
    result = await session.execute(
        select(ProgressReport).where(
            ProgressReport.unit == unit, ProgressReport.report_id == report_id
        )
    )
    return result.scalar_one_or_none()


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
