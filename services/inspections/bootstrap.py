"""Composition root of the inspections service."""

from pathlib import Path

from fastapi import FastAPI

from contracts.envelope import utcnow
from services.inspections.entrypoints import http
from services.inspections.settings import InspectionsSettings
from services.runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: InspectionsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or InspectionsSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    app = runtime.create_app("fivetype inspections service (督查服务)")
    app.include_router(http.router(runtime, clock=utcnow))
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
