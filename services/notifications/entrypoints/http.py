"""HTTP routes of the notifications service: each recipient's in-app inbox."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlmodel import col, select

from contracts.envelope import utcnow
from services.notifications.adapters.tables import InboxMessage
from services.runtime.http import Problem, language
from services.runtime.service import ServiceRuntime

Recipient = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9:-]{1,63}$")]


class InboxView(BaseModel):
    id: int
    kind: str
    unit: str
    title: str
    body: str
    event_id: str
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
            created_at=row.created_at,
            read_at=row.read_at,
            acknowledged_at=row.acknowledged_at,
        )


def router(runtime: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1/inbox", tags=["inbox"])

    @api.get("/{recipient}", summary="A recipient's inbox, newest first")
    async def list_inbox(
        recipient: Recipient,
        request: Request,
        unread_only: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[InboxView]:
        query = select(InboxMessage).where(InboxMessage.recipient == recipient)
        if unread_only:
            query = query.where(col(InboxMessage.read_at).is_(None))
        query = query.order_by(col(InboxMessage.id).desc()).limit(limit).offset(offset)
        async with runtime.db.session() as session:
            rows = (await session.execute(query)).scalars().all()
        lang = language(request)
        return [InboxView.of(row, lang) for row in rows]

    async def mark(recipient: str, message_id: int, request: Request, field: str) -> InboxView:
        async with runtime.db.session() as session, session.begin():
            row = await session.get(InboxMessage, message_id)
            if row is None or row.recipient != recipient:
                raise Problem(404, "message_not_found", "消息不存在", "Message not found")
            if getattr(row, field) is None:
                setattr(row, field, utcnow())
                if field == "acknowledged_at" and row.read_at is None:
                    row.read_at = row.acknowledged_at
        return InboxView.of(row, language(request))

    @api.post("/{recipient}/{message_id}/read", summary="Mark a message read")
    async def read(recipient: Recipient, message_id: int, request: Request) -> InboxView:
        return await mark(recipient, message_id, request, "read_at")

    @api.post("/{recipient}/{message_id}/acknowledge", summary="Acknowledge a message")
    async def acknowledge(recipient: Recipient, message_id: int, request: Request) -> InboxView:
        return await mark(recipient, message_id, request, "acknowledged_at")

    return api
