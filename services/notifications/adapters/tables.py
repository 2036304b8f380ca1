"""The notifications service's own tables (its own SQLModel registry, so no other service's
tables share its metadata)."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.runtime.db import UtcDateTime


class NotificationsTable(SQLModel, registry=registry()):
    pass


class Unit(NotificationsTable, table=True):
    """Replica of the unit directory, from UnitRegistered: names and peer groups for routing."""

    __tablename__ = "units"

    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    peer_group: str | None = Field(default=None, max_length=40, index=True)
    peer_group_name_zh: str | None = Field(default=None, max_length=200)
    peer_group_name_en: str | None = Field(default=None, max_length=200)
    is_office: bool
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Recipient(NotificationsTable, table=True):
    """A mailbox: a unit's contact or head, the office, a leader, or anyone a rule names."""

    __tablename__ = "recipients"

    code: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16, index=True)
    unit: str | None = Field(default=None, max_length=40, index=True)
    name: str = Field(max_length=200)
    language: str = Field(max_length=2)
    emails: list[str] = Field(sa_type=sa.JSON)
    webhook_url: str | None = Field(default=None, max_length=2048)
    webhook_secret: str | None = Field(default=None, max_length=256)  # never leaves the service
    digest: bool
    active: bool
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class RoutingRule(NotificationsTable, table=True):
    __tablename__ = "routing_rules"

    id: str = Field(primary_key=True, max_length=64)
    description: str = Field(max_length=200)
    topic: str = Field(max_length=40, index=True)
    unit: str | None = Field(default=None, max_length=40)
    peer_group: str | None = Field(default=None, max_length=40)
    min_severity: str | None = Field(default=None, max_length=16)
    item_types: list[str] | None = Field(default=None, sa_type=sa.JSON)
    targets: list[str] = Field(sa_type=sa.JSON)
    channels: list[str] = Field(sa_type=sa.JSON)
    enabled: bool
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class Notification(NotificationsTable, table=True):
    """One rendered message about one fact (or one escalation step), before fan-out."""

    __tablename__ = "notifications"

    id: str = Field(primary_key=True, max_length=36)
    topic: str = Field(max_length=40, index=True)
    unit: str = Field(max_length=40, index=True)
    severity: str | None = Field(default=None, max_length=16)
    source_event_id: str = Field(max_length=128)
    case_key: str | None = Field(default=None, max_length=36, index=True)
    title_zh: str = Field(max_length=300)
    title_en: str = Field(max_length=300)
    body_zh: str = Field(sa_type=sa.Text)
    body_en: str = Field(sa_type=sa.Text)
    facts: dict[str, Any] = Field(sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UtcDateTime)


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
    notification_id: str | None = Field(default=None, max_length=36, index=True)


class Delivery(NotificationsTable, table=True):
    """One notification to one recipient over one channel; `key` makes it happen once."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=36, unique=True)
    notification_id: str = Field(max_length=36, index=True)
    recipient: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=16)
    target: str = Field(max_length=2048)  # where it goes, as shown in the log (no secrets)
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    digest_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class DeliveryAttempt(NotificationsTable, table=True):
    """The delivery log: every attempt, its outcome and error."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(index=True)
    number: int
    started_at: datetime = Field(sa_type=UtcDateTime)
    duration_ms: float
    outcome: str = Field(max_length=24)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)


class EscalationCase(NotificationsTable, table=True):
    """One missed deadline climbing the ladder until the item is completed."""

    __tablename__ = "escalation_cases"
    __table_args__ = (sa.Index("ix_escalation_cases_ref", "ref_type", "ref", "unit"),)

    key: str = Field(primary_key=True, max_length=36)
    item_type: str = Field(max_length=24)
    item_id: str = Field(max_length=64)
    milestone_id: str | None = Field(default=None, max_length=64)
    ref_type: str = Field(max_length=24)
    ref: str = Field(max_length=160)
    unit: str = Field(max_length=40, index=True)
    title: str = Field(sa_type=sa.Text)
    measure_code: str | None = Field(default=None, max_length=32)
    due_date: date
    source_event_id: str = Field(max_length=128)
    status: str = Field(max_length=16, index=True)
    level: int
    level_on: date
    notice_on: date
    supervision_on: date | None = None
    opened_at: datetime = Field(sa_type=UtcDateTime)
    # Signing for a notice (签收) is shown and spares the reminder to sign; it stops nothing.
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=64)
    sign_reminded_on: date | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_by: str | None = Field(default=None, max_length=128)


class ItemClosure(NotificationsTable, table=True):
    """A fact that settles an item, kept so that a DeadlineMissed arriving after it (the two come
    through different consumers) finds the item already settled."""

    __tablename__ = "item_closures"
    __table_args__ = (sa.Index("ix_item_closures_ref", "ref_type", "ref", "unit"),)

    event_id: str = Field(primary_key=True, max_length=128)
    ref_type: str = Field(max_length=24)
    ref: str = Field(max_length=160)
    unit: str = Field(max_length=40)
    at: datetime = Field(sa_type=UtcDateTime)
    settles_due_date: date | None = None
