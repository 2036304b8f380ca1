"""What the office's dashboard shows of the rectification ledger: findings by peer group,
severity and state, with the open ones past their due date counted apart (bounded labels)."""

from datetime import date

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspections.adapters.tables import Finding, ReferenceUnit

FINDINGS = Gauge(
    "fivetype_findings",
    "Inspection findings by peer group, severity and rectification state; state `overdue` "
    "counts the not yet closed ones past their due date.",
    ["peer_group", "severity", "state"],
)


async def sample(session: AsyncSession, today: date) -> None:
    findings, units = Finding.__table__.c, ReferenceUnit.__table__.c  # type: ignore[attr-defined]
    overdue = sa.and_(findings.state != "closed", findings.due_date < today)
    query = (
        sa.select(
            units.peer_group,
            findings.severity,
            findings.state,
            sa.func.count(),
            sa.func.count().filter(overdue),
        )
        .select_from(Finding.__table__)  # type: ignore[attr-defined]
        .outerjoin(ReferenceUnit.__table__, units.code == findings.unit)  # type: ignore[attr-defined]
        .group_by(units.peer_group, findings.severity, findings.state)
    )
    rows = list(await session.execute(query))  # read before the clear: a scrape between sees all
    FINDINGS.clear()  # a group that emptied must not keep its last value
    late: dict[tuple[str, str], float] = {}
    for peer_group, severity, state, count, past_due in rows:
        FINDINGS.labels(peer_group or "none", severity, state).set(count)
        key = (peer_group or "none", severity)
        late[key] = late.get(key, 0) + past_due
    for (peer_group, severity), count in late.items():
        FINDINGS.labels(peer_group, severity, "overdue").set(count)
