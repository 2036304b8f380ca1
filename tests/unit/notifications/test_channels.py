"""The channels' refusals and failures, without a server to talk to (the integration tests
cover real servers)."""

from datetime import UTC, datetime

from fivetype.ports import free_port
from services.notifications.adapters.channels import EmailSender, Outgoing, WebhookSender, scrub
from services.notifications.adapters.tables import Notification, Recipient
from services.notifications.domain.delivery import Outcome
from services.notifications.settings import NotificationsSettings

NOW = datetime(2026, 7, 1, tzinfo=UTC)


def outgoing(url: str | None, emails: list[str] | None = None) -> Outgoing:
    recipient = Recipient(
        code="360102:contact",
        role="contact",
        unit="360102",
        name="联络员",
        language="zh",
        emails=emails or [],
        webhook_url=url,
        webhook_secret="s" * 32,
        digest=False,
        active=True,
        created_at=NOW,
        updated_at=NOW,
    )
    notification = Notification(
        id="n-1",
        topic="deadline_missed",
        unit="360102",
        source_event_id="e-1",
        title_zh="标题",
        title_en="Title",
        body_zh="正文",
        body_en="Body",
        facts={},
        created_at=NOW,
    )
    return Outgoing("d-1", 1, recipient, notification)


def webhook(allow_private: bool) -> WebhookSender:
    settings = NotificationsSettings(
        webhook_allow_private_targets=allow_private, webhook_timeout_seconds=2
    )
    return WebhookSender(settings, lambda: NOW)


async def test_private_targets_are_refused_before_any_connection() -> None:
    for url in ("http://localhost:8080/h", "http://127.0.0.1/h", "http://[::1]/h"):
        result = await webhook(allow_private=False).send(outgoing(url))
        assert result.outcome is Outcome.REFUSED, url
        assert "refused" in (result.error or "")


async def test_an_endpoint_that_refuses_connections_is_worth_retrying() -> None:
    result = await webhook(allow_private=True).send(outgoing(f"http://127.0.0.1:{free_port()}/h"))
    assert result.outcome is Outcome.RETRYABLE
    assert (result.error or "").startswith("ConnectError")


async def test_email_without_a_server_configured_fails_for_good() -> None:
    sender = EmailSender(NotificationsSettings(smtp_host=""))
    result = await sender.send(outgoing(None, ["a@example.gov.cn"]))
    assert result.outcome is Outcome.PERMANENT
    assert result.error == "email is not configured (set FIVETYPE_NOTIFICATIONS_SMTP_HOST)"


def test_secrets_are_scrubbed_from_errors() -> None:
    assert (
        scrub("535 bad password hunter2-hunter2", ["hunter2-hunter2", ""]) == "535 bad password ***"
    )
