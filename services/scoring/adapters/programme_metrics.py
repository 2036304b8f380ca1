"""What the office's dashboard shows of the assessment: every unit's score for the current
year (about forty units: a bounded label)."""

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.adapters.tables import scorecards

SCORES = Gauge(
    "fivetype_unit_score", "Each scored unit's score for the current programme year.", ["unit"]
)


async def sample(session: AsyncSession, year: int) -> None:
    query = sa.select(scorecards.c.unit, scorecards.c.total).where(
        scorecards.c.period == str(year), scorecards.c.total.is_not(None)
    )
    rows = list(await session.execute(query))  # read before the clear, not between
    SCORES.clear()  # a unit without a score this year must not keep last year's
    for unit, total in rows:
        SCORES.labels(unit).set(float(total))
