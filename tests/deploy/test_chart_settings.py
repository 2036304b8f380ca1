"""The chart speaks the services' language: every FIVETYPE_* variable it renders is a setting
the service reads (pydantic-settings would silently ignore any other), its values are ones the
settings accept, and values.schema.json offers exactly the settings an admin may set."""

import json
import os
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from services.inspections.settings import InspectionsSettings
from services.measures.settings import MeasuresSettings
from services.notifications.settings import NotificationsSettings
from services.runtime.settings import ServiceSettings
from services.scoring.settings import ScoringSettings
from tests.deploy.chart import (
    CHART,
    SERVICES,
    VARIANTS,
    Obj,
    deployment,
    environment,
    of_kind,
    render,
)

SETTINGS: dict[str, type[ServiceSettings]] = {
    "measures": MeasuresSettings,
    "inspections": InspectionsSettings,
    "scoring": ScoringSettings,
    "notifications": NotificationsSettings,
}
# Set by the chart from its own values (NATS, database and SMTP credentials from Secrets) ...
OWNED_BY_CHART = {
    "NATS_NKEY_FILE",
    "NATS_URL",
    "DATABASE_URL",
    "MIGRATE_ON_START",
    "HTTP_HOST",
    "HTTP_PORT",
    "METRICS_PORT",
    "STREAM_REPLICAS",
    "SHUTDOWN_GRACE_SECONDS",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "AUTH_SECRET",
    "AUTH_SECRET_FILE",
}
# ... and never set in a cluster: SQLite's folder, and the clocks fixed for tests and drills.
NOT_FOR_DEPLOYMENTS = {"DATA_DIR", "FIXED_NOW", "CLOCK_FILE"}
# Secrets the admin creates; the values only need to be ones the settings accept.
SECRETS = {
    "fivetype-database": {f"{s}-url": f"postgresql://fivetype@postgres:5432/{s}" for s in SERVICES},
    "nats-url": {"url": "nats://fivetype:secret@nats.messaging:4222"},
    "fivetype-smtp": {"username": "office", "password": "secret"},
    "fivetype-auth": {"secret": "0123456789abcdef0123456789abcdef"},
}


def setting_names(settings: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in settings.model_fields}


def containers(objects: list[Obj]) -> list[tuple[str, Obj]]:
    """(service, container) for the services' Deployments and migration Jobs."""
    found = []
    for o in of_kind(objects, "Deployment") + of_kind(objects, "Job"):
        for container in o["spec"]["template"]["spec"]["containers"]:
            found.append((container["command"][2], container))
    return found


def unread_variables(objects: list[Obj]) -> list[str]:
    """FIVETYPE_* variables that reach a container whose service has no such setting."""
    unread = []
    for service, container in containers(objects):
        env = environment(container, objects, SECRETS)
        for name in env:
            if not name.startswith("FIVETYPE_"):
                continue
            prefix = f"FIVETYPE_{service.upper()}_"
            if not name.startswith(prefix) or name.removeprefix(prefix) not in setting_names(
                SETTINGS[service]
            ):
                unread.append(f"{service}: {name}")
    return unread


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_variable_is_a_setting_its_service_reads(variant: str) -> None:
    objects = render(VARIANTS[variant])
    assert containers(objects), "no service containers rendered"
    assert unread_variables(objects) == []


def test_a_variable_no_service_reads_is_caught() -> None:
    stray = [
        {"name": "FIVETYPE_MEASURES_NO_SUCH_SETTING", "value": "1"},
        {"name": "FIVETYPE_SCORING_LOG_LEVEL", "value": "DEBUG"},  # another service's prefix
    ]
    objects = render({"services": {"measures": {"extraEnv": stray}}})
    assert unread_variables(objects) == [
        "measures: FIVETYPE_MEASURES_NO_SUCH_SETTING",
        "measures: FIVETYPE_SCORING_LOG_LEVEL",
    ]


def offered(schema: dict[str, Any], path: list[str]) -> set[str]:
    node = schema
    for key in path:
        node = node["properties"][key]
    return set(node["properties"]["settings"]["propertyNames"]["enum"])


def test_the_schema_offers_exactly_the_settings_an_admin_may_set() -> None:
    """When a service gains, loses or renames a setting, values.schema.json must follow."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    reserved = OWNED_BY_CHART | NOT_FOR_DEPLOYMENTS
    expected: dict[tuple[str, ...], set[str]] = {
        ("serviceDefaults",): setting_names(ServiceSettings) - reserved
    }
    for service, settings in SETTINGS.items():
        expected["services", service] = setting_names(settings) - reserved
    drift = []
    for path, names in expected.items():
        listed = offered(schema, list(path))
        if listed != names:
            where = ".".join(path)
            drift.append(
                f"{where}.settings: add {sorted(names - listed)}, drop {sorted(listed - names)}"
            )
    assert drift == [], "values.schema.json is out of date (make chart-schema): " + "; ".join(drift)
    # The reserved names are real settings, so this list cannot hide a typo.
    assert reserved <= set().union(*(setting_names(s) for s in SETTINGS.values()))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_services_accept_every_rendered_value(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render(VARIANTS[variant])
    for service in SERVICES:
        (container,) = deployment(objects, service)["spec"]["template"]["spec"]["containers"]
        env = environment(container, objects, SECRETS)
        with monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("FIVETYPE_")]:
                patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            settings = SETTINGS[service]()
        assert settings.http_host == "0.0.0.0"
        assert settings.database_url.startswith("postgresql://")
        assert settings.nats_url.startswith("nats://")
        assert "$(" not in settings.nats_url
