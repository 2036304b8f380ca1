"""The rectification ledger (台账): per unit and city-wide, filtered, exported, journaled."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.common import Day
from contracts.envelope import UNIT_CODE_PATTERN
from contracts.inspections import ITEM_ID_PATTERN, FindingSource, FiveType, Severity
from contracts.reasons import Reason
from services.inspections.adapters import export, repository
from services.inspections.adapters import ledger as ledger_queries
from services.inspections.adapters.ledger import LedgerFilter
from services.inspections.adapters.tables import Finding, Inspection
from services.inspections.domain.findings import FINDING_ITEMS, RectificationState
from services.inspections.domain.refusals import Refusal, RefusalCode
from services.inspections.entrypoints.common import (
    PROBLEMS,
    XLSX,
    Limit,
    download,
    not_found,
    problem,
)
from services.inspections.entrypoints.views import (
    FindingView,
    JournalEntryView,
    LedgerPage,
    UnitLedgerSummary,
)
from services.inspections.handlers.context import Context
from services.runtime.auth import EVERYONE, READERS, Principal, allow
from services.runtime.http import Offset, language
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date

LEDGER_COLUMNS = (
    export.Column("finding_id", "问题编号", "Finding"),
    export.Column("inspection_id", "督查编号", "Inspection"),
    export.Column("inspection_title", "督查名称", "Inspection title"),
    export.Column("inspection_kind_name", "督查方式", "Inspection kind"),
    export.Column("source_name", "问题来源", "Source"),
    export.Column("unit", "单位代码", "Unit code"),
    export.Column("unit_name", "责任单位", "Responsible unit"),
    export.Column("title", "问题", "Finding title"),
    export.Column("description", "问题描述", "Description"),
    export.Column("severity_name", "问题等级", "Severity"),
    export.Column("measure_code", "举措编号", "Measure"),
    export.Column("measure_title", "所属举措", "Measure title"),
    export.Column("measure_type_name", "所属类型", "Type"),
    export.Column("rectification_category_name", "整改类别", "Deadline category"),
    export.Column("responsible_leader", "责任领导", "Responsible leader"),
    export.Column("responsible_person", "责任人", "Responsible person"),
    export.Column("plan_measures", "整改措施", "Rectification measures"),
    export.Column("plan_due_date", "方案报送时限", "Plan due"),
    export.Column("due_date", "整改时限", "Due date"),
    export.Column("progress", "整改进度", "Progress"),
    export.Column("overdue", "是否逾期", "Overdue"),
    export.Column("listed", "挂牌督办", "Listed supervision"),
    export.Column("raised_at", "发现时间", "Raised at"),
    export.Column("submission_count", "提交次数", "Submissions"),
    export.Column("return_count", "退回次数", "Returns"),
    export.Column("reopen_count", "反弹次数", "Reopenings"),
    export.Column("last_submitted_at", "最近提交时间", "Last submitted at"),
    export.Column("verification_opinion", "验收意见", "Verification opinion"),
    export.Column("approved_by", "销号审批领导", "Close-out approved by"),
    export.Column("closed_at", "销号时间", "Closed at"),
    export.Column("closed_on_time", "是否按期整改", "Rectified on time"),
    export.Column("clues", "线索", "Clues"),
)


def router(runtime: ServiceRuntime, ctx: Context, export_max_rows: int) -> APIRouter:
    api = APIRouter(tags=["ledger"])

    def ledger_filter(
        unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)] = None,
        peer_group: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]*$")] = None,
        state: Annotated[list[RectificationState] | None, Query()] = None,
        severity: Severity | None = None,
        source: FindingSource | None = None,
        measure_type: FiveType | None = None,
        measure_code: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")] = None,
        inspection_id: Annotated[str | None, Query(pattern=ITEM_ID_PATTERN)] = None,
        overdue: bool | None = None,
        due_from: Day | None = None,
        due_to: Day | None = None,
        who: Principal = allow(*EVERYONE),
    ) -> LedgerFilter:
        """Every role may filter; a unit reporter's filter is always its own unit."""
        unit = who.scope(unit)
        if unit is not None and ctx.reference.unit(unit) is None:
            raise not_found(Reason.UNKNOWN_UNIT, unit)
        units = None if unit is None else [unit]
        if peer_group is not None:
            group = ctx.reference.units_of_peer_group(peer_group)
            if not group:
                raise not_found(RefusalCode.UNKNOWN_PEER_GROUP, peer_group)
            units = [u for u in group if units is None or u in units]
        return LedgerFilter(
            today=local_date(ctx.clock()),
            units=units,
            states=[s.value for s in state] if state else None,
            severity=severity.value if severity else None,
            source=source.value if source else None,
            measure_type=measure_type.value if measure_type else None,
            measure_code=measure_code,
            inspection_id=inspection_id,
            overdue=overdue,
            due_from=due_from,
            due_to=due_to,
        )

    Filter = Annotated[LedgerFilter, Depends(ledger_filter)]

    async def page(where: LedgerFilter, limit: int, offset: int) -> LedgerPage:
        async with runtime.db.session() as session:
            total, rows = await ledger_queries.ledger(session, where, limit, offset)
            items = await _views(session, rows, where, ctx)
        return LedgerPage(total=total, limit=limit, offset=offset, items=items)

    @api.get(
        "/ledger",
        summary="The ledger city-wide, of one unit (`unit`) or peer group, filtered, by deadline",
    )
    async def city_ledger(where: Filter, limit: Limit = 100, offset: Offset = 0) -> LedgerPage:
        return await page(where, limit, offset)

    @api.get(
        "/ledger/export",
        summary="The filtered ledger as a CSV or XLSX file, headers in the request's language",
        response_class=Response,
        responses={
            200: {"content": {"text/csv": {}, XLSX: {}}},
            422: PROBLEMS[422] | {"description": "export_too_large, unknown_unit, …"},
        },
    )
    async def export_ledger(
        request: Request,
        where: Filter,
        file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    ) -> Response:
        async with runtime.db.session() as session:
            total, rows = await ledger_queries.ledger(session, where, export_max_rows + 1, 0)
            if total > export_max_rows:
                raise problem(
                    Refusal(
                        RefusalCode.EXPORT_TOO_LARGE,
                        f"共 {total} 行，上限 {export_max_rows} 行",
                        f"{total} rows, limit {export_max_rows}",
                    )
                )
            items = await _views(session, rows, where, ctx)
        records = [item.export_row() for item in items]
        return download(
            LEDGER_COLUMNS,
            records,
            language(request),
            file_format,
            "整改台账",
            "ledger",
            where.today,
        )

    @api.get(
        "/ledger/summary",
        summary="Per unit: items by state and how many are overdue",
        dependencies=[allow(*READERS)],
    )
    async def ledger_summary() -> list[UnitLedgerSummary]:
        today = local_date(ctx.clock())
        async with runtime.db.session() as session:
            counts = await ledger_queries.summary(session, today)
        by_unit: dict[str, UnitLedgerSummary] = {}
        for unit, state, items, overdue in counts:
            entry = by_unit.setdefault(
                unit,
                UnitLedgerSummary(
                    unit=unit,
                    unit_name=ctx.reference.unit_name(unit),
                    total=0,
                    by_state={},
                    overdue=0,
                ),
            )
            entry.total += items
            entry.overdue += overdue
            entry.by_state[RectificationState(state)] = items
        return list(by_unit.values())

    @api.get("/journal", summary="The journal of every change, oldest first, after a cursor")
    async def journal(
        entity_type: Annotated[
            Literal[
                "inspection",
                "finding",
                "public_request",
                "supervisor",
                "suggestion",
                "listing",
                "interview",
                "accountability",
            ]
            | None,
            Query(),
        ] = None,
        entity_id: Annotated[str | None, Query(pattern=ITEM_ID_PATTERN)] = None,
        unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN)] = None,
        after_seq: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        who: Principal = allow(*EVERYONE),
    ) -> list[JournalEntryView]:
        async with runtime.db.session() as session:
            rows = await repository.journal(
                session, entity_type, entity_id, who.scope(unit), after_seq, limit
            )
        return [JournalEntryView.of(row) for row in rows]

    return api


async def _views(
    session: AsyncSession, rows: list[tuple[Finding, Inspection]], where: LedgerFilter, ctx: Context
) -> list[FindingView]:
    listed = await repository.listed_items(session, FINDING_ITEMS, (f.finding_id for f, _ in rows))
    return [
        FindingView.of(f, i, ctx.reference, where.today, f.finding_id in listed) for f, i in rows
    ]
