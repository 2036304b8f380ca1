"""What the HTTP routes share: refusals as problem details, and one transaction per command."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from contracts.envelope import UNIT_CODE_PATTERN
from contracts.inspections import ITEM_ID_PATTERN
from contracts.reasons import Reason
from services.inspections.adapters import export
from services.inspections.domain import actors
from services.inspections.domain.refusals import Code, Refusal, RefusalCode, refusal_text
from services.runtime.auth import Principal, Role
from services.runtime.http import PROBLEM_JSON, Problem
from services.runtime.service import ServiceRuntime

T = TypeVar("T")
_DOMAIN_ROLE = {
    Role.INSPECTOR: actors.Role.INSPECTOR,
    Role.UNIT_REPORTER: actors.Role.UNIT,
    Role.SUPERVISOR: actors.Role.SUPERVISOR,
}

ItemIdPath = Annotated[str, Path(pattern=ITEM_ID_PATTERN)]
UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]
UnitQuery = Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=500)]

_STATUS: dict[Code, int] = {
    RefusalCode.ACTOR_NOT_PERMITTED: 403,
    RefusalCode.NOT_RESPONSIBLE_UNIT: 403,
    RefusalCode.UNKNOWN_INSPECTION: 404,
    RefusalCode.UNKNOWN_FINDING: 404,
    RefusalCode.UNKNOWN_SUPERVISOR: 404,
    RefusalCode.UNKNOWN_SUGGESTION: 404,
    Reason.UNKNOWN_PUBLIC_REQUEST: 404,
    RefusalCode.UNKNOWN_ITEM: 404,
    RefusalCode.UNKNOWN_LISTING: 404,
    RefusalCode.ALREADY_LISTED: 409,
    RefusalCode.ITEM_CLOSED: 409,
    Reason.DUPLICATE_CONFLICT: 409,
    Reason.INVALID_TRANSITION: 409,
    RefusalCode.CONCURRENT_CHANGE: 409,
}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; `code` is stable, `title` follows Accept-Language (zh, en)."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[dict[str, str]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": ProblemDetails,
        "description": description,
        "content": {PROBLEM_JSON: {}},
    }


# What a command (a POST) can answer besides success.
PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: _problem("The actor's role or unit may not do this: actor_not_permitted, …"),
    404: _problem("The item does not exist: unknown_finding, unknown_inspection, …"),
    409: _problem("duplicate_conflict, invalid_transition or concurrent_change"),
    422: _problem("validation_failed, or a specific refusal code (see docs/inspections.md)"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: PROBLEMS[404]}


def problem(refusal: Refusal) -> Problem:
    zh, en = refusal_text(refusal.code)
    status = _STATUS.get(refusal.code, 422)
    return Problem(
        status, refusal.code.value, zh, en, refusal.detail_zh, detail_en=refusal.detail_en
    )


def not_found(code: Code, key: str) -> Problem:
    """The item `key` names does not exist; the title says what it is, the detail its id."""
    return problem(Refusal(code, key, key))


async def command(
    runtime: ServiceRuntime, work: Callable[[AsyncSession], Awaitable[T | Refusal]]
) -> T:
    """Run `work` in one transaction and wake the outbox relay. A concurrent write that won (a
    unique key taken, a version moved on) makes it run once more on fresh state; a refusal
    becomes a problem response and changes nothing."""
    try:
        outcome = await _transaction(runtime, work)
    except (IntegrityError, StaleDataError):
        try:
            outcome = await _transaction(runtime, work)
        except (IntegrityError, StaleDataError) as exc:
            raise problem(
                Refusal(
                    RefusalCode.CONCURRENT_CHANGE,
                    "其他人同时修改了该事项",
                    "changed meanwhile; try again",
                )
            ) from exc
    if isinstance(outcome, Refusal):
        raise problem(outcome)
    runtime.relay.notify()
    return outcome


class _Refused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.code.value)
        self.refusal = refusal


async def _transaction(
    runtime: ServiceRuntime, work: Callable[[AsyncSession], Awaitable[T | Refusal]]
) -> T | Refusal:
    """A refusal rolls back whatever the handler may have written before refusing."""
    try:
        async with runtime.db.session() as session, session.begin():
            outcome = await work(session)
            if isinstance(outcome, Refusal):
                raise _Refused(outcome)
            return outcome
    except _Refused as refused:
        return refused.refusal


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(
    columns: Sequence[export.Column],
    rows: Sequence[dict[str, Any]],
    language: str,
    file_format: Literal["csv", "xlsx"],
    title_zh: str,
    name: str,
    today: date,
) -> Response:
    """A table as a file named e.g. 整改台账-2026-11-28.xlsx (ASCII fallback ledger-…)."""
    stamp = today.isoformat()
    if file_format == "xlsx":
        body, media_type = export.to_xlsx(columns, rows, language, title_zh), XLSX
    else:
        body, media_type = export.to_csv(columns, rows, language), "text/csv; charset=utf-8"
    disposition = (
        f'attachment; filename="{name}-{stamp}.{file_format}"; '
        f"filename*=UTF-8''{quote(f'{title_zh}-{stamp}.{file_format}')}"
    )
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def acting_as(who: Principal, claimed: actors.Actor) -> actors.Actor:
    """The actor a command runs as. The office may record on behalf of anyone (entering a
    paper decision; the audit trail still names the office's user); everyone else acts as
    their token says, whatever the body claims, so the domain's rules see a verified role and
    unit."""
    if who.role is Role.OFFICE_ADMIN:
        return claimed
    return actors.Actor(
        role=_DOMAIN_ROLE[who.role],
        id=who.subject,
        name=claimed.name,
        unit=who.unit if who.role is Role.UNIT_REPORTER else None,
    )
