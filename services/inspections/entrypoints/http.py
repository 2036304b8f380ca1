"""HTTP routes of the inspections service, one module per area under `routes/`; they translate
requests into handler calls."""

from fastapi import APIRouter

from services.inspections.entrypoints.routes import (
    accountability,
    findings,
    ledger,
    public_requests,
    supervision,
)
from services.inspections.handlers.context import Context
from services.runtime.service import ServiceRuntime


def router(runtime: ServiceRuntime, ctx: Context, export_max_rows: int) -> APIRouter:
    api = APIRouter(prefix="/v1")
    api.include_router(findings.router(runtime, ctx))
    api.include_router(ledger.router(runtime, ctx, export_max_rows))
    api.include_router(public_requests.router(runtime, ctx))
    api.include_router(supervision.router(runtime, ctx))
    api.include_router(accountability.router(runtime, ctx))
    return api
