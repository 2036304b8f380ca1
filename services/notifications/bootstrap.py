"""Composition root of the notifications service."""

from pathlib import Path

from fastapi import FastAPI

from services.notifications.entrypoints import bus, http
from services.notifications.settings import NotificationsSettings
from services.runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: NotificationsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or NotificationsSettings(), MIGRATIONS)
    bus.register(runtime.bus)
    app = runtime.create_app("fivetype notifications service (通知督办服务)")
    app.include_router(http.router(runtime))
    return runtime, app


def main() -> None:
    runtime, app = build()
    runtime.serve(app)
