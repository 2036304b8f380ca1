"""The push channels: email over SMTP and signed webhooks over HTTP. Each attempt returns an
AttemptResult (never raises); the dispatcher scrubs its error of the secrets each sender names
before anything is logged or stored."""

import asyncio
import json
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol
from urllib.parse import urlunsplit

import httpx

from services.notifications.adapters.tables import Notification, Recipient
from services.notifications.domain.addresses import (
    IPAddress,
    literal_address,
    parse_webhook_url,
    redacted,
    refusal_for_addresses,
    refusal_for_host,
)
from services.notifications.domain.delivery import (
    AttemptResult,
    Outcome,
    http_outcome,
    retry_after_seconds,
)
from services.notifications.domain.routing import Channel, Reachable
from services.notifications.domain.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from services.notifications.settings import NotificationsSettings

USER_AGENT = "fivetype-notifications/1.0"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Outgoing:
    delivery_key: str
    attempt: int
    recipient: Recipient
    notification: Notification


class Sender(Protocol):
    def endpoint(self, recipient: Recipient) -> str:
        """The endpoint a circuit breaker guards (no secrets: it is logged)."""
        ...

    def secrets(self, recipient: Recipient) -> list[str]:
        """Values that must never reach a log or the delivery log."""
        ...

    async def send(self, message: Outgoing) -> AttemptResult: ...


def reachable(recipient: Recipient) -> set[Channel]:
    return Reachable(bool(recipient.emails), bool(recipient.webhook_url)).channels()


def delivery_target(recipient: Recipient, channel: Channel) -> str:
    """Where a delivery goes, as the delivery log shows it (never a secret)."""
    if channel is Channel.EMAIL:
        return ", ".join(recipient.emails)
    if channel is Channel.WEBHOOK and recipient.webhook_url:
        return redacted(recipient.webhook_url)
    return f"inbox:{recipient.code}"


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:MAX_ERROR_CHARS]


def _language(recipient: Recipient) -> str:
    return "en" if recipient.language == "en" else "zh"


# ------------------------------------------------------------------------------------ email


class EmailSender:
    def __init__(self, settings: NotificationsSettings):
        self.settings = settings

    def endpoint(self, recipient: Recipient) -> str:
        return f"smtp://{self.settings.smtp_host}:{self.settings.smtp_port}"

    def secrets(self, recipient: Recipient) -> list[str]:
        return [self.settings.smtp_password.get_secret_value()]

    def message(self, outgoing: Outgoing) -> EmailMessage:
        notification, language = outgoing.notification, _language(outgoing.recipient)
        email = EmailMessage()
        email["Subject"] = notification.title_en if language == "en" else notification.title_zh
        email["From"] = self.settings.smtp_sender
        email["To"] = ", ".join(outgoing.recipient.emails)
        email["Date"] = formatdate(localtime=False)
        # The same id on every attempt, so a mail system that got it before can drop a repeat.
        email["Message-ID"] = f"<{outgoing.delivery_key}@notifications.fivetype>"
        email["Auto-Submitted"] = "auto-generated"
        email["X-Fivetype-Topic"] = notification.topic
        email.set_content(notification.body_en if language == "en" else notification.body_zh)
        return email

    async def send(self, message: Outgoing) -> AttemptResult:
        if not self.settings.smtp_host:
            return AttemptResult(
                Outcome.PERMANENT,
                error="email is not configured (set FIVETYPE_NOTIFICATIONS_SMTP_HOST)",
            )
        email = self.message(message)
        try:
            refused = await asyncio.to_thread(self._send, email, list(message.recipient.emails))
        except smtplib.SMTPRecipientsRefused as exc:
            return self._failed(Outcome.PERMANENT, exc)
        except smtplib.SMTPResponseException as exc:
            outcome = Outcome.PERMANENT if exc.smtp_code >= 500 else Outcome.RETRYABLE
            return self._failed(outcome, exc)
        except (OSError, smtplib.SMTPException) as exc:
            return self._failed(Outcome.RETRYABLE, exc)
        if refused:  # delivered to the others; retrying would not change the server's mind
            listed = "; ".join(
                f"{a}: {code} {text.decode(errors='replace')}"
                for a, (code, text) in refused.items()
            )
            return AttemptResult(Outcome.DELIVERED, error=f"refused by the server: {listed}")
        return AttemptResult(Outcome.DELIVERED)

    @staticmethod
    def _failed(outcome: Outcome, exc: Exception) -> AttemptResult:
        code = getattr(exc, "smtp_code", None)
        return AttemptResult(outcome, status_code=code, error=f"{type(exc).__name__}: {exc}")

    def _send(self, email: EmailMessage, to: list[str]) -> dict[str, tuple[int, bytes]]:
        """Send; the addresses the server refused (when it accepted some)."""
        settings = self.settings
        timeout = settings.smtp_timeout_seconds
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            return smtp.send_message(
                email, from_addr=parseaddr(settings.smtp_sender)[1], to_addrs=to
            )


# ---------------------------------------------------------------------------------- webhook


def webhook_body(message: Outgoing) -> bytes:
    """The JSON a webhook receives; the same bytes on every attempt of a delivery."""
    notification = message.notification
    document = {
        "delivery_id": message.delivery_key,
        "notification_id": notification.id,
        "topic": notification.topic,
        "unit": notification.unit,
        "severity": notification.severity,
        "recipient": message.recipient.code,
        "title": {"zh": notification.title_zh, "en": notification.title_en},
        "body": {"zh": notification.body_zh, "en": notification.body_en},
        "facts": notification.facts,
        "source_event_id": notification.source_event_id,
        "created_at": notification.created_at.isoformat(),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


async def resolve(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = literal_address(str(info[4][0]).split("%")[0])
        if address is not None and address not in found:
            found.append(address)
    return found


class WebhookSender:
    def __init__(self, settings: NotificationsSettings, clock: Callable[[], datetime]):
        # httpx logs every request's full URL at INFO, query string (and any token in it) too.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # Loading the CA store costs more than a request to a nearby endpoint: do it once.
        self.tls = ssl.create_default_context()
        self.timeout = settings.webhook_timeout_seconds
        self.allow_private = settings.webhook_allow_private_targets
        self.clock = clock

    def endpoint(self, recipient: Recipient) -> str:
        return redacted(recipient.webhook_url or "")

    def secrets(self, recipient: Recipient) -> list[str]:
        return [recipient.webhook_secret or ""]

    async def send(self, message: Outgoing) -> AttemptResult:
        recipient = message.recipient
        if not recipient.webhook_url or not recipient.webhook_secret:
            return AttemptResult(Outcome.PERMANENT, error="the recipient has no signed webhook")
        try:
            parts = parse_webhook_url(recipient.webhook_url)
        except ValueError as exc:
            return AttemptResult(Outcome.REFUSED, error=str(exc))
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        refusal = refusal_for_host(host, self.allow_private)
        if refusal is not None:
            return AttemptResult(Outcome.REFUSED, error=refusal)
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            return AttemptResult(Outcome.RETRYABLE, error=f"could not resolve {host}: {exc}")
        refusal = refusal_for_addresses(host, addresses, self.allow_private)
        if refusal is not None:
            return AttemptResult(Outcome.REFUSED, error=refusal)
        body = webhook_body(message)
        headers = self._headers(message, body, parts.netloc)
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        result = AttemptResult(Outcome.RETRYABLE, error=f"could not connect to {host}")
        # Connect to the addresses just checked, not to whatever the name resolves to next;
        # one that refuses the connection gives way to the next (IPv6 and IPv4, say).
        for address in addresses:
            netloc = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
            pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
            try:
                return await self._post(pinned, body, headers, extensions)
            except httpx.ConnectError as exc:
                result = AttemptResult(Outcome.RETRYABLE, error=f"ConnectError: {exc}")
        return result

    def _headers(self, message: Outgoing, body: bytes, netloc: str) -> dict[str, str]:
        timestamp = int(self.clock().timestamp())
        return {
            "Host": netloc,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(message.recipient.webhook_secret or "", timestamp, body),
            IDEMPOTENCY_HEADER: message.delivery_key,
            "Fivetype-Delivery-Attempt": str(message.attempt),
            "Fivetype-Topic": message.notification.topic,
        }

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], extensions: dict[str, str]
    ) -> AttemptResult:
        """One POST; raises httpx.ConnectError when no connection could be made."""
        try:
            async with httpx.AsyncClient(
                verify=self.tls, timeout=self.timeout, follow_redirects=False, trust_env=False
            ) as client:
                response = await client.post(
                    url, content=body, headers=headers, extensions=extensions
                )
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException:
            return AttemptResult(Outcome.RETRYABLE, error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return AttemptResult(Outcome.RETRYABLE, error=f"{type(exc).__name__}: {exc}")
        outcome = http_outcome(response.status_code)
        if outcome is Outcome.DELIVERED:
            return AttemptResult(outcome, status_code=response.status_code)
        return AttemptResult(
            outcome,
            status_code=response.status_code,
            error=f"HTTP {response.status_code}: {response.text[:200]}",
            retry_after_seconds=retry_after_seconds(response.headers.get("retry-after")),
        )
