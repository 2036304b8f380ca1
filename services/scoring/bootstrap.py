"""Composition root of the scoring service."""

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from contracts.envelope import utcnow
from services.runtime.service import ServiceRuntime
from services.scoring.entrypoints import bus, http
from services.scoring.handlers import Recomputer
from services.scoring.rulebook import RuleBook
from services.scoring.settings import MIGRATIONS, ScoringSettings


def build(
    settings: ScoringSettings | None = None, clock: Callable[[], datetime] = utcnow
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or ScoringSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    book = RuleBook(office=settings.office_unit)
    bus.register(runtime.bus, clock)

    async def load_rubric_files() -> None:
        await book.load_files(runtime.db, settings.rubric_dir, clock)

    runtime.every(settings.rubric_reload_seconds, "scoring-rubric-files", load_rubric_files)
    runtime.every(
        settings.recompute_interval_seconds,
        "scoring-recompute",
        Recomputer(
            runtime.db,
            book,
            clock,
            runtime.relay.notify,
            units_per_run=settings.recompute_units_per_run,
            pace=settings.recompute_pace,
        ),
    )
    app = runtime.create_app("fivetype scoring service (考核评分服务)")
    app.include_router(http.router(runtime, book, settings, clock))
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
