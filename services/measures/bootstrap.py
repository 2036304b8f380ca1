"""Composition root of the measures service."""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from contracts.envelope import utcnow
from services.measures.adapters import programme_metrics as programme_metrics_adapter
from services.measures.adapters.reference import ReferenceStore
from services.measures.domain.calendar import shipped_calendar_years
from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.entrypoints import bus, http
from services.measures.handlers import reference, watcher
from services.measures.handlers.common import Context
from services.measures.settings import MeasuresSettings
from services.runtime import operations
from services.runtime.auth import AUTHENTICATED
from services.runtime.clock import FileClock
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date

MIGRATIONS = Path(__file__).parent / "migrations"

log = structlog.get_logger()


class MeasuresRuntime(ServiceRuntime):
    """The runtime, ready only once the reference data is in the database: intake without the
    unit directory would refuse every report."""

    def __init__(self, settings: MeasuresSettings):
        super().__init__(settings, MIGRATIONS)
        self.seeded = asyncio.Event()

    async def readiness(self) -> operations.Readiness:
        state = await super().readiness()
        return replace(state, checks={**state.checks, "reference_data": self.seeded.is_set()})


def shipped(settings: MeasuresSettings) -> reference.Shipped:
    return reference.Shipped(
        units=load_units(settings.units_path),
        catalogues=tuple(load_catalogue(p) for p in sorted(settings.catalogue_dir.glob("*.yaml"))),
        calendars=tuple(shipped_calendar_years(settings.calendar_path)),
    )


def clock_of(settings: MeasuresSettings) -> Callable[[], datetime]:
    fixed = settings.fixed_now
    if settings.clock_file is not None:
        log.warning(
            "the clock is read from a file; this is for drills only", path=str(settings.clock_file)
        )
        return FileClock(settings.clock_file)
    if fixed is None:
        return utcnow
    log.warning("the clock is fixed; this is for tests only", now=fixed.isoformat())
    return lambda: fixed


def build(settings: MeasuresSettings | None = None) -> tuple[MeasuresRuntime, FastAPI]:
    settings = settings or MeasuresSettings()
    runtime = MeasuresRuntime(settings)
    ctx = Context(
        store=ReferenceStore(),
        clock=clock_of(settings),
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        reminder_offsets=tuple(settings.reminder_offsets_days),
    )
    data = shipped(settings)  # read at start, so a broken data file stops the service early

    async def seed() -> None:
        for attempt in (1, 2):
            try:
                async with runtime.db.session() as session, session.begin():
                    await reference.seed(session, ctx, data)
                break
            except IntegrityError:  # another replica seeded between our read and our write
                if attempt == 2:
                    raise
        runtime.seeded.set()

    async def sweep() -> None:
        swept = await watcher.sweep(runtime.db, ctx, settings.deadline_batch_size)
        if swept.reminded or swept.missed:
            runtime.relay.notify()
            log.info("deadline sweep", reminded=swept.reminded, missed=swept.missed)

    async def programme_metrics() -> None:
        async with runtime.db.session() as session:
            await programme_metrics_adapter.sample(session, local_date(ctx.clock()))

    runtime.every(settings.seed_check_seconds, "reference-seed", seed)
    runtime.every(settings.metrics_sample_seconds, "programme-metrics", programme_metrics)
    runtime.every(settings.deadline_sweep_seconds, "deadline-watcher", sweep)
    bus.register(runtime.bus, ctx)
    app = runtime.create_app("fivetype measures service (举措清单服务)")
    app.include_router(http.router(runtime, ctx, settings), dependencies=[AUTHENTICATED])
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
