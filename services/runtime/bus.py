"""The bus: FastStream's NatsBroker on JetStream, with streams provisioned from contracts and
durable pull consumers under one explicit acknowledgement policy:

- a message that breaks the contract (bad JSON, wrong schema, unknown version, oversized, unit
  mismatch) is dead-lettered with its reason and acked, or, on an intake consumer that answers
  units, answered with a rejection event; it never blocks the messages behind it;
- a message already in the consumer's inbox is acked and changes nothing;
- a handler failure naks with an exponential delay, and after `max_deliver` attempts the message
  is dead-lettered with reason `retries_exhausted`.

Each pulled batch is processed in one transaction; if that fails, each message is retried alone,
so one bad message cannot hold back its batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, cast

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import ContractError, DataT, Envelope, decode
from contracts.reasons import Reason
from contracts.streams import StreamSpec
from services.runtime import metrics
from services.runtime.db import Database
from services.runtime.messaging import OutboxRelay, claim
from services.runtime.settings import ServiceSettings

log = structlog.get_logger()

Handler = Callable[[AsyncSession, list[Envelope[DataT]]], Awaitable[None]]
# Answers a refused message (e.g. with a rejection event); returns whether it could.
InvalidHandler = Callable[[AsyncSession, str, ContractError], Awaitable[bool]]

# Contract failures that leave nothing a unit could be answered about go to operators.
_UNREADABLE = {Reason.MALFORMED_JSON, Reason.OVERSIZED}


def stream_config(spec: StreamSpec, replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        description=spec.description,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        max_age=float(spec.max_age_seconds),
        duplicate_window=float(spec.duplicate_window_seconds),
        max_msg_size=spec.max_msg_bytes,
    )


async def provision_streams(js: JetStreamContext, replicas: int) -> None:
    """Create or update every stream; safe to run on every start and upgrade."""
    for spec in streams.ALL:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


@dataclass
class Consumer(Generic[DataT]):
    """One durable pull consumer and what it does with each batch."""

    bus: Bus
    durable: str
    model: type[DataT]
    handler: Handler[DataT]
    on_invalid: InvalidHandler | None

    @property
    def _labels(self) -> tuple[str, str]:
        return self.bus.service, self.durable

    async def process(self, raws: list[Msg]) -> None:
        started = time.perf_counter()
        valid: dict[str, tuple[Msg, Envelope[DataT]]] = {}
        for raw in raws:
            try:
                envelope = decode(
                    raw.data,
                    self.model,
                    arrived_on=raw.subject,
                    max_bytes=self.bus.settings.max_message_bytes,
                )
            except ContractError as error:
                await self._refuse(raw, error)
                continue
            if envelope.id in valid:  # the same message twice in one batch
                await self._ack(raw, "duplicate")
            else:
                valid[envelope.id] = (raw, envelope)
        # A redelivered message failed before: it is handled alone so it cannot fail a batch again.
        batch = [item for item in valid.values() if (item[0].metadata.num_delivered or 1) == 1]
        alone = [item for item in valid.values() if item not in batch]
        if len(batch) < 2 or not await self._try_batch(batch):
            alone = batch + alone
        for item in alone:
            await self._handle_alone(item)
        metrics.BATCH_DURATION.labels(*self._labels).observe(time.perf_counter() - started)

    async def _try_batch(self, items: list[tuple[Msg, Envelope[DataT]]]) -> bool:
        try:
            await self._handle(items)
        except Exception as exc:
            log.warning(
                "batch failed; retrying its messages one by one",
                consumer=self.durable,
                size=len(items),
                error=repr(exc),
            )
            return False
        return True

    async def _handle(self, items: list[tuple[Msg, Envelope[DataT]]]) -> None:
        async with self.bus.db.session() as session, session.begin():
            fresh = await claim(session, self.durable, (env.id for _, env in items))
            await self.handler(session, [env for _, env in items if env.id in fresh])
        self.bus.outbox_written()
        for raw, envelope in items:
            await self._ack(raw, "ok" if envelope.id in fresh else "duplicate")
        metrics.LAST_SUCCESS.labels(*self._labels).set(time.time())

    async def _handle_alone(self, item: tuple[Msg, Envelope[DataT]]) -> None:
        raw, envelope = item
        try:
            await self._handle([item])
        except Exception as exc:
            attempt = raw.metadata.num_delivered or 1
            if attempt >= self.bus.settings.consumer_max_deliver:
                await self.bus.dead_letter(raw, self.durable, Reason.RETRIES_EXHAUSTED, repr(exc))
                await self._ack(raw, "dead_lettered")
                return
            delay = min(60.0, self.bus.settings.retry_base_delay_seconds * 2 ** (attempt - 1))
            log.warning(
                "message failed; will retry",
                consumer=self.durable,
                message_id=envelope.id,
                attempt=attempt,
                delay=delay,
                error=repr(exc),
            )
            await raw.nak(delay=delay)
            metrics.MESSAGES.labels(*self._labels, self.model.NAME, "retried").inc()

    async def _refuse(self, raw: Msg, error: ContractError) -> None:
        log.info(
            "message refused",
            consumer=self.durable,
            reason=error.reason.value,
            detail=error.detail,
            subject=raw.subject,
        )
        answered = False
        if self.on_invalid is not None:
            try:
                async with self.bus.db.session() as session, session.begin():
                    answered = await self.on_invalid(session, raw.subject, error)
                self.bus.outbox_written()
            except Exception as exc:
                log.warning(
                    "could not answer a refused message", consumer=self.durable, error=repr(exc)
                )
        if not answered or error.reason in _UNREADABLE:
            await self.bus.dead_letter(raw, self.durable, error.reason, error.detail)
            await self._ack(raw, "dead_lettered")
        else:
            await self._ack(raw, "rejected")

    async def _ack(self, raw: Msg, outcome: str) -> None:
        await raw.ack()
        metrics.MESSAGES.labels(*self._labels, self.model.NAME, outcome).inc()


def _header_value(text: str) -> str:
    """NATS headers are single-line ASCII."""
    return " ".join(text.split()).encode("ascii", "backslashreplace").decode()[:1000]


class Bus:
    def __init__(self, settings: ServiceSettings, db: Database):
        self.settings = settings
        self.service = settings.service_name
        self.db = db
        self.relay: OutboxRelay | None = None
        self.broker = NatsBroker(
            settings.nats_url,
            name=f"fivetype-{self.service}",
            connect_timeout=2,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            graceful_timeout=settings.shutdown_grace_seconds,
            logger=None,
        )
        self._ready = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._ready.is_set() and self.broker.connection.is_connected

    def jetstream(self) -> JetStreamContext | None:
        return self.broker.connection.jetstream() if self.connected else None

    def outbox_written(self) -> None:
        if self.relay is not None:
            self.relay.notify()

    def consume(
        self,
        model: type[DataT],
        subject: str,
        stream: StreamSpec,
        durable: str,
        handler: Handler[DataT],
        on_invalid: InvalidHandler | None = None,
    ) -> None:
        """Register a durable pull consumer; call before `run`."""
        consumer = Consumer(self, durable, model, handler, on_invalid)
        settings = self.settings

        async def raw_body(message: NatsMessage) -> Any:
            return message.body  # decoding is ours: a poison message must reach `process`

        @self.broker.subscriber(
            subject,
            stream=JStream(stream.name, declare=False),
            durable=durable,
            pull_sub=PullSub(
                settings.consumer_batch_size, settings.consumer_batch_timeout_seconds, batch=True
            ),
            ack_policy=AckPolicy.MANUAL,
            config=ConsumerConfig(
                ack_wait=settings.consumer_ack_wait_seconds,
                # A safety net above our own limit: a message that crashes the process every
                # time stops being redelivered instead of looping forever.
                max_deliver=settings.consumer_max_deliver + 2,
            ),
            decoder=raw_body,
        )
        async def on_batch(body: Any, message: NatsMessage) -> None:
            await consumer.process(cast(list[Msg], message.raw_message))

    async def run(self) -> None:
        """Connect, provision streams and start consumers; retries until NATS is reachable."""
        delay = 0.5
        while True:
            try:
                await self.broker.connect()
                await provision_streams(
                    self.broker.connection.jetstream(), self.settings.stream_replicas
                )
                await self.broker.start()
            except Exception as exc:
                log.warning(
                    "NATS not ready; retrying",
                    url=self.settings.nats_url,
                    error=repr(exc),
                    retry_in=delay,
                )
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._ready.set()
            log.info("bus ready", url=self.settings.nats_url)
            return

    async def dead_letter(self, raw: Msg, consumer: str, reason: Reason, detail: str) -> None:
        js = self.broker.connection.jetstream()
        sequence = raw.metadata.sequence.stream if raw.reply else 0
        await js.publish(
            subjects.dead_letter(consumer),
            raw.data,
            headers={
                "Nats-Msg-Id": f"dlq:{consumer}:{raw.subject}:{sequence}",
                "Fivetype-Reason": reason.value,
                "Fivetype-Detail": _header_value(detail),
                "Fivetype-Original-Subject": raw.subject,
                "Fivetype-Consumer": consumer,
                "Fivetype-Service": self.service,
            },
        )
        metrics.DEAD_LETTERS.labels(self.service, consumer, reason.value).inc()

    async def stop_consuming(self) -> None:
        """Stop pulling; handlers in flight finish (within the graceful timeout) and ack, and
        anything unacked is redelivered after ack_wait. Publishing still works afterwards."""
        for subscriber in self.broker.subscribers:
            with contextlib.suppress(Exception):
                await subscriber.stop()

    async def close(self) -> None:
        self._ready.clear()
        with contextlib.suppress(Exception):
            await self.broker.stop()
