"""Refusals as RFC 9457 problem details, and the transaction every write route runs in."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.reasons import REASON_TEXT, Reason
from services.measures.domain.errors import TEXT, Code, Refused
from services.measures.domain.progress import Refusal
from services.runtime.http import Problem
from services.runtime.service import ServiceRuntime

T = TypeVar("T")

_NOT_FOUND = {
    Code.ASSIGNMENT_NOT_FOUND,
    Code.MILESTONE_NOT_FOUND,
    Code.REPORT_NOT_FOUND,
    Code.REQUEST_NOT_FOUND,
    Code.CATALOGUE_NOT_FOUND,
    Code.CALENDAR_NOT_FOUND,
}
_CONFLICT = {
    Code.DUPLICATE_CONFLICT,
    Code.ALREADY_REVIEWED,
    Code.ALREADY_DECIDED,
    Code.VERSION_CONFLICT,
}
_INTAKE_STATUS = {Reason.UNKNOWN_UNIT: 404, Reason.DUPLICATE_CONFLICT: 409}


def refused(exc: Refused) -> Problem:
    zh, en = TEXT[exc.code]
    status = (
        404
        if exc.code in _NOT_FOUND
        else 409
        if exc.code in _CONFLICT
        else 415
        if exc.code is Code.UNSUPPORTED_FORMAT
        else 422
    )
    return Problem(status, exc.code.value, zh, en, exc.detail_zh, detail_en=exc.detail_en)


def intake_refused(refusal: Refusal) -> Problem:
    zh, en = REASON_TEXT[refusal.reason]
    status = _INTAKE_STATUS.get(refusal.reason, 422)
    return Problem(
        status, refusal.reason.value, zh, en, refusal.detail_zh, detail_en=refusal.detail
    )


def not_found(code: Code, detail_zh: str, detail_en: str) -> Problem:
    return refused(Refused(code, detail_zh, detail_en))


async def transact(runtime: ServiceRuntime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction and wake the outbox relay. A refusal rolls everything back
    and becomes a problem response; losing an insert race to a concurrent identical request is
    retried once, and then finds the winner's row."""
    for attempt in (1, 2):
        try:
            async with runtime.db.session() as session, session.begin():
                result = await work(session)
        except Refused as exc:
            raise refused(exc) from exc
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        runtime.relay.notify()
        return result
    raise AssertionError("unreachable")
