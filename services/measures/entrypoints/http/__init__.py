"""HTTP API of the measures service (/v1): routes only translate requests into handler calls."""

from fastapi import APIRouter

from services.measures.entrypoints.http import assignments, progress, reference, status
from services.measures.handlers.common import Context
from services.measures.settings import MeasuresSettings
from services.runtime.service import ServiceRuntime


def router(runtime: ServiceRuntime, ctx: Context, settings: MeasuresSettings) -> APIRouter:
    api = APIRouter(prefix="/v1")
    api.include_router(progress.router(runtime, ctx))
    api.include_router(assignments.router(runtime, ctx, settings))
    api.include_router(status.router(runtime, ctx, settings))
    api.include_router(reference.router(runtime, ctx))
    return api
