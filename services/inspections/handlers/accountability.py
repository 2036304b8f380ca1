"""挂牌督办, 约谈 and 问责 as the office records them; scoring and notifications read the events."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.inspections import (
    AccountabilityRecorded,
    InterviewRecorded,
    SupervisionDelisted,
    SupervisionListed,
)
from contracts.measures import DeadlineItem
from contracts.reasons import Reason
from services.inspections.adapters import repository
from services.inspections.adapters.tables import (
    AccountabilityDecision,
    Interview,
    SupervisionListing,
)
from services.inspections.domain.accountability import (
    DelistItem,
    ListItem,
    OpenItem,
    RecordAccountability,
    RecordInterview,
    listing_refusal,
    office_only,
    record_refusal,
)
from services.inspections.domain.findings import FINDING_ITEMS, RectificationState
from services.inspections.domain.fingerprint import fingerprint
from services.inspections.domain.public_requests import OPEN_STATES
from services.inspections.domain.refusals import Refusal, RefusalCode, id_conflict
from services.inspections.domain.supervision import SuggestionState
from services.inspections.handlers.context import Change, Context, JournalActor, emit, journal
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Recorded:
    row: Any
    duplicate: bool


def _family(item_type: DeadlineItem) -> tuple[DeadlineItem, ...]:
    return FINDING_ITEMS if item_type in FINDING_ITEMS else (item_type,)


async def _open_item(
    session: AsyncSession, item_type: DeadlineItem, item_id: str
) -> OpenItem | None:
    """The item to list, from this service's records or, for another service's item (a
    milestone, an obligation), from the DeadlineMissed it published: only an overdue one."""
    if item_type in FINDING_ITEMS:
        finding = await repository.find_finding(session, item_id)
        if finding is None:
            return None
        closed = finding.state == RectificationState.CLOSED.value
        return OpenItem(finding.unit, finding.title, closed)
    if item_type is DeadlineItem.SUGGESTION:
        suggestion = await repository.find_suggestion(session, item_id)
        if suggestion is None:
            return None
        done = suggestion.state == SuggestionState.CLOSED.value
        return OpenItem(suggestion.unit, suggestion.title, done)
    if item_type is DeadlineItem.PUBLIC_REQUEST:
        request = await repository.find_request(session, item_id)
        if request is None:
            return None
        open_states = {s.value for s in OPEN_STATES}
        return OpenItem(request.unit, request.title, request.state not in open_states)
    missed = await repository.missed_item(session, item_type.value, item_id)
    return None if missed is None else OpenItem(missed.unit, missed.title, False)


async def list_item(session: AsyncSession, request: ListItem, ctx: Context) -> Recorded | Refusal:
    now = ctx.clock()
    content = fingerprint(request)
    existing = await repository.find_listing(session, request.listing_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Recorded(existing, duplicate=True)
        return id_conflict("listing_id", request.listing_id, "挂牌督办", "recorded")
    item = await _open_item(session, request.item_type, request.item_id)
    family = [t.value for t in _family(request.item_type)]
    listed = bool(await repository.listed_items(session, family, [request.item_id]))
    if refusal := listing_refusal(request, item, listed, local_date(now)):
        return refusal
    assert item is not None
    row = SupervisionListing(
        listing_id=request.listing_id,
        unit=item.unit,
        item_type=request.item_type.value,
        item_id=request.item_id,
        title=item.title[:200],
        reason=request.reason,
        document=request.document,
        listed_by=request.actor.name,
        listed_at=now,
        due_date=request.due_date,
        fingerprint=content,
    )
    session.add(row)
    event = SupervisionListed(
        listing_id=row.listing_id,
        unit=row.unit,
        item_type=request.item_type,
        item_id=row.item_id,
        title=row.title,
        reason=row.reason,
        document=row.document,
        listed_by=row.listed_by,
        listed_at=now,
        due_date=row.due_date,
    )
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.listing_id), now)
    await journal(
        session,
        Change("listing", row.listing_id, row.unit, "listed", None, "listed"),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
        event_id,
    )
    return Recorded(row, duplicate=False)


async def delist_item(
    session: AsyncSession, listing_id: str, request: DelistItem, ctx: Context
) -> SupervisionListing | Refusal:
    now = ctx.clock()
    if refusal := office_only(request.actor, ("摘牌", "lift a listing")):
        return refusal
    row = await repository.find_listing(session, listing_id)
    if row is None:
        return Refusal(RefusalCode.UNKNOWN_LISTING, listing_id, f"listing {listing_id!r}")
    if row.delisted_at is not None:
        return Refusal(
            Reason.INVALID_TRANSITION,
            f"挂牌督办 {listing_id} 已摘牌",
            f"listing {listing_id!r} was already lifted",
        )
    row.delisted_at, row.delisted_by = now, request.actor.name
    await session.flush()  # a concurrent lift of the same listing loses on its version
    event = SupervisionDelisted(
        listing_id=row.listing_id, unit=row.unit, delisted_at=now, delisted_by=request.actor.name
    )
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.listing_id), now)
    await journal(
        session,
        Change("listing", row.listing_id, row.unit, "delisted", "listed", "delisted"),
        JournalActor.of(request.actor),
        now,
        {},
        event_id,
    )
    return row


async def record_interview(
    session: AsyncSession, request: RecordInterview, ctx: Context
) -> Recorded | Refusal:
    now = ctx.clock()
    content = fingerprint(request)
    existing = await repository.find_by_key(
        session, Interview, Interview.interview_id, request.interview_id
    )
    if existing is not None:
        if existing.fingerprint == content:
            return Recorded(existing, duplicate=True)
        return id_conflict("interview_id", request.interview_id, "约谈", "recorded")
    if refusal := record_refusal(request, request.held_on, local_date(now), ctx.reference):
        return refusal
    fields = request.model_dump(exclude={"actor"})
    row = Interview(**fields, recorded_by=request.actor.name, recorded_at=now, fingerprint=content)
    session.add(row)
    event = InterviewRecorded(**fields, recorded_by=row.recorded_by)
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.interview_id), now)
    await journal(
        session,
        Change("interview", row.interview_id, row.unit, "recorded"),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
        event_id,
    )
    return Recorded(row, duplicate=False)


async def record_accountability(
    session: AsyncSession, request: RecordAccountability, ctx: Context
) -> Recorded | Refusal:
    now = ctx.clock()
    content = fingerprint(request)
    existing = await repository.find_by_key(
        session, AccountabilityDecision, AccountabilityDecision.decision_id, request.decision_id
    )
    if existing is not None:
        if existing.fingerprint == content:
            return Recorded(existing, duplicate=True)
        return id_conflict("decision_id", request.decision_id, "问责决定", "recorded")
    if refusal := record_refusal(request, request.decided_on, local_date(now), ctx.reference):
        return refusal
    fields = request.model_dump(exclude={"actor"})
    stored = {**fields, "form": request.form.value}
    if request.item_type is not None:
        stored["item_type"] = request.item_type.value
    row = AccountabilityDecision(
        **stored, recorded_by=request.actor.name, recorded_at=now, fingerprint=content
    )
    session.add(row)
    event = AccountabilityRecorded(**fields, recorded_by=row.recorded_by)
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.decision_id), now)
    await journal(
        session,
        Change("accountability", row.decision_id, row.unit, "recorded"),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
        event_id,
    )
    return Recorded(row, duplicate=False)
