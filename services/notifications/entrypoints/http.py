"""HTTP routes of the notifications service: each recipient's in-app inbox, and (in the sibling
modules) recipients and routing rules, the delivery log and the escalation cases."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications.adapters.tables import InboxMessage, Recipient
from services.notifications.domain.escalation import StepRefusal
from services.notifications.domain.routing import RECIPIENT_CODE_PATTERN
from services.notifications.domain.topics import Topic
from services.notifications.entrypoints import admin, bulletins, log
from services.notifications.entrypoints.log import RowId
from services.notifications.handlers.common import Context
from services.notifications.handlers.ladder import mark_message
from services.notifications.settings import NotificationsSettings
from services.runtime.auth import EVERYONE, Principal, Role, allow
from services.runtime.http import Offset, Problem, language
from services.runtime.service import ServiceRuntime

RecipientCode = Annotated[str, Path(pattern=RECIPIENT_CODE_PATTERN)]


class InboxView(BaseModel):
    id: int
    kind: str
    unit: str
    title: str
    body: str
    event_id: str
    notification_id: str | None
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, row: InboxMessage, lang: str) -> "InboxView":
        assert row.id is not None
        return cls(
            id=row.id,
            kind=row.kind,
            unit=row.unit,
            title=row.title_en if lang == "en" else row.title_zh,
            body=row.body_en if lang == "en" else row.body_zh,
            event_id=row.event_id,
            notification_id=row.notification_id,
            created_at=row.created_at,
            read_at=row.read_at,
            acknowledged_at=row.acknowledged_at,
        )


async def mailbox_of(session: AsyncSession, code: str, who: Principal) -> Recipient:
    """The recipient, if `who` may see its inbox: a unit reporter only its own unit's (another
    unit's, or one of no unit, is answered as unknown)."""
    row = await session.get(Recipient, code)
    if row is None or not who.sees(*([row.unit] if row.unit else [])):
        raise admin.recipient_not_found(code)
    return row


def inbox_router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(prefix="/v1/inbox", tags=["inbox"])

    @api.get("/{recipient}", summary="A recipient's inbox, newest first")
    async def list_inbox(
        recipient: RecipientCode,
        request: Request,
        unread_only: bool = False,
        unacknowledged_only: bool = False,
        kind: Topic | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[InboxView]:
        query = select(InboxMessage).where(InboxMessage.recipient == recipient)
        if unread_only:
            query = query.where(col(InboxMessage.read_at).is_(None))
        if unacknowledged_only:
            query = query.where(col(InboxMessage.acknowledged_at).is_(None))
        if kind is not None:
            query = query.where(InboxMessage.kind == kind.value)
        query = query.order_by(col(InboxMessage.id).desc()).limit(limit).offset(offset)
        async with runtime.db.session() as session:
            await mailbox_of(session, recipient, who)
            rows = (await session.execute(query)).scalars().all()
        lang = language(request)
        return [InboxView.of(row, lang) for row in rows]

    async def mark(
        recipient: str, message_id: int, request: Request, who: Principal, acknowledge: bool
    ) -> InboxView:
        async with runtime.db.session() as session, session.begin():
            await mailbox_of(session, recipient, who)
            row = await mark_message(session, ctx, recipient, message_id, acknowledge)
            if row is None:
                raise Problem(404, "message_not_found", "消息不存在", "Message not found")
            if isinstance(row, StepRefusal):
                raise log.refused(row, str(message_id))
        return InboxView.of(row, language(request))

    @api.post("/{recipient}/{message_id}/read", summary="Mark a message read")
    async def read(
        recipient: RecipientCode,
        message_id: RowId,
        request: Request,
        who: Principal = allow(*EVERYONE),
    ) -> InboxView:
        return await mark(recipient, message_id, request, who, acknowledge=False)

    @api.post(
        "/{recipient}/{message_id}/acknowledge",
        summary="Sign for (签收) a message: recorded and shown; only completion stops a ladder",
    )
    async def acknowledge(
        recipient: RecipientCode,
        message_id: RowId,
        request: Request,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> InboxView:
        return await mark(recipient, message_id, request, who, acknowledge=True)

    return api


def router(runtime: ServiceRuntime, ctx: Context, settings: NotificationsSettings) -> APIRouter:
    api = APIRouter()
    api.include_router(inbox_router(runtime, ctx))
    api.include_router(admin.router(runtime, ctx, settings))
    api.include_router(log.router(runtime))
    api.include_router(bulletins.router(runtime, ctx))
    return api
