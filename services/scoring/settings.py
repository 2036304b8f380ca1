from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings
from services.scoring.handlers.rulebook import DEFAULT_RUBRIC_DIR

MIGRATIONS = Path(__file__).parent / "migrations"


class ScoringSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_SCORING_", extra="ignore")
    service_name = "scoring"
    http_port: int = 8103
    rubric_dir: Path = DEFAULT_RUBRIC_DIR
    # How often rubric files are checked for changes (an edited file is validated, then used).
    rubric_reload_seconds: float = 30.0
    # How often marked units are rescored; under load a run also waits `recompute_pace` times
    # as long as the previous run took, which is what coalesces ScoreUpdated events.
    recompute_interval_seconds: float = 1.0
    recompute_pace: float = 1.0
    recompute_units_per_run: int = 200
    # What the recompute job keeps of the last scoring of recently scored units, in observations
    # (about 2.5 kB each): a unit scored again derives only what its new facts change. 20,000
    # took the process to 198 MB of its 200 MB budget (docs/performance.md).
    recompute_memory_observations: int = 10_000
    # Closing a period first waits this long for scoring to catch up with the event stream.
    close_wait_seconds: float = 10.0
    office_unit: str = "office"
    # For drills such as the demo: the programme clock, a file holding one ISO 8601 instant
    # (services/runtime/clock.py), so a 公示 ends in programme working days.
    clock_file: Path | None = None
