"""Composition root of the inspections service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from services.inspections.adapters import programme_metrics as programme_metrics_adapter
from services.inspections.domain.rectification import load_rules
from services.inspections.domain.reference import load_reference
from services.inspections.entrypoints import bus, http
from services.inspections.handlers import deadlines, indicators, reference
from services.inspections.handlers.context import Context
from services.inspections.settings import InspectionsSettings
from services.runtime.auth import AUTHENTICATED
from services.runtime.clock import clock_from
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import local_date

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: InspectionsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or InspectionsSettings()
    runtime = ServiceRuntime(settings, MIGRATIONS)
    seed = load_reference(settings.units_path, settings.catalogue_path)
    ctx = Context(
        reference=seed.merged([], None),  # a copy, refreshed in place; the seed stays as shipped
        clock=clock_from(settings.clock_file),
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
        suggestion_answer_days=settings.suggestion_answer_days,
        request_report_lag=timedelta(minutes=settings.request_report_lag_minutes),
        rules=load_rules(settings.rectification_rules_path),
    )
    grace = timedelta(hours=settings.indicators_grace_hours)

    async def sweep_deadlines() -> None:
        if await deadlines.sweep(runtime.db, ctx):
            runtime.relay.notify()

    async def publish_indicators() -> None:
        if await indicators.publish(runtime.db, ctx, grace):
            runtime.relay.notify()

    async def refresh_reference() -> None:
        today = local_date(ctx.clock())
        ctx.reference.replace_with(await reference.replicated(runtime.db, seed, today))

    async def programme_metrics() -> None:
        async with runtime.db.session() as session:
            await programme_metrics_adapter.sample(session, local_date(ctx.clock()))

    runtime.every(settings.reference_refresh_seconds, "reference-refresh", refresh_reference)
    runtime.every(settings.metrics_sample_seconds, "programme-metrics", programme_metrics)
    runtime.every(settings.deadline_sweep_seconds, "deadline-watcher", sweep_deadlines)
    runtime.every(settings.indicators_publish_seconds, "indicator-publisher", publish_indicators)
    bus.register(runtime.bus, ctx)
    app = runtime.create_app("fivetype inspections service (督查服务)")
    app.include_router(
        http.router(runtime, ctx, settings.export_max_rows), dependencies=[AUTHENTICATED]
    )
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
