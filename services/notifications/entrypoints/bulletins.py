"""HTTP routes of the office's own steps on the ladder: issuing a case's next level at once, and
the 通报 (issuing one about a unit, reading those issued)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from contracts.envelope import UnitCode
from contracts.notifications import BulletinIssued
from services.notifications.adapters.tables import Notification
from services.notifications.domain.escalation import StepRefusal
from services.notifications.domain.topics import Topic
from services.notifications.entrypoints.log import CaseView, Limit, refused
from services.notifications.handlers.bulletins import issue_about_unit
from services.notifications.handlers.common import Context
from services.notifications.handlers.ladder import escalate_now
from services.runtime.auth import EVERYONE, Principal, allow
from services.runtime.http import Offset, Problem
from services.runtime.service import ServiceRuntime


class AdHocBulletin(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: UnitCode
    note: str = Field(
        min_length=1, max_length=2000, description="Why the unit is named (通报事由), in Chinese."
    )


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post(
        "/escalations/{key}/escalate",
        tags=["escalation"],
        summary="Issue the next level of a case now (督办 before the wait ends)",
    )
    async def escalate(key: str, who: Principal = allow()) -> CaseView:
        async with runtime.db.session() as session, session.begin():
            result = await escalate_now(session, ctx, key)
            if isinstance(result, StepRefusal):
                raise refused(result, key)
            view = CaseView.of(result)
        runtime.relay.notify()
        return view

    @api.post(
        "/bulletins",
        status_code=201,
        tags=["escalation"],
        summary="Issue a 通报 about one unit: its items overdue today, with the office's note",
        responses={404: {"description": "Unknown unit (problem details)"}},
    )
    async def issue(body: AdHocBulletin, who: Principal = allow()) -> BulletinIssued:
        async with runtime.db.session() as session, session.begin():
            issued = await issue_about_unit(session, ctx, body.unit, who.subject, body.note)
        if issued is None:
            raise Problem(404, "unknown_unit", "单位不存在", "Unknown unit", body.unit)
        runtime.relay.notify()
        return issued

    @api.get("/bulletins", tags=["escalation"], summary="The 通报 issued, newest first")
    async def bulletins(
        unit: Annotated[str | None, Query(description="Only those about this unit")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[dict[str, Any]]:
        query = select(Notification).where(Notification.topic == Topic.PUBLIC_NOTICE.value)
        if unit is not None:
            query = query.where(Notification.unit == unit)
        query = query.order_by(col(Notification.created_at).desc(), col(Notification.id))
        async with runtime.db.session() as session:
            rows = (await session.execute(query.limit(limit).offset(offset))).scalars().all()
        return [row.facts for row in rows]

    return api
