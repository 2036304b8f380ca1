"""Reads and writes of the period workflow's tables (result stages and appeals)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db import conflict_insert
from services.scoring.adapters.tables import appeals, result_stages


async def add_stage(
    session: AsyncSession,
    *,
    period: str,
    stage: str,
    revision: int,
    event_id: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Record a stage as issued, once (a replay leaves it as first stored)."""
    statement = conflict_insert(session, result_stages).values(
        period=period, stage=stage, revision=revision, event_id=event_id, recorded_at=now, data=data
    )
    statement = statement.on_conflict_do_nothing(index_elements=["period", "stage", "revision"])
    await session.execute(statement)


async def stages(session: AsyncSession, period: str) -> list[sa.Row[Any]]:
    query = (
        sa.select(result_stages)
        .where(result_stages.c.period == period)
        .order_by(result_stages.c.revision, result_stages.c.stage)
    )
    return list(await session.execute(query))


async def add_appeal(
    session: AsyncSession,
    *,
    period: str,
    unit: str,
    appeal_id: str,
    filed: dict[str, Any],
    filed_at: datetime,
) -> None:
    statement = conflict_insert(session, appeals).values(
        period=period, unit=unit, appeal_id=appeal_id, filed_at=filed_at, filed=filed
    )
    statement = statement.on_conflict_do_nothing(index_elements=["period", "unit"])
    await session.execute(statement)


async def decide_appeal(
    session: AsyncSession,
    *,
    period: str,
    unit: str,
    decision: dict[str, Any],
    decided_at: datetime,
) -> None:
    """Record the answer to an appeal, once."""
    statement = (
        appeals.update()
        .where(appeals.c.period == period, appeals.c.unit == unit, appeals.c.decided_at.is_(None))
        .values(decision=decision, decided_at=decided_at)
    )
    await session.execute(statement)


async def appeals_of(session: AsyncSession, period: str) -> list[sa.Row[Any]]:
    query = sa.select(appeals).where(appeals.c.period == period).order_by(appeals.c.unit)
    return list(await session.execute(query))


async def appeal(session: AsyncSession, period: str, unit: str) -> sa.Row[Any] | None:
    query = sa.select(appeals).where(appeals.c.period == period, appeals.c.unit == unit)
    return (await session.execute(query)).one_or_none()


async def unit_appeals(session: AsyncSession, unit: str) -> list[sa.Row[Any]]:
    query = sa.select(appeals).where(appeals.c.unit == unit).order_by(appeals.c.period)
    return list(await session.execute(query))
