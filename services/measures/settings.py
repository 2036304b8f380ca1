from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.measures.domain.catalogue import DEFAULT_CATALOGUE_PATH, DEFAULT_UNITS_PATH
from services.runtime.settings import ServiceSettings


class MeasuresSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_MEASURES_", extra="ignore")
    service_name = "measures"
    http_port: int = 8101
    catalogue_path: Path = DEFAULT_CATALOGUE_PATH
    units_path: Path = DEFAULT_UNITS_PATH
    # Reports dated this far ahead of our clock are still accepted (units' clocks drift).
    clock_skew_seconds: float = 300.0
