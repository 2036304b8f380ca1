"""Composition root of the scoring service."""

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from services.runtime.auth import AUTHENTICATED
from services.runtime.clock import clock_from
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import PROGRAMME_TZ
from services.scoring.adapters import programme_metrics as programme_metrics_adapter
from services.scoring.domain.incremental import Memory
from services.scoring.entrypoints import bus, http
from services.scoring.handlers.recompute import Recomputer
from services.scoring.handlers.rulebook import RuleBook
from services.scoring.settings import MIGRATIONS, ScoringSettings


def build(
    settings: ScoringSettings | None = None, clock: Callable[[], datetime] | None = None
) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or ScoringSettings()
    clock = clock or clock_from(settings.clock_file)
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
            memory=Memory(settings.recompute_memory_observations),
        ),
    )

    async def programme_metrics() -> None:
        async with runtime.db.session() as session:
            await programme_metrics_adapter.sample(session, clock().astimezone(PROGRAMME_TZ).year)

    runtime.every(settings.metrics_sample_seconds, "programme-metrics", programme_metrics)
    app = runtime.create_app("fivetype scoring service (考核评分服务)")
    app.include_router(http.router(runtime, book, settings, clock), dependencies=[AUTHENTICATED])
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
