from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.inspections.domain.rectification import DEFAULT_RULES_PATH
from services.inspections.domain.reference import DEFAULT_CATALOGUE_PATH, DEFAULT_UNITS_PATH
from services.runtime.settings import ServiceSettings


class InspectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_INSPECTIONS_", extra="ignore")
    service_name = "inspections"
    http_port: int = 8102
    # The office's shipped directory and catalogue seed the replica of what measures publishes.
    units_path: Path = DEFAULT_UNITS_PATH
    catalogue_path: Path = DEFAULT_CATALOGUE_PATH
    reference_refresh_seconds: float = 10.0
    # Tests and drills only: read "now" from this file (see services/runtime/clock.py).
    clock_file: Path | None = None
    # Steps from a channel dated this far ahead of our clock are still accepted (clocks drift).
    clock_skew_seconds: float = 300.0
    deadline_sweep_seconds: float = 60.0
    # A public request is reported overdue this long after its limit (channels report late).
    request_report_lag_minutes: float = 60.0
    indicators_publish_seconds: float = 300.0
    # A month's indicators are published this long after it ends, so late steps still count.
    indicators_grace_hours: float = 24.0
    suggestion_answer_days: int = 30
    # The office's time limits of the rectification loop (categories, plan, verification).
    rectification_rules_path: Path = DEFAULT_RULES_PATH
    export_max_rows: int = 100_000
