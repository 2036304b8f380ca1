"""Public-service indicators: computing a unit's month, and publishing each ended month."""

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.inspections import PublicServiceIndicators
from services.inspections.adapters import repository
from services.inspections.adapters.tables import IndicatorPeriod
from services.inspections.domain.calendar import Period
from services.inspections.domain.indicators import Indicators, RequestHistory, compute
from services.inspections.handlers.context import Context, emit
from services.runtime.db import Database

BATCH = 200


async def indicators_of(session: AsyncSession, unit: str, period: Period) -> Indicators:
    requests = await repository.requests_touching(session, unit, period)
    steps = await repository.steps_of(session, [r.id for r in requests if r.id is not None])
    by_request: dict[int, list[tuple[str, datetime, int | None]]] = {}
    for step in steps:
        by_request.setdefault(step.request_pk, []).append((step.step, step.at, step.rating))
    histories = []
    for request in requests:
        assert request.id is not None
        own = by_request.get(request.id, [])
        histories.append(
            RequestHistory(
                received_at=request.received_at,
                first_due_at=request.first_due_at,
                repeat=request.repeat_of is not None,
                closures=tuple(at for kind, at, _ in own if kind == "closed"),
                reopens=tuple(at for kind, at, _ in own if kind == "reopened"),
                ratings=tuple((at, r) for kind, at, r in own if kind == "rated" and r is not None),
            )
        )
    return compute(period, histories)


def last_published_period(now: datetime, grace: timedelta) -> Period:
    """The latest month that ended at least `grace` ago."""
    return Period.containing(now - grace).previous()


async def publish(db: Database, ctx: Context, grace: timedelta) -> int:
    """Publish every ended month whose figures changed since last published (and, once, every
    unit's month even when empty); returns the number of events staged."""
    now = ctx.clock()
    last = last_published_period(now, grace)
    async with db.session() as session, session.begin():
        first = await repository.first_request_received(session)
        if first is None:
            return 0
        periods = []
        period = Period.containing(first)
        while period <= last:
            periods.append(period)
            period = period.next()
        await repository.add_missing_periods(session, ctx.reference.ranked_units(), periods)
    published = 0
    while True:
        async with db.session() as session, session.begin():
            rows = await repository.changed_periods(session, last, BATCH)
            for row in rows:
                published += await _settle(session, row, ctx, now)
        if len(rows) < BATCH:
            return published


def _fingerprint(indicators: Indicators) -> str:
    return hashlib.sha256(json.dumps(asdict(indicators), sort_keys=True).encode()).hexdigest()


async def _settle(session: AsyncSession, row: IndicatorPeriod, ctx: Context, now: datetime) -> int:
    period = Period.parse(row.period)
    changes = row.changes  # what this computation covers; later steps count up again
    indicators = await indicators_of(session, row.unit, period)
    content = _fingerprint(indicators)
    if content == row.fingerprint:
        await repository.settle_period(
            session,
            row,
            changes=changes,
            revision=row.revision,
            fingerprint=content,
            published_at=None,
        )
        return 0
    revision = row.revision + 1
    won = await repository.settle_period(
        session, row, changes=changes, revision=revision, fingerprint=content, published_at=now
    )
    if not won:
        return 0
    event = PublicServiceIndicators(
        unit=row.unit,
        unit_name=ctx.reference.unit_name(row.unit),
        period=period.label,
        period_start=period.first_day,
        period_end=period.last_day,
        revision=revision,
        **asdict(indicators),
        on_time_closure_rate=indicators.on_time_closure_rate,
        satisfaction_rate=indicators.satisfaction_rate,
        repeat_complaint_rate=indicators.repeat_complaint_rate,
        reopen_rate=indicators.reopen_rate,
        computed_at=now,
    )
    event_id = fact_id(event.NAME, row.unit, period.label, revision)
    await emit(session, event, row.unit, event_id, now)
    return 1
