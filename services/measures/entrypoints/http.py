"""HTTP routes of the measures service: they translate requests into handler calls."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from contracts.common import EvidenceRef
from contracts.envelope import UNIT_CODE_PATTERN
from contracts.measures import ReportProgress
from contracts.reasons import REASON_TEXT, Reason
from services.measures import handlers
from services.measures.adapters import repository
from services.measures.adapters.tables import ProgressReport
from services.measures.domain.catalogue import Catalogue, UnitDirectory
from services.measures.domain.progress import Refusal
from services.runtime.http import Problem
from services.runtime.service import ServiceRuntime

UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]

_STATUS = {
    Reason.UNKNOWN_UNIT: 404,
    Reason.DUPLICATE_CONFLICT: 409,
}


class ReportView(BaseModel):
    report_id: str
    unit: str
    measure_code: str
    milestone_id: str | None
    percent_complete: float
    summary: str
    reported_at: datetime
    reporter: str
    evidence: list[EvidenceRef]
    event_id: str
    received_via: str
    accepted_at: datetime

    @classmethod
    def of(cls, row: ProgressReport) -> "ReportView":
        return cls.model_validate(row, from_attributes=True)


def problem(refusal: Refusal) -> Problem:
    zh, en = REASON_TEXT[refusal.reason]
    return Problem(_STATUS.get(refusal.reason, 422), refusal.reason.value, zh, en, refusal.detail)


def router(runtime: ServiceRuntime, intake: handlers.Intake) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.post(
        "/units/{unit}/progress-reports",
        tags=["progress"],
        status_code=201,
        summary="Report progress on a measure (201 created, 200 when the same report is retried)",
        responses={
            404: {"description": "Unknown unit"},
            409: {"description": "report_id reused"},
            422: {"description": "Invalid report"},
        },
    )
    async def post_report(unit: UnitPath, report: ReportProgress, response: Response) -> ReportView:
        if report.unit != unit:
            zh, en = REASON_TEXT[Reason.UNIT_MISMATCH]
            raise Problem(
                422,
                Reason.UNIT_MISMATCH.value,
                zh,
                en,
                f"path unit {unit!r}, body unit {report.unit!r}",
            )
        try:
            outcome = await _report(runtime, report, intake)
        except IntegrityError:  # a concurrent retry of the same report won the insert
            outcome = await _report(runtime, report, intake)
        if isinstance(outcome, Refusal):
            raise problem(outcome)
        runtime.relay.notify()
        response.status_code = 200 if outcome.duplicate else 201
        response.headers["Location"] = f"/v1/units/{unit}/progress-reports/{report.report_id}"
        return ReportView.of(outcome.report)

    @api.get("/units/{unit}/progress-reports", tags=["progress"])
    async def list_reports(
        unit: UnitPath,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[ReportView]:
        async with runtime.db.session() as session:
            rows = await repository.reports_of_unit(session, unit, limit, offset)
        return [ReportView.of(row) for row in rows]

    @api.get("/units/{unit}/progress-reports/{report_id}", tags=["progress"])
    async def get_report(unit: UnitPath, report_id: str) -> ReportView:
        async with runtime.db.session() as session:
            row = await repository.find_report(session, unit, report_id)
        if row is None:
            raise Problem(404, "report_not_found", "进展报告不存在", "Progress report not found")
        return ReportView.of(row)

    @api.get("/catalogue", tags=["catalogue"], summary="The measure catalogue in force")
    async def catalogue() -> Catalogue:
        return intake.catalogue

    @api.get("/units", tags=["catalogue"], summary="Responsible units and peer groups")
    async def units() -> UnitDirectory:
        return intake.units

    return api


async def _report(
    runtime: ServiceRuntime, report: ReportProgress, intake: handlers.Intake
) -> handlers.Accepted | Refusal:
    async with runtime.db.session() as session, session.begin():
        return await handlers.report_progress(session, report, intake, via="http")
