from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.notifications.domain.bulletin import Cadence
from services.notifications.domain.items import DEFAULT_ITEMS_PATH
from services.notifications.domain.templates import DEFAULT_TEMPLATES_PATH
from services.notifications.domain.topics import DEFAULT_ROUTINE, Topic
from services.runtime.settings import ServiceSettings
from services.runtime.workdays import DEFAULT_CALENDAR_PATH


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FIVETYPE_NOTIFICATIONS_", extra="ignore")
    service_name = "notifications"
    http_port: int = 8104

    templates_path: Path = DEFAULT_TEMPLATES_PATH
    items_path: Path = DEFAULT_ITEMS_PATH  # the names of the kinds of deadline items
    calendar_path: Path = DEFAULT_CALENDAR_PATH
    # For tests and drills (the demo's programme clock) only: "now" is read from this file on
    # every use (services/runtime/clock.py), so a drill moves time by rewriting it.
    clock_file: Path | None = None

    # The escalation ladder: notice (催办) on DeadlineMissed, then a supervision order (督办)
    # this many working days later unless the item was completed. A notice not signed for (签收)
    # within `sign_within_working_days` gets one reminder to sign.
    supervision_after_working_days: int = Field(default=3, ge=1, le=60)
    sign_within_working_days: int = Field(default=1, ge=1, le=60)
    escalation_sweep_seconds: float = Field(default=300.0, gt=0)

    # The periodic 通报: a bulletin of the items still overdue at the end of each period, issued
    # on the first working day after it, to every unit and the city leaders.
    bulletin_cadence: Cadence = Cadence.WEEKLY
    bulletin_check_seconds: float = Field(default=300.0, gt=0)

    # The delivery queue (email and webhook), worked in the background.
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    delivery_concurrency: int = Field(default=32, ge=1, le=512)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    delivery_retry_base_seconds: float = Field(default=30.0, gt=0)
    delivery_retry_max_seconds: float = Field(default=3600.0, gt=0)
    delivery_lease_seconds: float = Field(default=120.0, gt=0)

    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Refuse webhook targets on private, loopback, link-local and other non-public addresses
    # (SSRF). Turn off only where integrators really live on a private network.
    webhook_allow_private_targets: bool = False
    webhook_breaker_failures: int = Field(default=5, ge=1)
    webhook_breaker_cooldown_seconds: float = Field(default=60.0, gt=0)

    # Email over SMTP; an empty host means email is not configured (deliveries fail, logged).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_sender: str = "五型办 <noreply@fivetype.invalid>"
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)

    # Routine topics: a recipient who prefers a digest (the office does by default) gets them
    # only in its daily digest, on every channel including the inbox; other topics arrive one by
    # one (in the inbox at once; by email and webhook at once only if urgent).
    routine_topics: frozenset[Topic] = DEFAULT_ROUTINE

    # The daily digest goes out at this local time (China Standard Time).
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_minute: int = Field(default=30, ge=0, le=59)
    digest_check_seconds: float = Field(default=300.0, gt=0)
