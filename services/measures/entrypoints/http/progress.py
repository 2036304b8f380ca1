"""HTTP routes for progress reports: intake from units and the office's review."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from contracts.envelope import UNIT_CODE_PATTERN
from contracts.measures import ReportProgress
from contracts.reasons import REASON_TEXT, Reason
from services.measures.adapters import repository
from services.measures.domain.errors import Code
from services.measures.domain.progress import Refusal
from services.measures.domain.requests import ReviewReport
from services.measures.entrypoints.http.problems import intake_refused, not_found, transact
from services.measures.entrypoints.http.views import ReportView
from services.measures.handlers import intake, review
from services.measures.handlers.common import Context
from services.runtime.auth import EVERYONE, Principal, Role, allow
from services.runtime.http import Offset, Problem
from services.runtime.service import ServiceRuntime

UnitPath = Annotated[str, Path(pattern=UNIT_CODE_PATTERN)]
ReportIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


def router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(tags=["progress"])

    @api.post(
        "/units/{unit}/progress-reports",
        status_code=201,
        summary="Report progress on an assignment (201 created, 200 when the same report is "
        "retried)",
        responses={
            404: {"description": "Unknown unit"},
            409: {"description": "report_id reused with other content"},
            422: {"description": "Invalid report, with a reason code"},
        },
    )
    async def post_report(
        unit: UnitPath,
        report: ReportProgress,
        response: Response,
        who: Principal = allow(Role.UNIT_REPORTER),
    ) -> ReportView:
        who.check_unit(unit)
        if report.unit != unit:
            zh, en = REASON_TEXT[Reason.UNIT_MISMATCH]
            raise Problem(
                422,
                Reason.UNIT_MISMATCH.value,
                zh,
                en,
                f"地址中的单位为 {unit}，报告所填单位为 {report.unit}",
                detail_en=f"path unit {unit!r}, body unit {report.unit!r}",
            )
        outcomes = await transact(
            runtime, lambda s: intake.report_progress(s, [report], ctx, via="http")
        )
        outcome = outcomes[0]
        if isinstance(outcome, Refusal):
            raise intake_refused(outcome)
        response.status_code = 200 if outcome.duplicate else 201
        response.headers["Location"] = f"/v1/units/{unit}/progress-reports/{report.report_id}"
        return ReportView.of(outcome.report)

    @api.get("/units/{unit}/progress-reports", summary="A unit's reports, newest first")
    async def list_reports(
        unit: UnitPath,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Offset = 0,
        who: Principal = allow(*EVERYONE),
    ) -> list[ReportView]:
        who.check_unit(unit)
        async with runtime.db.session() as session:
            rows = await repository.reports_of_unit(session, unit, limit, offset)
        return [ReportView.of(row) for row in rows]

    @api.get("/units/{unit}/progress-reports/{report_id}")
    async def get_report(
        unit: UnitPath, report_id: ReportIdPath, who: Principal = allow(*EVERYONE)
    ) -> ReportView:
        who.check_unit(unit)
        async with runtime.db.session() as session:
            row = await repository.find_report(session, unit, report_id)
        if row is None:
            raise not_found(
                Code.REPORT_NOT_FOUND,
                f"{unit} 没有编号为 {report_id} 的进展报告",
                f"{unit} has no report {report_id!r}",
            )
        return ReportView.of(row)

    @api.post(
        "/units/{unit}/progress-reports/{report_id}/review",
        summary="The office accepts a report or returns it with a reason",
        responses={
            404: {"description": "No such report"},
            409: {"description": "Already reviewed with the other decision"},
            422: {"description": "A return without a reason"},
        },
    )
    async def review_report(
        unit: UnitPath, report_id: ReportIdPath, decision: ReviewReport, who: Principal = allow()
    ) -> ReportView:
        decision = decision.model_copy(update={"reviewer": who.subject})
        row, _changed = await transact(
            runtime, lambda s: review.review_report(s, unit, report_id, decision, ctx)
        )
        return ReportView.of(row)

    return api
