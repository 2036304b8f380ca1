"""The notifications service's own tables: the in-app inbox of every recipient."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class NotificationsTable(SQLModel, registry=registry()):
    pass


class InboxMessage(NotificationsTable, table=True):
    __tablename__ = "inbox_messages"
    __table_args__ = (
        sa.UniqueConstraint("recipient", "event_id", name="uq_inbox_recipient_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=64, index=True)
    event_id: str = Field(max_length=128)
    kind: str = Field(max_length=64)
    unit: str = Field(max_length=40)
    title_zh: str = Field(max_length=300)
    title_en: str = Field(max_length=300)
    body_zh: str = Field(sa_type=sa.Text)
    body_en: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
