"""The push channels against real servers: signed webhooks to a local HTTP server that fails on
purpose (retries with backoff, the circuit breaker, a hung endpoint that holds up nothing else),
and email to a real SMTP server (aiosmtpd, with authentication). Events arrive over a real
nats-server; the database is SQLite and PostgreSQL. The tests share one service."""

import asyncio
import email
import email.policy
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from contracts.envelope import utcnow
from contracts.inspections import FindingRaised, InspectionKind, Severity
from fivetype.ports import free_port
from services.notifications.domain.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from tests.conftest import Databases, eventually_async, start_nats
from tests.integration.test_notifications_support import (
    OffsetClock,
    Receiver,
    publish,
    receiving,
    serving,
    settings,
    unit,
)

# The test's SMTP server asks for a password over plain text on loopback, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SECRET = "channels-test-secret-fedcba9876543210"
SMTP_USER, SMTP_PASSWORD = "fivetype", "smtp-password-never-shown-42"
UNITS = ["360102", "360103", "360104", "360111", "360112", "360113", "360121", "360123", "360124"]


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts and refuses recipients named refuse@…"""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("refuse@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        self.messages.append(message)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    valid = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=valid, handled=False)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


class Lines(logging.Handler):
    """Every log line the service writes, as its formatter renders it."""

    def __init__(self, formatter: logging.Formatter | None):
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    api: httpx.AsyncClient
    nats_url: str
    receiver: Receiver
    mailbox: Mailbox
    logs: Lines

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.api.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def deliveries(self, recipient: str, channel: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.json(
            "/v1/deliveries", recipient=recipient, channel=channel
        )
        return found

    async def settled(self, recipient: str, channel: str, status: str) -> list[dict[str, Any]]:
        found = await self.deliveries(recipient, channel)
        return found if found and all(d["status"] == status for d in found) else []


# Short, so that a hung send outlives its lease within a test.
LEASE_SECONDS = 1.0


@pytest.fixture(scope="module")
async def world(
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
    mailbox: tuple[Mailbox, int],
) -> AsyncIterator[World]:
    directory: Path = tmp_path_factory.mktemp("notifications-channels")
    server = start_nats(directory)
    handler, smtp_port = mailbox
    handler.messages.clear()  # the SMTP server outlives one database backend's run
    config = settings(
        server.url,
        module_databases.url("notifications"),
        webhook_allow_private_targets=True,  # the test's receiver is on loopback
        delivery_retry_base_seconds=0.05,
        delivery_retry_max_seconds=0.2,
        delivery_max_attempts=5,
        delivery_lease_seconds=LEASE_SECONDS,
        webhook_breaker_failures=3,
        webhook_breaker_cooldown_seconds=3,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security="none",
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
    )
    try:
        async with receiving() as receiver, serving(config, OffsetClock()) as (_service, api):
            root = logging.getLogger()
            logs = Lines(root.handlers[0].formatter if root.handlers else None)
            root.addHandler(logs)
            world = World(api, server.url, receiver, handler, logs)
            for code in UNITS:
                await publish(server.url, unit(code, f"单位{code}", "county"))
            await eventually_async(lambda: _units_known(world))
            yield world
            root.removeHandler(logs)
    finally:
        server.stop()


async def _units_known(world: World) -> bool:
    return len(await world.json("/v1/units")) == len(UNITS)


def finding(unit_code: str, finding_id: str) -> FindingRaised:
    return FindingRaised(
        finding_id=finding_id,
        inspection_id="insp-9",
        unit=unit_code,
        unit_name=f"单位{unit_code}",
        finding_title=f"问题{finding_id}",
        severity=Severity.GENERAL,
        due_date=date(2026, 12, 31),
        inspection_title="营商环境专项督查",
        inspection_kind=InspectionKind.SPECIAL,
        inspector="督查二组",
        evidence=[],
        raised_at=utcnow(),
    )


async def configure(world: World, unit_code: str, **channels: Any) -> str:
    code = f"{unit_code}:contact"
    body = {"role": "contact", "unit": unit_code, "name": f"单位{unit_code}联络员", **channels}
    response = await world.api.put(f"/v1/recipients/{code}", json=body)
    assert response.status_code == 200, response.text
    return code


def webhook(world: World, path: str) -> dict[str, str]:
    return {"url": world.receiver.url(path), "secret": SECRET}


async def test_webhook_requests_are_signed_and_verifiable(world: World) -> None:
    recipient = await configure(world, "360102", webhook=webhook(world, "/signed"))
    await publish(world.nats_url, finding("360102", "f-1"))
    delivered = await eventually_async(lambda: world.settled(recipient, "webhook", "delivered"))

    [(headers, body)] = world.receiver.to("/signed")
    assert verify(
        SECRET,
        headers[TIMESTAMP_HEADER.lower()],
        headers[SIGNATURE_HEADER.lower()],
        body,
        time.time(),
    )
    tampered = body.replace(b"f-1", b"f-2")
    assert not verify(
        SECRET,
        headers[TIMESTAMP_HEADER.lower()],
        headers[SIGNATURE_HEADER.lower()],
        tampered,
        time.time(),
    )
    assert headers[IDEMPOTENCY_HEADER.lower()] == delivered[0]["key"]
    assert headers["host"] == f"127.0.0.1:{world.receiver.port}"
    document = world.receiver.bodies("/signed")[0]
    assert (document["topic"], document["recipient"]) == ("finding_raised", recipient)
    assert document["facts"]["finding_id"] == "f-1"
    assert document["title"]["zh"] == "【督查问题】单位360102：问题f-1"
    assert document["title"]["en"] == "[Finding] 单位360102: 问题f-1"


async def test_failures_are_retried_with_backoff_until_delivered(world: World) -> None:
    world.receiver.scripts["/flaky"] = [503, 503, 200]
    recipient = await configure(world, "360103", webhook=webhook(world, "/flaky"))
    await publish(world.nats_url, finding("360103", "f-2"))
    [delivery] = await eventually_async(lambda: world.settled(recipient, "webhook", "delivered"))

    detail = await world.json(f"/v1/deliveries/{delivery['id']}")
    log = detail["attempt_log"]
    assert [a["outcome"] for a in log] == ["failed_retryable", "failed_retryable", "delivered"]
    assert [a["status_code"] for a in log] == [503, 503, 200]
    assert log[0]["error"] == "HTTP 503: failing on purpose"
    assert log[0]["started_at"] < log[1]["started_at"] < log[2]["started_at"]
    requests = world.receiver.to("/flaky")
    # One delivery, three attempts: the same idempotency key and body, each freshly signed.
    assert {h[IDEMPOTENCY_HEADER.lower()] for h, _ in requests} == {delivery["key"]}
    assert [h["fivetype-delivery-attempt"] for h, _ in requests] == ["1", "2", "3"]
    assert len({body for _, body in requests}) == 1


async def test_a_refusal_is_not_retried(world: World) -> None:
    world.receiver.scripts["/gone"] = [410]
    recipient = await configure(world, "360104", webhook=webhook(world, "/gone"))
    await publish(world.nats_url, finding("360104", "f-3"))
    [delivery] = await eventually_async(lambda: world.settled(recipient, "webhook", "failed"))
    assert (delivery["attempts"], delivery["last_error"]) == (1, "HTTP 410: failing on purpose")
    assert len(world.receiver.to("/gone")) == 1


async def test_the_circuit_breaker_stops_calls_to_a_failing_endpoint_then_recovers(
    world: World,
) -> None:
    world.receiver.scripts["/broken"] = [500]
    recipient = await configure(world, "360111", webhook=webhook(world, "/broken"))
    for n in range(3):
        await publish(world.nats_url, finding("360111", f"b-{n}"))
    await eventually_async(lambda: _all_deferred(world, recipient, 3))
    calls = len(world.receiver.to("/broken"))
    assert calls >= 3

    for n in range(3, 5):  # while the circuit is open, new deliveries wait without calling
        await publish(world.nats_url, finding("360111", f"b-{n}"))
    waiting = await eventually_async(lambda: _all_deferred(world, recipient, 5))
    assert len(world.receiver.to("/broken")) == calls
    assert all(d["attempts"] == 0 for d in waiting if d["key"] not in _keys(world, "/broken"))

    world.receiver.scripts["/broken"] = [200]
    await eventually_async(lambda: world.settled(recipient, "webhook", "delivered"), within=20)
    assert len(world.receiver.to("/broken")) <= calls + 5 + 1  # at most one failed trial


def _keys(world: World, path: str) -> set[str]:
    return {headers[IDEMPOTENCY_HEADER.lower()] for headers, _ in world.receiver.to(path)}


async def _all_deferred(world: World, recipient: str, count: int) -> list[dict[str, Any]]:
    found = await world.deliveries(recipient, "webhook")
    deferred = [d for d in found if (d["last_error"] or "").startswith("circuit open for")]
    return found if len(found) == count and len(deferred) == count else []


async def test_a_hung_endpoint_holds_up_no_other_delivery(world: World) -> None:
    world.receiver.held["/hung"] = asyncio.Event()
    slow = await configure(
        world, "360112", webhook=webhook(world, "/hung"), emails=["slow@example.gov.cn"]
    )
    fast = await configure(world, "360121", webhook=webhook(world, "/fast"))
    await publish(world.nats_url, finding("360112", "h-1"))
    await eventually_async(lambda: _received(world, "/hung"))
    await eventually_async(_after(time.monotonic() + LEASE_SECONDS))
    # Sent after the hung delivery's lease ran out: the pass that claims it passes the hung one by.
    await publish(world.nats_url, finding("360121", "h-2"))

    await eventually_async(lambda: world.settled(fast, "webhook", "delivered"))
    await eventually_async(lambda: world.settled(slow, "email", "delivered"))
    assert world.mailbox.to("slow@example.gov.cn")
    [hung] = await world.deliveries(slow, "webhook")
    assert (hung["status"], hung["attempts"]) == ("pending", 0)  # still in flight

    world.receiver.held["/hung"].set()
    await eventually_async(lambda: world.settled(slow, "webhook", "delivered"))
    assert len(world.receiver.to("/hung")) == 1  # not sent again while it was being sent


def _after(moment: float) -> Callable[[], Awaitable[bool]]:
    async def passed() -> bool:
        return time.monotonic() > moment

    return passed


async def _received(world: World, path: str) -> bool:
    return bool(world.receiver.to(path))


async def test_email_arrives_at_the_smtp_server_in_the_recipients_language(world: World) -> None:
    chinese = await configure(world, "360113", emails=["zhang@example.gov.cn"])
    english = await configure(
        world, "360123", emails=["li@example.gov.cn", "refuse@example.gov.cn"], language="en"
    )
    await publish(world.nats_url, finding("360113", "m-1"))
    await publish(world.nats_url, finding("360123", "m-2"))
    [delivery] = await eventually_async(lambda: world.settled(chinese, "email", "delivered"))

    [message] = world.mailbox.to("zhang@example.gov.cn")
    assert message["Subject"] == "【督查问题】单位360113：问题m-1"
    assert message["Message-ID"] == f"<{delivery['key']}@notifications.fivetype>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "请于2026年12月31日前完成整改" in message.get_content()

    # The server refuses one of two addresses: the other gets it, the log says who did not.
    [partial] = await eventually_async(lambda: world.settled(english, "email", "delivered"))
    [english_message] = world.mailbox.to("li@example.gov.cn")
    assert english_message["Subject"] == "[Finding] 单位360123: 问题m-2"
    assert "Please rectify it and submit evidence by 2026-12-31." in english_message.get_content()
    assert partial["last_error"].startswith("refused by the server: refuse@example.gov.cn: 550")

    # Refused altogether: failed for good after one attempt, with the server's answer.
    refused = await configure(world, "360123", emails=["refuse@example.gov.cn"])
    await publish(world.nats_url, finding("360123", "m-3"))
    await eventually_async(lambda: _attempted(world, refused, 2))
    failed = [d for d in await world.deliveries(refused, "email") if d["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["attempts"] == 1
    assert "550" in failed[0]["last_error"]


async def _attempted(world: World, recipient: str, count: int) -> bool:
    found = await world.deliveries(recipient, "email")
    return len(found) == count and all(d["status"] != "pending" for d in found)


async def test_secrets_never_appear_in_responses_or_logs(world: World) -> None:
    # This test's own deliveries use both secrets: a webhook signed with SECRET that fails once
    # (its error is logged) and an email sent after logging in with SMTP_PASSWORD.
    world.receiver.scripts["/secrets"] = [503, 200]
    recipient = await configure(
        world, "360124", webhook=webhook(world, "/secrets"), emails=["secrets@example.gov.cn"]
    )
    await publish(world.nats_url, finding("360124", "s-1"))
    await eventually_async(lambda: world.settled(recipient, "webhook", "delivered"))
    await eventually_async(lambda: world.settled(recipient, "email", "delivered"))
    assert world.mailbox.to("secrets@example.gov.cn")
    failed = [line for line in world.logs.lines if "delivery attempt failed" in line]
    assert any(recipient in line and "HTTP 503" in line for line in failed), failed

    texts = [line for line in world.logs.lines]
    for path in ("/v1/recipients", "/v1/deliveries"):
        texts.append((await world.api.get(path, params={"limit": 500})).text)
    deliveries = await world.json("/v1/deliveries", limit=500)
    assert {d["channel"] for d in deliveries if d["recipient"] == recipient} == {
        "inbox",
        "webhook",
        "email",
    }
    for delivery in deliveries:
        texts.append((await world.api.get(f"/v1/deliveries/{delivery['id']}")).text)
    texts.append((await world.api.get(f"/v1/recipients/{recipient}")).text)
    assert any("HTTP 503: failing on purpose" in text for text in texts[-len(deliveries) - 1 :])
    leaks = [t for t in texts if SECRET in t or SMTP_PASSWORD in t]
    assert not leaks
    view = await world.json(f"/v1/recipients/{recipient}")
    assert view["webhook"] == {"url": world.receiver.url("/secrets"), "secret_set": True}
