"""Public requests: recording each step a channel reports, and answering refused commands."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.common import FieldError
from contracts.envelope import UNIT_CODE_PATTERN, fact_id, wrap
from contracts.inspections import (
    PublicChannel,
    PublicRequestClosed,
    RequestClosed,
    RequestRated,
    RequestReceived,
    RequestReopened,
)
from contracts.measures import IntakeRejected
from contracts.reasons import REASON_TEXT, Reason
from services.inspections.adapters import repository
from services.inspections.adapters.tables import PublicRequest, RequestStep
from services.inspections.domain.actors import Actor
from services.inspections.domain.calendar import Period
from services.inspections.domain.fingerprint import fingerprint
from services.inspections.domain.public_requests import (
    LaterStep,
    RequestSnapshot,
    RequestState,
    Step,
    later_step_refusal,
    receipt_refusal,
    state_after,
    step_time,
)
from services.inspections.domain.refusals import Refusal, id_conflict
from services.inspections.handlers.context import (
    SOURCE,
    Change,
    Context,
    JournalActor,
    journal,
)
from services.runtime.messaging import add_to_outbox
from services.runtime.workdays import load_calendar, local_date

# A 工单's lateness is counted in working days of the programme's calendar.
CALENDAR = load_calendar()


@dataclass(frozen=True)
class Recorded:
    request: PublicRequest
    created: bool
    duplicate: bool


async def record_step(
    session: AsyncSession,
    request_id: str,
    unit: str,
    step: Step,
    actor: Actor,
    ctx: Context,
    via: str,
) -> Recorded | Refusal:
    """Record one step of a request. The actor's permission is the entrypoint's to check: over
    NATS only channel systems may publish on the intake subject."""
    row = await repository.find_request(session, request_id)
    if isinstance(step, RequestReceived):
        return await _receive(session, row, request_id, unit, step, actor, ctx, via)
    if row is None or row.id is None or row.unit != unit:
        return Refusal(
            Reason.UNKNOWN_PUBLIC_REQUEST,
            f"没有交办给{ctx.reference.unit_name(unit)}的诉求工单 {request_id}",
            f"no request {request_id!r} assigned to {unit!r}",
        )
    content = fingerprint(step)
    if await repository.step_recorded(session, row.id, content):
        return Recorded(row, created=False, duplicate=True)
    snapshot = RequestSnapshot(
        row.unit, RequestState(row.state), row.last_step_at, row.rated_since_closure
    )
    if refusal := later_step_refusal(step, snapshot, ctx.clock(), ctx.clock_skew):
        return refusal
    before = row.state
    touched = _apply(row, step)
    row.state, row.last_step_at = state_after(step).value, step_time(step)
    await session.flush()
    await _record(session, row, step, content, touched, before, actor, ctx.clock())
    if isinstance(step, RequestClosed):
        await _publish_closure(session, row, step)
    return Recorded(row, created=False, duplicate=False)


async def _receive(
    session: AsyncSession,
    existing: PublicRequest | None,
    request_id: str,
    unit: str,
    step: RequestReceived,
    actor: Actor,
    ctx: Context,
    via: str,
) -> Recorded | Refusal:
    content = fingerprint(step)
    if existing is not None:
        if existing.unit == unit and existing.fingerprint == content:
            return Recorded(existing, created=False, duplicate=True)
        return id_conflict("request_id", request_id, "诉求工单", "received")
    repeat_known = step.repeat_of is None or (
        step.repeat_of != request_id
        and await repository.find_request(session, step.repeat_of) is not None
    )
    now = ctx.clock()
    if refusal := receipt_refusal(unit, step, ctx.reference, repeat_known, now, ctx.clock_skew):
        return refusal
    row = PublicRequest(
        request_id=request_id,
        unit=unit,
        channel=step.channel.value,
        title=step.title,
        content=step.content,
        state=RequestState.OPEN.value,
        received_at=step.received_at,
        due_at=step.due_at,
        first_due_at=step.due_at,
        repeat_of=step.repeat_of,
        last_step_at=step.received_at,
        fingerprint=content,
        received_via=via,
    )
    session.add(row)
    await session.flush()
    touched = {Period.containing(step.received_at), Period.containing(step.due_at)}
    await _record(session, row, step, content, touched, None, actor, now)
    return Recorded(row, created=True, duplicate=False)


def _apply(row: PublicRequest, step: LaterStep) -> set[Period]:
    """Change the row for `step`; returns the months whose indicators the step can change."""
    match step:
        case RequestClosed():
            touched = {Period.containing(step.closed_at)}
            if row.first_closed_at is None:
                row.first_closed_at = step.closed_at
                touched.add(Period.containing(row.first_due_at))  # decides on-time closure
            row.closure_count += 1
            row.rated_since_closure = False
            return touched
        case RequestRated():
            row.latest_rating = step.rating
            row.rated_since_closure = True
            return {Period.containing(step.rated_at)}
        case RequestReopened():
            row.reopen_count += 1
            row.due_at = step.due_at
            return {Period.containing(step.reopened_at)}


async def _record(
    session: AsyncSession,
    row: PublicRequest,
    step: Step,
    content: str,
    touched: set[Period],
    before: str | None,
    actor: Actor,
    now: datetime,
) -> None:
    assert row.id is not None
    details = step.model_dump(mode="json")
    session.add(
        RequestStep(
            request_pk=row.id,
            step=step.step,
            at=step_time(step),
            rating=step.rating if isinstance(step, RequestRated) else None,
            details=details,
            fingerprint=content,
        )
    )
    await repository.count_period_changes(session, row.unit, touched)
    change = Change("public_request", row.request_id, row.unit, step.step, before, row.state)
    await journal(session, change, JournalActor.of(actor), now, details)


async def _publish_closure(session: AsyncSession, row: PublicRequest, step: RequestClosed) -> None:
    """Tell the other services the request was closed, so its escalation ladder stops."""
    due, closed = local_date(row.due_at), local_date(step.closed_at)
    closure = PublicRequestClosed(
        request_id=row.request_id,
        unit=row.unit,
        channel=PublicChannel(row.channel),
        title=row.title,
        due_date=due,
        closed_at=step.closed_at,
        on_time=step.closed_at <= row.due_at,
        working_days_late=max(0, CALENDAR.working_days_between(due, closed)),
    )
    event_id = fact_id(PublicRequestClosed.NAME, row.request_id, row.closure_count)
    envelope = wrap(closure, subject=row.unit, source=SOURCE, id=event_id)
    await add_to_outbox(session, envelope, subjects.event(PublicRequestClosed.NAME, row.unit))


async def reject(
    session: AsyncSession,
    unit: str,
    refusal: Refusal,
    *,
    command_id: str | None,
    command_type: str | None,
    reference: str | None,
    errors: list[dict[str, Any]] | None = None,
) -> bool:
    """Answer a refused command on the unit's rejection subject; False if the unit is unreadable."""
    if not re.match(UNIT_CODE_PATTERN, unit):
        return False
    reason = Reason(refusal.code)  # every refusal of a channel's step is a shared reason code
    zh, en = REASON_TEXT[reason]
    rejection = IntakeRejected(
        command_id=command_id,
        command_type=command_type,
        unit=unit,
        reference=reference,
        reason=reason,
        message_zh=f"{zh}：{refusal.detail_zh}" if refusal.detail_zh else zh,
        message_en=f"{en}: {refusal.detail_en}",
        errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in errors or []],
    )
    # A redelivered command is refused again with the same id, so the channel hears it once.
    event_id = fact_id("IntakeRejected", command_id, reason) if command_id else None
    envelope = wrap(rejection, subject=unit, source=SOURCE, id=event_id)
    await add_to_outbox(session, envelope, subjects.rejection(unit))
    return True
