"""Composition root of the measures service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from contracts.envelope import utcnow
from services.measures import handlers
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.entrypoints import bus, http
from services.measures.settings import MeasuresSettings
from services.runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: MeasuresSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or MeasuresSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    intake = handlers.Intake(
        catalogue=load_catalogue(settings.catalogue_path),
        units=load_units(settings.units_path),
        clock=utcnow,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
    )
    bus.register(runtime.bus, intake)
    app = runtime.create_app("fivetype measures service (举措清单服务)")
    app.include_router(http.router(runtime, intake))
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
