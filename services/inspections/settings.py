from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class InspectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_INSPECTIONS_", extra="ignore")
    service_name = "inspections"
    http_port: int = 8102
