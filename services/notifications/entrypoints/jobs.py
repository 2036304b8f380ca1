"""The periodic jobs: the escalation sweep and the daily digest. Each case or recipient is handled
in its own transaction, so one failure does not hold back the rest; deterministic keys and
conditional updates make it safe for several replicas to run the same job."""

from collections.abc import Callable
from datetime import time

import structlog
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import repository
from services.notifications.adapters.tables import EscalationCase, Recipient
from services.notifications.domain.digest import digest_day
from services.notifications.domain.escalation import CaseStatus, Level
from services.notifications.handlers.common import Context
from services.notifications.handlers.digest import digest_id, send_digest
from services.notifications.handlers.ladder import climb_if_due
from services.runtime.db import Database
from services.runtime.workdays import local_date

log = structlog.get_logger()


async def escalate(db: Database, ctx: Context, outbox_written: Callable[[], None]) -> int:
    """Climb every open case whose next level is due today; returns how many climbed."""
    today = local_date(ctx.clock())
    async with db.session() as session:
        candidates = [
            case
            for case in await repository.open_cases(session)
            if ctx.policy.next_step(Level(case.level), case.level_on, today, ctx.calendar)
        ]
    raised = 0
    for candidate in candidates:
        try:
            async with db.session() as session, session.begin():
                case = await session.get(EscalationCase, candidate.key)
                if case is not None and case.status == CaseStatus.OPEN.value:
                    raised += await climb_if_due(session, ctx, case, today) is not None
        except IntegrityError:  # another replica raised it first; its notification stands
            continue
        except Exception as exc:
            log.warning("escalation failed for a case", case=candidate.key, error=repr(exc))
    if raised:
        outbox_written()
    return raised


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
