from pathlib import Path

from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.measures.domain.catalogue import DATA_DIR, DEFAULT_UNITS_PATH
from services.runtime.settings import ServiceSettings
from services.runtime.workdays import DEFAULT_CALENDAR_PATH


class MeasuresSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_MEASURES_", extra="ignore")
    service_name = "measures"
    http_port: int = 8101
    # The shipped data that seeds an empty database: every <year>.yaml in the catalogue folder,
    # the unit directory, and the platform's shared holiday file.
    catalogue_dir: Path = DATA_DIR / "catalogue"
    calendar_path: Path = DEFAULT_CALENDAR_PATH
    units_path: Path = DEFAULT_UNITS_PATH
    # Reports dated this far ahead of our clock are still accepted (units' clocks drift).
    clock_skew_seconds: float = 300.0
    # How often the reference data is checked: a replica from a newer image seeds the years it adds.
    seed_check_seconds: float = 3600.0

    # The deadline watcher: how often it sweeps, how many milestones one transaction handles
    # (small enough that SQLite's single writer is not held for long), and how many days
    # before a deadline it reminds (each offset once).
    deadline_sweep_seconds: float = 60.0
    deadline_batch_size: int = Field(default=500, ge=1)
    reminder_offsets_days: list[int] = Field(default=[7, 3, 1])

    # Traffic lights: "due soon" window and how far behind the expected curve is still green.
    status_warn_days: int = Field(default=7, ge=0)
    status_tolerance_percent: float = Field(default=10.0, ge=0, le=100)

    # For tests and demonstrations only: the service's "now" is fixed at this instant (the
    # watcher, intake's future-date check and the traffic lights all read it). Never set it in
    # production.
    fixed_now: AwareDatetime | None = None
    # For tests and drills (the demo's programme clock) only: "now" is read from this file on
    # every use (services/runtime/clock.py), so a drill moves time by rewriting it.
    clock_file: Path | None = None

    @field_validator("reminder_offsets_days")
    @classmethod
    def _offsets(cls, offsets: list[int]) -> list[int]:
        if any(o < 0 for o in offsets):
            raise ValueError("reminder offsets are days before the deadline, 0 or more")
        return sorted(set(offsets), reverse=True)
