"""Composition root of the scoring service."""

from pathlib import Path

from fastapi import FastAPI

from services.runtime.service import ServiceRuntime
from services.scoring.entrypoints import bus, http
from services.scoring.settings import ScoringSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: ScoringSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or ScoringSettings(), MIGRATIONS)
    bus.register(runtime.bus)
    app = runtime.create_app("fivetype scoring service (考核评分服务)")
    app.include_router(http.router(runtime))
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
