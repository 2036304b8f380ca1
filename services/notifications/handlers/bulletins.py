"""通报: the periodic bulletin of every item still overdue at the end of a period, and the
office's bulletin about one unit. Each is one notification (to every unit and the leaders, by the
routing rules) and one BulletinIssued event."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import fact_id, wrap
from contracts.measures import DeadlineItem
from contracts.notifications import BulletinEntry, BulletinIssued, BulletinKind
from services.notifications.adapters import repository
from services.notifications.domain.bulletin import (
    CaseState,
    Entry,
    Kind,
    Period,
    bulletin_fields,
    overdue_at,
    period_due,
)
from services.notifications.domain.occurrences import notification_id
from services.notifications.domain.topics import Occurrence, Topic
from services.notifications.handlers.common import OFFICE_UNIT, SOURCE, Context
from services.notifications.handlers.fanout import notify
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import PROGRAMME_TZ, local_date

SYSTEM = "system"


async def overdue_entries(
    session: AsyncSession, ctx: Context, end: date, unit: str | None = None
) -> list[Entry]:
    """The items overdue and not completed at the end of day `end` (of one unit, or all)."""
    end_of_day = datetime.combine(end + timedelta(days=1), time(0), PROGRAMME_TZ)
    rows = await repository.cases_overdue_by(session, end, end_of_day, unit)
    names = {u.code: u.name_zh for u in await repository.units(session)}
    states = [
        CaseState(
            unit=row.unit,
            unit_name=names.get(row.unit, row.unit),
            item_type=row.item_type,
            item_id=row.item_id,
            title=row.title,
            due_date=row.due_date,
            notice_on=row.notice_on,
            supervision_on=row.supervision_on,
            closed_at=row.closed_at,
        )
        for row in rows
    ]
    return overdue_at(states, end, ctx.calendar)


def bulletin_id(kind: Kind, period: Period, unit: str | None, issued_at: datetime) -> str:
    if kind is Kind.PERIODIC:
        return fact_id(BulletinIssued.NAME, kind.value, period.start, period.end)
    return fact_id(BulletinIssued.NAME, kind.value, unit, issued_at.isoformat())


async def issue(
    session: AsyncSession,
    ctx: Context,
    kind: Kind,
    period: Period,
    entries: list[Entry],
    issued_by: str,
    note: str = "",
    unit: str | None = None,
) -> BulletinIssued:
    """Send the bulletin and publish BulletinIssued. One issued already (the same request at
    the same instant again: a retry, a replayed programme clock) is answered as it was."""
    now = ctx.clock()
    key = bulletin_id(kind, period, unit, now)
    origin = notification_id(Topic.PUBLIC_NOTICE, key)
    issued = await repository.facts_of_notification(session, origin)
    if issued is not None:
        return BulletinIssued.model_validate(issued)
    event = BulletinIssued(
        bulletin_id=key,
        kind=BulletinKind(kind.value),
        period_start=period.start,
        period_end=period.end,
        issued_at=now,
        issued_by=issued_by,
        entries=[
            BulletinEntry(
                unit=e.unit,
                unit_name=e.unit_name,
                item_type=DeadlineItem(e.item_type),
                item_id=e.item_id,
                title=e.title,
                due_date=e.due_date,
                working_days_overdue=e.working_days_overdue,
                supervision_order=e.supervision_order,
            )
            for e in entries
        ],
        note=note,
    )
    subject = unit or OFFICE_UNIT
    await notify(
        session,
        ctx,
        Occurrence(
            notification_id=origin,
            topic=Topic.PUBLIC_NOTICE,
            unit=subject,
            source_event_id=key,
            fields=bulletin_fields(kind, period, entries, note, _kind_name(ctx)),
            facts=event.model_dump(mode="json"),
        ),
    )
    envelope = wrap(event, subject=subject, source=SOURCE, id=key, time=now)
    await add_to_outbox(session, envelope, subjects.event(BulletinIssued.NAME, subject))
    return event


def _kind_name(ctx: Context) -> Callable[[str], tuple[str, str]]:
    def name(item_type: str) -> tuple[str, str]:
        kind = ctx.items.name(item_type)
        return kind.zh, kind.en

    return name


async def issue_periodic(session: AsyncSession, ctx: Context) -> BulletinIssued | None:
    """The bulletin of the last period ended, once its issue day has come and if it lists
    anything; None when there is nothing to issue."""
    period = period_due(local_date(ctx.clock()), ctx.cadence, ctx.calendar)
    if period is None:
        return None
    key = bulletin_id(Kind.PERIODIC, period, None, ctx.clock())
    if await repository.notifications_exist(session, [notification_id(Topic.PUBLIC_NOTICE, key)]):
        return None
    entries = await overdue_entries(session, ctx, period.end)
    if not entries:
        return None
    return await issue(session, ctx, Kind.PERIODIC, period, entries, SYSTEM)


async def issue_about_unit(
    session: AsyncSession, ctx: Context, unit: str, issued_by: str, note: str
) -> BulletinIssued | None:
    """The office's bulletin about one unit: its items overdue today. None if the unit is
    unknown."""
    if await repository.unit_of(session, unit) is None:
        return None
    today = local_date(ctx.clock())
    entries = await overdue_entries(session, ctx, today, unit)
    return await issue(
        session, ctx, Kind.AD_HOC, Period(today, today), entries, issued_by, note, unit
    )
