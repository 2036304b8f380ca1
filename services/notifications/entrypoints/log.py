"""HTTP routes to read what happened: the delivery log (every attempt, its outcome and error)
and the escalation cases."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import col, select

from services.notifications.adapters import repository
from services.notifications.adapters.tables import Delivery, DeliveryAttempt, EscalationCase
from services.notifications.domain.delivery import DeliveryStatus
from services.notifications.domain.escalation import CaseStatus, Level, StepRefusal
from services.notifications.domain.routing import Channel
from services.runtime import auth
from services.runtime.auth import EVERYONE, Principal, allow
from services.runtime.http import BIGINT_MAX, Offset, Problem
from services.runtime.service import ServiceRuntime

# Bounded by what a database integer holds: a larger number cannot name a row, and would
# overflow the driver instead of finding nothing.
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Limit = Annotated[int, Query(ge=1, le=500)]


REFUSALS = {
    StepRefusal.NOT_FOUND: (404, "督办事项不存在", "Escalation case not found"),
    StepRefusal.ITEM_COMPLETED: (409, "事项已办结，督办已停止", "The item is completed"),
    StepRefusal.AT_TOP_LEVEL: (409, "已督办，无更高一级", "The case is already at the top"),
}


def refused(refusal: StepRefusal, detail: str) -> Problem:
    status, zh, en = REFUSALS[refusal]
    return Problem(status, refusal.value, zh, en, detail)


class AttemptView(BaseModel):
    number: int
    started_at: datetime
    duration_ms: float
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryView(BaseModel):
    id: int
    key: str
    notification_id: str
    recipient: str
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    digest_id: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryView):
    attempt_log: list[AttemptView]


class CaseView(BaseModel):
    key: str
    item_type: str
    item_id: str
    milestone_id: str | None
    unit: str
    title: str
    measure_code: str | None
    due_date: date
    status: str
    level: int
    level_name: str
    level_name_zh: str
    notice_on: date
    supervision_on: date | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    sign_reminded_on: date | None
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, row: EscalationCase) -> "CaseView":
        return cls.model_validate(
            {
                **row.model_dump(),
                "level_name": Level(row.level).label,
                "level_name_zh": Level(row.level).name_zh,
            },
            from_attributes=False,
        )


def router(runtime: ServiceRuntime) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.get(
        "/deliveries",
        tags=["delivery log"],
        summary="Deliveries, newest first",
        dependencies=[allow(auth.Role.OPERATOR)],
    )
    async def list_deliveries(
        recipient: str | None = None,
        channel: Channel | None = None,
        status: DeliveryStatus | None = None,
        notification: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[DeliveryView]:
        async with runtime.db.session() as session:
            rows = await repository.deliveries(
                session,
                recipient=recipient,
                channel=channel.value if channel else None,
                status=status.value if status else None,
                notification=notification,
                limit=limit,
                offset=offset,
            )
        return [DeliveryView.model_validate(row, from_attributes=True) for row in rows]

    @api.get(
        "/deliveries/{delivery_id}",
        tags=["delivery log"],
        summary="One delivery, attempts",
        dependencies=[allow(auth.Role.OPERATOR)],
    )
    async def get_delivery(delivery_id: RowId) -> DeliveryDetail:
        async with runtime.db.session() as session:
            row = await session.get(Delivery, delivery_id)
            if row is None:
                raise Problem(404, "delivery_not_found", "投递记录不存在", "Delivery not found")
            attempts = (
                await session.execute(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.delivery_id == delivery_id)
                    .order_by(col(DeliveryAttempt.number))
                )
            ).scalars()
            log = [AttemptView.model_validate(a, from_attributes=True) for a in attempts]
        view = DeliveryView.model_validate(row, from_attributes=True)
        return DeliveryDetail(**view.model_dump(), attempt_log=log)

    @api.get("/escalations", tags=["escalation"], summary="Escalation cases, newest first")
    async def list_cases(
        unit: str | None = None,
        status: CaseStatus | None = None,
        level: Annotated[int | None, Query(ge=1, le=2)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[CaseView]:
        async with runtime.db.session() as session:
            rows = await repository.cases(
                session,
                unit=who.scope(unit),
                status=status.value if status else None,
                level=level,
                limit=limit,
                offset=offset,
            )
        return [CaseView.of(row) for row in rows]

    @api.get("/escalations/{key}", tags=["escalation"], summary="One escalation case")
    async def get_case(key: str, who: Principal = allow(*EVERYONE)) -> CaseView:
        async with runtime.db.session() as session:
            row = await session.get(EscalationCase, key)
        if row is None or not who.sees(row.unit):
            raise refused(StepRefusal.NOT_FOUND, key)
        return CaseView.of(row)

    return api
