"""What the office's dashboard shows of the measures: milestones and obligation occurrences by
peer group, type and state, read from the database on a timer (labels stay bounded: a handful
of peer groups, five types, three states)."""

from datetime import date

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.measures.adapters.tables import Assignment, Milestone, UnitRow

MILESTONES = Gauge(
    "fivetype_milestones",
    "Milestones and obligation occurrences by peer group, measure type and state "
    "(open, overdue: open and past due, completed).",
    ["peer_group", "measure_type", "state"],
)


async def sample(session: AsyncSession, today: date) -> None:
    milestones, assignments, units = (
        Milestone.__table__.c,  # type: ignore[attr-defined]
        Assignment.__table__.c,  # type: ignore[attr-defined]
        UnitRow.__table__.c,  # type: ignore[attr-defined]
    )
    open_ = milestones.completed_at.is_(None)
    query = (
        sa.select(
            units.peer_group,
            assignments.measure_type,
            sa.func.count().filter(open_),
            sa.func.count().filter(open_, milestones.due_date < today),
            sa.func.count().filter(sa.not_(open_)),
        )
        .select_from(Milestone.__table__)  # type: ignore[attr-defined]
        .join(Assignment.__table__, assignments.id == milestones.assignment_pk)  # type: ignore[attr-defined]
        .outerjoin(UnitRow.__table__, units.code == milestones.unit)  # type: ignore[attr-defined]
        .group_by(units.peer_group, assignments.measure_type)
    )
    rows = list(await session.execute(query))  # read before the clear: a scrape between sees all
    MILESTONES.clear()  # a group that emptied must not keep its last value
    for peer_group, measure_type, opened, overdue, completed in rows:
        labels = (peer_group or "none", measure_type or "guarantee")
        MILESTONES.labels(*labels, "open").set(opened)
        MILESTONES.labels(*labels, "overdue").set(overdue)
        MILESTONES.labels(*labels, "completed").set(completed)
