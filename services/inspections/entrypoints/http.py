"""HTTP routes of the inspections service: they translate requests into handler calls."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from contracts.common import EvidenceRef
from contracts.envelope import UNIT_CODE_PATTERN
from contracts.inspections import InspectionKind, InspectionMethod
from services.inspections import handlers
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Inspection
from services.inspections.domain.inspections import (
    INSPECTION_ID_PATTERN,
    KIND_NAMES,
    METHOD_NAMES,
    REFUSAL_TEXT,
    FileInspection,
    Refusal,
    RefusalCode,
)
from services.runtime.http import Problem
from services.runtime.service import ServiceRuntime

InspectionIdPath = Annotated[str, Path(pattern=INSPECTION_ID_PATTERN)]

_STATUS = {RefusalCode.DUPLICATE_CONFLICT: 409}


class InspectionView(BaseModel):
    inspection_id: str
    kind: InspectionKind
    kind_name: str
    method: InspectionMethod
    method_name: str
    title: str
    inspector: str
    inspected_on: date
    target_units: list[str]
    measure_codes: list[str]
    evidence: list[EvidenceRef]
    filed_at: datetime

    @classmethod
    def of(cls, row: Inspection) -> "InspectionView":
        kind, method = InspectionKind(row.kind), InspectionMethod(row.method)
        return cls.model_validate(
            {
                **row.model_dump(),
                "kind": kind,
                "kind_name": KIND_NAMES[kind],
                "method": method,
                "method_name": METHOD_NAMES[method],
            }
        )


def problem(refusal: Refusal) -> Problem:
    zh, en = REFUSAL_TEXT[refusal.code]
    return Problem(_STATUS.get(refusal.code, 422), refusal.code.value, zh, en, refusal.detail)


def router(runtime: ServiceRuntime, clock: Callable[[], datetime]) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["inspections"])

    @api.post(
        "/inspections",
        status_code=201,
        summary="File an inspection (201 created, 200 when the same inspection is retried)",
        responses={
            409: {"description": "inspection_id reused"},
            422: {"description": "Invalid inspection"},
        },
    )
    async def post_inspection(request: FileInspection, response: Response) -> InspectionView:
        try:
            outcome = await _file(runtime, request, clock)
        except IntegrityError:  # a concurrent retry of the same inspection won the insert
            outcome = await _file(runtime, request, clock)
        if isinstance(outcome, Refusal):
            raise problem(outcome)
        runtime.relay.notify()
        response.status_code = 200 if outcome.duplicate else 201
        response.headers["Location"] = f"/v1/inspections/{request.inspection_id}"
        return InspectionView.of(outcome.inspection)

    @api.get("/inspections", summary="Inspections, newest first, optionally of one target unit")
    async def list_inspections(
        unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[InspectionView]:
        async with runtime.db.session() as session:
            rows = await repository.list_inspections(session, unit, limit, offset)
        return [InspectionView.of(row) for row in rows]

    @api.get("/inspections/{inspection_id}")
    async def get_inspection(inspection_id: InspectionIdPath) -> InspectionView:
        async with runtime.db.session() as session:
            row = await repository.find_inspection(session, inspection_id)
        if row is None:
            raise Problem(404, "inspection_not_found", "督查记录不存在", "Inspection not found")
        return InspectionView.of(row)

    return api


async def _file(
    runtime: ServiceRuntime, request: FileInspection, clock: Callable[[], datetime]
) -> handlers.Filed | Refusal:
    async with runtime.db.session() as session, session.begin():
        return await handlers.file_inspection(session, request, clock)
