"""The rectification ledger (整改台账): findings with their inspection, filtered."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.inspections.adapters.tables import Finding, Inspection
from services.inspections.domain.findings import AWAITING_UNIT


@dataclass(frozen=True)
class LedgerFilter:
    today: date  # what "overdue" is judged against
    units: list[str] | None = None
    states: list[str] | None = None
    severity: str | None = None
    source: str | None = None
    measure_type: str | None = None
    measure_code: str | None = None
    inspection_id: str | None = None
    overdue: bool | None = None
    due_from: date | None = None
    due_to: date | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.units is not None:
            found.append(col(Finding.unit).in_(self.units))
        if self.states is not None:
            found.append(col(Finding.state).in_(self.states))
        if self.severity is not None:
            found.append(col(Finding.severity) == self.severity)
        if self.source is not None:
            found.append(col(Finding.source) == self.source)
        if self.measure_type is not None:
            found.append(col(Finding.measure_type) == self.measure_type)
        if self.measure_code is not None:
            found.append(col(Finding.measure_code) == self.measure_code)
        if self.inspection_id is not None:
            found.append(col(Inspection.inspection_id) == self.inspection_id)
        if self.due_from is not None:
            found.append(col(Finding.due_date) >= self.due_from)
        if self.due_to is not None:
            found.append(col(Finding.due_date) <= self.due_to)
        if self.overdue is not None:
            overdue = sa.and_(
                col(Finding.state).in_([s.value for s in AWAITING_UNIT]),
                col(Finding.due_date) < self.today,
            )
            found.append(overdue if self.overdue else sa.not_(overdue))
        return found


async def ledger(
    session: AsyncSession, where: LedgerFilter, limit: int, offset: int
) -> tuple[int, list[tuple[Finding, Inspection]]]:
    """(total matching, one page) ordered by deadline, then by when the finding was raised."""
    joined = select(Finding, Inspection).join(
        Inspection, col(Inspection.id) == col(Finding.inspection_pk)
    )
    conditions = where.conditions()
    total = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Finding)
        .join(Inspection, col(Inspection.id) == col(Finding.inspection_pk))
        .where(*conditions)
    )
    result = await session.execute(
        joined.where(*conditions)
        .order_by(col(Finding.due_date), col(Finding.id))
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), [(f, i) for f, i in result]


async def summary(session: AsyncSession, today: date) -> list[tuple[str, str, int, int]]:
    """(unit, state, items, of which overdue) for the whole city."""
    overdue = sa.case(
        (
            sa.and_(
                col(Finding.state).in_([s.value for s in AWAITING_UNIT]),
                col(Finding.due_date) < today,
            ),
            1,
        ),
        else_=0,
    )
    result = await session.execute(
        sa.select(col(Finding.unit), col(Finding.state), sa.func.count(), sa.func.sum(overdue))
        .group_by(col(Finding.unit), col(Finding.state))
        .order_by(col(Finding.unit), col(Finding.state))
    )
    return [(u, s, int(n), int(o or 0)) for u, s, n, o in result]
