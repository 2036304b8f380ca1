"""Composition root of the notifications service.

The clock is injected here: `assemble(settings, clock=...)`, or read from `clock_file` (the
demo's programme clock). Every date the service reasons about (the ladder's working days, the
bulletins' periods, the digest hour, retry times) comes from it, so a test or a drill can move
time forward; production uses the system clock.
"""

import random
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from fastapi import FastAPI

from services.notifications.adapters.channels import EmailSender, WebhookSender
from services.notifications.adapters.dispatcher import Dispatcher, DispatchSettings
from services.notifications.domain.delivery import CircuitBreaker, RetryPolicy
from services.notifications.domain.escalation import LadderPolicy
from services.notifications.domain.items import load_items
from services.notifications.domain.routing import Channel
from services.notifications.domain.templates import load_templates
from services.notifications.entrypoints import bus, http, jobs
from services.notifications.handlers.common import Clock, Context
from services.notifications.settings import NotificationsSettings
from services.runtime.auth import AUTHENTICATED
from services.runtime.clock import clock_from
from services.runtime.service import ServiceRuntime
from services.runtime.workdays import load_calendar

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Service:
    runtime: ServiceRuntime
    app: FastAPI
    context: Context
    dispatcher: Dispatcher


def _dispatcher(
    runtime: ServiceRuntime, settings: NotificationsSettings, clock: Clock
) -> Dispatcher:
    timeout = timedelta(seconds=settings.webhook_timeout_seconds)
    return Dispatcher(
        runtime.db,
        {Channel.EMAIL: EmailSender(settings), Channel.WEBHOOK: WebhookSender(settings, clock)},
        DispatchSettings(
            concurrency=settings.delivery_concurrency,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            retry=RetryPolicy(
                base_seconds=settings.delivery_retry_base_seconds,
                max_seconds=settings.delivery_retry_max_seconds,
                max_attempts=settings.delivery_max_attempts,
            ),
        ),
        CircuitBreaker(
            threshold=settings.webhook_breaker_failures,
            cooldown=timedelta(seconds=settings.webhook_breaker_cooldown_seconds),
            trial_timeout=timeout * 2,
        ),
        clock,
        random.Random(),
    )


def assemble(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> Service:
    settings = settings or NotificationsSettings()
    clock = clock or clock_from(settings.clock_file)
    runtime = ServiceRuntime(settings, MIGRATIONS)
    context = Context(
        templates=load_templates(settings.templates_path),
        items=load_items(settings.items_path),
        clock=clock,
        calendar=load_calendar(settings.calendar_path),
        policy=LadderPolicy(
            supervision_after=settings.supervision_after_working_days,
            sign_within=settings.sign_within_working_days,
        ),
        cadence=settings.bulletin_cadence,
        routine=settings.routine_topics,
    )
    dispatcher = _dispatcher(runtime, settings, clock)
    bus.register(runtime.bus, context)

    async def deliveries() -> None:
        await dispatcher.dispatch()

    async def escalation() -> None:
        await jobs.escalate(runtime.db, context, runtime.relay.notify)

    async def bulletin() -> None:
        await jobs.issue_bulletin(runtime.db, context, runtime.relay.notify)

    async def digest() -> None:
        await jobs.send_digests(
            runtime.db, context, time(settings.digest_hour, settings.digest_minute)
        )

    runtime.every(settings.delivery_poll_seconds, "deliveries", deliveries)
    runtime.every(settings.escalation_sweep_seconds, "escalation", escalation)
    runtime.every(settings.bulletin_check_seconds, "bulletin", bulletin)
    runtime.every(settings.digest_check_seconds, "digest", digest)
    app = runtime.create_app("fivetype notifications service (通知督办服务)")
    app.include_router(http.router(runtime, context, settings), dependencies=[AUTHENTICATED])
    return Service(runtime, app, context, dispatcher)


def build(settings: NotificationsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    service = assemble(settings)
    return service.runtime, service.app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
