from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_SCORING_", extra="ignore")
    service_name = "scoring"
    http_port: int = 8103
