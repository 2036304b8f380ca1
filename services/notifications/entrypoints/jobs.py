"""The periodic jobs: the escalation sweep (督办 and reminders to sign), the periodic 通报 and the
daily digest. Each case or recipient is handled
in its own transaction, so one failure does not hold back the rest; deterministic keys and
conditional updates make it safe for several replicas to run the same job."""

from collections.abc import Callable
from datetime import date, time

import structlog
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import repository
from services.notifications.adapters.tables import EscalationCase, Recipient
from services.notifications.domain.digest import digest_day
from services.notifications.domain.escalation import CaseStatus, Level
from services.notifications.handlers.bulletins import issue_periodic
from services.notifications.handlers.common import Context
from services.notifications.handlers.digest import digest_id, send_digest
from services.notifications.handlers.ladder import climb_if_due, remind_to_sign
from services.runtime.db import Database
from services.runtime.workdays import local_date

log = structlog.get_logger()


def _due(ctx: Context, case: EscalationCase, today: date) -> bool:
    policy = ctx.policy
    climbs = policy.next_step(Level(case.level), case.level_on, today, ctx.calendar)
    signed, reminded = case.acknowledged_at is not None, case.sign_reminded_on is not None
    return climbs is not None or policy.sign_reminder_due(
        case.notice_on, signed, reminded, today, ctx.calendar
    )


async def escalate(db: Database, ctx: Context, outbox_written: Callable[[], None]) -> int:
    """Climb every open case whose next level is due today, and remind the units that have not
    signed for a notice in time; returns how many cases climbed."""
    today = local_date(ctx.clock())
    async with db.session() as session:
        candidates = [
            case for case in await repository.open_cases(session) if _due(ctx, case, today)
        ]
    raised = 0
    for candidate in candidates:
        try:
            async with db.session() as session, session.begin():
                case = await session.get(EscalationCase, candidate.key)
                if case is not None and case.status == CaseStatus.OPEN.value:
                    await remind_to_sign(session, ctx, case, today)
                    raised += await climb_if_due(session, ctx, case, today) is not None
        except IntegrityError:  # another replica raised it first; its notification stands
            continue
        except Exception as exc:
            log.warning("escalation failed for a case", case=candidate.key, error=repr(exc))
    if raised:
        outbox_written()
    return raised


async def issue_bulletin(db: Database, ctx: Context, outbox_written: Callable[[], None]) -> bool:
    """Issue the periodic 通报 once it is due; True if this call issued it."""
    try:
        async with db.session() as session, session.begin():
            issued = await issue_periodic(session, ctx)
    except IntegrityError:  # another replica issued it first
        return False
    if issued is not None:
        outbox_written()
    return issued is not None


async def send_digests(db: Database, ctx: Context, at: time) -> int:
    """Send today's digest to every recipient who prefers one and has not had it yet."""
    day = digest_day(ctx.clock(), at)
    if day is None:
        return 0
    async with db.session() as session:
        recipients = await repository.digest_recipients(session)
        sent_already = await repository.notifications_exist(
            session, (digest_id(r.code, day) for r in recipients)
        )
    sent = 0
    for recipient in recipients:
        if digest_id(recipient.code, day) in sent_already:
            continue
        try:
            async with db.session() as session, session.begin():
                fresh = await session.get(Recipient, recipient.code)
                if fresh is not None and fresh.active and fresh.digest:
                    sent += await send_digest(session, ctx, fresh, day)
        except IntegrityError:
            continue
        except Exception as exc:
            log.warning("digest failed", recipient=recipient.code, error=repr(exc))
    return sent
