"""Settings every service reads from its environment (one prefix per service, e.g.
FIVETYPE_MEASURES_NATS_URL) with defaults that run the embedded stack on one machine."""

import uuid
from pathlib import Path
from typing import ClassVar, Literal, TypedDict
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import permissions
from services.runtime.tokens import shared_auth_secret

# A service whose HTTP port another process holds exits with this status (errno EADDRINUSE), so
# that whoever started it can tell "choose another port" from a failure worth reporting.
EXIT_PORT_TAKEN = 98
METRICS_OFFSET = 1000  # a service's metrics port, unless set: its HTTP port + 1000

# How a shutdown spends its grace period, in order; the shares sum to less than one.
GRACE_SHARES = {"http": 0.2, "consumers": 0.4, "outbox": 0.25, "jobs": 0.1}


def without_credentials(url: str) -> str:
    """A URL fit for logs: nats://user:secret@host:4222 -> nats://***@host:4222."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS_URL that names a cluster as a comma-separated list
    (nats://a:4222,nats://b:4222): nats-py takes a list, and refuses the string whole."""
    return [server.strip() for server in url.split(",") if server.strip()]


class NatsAuth(TypedDict):
    inbox_prefix: str
    nkeys_seed: str | None


def nats_auth(service: str, nkey_file: Path | None) -> NatsAuth:
    """nats-py connect options of a service: its inbox prefix (its permissions let it hear
    replies only there) and, if given, the file holding its nkey seed. nats-py reads the seed
    from the file when it connects, so the secret never passes through settings or logs."""
    return NatsAuth(
        inbox_prefix=permissions.service_inbox(service),
        nkeys_seed=None if nkey_file is None else str(nkey_file),
    )


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    service_name: ClassVar[str]

    nats_url: str = "nats://127.0.0.1:4222"
    # The service's NATS nkey seed file (`fivetype nats` creates it); unset: no nkey.
    nats_nkey_file: Path | None = None
    database_url: str = ""  # empty: a SQLite file <data_dir>/<service>.db
    data_dir: Path = Path("data")
    migrate_on_start: bool = True

    # Who answers /healthz: tells this process from another on the same port (the embedded
    # stack sets one per start); random unless set.
    instance_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    http_host: str = "127.0.0.1"
    http_port: int = 8100
    # /metrics is served here, apart from the API (unset: the HTTP port + 1000).
    metrics_port: int | None = None
    max_request_bytes: int = 256 * 1024
    # Requests per client (token subject, else address) in a moving window; 0 turns it off.
    rate_limit: str = "600/minute"
    http_keep_alive_seconds: int = 5
    http_limit_concurrency: int = 200  # beyond this uvicorn answers 503 instead of queueing

    # The key that verifies bearer tokens: an HS256 secret, or a PEM public key (RS256/ES256).
    # From the environment or a file (a mounted Kubernetes secret); never logged (SecretStr).
    # FIVETYPE_AUTH_SECRET / FIVETYPE_AUTH_SECRET_FILE serve all four services at once.
    auth_secret: SecretStr | None = None
    auth_secret_file: Path | None = None

    # The secret the audit journal's key is derived from (services/runtime/audit.py); unset: the
    # auth secret, unless that is a public key. Kept out of the database by design.
    audit_secret: SecretStr | None = None
    audit_secret_file: Path | None = None
    audit_checkpoint_seconds: float = 2.0  # how often the journal's head is anchored in NATS

    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"

    stream_replicas: int = 1
    consumer_batch_size: int = 100
    # How long the server's answer to a pull is waited for beyond the pull's own expiry.
    consumer_batch_timeout_seconds: float = 0.2
    consumer_max_deliver: int = 8
    consumer_ack_wait_seconds: float = 30.0
    retry_base_delay_seconds: float = 1.0
    max_message_bytes: int = 256 * 1024

    outbox_poll_seconds: float = 1.0
    outbox_batch_size: int = 500
    outbox_retention_hours: float = 24.0

    shutdown_grace_seconds: float = 20.0  # the whole shutdown, split by GRACE_SHARES
    metrics_sample_seconds: float = 15.0  # how often consumer lag is read from the server

    def auth_key(self) -> str | None:
        """The verification key: this service's own setting first, then the shared one."""
        if self.auth_secret is not None:
            return self.auth_secret.get_secret_value()
        if self.auth_secret_file is not None:
            return self.auth_secret_file.read_text().strip()
        return shared_auth_secret()

    def audit_secret_value(self) -> str | None:
        """The audit secret: its own setting, else the auth secret if it is one (an HS256
        secret; a PEM public key is no secret)."""
        if self.audit_secret is not None:
            return self.audit_secret.get_secret_value()
        if self.audit_secret_file is not None:
            return self.audit_secret_file.read_text().strip()
        key = self.auth_key()
        return None if key is None or key.startswith("-----BEGIN") else key

    @property
    def nats_options(self) -> NatsAuth:
        return nats_auth(self.service_name, self.nats_nkey_file)

    @property
    def resolved_metrics_port(self) -> int:
        if self.metrics_port is not None:
            return self.metrics_port
        return self.http_port + METRICS_OFFSET

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"
