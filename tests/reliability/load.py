"""A steady load of the platform's inputs, as units' systems, inspectors and the 12345 channel
send them, with a ledger of which ones the platform acknowledged.

An input is acknowledged when its door said so: HTTP 201 or 200 (a repeat of a stored one) or a
JetStream PubAck on the intake stream. Like a real client, the generator repeats an input with
the same idempotency key until it is acknowledged or `give_up_seconds` pass, so a fault in the
middle of a request is retried rather than silently dropped; each repeat the platform recognised
(HTTP 200, PubAck marked duplicate) is counted as a duplicate suppressed."""

import asyncio
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import nats
from nats.aio.client import Client as NatsClient

from contracts import subjects
from contracts.envelope import wrap
from contracts.inspections import ReportPublicRequest
from contracts.measures import ReportProgress
from services.runtime.settings import nats_servers
from tests import auth
from tests.conftest import scaled
from tests.e2e.test_progress_flow import m07_assignment as e2e_assignment

BEIJING = timedelta(hours=8)
INSPECTOR = {"role": "inspector", "id": "insp-rel", "name": "王敏"}
CHANNEL = {"role": "channel", "id": "12345-center", "name": "12345热线"}
# County units that report progress on M07 and are inspected.
UNITS = ("360102", "360103", "360104", "360111", "360113")


class Kind(StrEnum):
    PROGRESS_HTTP = "progress over HTTP"
    PROGRESS_NATS = "progress over NATS"
    INSPECTION = "inspection"
    FINDING = "finding"
    PUBLIC_REQUEST_HTTP = "public request over HTTP"
    PUBLIC_REQUEST_NATS = "public request over NATS"


@dataclass
class Input:
    kind: Kind
    key: str  # the idempotency key: report, inspection, finding or request id
    unit: str
    inspection: str | None = None  # a finding's inspection
    attempts: int = 0
    repeats: int = 0  # attempts the platform recognised as already stored
    acknowledged: bool = False
    acknowledged_at: float | None = None  # time.time() of the acknowledgement
    # An HTTP input's request (base URL, path, body), as a client keeps it to send it again.
    request: tuple[str, str, dict[str, Any]] | None = None


def client(base_url: str) -> httpx.AsyncClient:
    """Every HTTP call of the reliability suite goes through a client built here."""
    return httpx.AsyncClient(base_url=base_url, timeout=scaled(5), headers=auth.headers())


def m07_assignment(unit: str) -> dict[str, Any]:
    return {**e2e_assignment(unit), "assignment_id": f"rel-m07-{unit}"}


async def prepare(measures_url: str) -> None:
    """What the office does before units can report: assign M07 to every reporting unit."""
    async with client(measures_url) as http:
        for unit in UNITS:
            answer = await http.post("/v1/assignments", json=m07_assignment(unit))
            assert answer.status_code in (200, 201), answer.text


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def progress_report(unit: str, report_id: str) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "unit": unit,
        "measure_code": "M07",
        "percent_complete": random.randint(1, 100),
        "summary": "政务服务事项网上可办率提升",
        "reported_at": _an_hour_ago().isoformat(),
        "reporter": f"oa-{unit}",
    }


def inspection(unit: str, inspection_id: str) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id,
        "actor": INSPECTOR,
        "kind": "clue",
        "method": "unannounced",
        "title": "政务服务线索核查",
        "inspector": "市五型办督查组",
        "inspected_on": (_an_hour_ago() + BEIJING).date().isoformat(),
        "target_units": [unit],
        "measure_codes": ["M13"],
    }


def finding(unit: str, finding_id: str) -> dict[str, Any]:
    due = (_an_hour_ago() + BEIJING).date() + timedelta(days=30)
    return {
        "finding_id": finding_id,
        "actor": INSPECTOR,
        "unit": unit,
        "severity": "serious",
        "category": {"measure_code": "M14"},
        "title": "窗口排队超过一小时",
        "description": "暗访发现排队超过一小时。",
        "due_date": due.isoformat(),
    }


def received_step() -> dict[str, Any]:
    received = _an_hour_ago()
    return {
        "step": "received",
        "channel": "hotline_12345",
        "title": "办事排长队",
        "received_at": received.isoformat(),
        "due_at": (received + timedelta(days=3)).isoformat(),
    }


def intake_envelope(item: Input, body: dict[str, Any]) -> bytes:
    """The envelope a unit's system or the 12345 channel publishes, built once per input so that
    every repeat carries the same id and JetStream's duplicate window recognises it."""
    model = ReportProgress if item.kind is Kind.PROGRESS_NATS else ReportPublicRequest
    return wrap(model.model_validate(body), subject=item.unit, source=f"unit/{item.unit}").to_json()


@dataclass
class Load:
    """Sends inputs at `rate` per second in a fixed rotation of kinds until stopped."""

    measures_url: str
    inspections_url: str
    nats_url: str
    rate: float
    give_up_seconds: float = 30.0
    concurrency: int = 32
    label: str = "rel"
    sent: list[Input] = field(default_factory=list)
    _filed: list[Input] = field(default_factory=list)  # acknowledged inspections, for findings
    _nats: NatsClient | None = None

    async def run(self, stop: asyncio.Event) -> None:
        self._nats = await nats.connect(
            nats_servers(self.nats_url), max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        slots = asyncio.Semaphore(self.concurrency)
        tasks: list[asyncio.Task[None]] = []
        kinds = itertools.cycle(Kind)
        try:
            for number in itertools.count(1):
                if stop.is_set():
                    break
                await slots.acquire()
                item = self._next(next(kinds), number)
                tasks.append(asyncio.create_task(self._send(item, slots)))
                await asyncio.sleep(1 / self.rate)
            await asyncio.gather(*tasks)
        finally:
            await self._nats.close()

    def _next(self, kind: Kind, number: int) -> Input:
        """The next input; a finding is raised on an acknowledged inspection, so until one is
        filed an inspection takes its turn."""
        unit, inspected = UNITS[number % len(UNITS)], None
        if kind is Kind.FINDING:
            if self._filed:
                inspected = self._filed.pop(0)
                unit = inspected.unit
            else:
                kind = Kind.INSPECTION
        item = Input(kind, f"{self.label}-{number}", unit, inspected.key if inspected else None)
        self.sent.append(item)
        return item

    async def _send(self, item: Input, slots: asyncio.Semaphore) -> None:
        try:
            attempt = self._attempt(item)
            deadline = time.monotonic() + self.give_up_seconds
            while time.monotonic() < deadline:
                item.attempts += 1
                outcome = await _quietly(attempt)
                if outcome is not None:
                    item.acknowledged, item.acknowledged_at = True, time.time()
                    item.repeats += outcome
                    break
                await asyncio.sleep(0.5)
            if item.kind is Kind.INSPECTION and item.acknowledged:
                self._filed.append(item)
        finally:
            slots.release()

    def _attempt(self, item: Input) -> Callable[[], Awaitable[int | None]]:
        """One try at sending `item` (0 acknowledged, 1 acknowledged as a repeat, None not),
        with its body built once so that every try sends the same content."""
        unit, key = item.unit, item.key
        if item.kind is Kind.PROGRESS_HTTP:
            path, body = f"/v1/units/{unit}/progress-reports", progress_report(unit, key)
            item.request = (self.measures_url, path, body)
        elif item.kind is Kind.INSPECTION:
            item.request = (self.inspections_url, "/v1/inspections", inspection(unit, key))
        elif item.kind is Kind.FINDING:
            path, body = f"/v1/inspections/{item.inspection}/findings", finding(unit, key)
            item.request = (self.inspections_url, path, body)
        elif item.kind is Kind.PUBLIC_REQUEST_HTTP:
            path = f"/v1/units/{unit}/public-requests/{key}/steps"
            item.request = (self.inspections_url, path, {"actor": CHANNEL, "step": received_step()})
        if item.request is not None:
            return lambda: self.send_again(item)
        if item.kind is Kind.PROGRESS_NATS:
            command, body = "ReportProgress", progress_report(unit, key)
        else:
            command, body = "ReportPublicRequest", {"request_id": key, "unit": unit}
            body["step"] = received_step()
        payload = intake_envelope(item, body)
        return lambda: self._publish(subjects.intake(command, unit), payload)

    async def send_again(self, item: Input) -> int | None:
        """Send an HTTP input's request as it was first sent (0 stored, 1 recognised as a
        repeat, None not acknowledged)."""
        assert item.request is not None
        return await self._post(*item.request)

    async def _post(self, base_url: str, path: str, body: dict[str, Any]) -> int | None:
        async with client(base_url) as http:
            answer = await http.post(path, json=body)
        if answer.status_code in (200, 201):
            return int(answer.status_code == 200)
        if answer.status_code < 500:
            raise AssertionError(f"refused {path}: {answer.status_code} {answer.text}")
        return None

    async def _publish(self, subject: str, payload: bytes) -> int | None:
        assert self._nats is not None
        message_id = json.loads(payload)["id"]
        ack = await self._nats.jetstream().publish(
            subject, payload, headers={"Nats-Msg-Id": message_id}, timeout=2
        )
        return int(bool(ack.duplicate))


async def _quietly(attempt: Callable[[], Awaitable[int | None]]) -> int | None:
    """A try that failed the way faults make requests fail (connection refused or reset, a
    timeout, no responders while NATS restarts) is simply not acknowledged."""
    try:
        return await attempt()
    except (httpx.TransportError, nats.errors.Error, TimeoutError, OSError):
        return None
