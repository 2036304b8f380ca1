"""The delivery queue's worker. A periodic job claims due email and webhook deliveries (a lease,
so replicas and restarts do not send one twice at once) and sends each in its own task: a slow or
dead endpoint holds up nothing but its own deliveries, and the circuit breaker soon stops even
those. Every attempt is written to the delivery log; failures are retried with exponential
backoff and jitter until they succeed or run out of attempts."""

import asyncio
import functools
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters import repository
from services.notifications.adapters.channels import Outgoing, Sender, reachable, scrub
from services.notifications.adapters.tables import (
    Delivery,
    DeliveryAttempt,
    Notification,
    Recipient,
)
from services.notifications.domain.delivery import (
    AttemptResult,
    CircuitBreaker,
    DeliveryStatus,
    Outcome,
    RetryPolicy,
)
from services.notifications.domain.routing import Channel
from services.runtime.db import Database

log = structlog.get_logger()

ATTEMPTS = Counter(
    "fivetype_notification_delivery_attempts_total",
    "Delivery attempts by channel and outcome.",
    ["service", "channel", "outcome"],
)
ATTEMPT_DURATION = Histogram(
    "fivetype_notification_delivery_duration_seconds",
    "Duration of one delivery attempt.",
    ["service", "channel"],
)
OPEN_CIRCUITS = Gauge(
    "fivetype_notification_open_circuits",
    "Endpoints whose circuit breaker is open or half-open.",
    ["service"],
)
IN_FLIGHT = Gauge(
    "fivetype_notification_deliveries_in_flight", "Deliveries being sent.", ["service"]
)
SERVICE = "notifications"  # the label every service's metrics carry


@dataclass(frozen=True)
class DispatchSettings:
    concurrency: int
    lease: timedelta
    retry: RetryPolicy


class Dispatcher:
    def __init__(
        self,
        db: Database,
        senders: Mapping[Channel, Sender],
        settings: DispatchSettings,
        breaker: CircuitBreaker,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ):
        self.db, self.senders, self.settings = db, senders, settings
        self.breaker, self.clock = breaker, clock
        self.rng = rng or random.Random()
        self._in_flight: dict[int, asyncio.Task[None]] = {}

    async def dispatch(self) -> int:
        """One pass: claim what is due and start sending it; returns at once."""
        room = self.settings.concurrency - len(self._in_flight)
        if room <= 0:
            return 0
        now = self.clock()
        async with self.db.session() as session, session.begin():
            # A send that outlives its lease (a stalled write, a stepped clock) is not begun twice.
            ids = await repository.due_delivery_ids(session, now, room, exclude=self._in_flight)
            if ids:
                await session.execute(
                    sa.update(repository.table(Delivery))
                    .where(repository.table(Delivery).c.id.in_(ids))
                    .values(lease_until=now + self.settings.lease)
                )
        for delivery_id in ids:
            task = asyncio.create_task(self._attempt(delivery_id), name=f"delivery-{delivery_id}")
            self._in_flight[delivery_id] = task
            task.add_done_callback(functools.partial(self._sent, delivery_id))
        IN_FLIGHT.labels(SERVICE).set(len(self._in_flight))
        OPEN_CIRCUITS.labels(SERVICE).set(len(self.breaker.open_endpoints(now)))
        return len(ids)

    def _sent(self, delivery_id: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(delivery_id, None)

    async def drain(self) -> None:
        """Wait for the deliveries in flight (their leases would otherwise expire unsent)."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _attempt(self, delivery_id: int) -> None:
        try:
            await self._send(delivery_id)
        except Exception as exc:  # its lease expires and it is tried again
            log.warning("delivery attempt crashed", delivery=delivery_id, error=repr(exc))

    async def _send(self, delivery_id: int) -> None:
        async with self.db.session() as session:
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None:
                return
            notification = await session.get(Notification, delivery.notification_id)
            recipient = await session.get(Recipient, delivery.recipient)
        channel = Channel(delivery.channel)
        usable = recipient is not None and recipient.active and channel in reachable(recipient)
        if notification is None or recipient is None or not usable:
            await self._cancel(delivery_id, "the recipient was removed, deactivated or lost it")
            return
        sender = self.senders[channel]
        endpoint = sender.endpoint(recipient)
        if not self.breaker.allow(endpoint, self.clock()):
            await self._postpone(delivery_id, endpoint)
            return
        number = delivery.attempts + 1
        started, timer = self.clock(), time.perf_counter()
        result = await sender.send(Outgoing(delivery.key, number, recipient, notification))
        elapsed = time.perf_counter() - timer
        self.breaker.record(endpoint, result, self.clock())
        ATTEMPTS.labels(SERVICE, channel.value, result.outcome.value).inc()
        ATTEMPT_DURATION.labels(SERVICE, channel.value).observe(elapsed)
        error = scrub(result.error, sender.secrets(recipient)) if result.error else None
        await self._record(delivery, number, result, error, started, elapsed)
        if error:
            log.info(
                "delivered with errors"
                if result.outcome is Outcome.DELIVERED
                else "delivery attempt failed",
                delivery=delivery_id,
                channel=channel.value,
                recipient=recipient.code,
                endpoint=endpoint,
                attempt=number,
                outcome=result.outcome.value,
                error=error,
            )

    async def _record(
        self,
        delivery: Delivery,
        number: int,
        result: AttemptResult,
        error: str | None,
        started: datetime,
        elapsed: float,
    ) -> None:
        status, delay = self.settings.retry.after(number, result, self.rng)
        now = self.clock()
        async with self.db.session() as session, session.begin():
            assert delivery.id is not None
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    number=number,
                    started_at=started,
                    duration_ms=round(elapsed * 1000, 3),
                    outcome=result.outcome.value,
                    status_code=result.status_code,
                    error=error,
                )
            )
            await self._update(
                session,
                delivery.id,
                status=status.value,
                attempts=number,
                next_attempt_at=now + timedelta(seconds=delay) if delay is not None else None,
                last_error=error,
                delivered_at=now if status is DeliveryStatus.DELIVERED else None,
            )

    async def _postpone(self, delivery_id: int, endpoint: str) -> None:
        now = self.clock()
        retry_at = self.breaker.retry_at(endpoint, now)
        async with self.db.session() as session, session.begin():
            await self._update(
                session,
                delivery_id,
                next_attempt_at=retry_at,
                last_error=f"circuit open for {endpoint} until {retry_at.isoformat()}",
            )

    async def _cancel(self, delivery_id: int, reason: str) -> None:
        async with self.db.session() as session, session.begin():
            await self._update(
                session,
                delivery_id,
                status=DeliveryStatus.CANCELLED.value,
                next_attempt_at=None,
                last_error=reason,
            )

    async def _update(self, session: AsyncSession, delivery_id: int, **values: object) -> None:
        deliveries = repository.table(Delivery)
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(lease_until=None, updated_at=self.clock(), **values)
        )
