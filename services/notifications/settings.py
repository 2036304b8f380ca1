from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_NOTIFICATIONS_", extra="ignore")
    service_name = "notifications"
    http_port: int = 8104
