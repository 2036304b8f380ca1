"""The bus: FastStream's NatsBroker on JetStream, with streams provisioned from contracts and
durable pull consumers under one explicit acknowledgement policy:

- a message that breaks the contract (bad JSON, wrong schema, unknown version, oversized, unit
  mismatch) is dead-lettered with its reason and acked, or, on an intake consumer that answers
  units, answered with a rejection event; it never blocks the messages behind it;
- a message already in the consumer's inbox is acked and changes nothing;
- a handler failure naks with an exponential delay, and after `max_deliver` attempts the message
  is dead-lettered with reason `retries_exhausted`.

Each pulled batch is processed in one transaction; if that fails, each message is retried alone,
and a redelivered message is always handled alone, so one bad message cannot hold back others.
The transaction also advances the consumer's position in the store; at start, a consumer whose
store is behind what it acknowledged (restored from a backup) first replays the gap (catchup.py).

The pull loop is ours rather than FastStream's subscriber: FastStream 0.7.8's batch loop catches
only nats-py's TimeoutError, while nats-py also raises asyncio's when a fetch window runs out, so
the loop task died holding a fetched batch, delaying it by a whole ack_wait (seen here, 1 report
in 6). FastStream's broker still owns the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import Any, Generic

import structlog
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import ContractError, DataT, Envelope, decode
from contracts.permissions import Durable, catch_up_consumer
from contracts.reasons import Reason
from contracts.streams import StreamSpec
from services.runtime import audit, catchup, metrics, tracing
from services.runtime.db import Database
from services.runtime.messaging import OutboxRelay, advance, claim, wrote_outbox
from services.runtime.pull import Pull, ensure_durable
from services.runtime.settings import (
    GRACE_SHARES,
    ServiceSettings,
    nats_servers,
    without_credentials,
)

log = structlog.get_logger()

Handler = Callable[[AsyncSession, list[Envelope[DataT]]], Awaitable[None]]
# Who a batch's changes are attributed to in the audit trail (commands from outside).
AuditAs = Callable[[list[Envelope[DataT]]], audit.Act]


def audited_as(role: str, actor: Callable[[Envelope[Any]], str]) -> AuditAs[Any]:
    """The audit entry of commands received over NATS, as one for HTTP names the token's
    subject: the batch's distinct senders (`actor` of each envelope), the intake subjects, and
    each message with its digest."""

    def act(batch: list[Envelope[Any]]) -> audit.Act:
        return audit.Act(
            actor=",".join(sorted({actor(envelope) for envelope in batch}))[:200],
            role=role,
            source="nats",
            action=f"NATS {subjects.intake(batch[0].type, '{unit}')}",
            target=",".join(sorted({subjects.intake(e.type, e.subject) for e in batch}))[:1000],
            details={
                "messages": [
                    {"id": e.id, "unit": e.subject, "sha256": sha256(e.to_json()).hexdigest()}
                    for e in batch
                ]
            },
        )

    return act


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
        deny_delete=spec.append_only,
        deny_purge=spec.append_only,
    )


async def provision_streams(js: JetStreamContext, replicas: int) -> None:
    """Create or update every stream; safe to run on every start and upgrade. Only the
    operator's identity may update a stream (`fivetype nats provision`, the embedded stack)."""
    for spec in streams.ALL:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


async def ensure_streams(js: JetStreamContext, replicas: int) -> None:
    """What a service does at start: create a stream that does not exist yet, from the contract,
    and update one that differs from it only if its identity may (no nkey, as in development).
    With nkeys a service may not change a stream (permissions.py): the operator provisions."""
    for spec in streams.ALL:
        config = stream_config(spec, replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            continue
        if _differs(info.config, config):
            try:
                await js.update_stream(config)
            except Exception as exc:  # refused: the request goes unanswered
                log.warning(
                    "stream differs from the contract; run `fivetype nats provision`",
                    stream=spec.name,
                    error=repr(exc),
                )


_PROVISIONED = (
    "subjects",
    "description",
    "max_age",
    "duplicate_window",
    "max_msg_size",
    "num_replicas",
    "deny_delete",
    "deny_purge",
)


def _differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    return any(getattr(current, name) != getattr(wanted, name) for name in _PROVISIONED)


class _Declarations:
    """Stands in for the Bus while a service's entrypoints register: records its consumers."""

    def __init__(self) -> None:
        self.durables: list[Durable] = []

    def consume(
        self, model: Any, subject: str, stream: StreamSpec, durable: str, *_: Any, **__: Any
    ) -> None:
        self.durables.append(Durable(stream.name, durable, subject))


def declared_consumers(service: str) -> list[Durable]:
    """The durable consumers `services/<service>/entrypoints/bus.py` registers, read by running
    its `register` against a recorder (handlers are built, never called), so the permissions
    derived from them follow the code without a second list to keep in step."""
    module = importlib.import_module(f"services.{service}.entrypoints.bus")
    declarations = _Declarations()
    module.register(declarations, None)
    return declarations.durables


# While idle, a fetch waits this long for the first message before asking again.
_IDLE_FETCH_SECONDS = 5.0
_CATCH_UP_FETCH_SECONDS = 0.5
# A catch-up consumer left behind by a process that died is removed by the server after this.
_CATCH_UP_INACTIVE_SECONDS = 600.0


@dataclass
class Consumer(Generic[DataT]):
    """One durable pull consumer and what it does with each batch."""

    bus: Bus
    subject: str
    stream: StreamSpec
    durable: str
    model: type[DataT]
    handler: Handler[DataT]
    on_invalid: InvalidHandler | None
    audit_as: AuditAs[DataT] | None = None
    stopping: bool = False
    busy: bool = False
    checked: bool = False  # whether its store was compared with the server since start
    replayed: Counter[str] | None = None  # outcomes of the catch-up under way, if one is

    @property
    def replaying(self) -> bool:
        return self.replayed is not None

    def __post_init__(self) -> None:
        """Create every series at zero, so dashboards and rates see them before the first event."""
        for outcome in ("ok", "duplicate", "retried", "dead_lettered", "rejected"):
            metrics.MESSAGES.labels(*self._labels, self.model.NAME, outcome)
        for reason in Reason:
            metrics.DEAD_LETTERS.labels(*self._labels, reason.value)
        metrics.REDELIVERED.labels(*self._labels)
        metrics.CATCH_UPS.labels(*self._labels)
        for outcome in ("recovered", "duplicate", "skipped"):
            metrics.CATCH_UP_MESSAGES.labels(*self._labels, outcome)

    @property
    def _labels(self) -> tuple[str, str]:
        return self.bus.service, self.durable

    def _config(self) -> ConsumerConfig:
        settings = self.bus.settings
        return ConsumerConfig(
            durable_name=self.durable,
            ack_wait=settings.consumer_ack_wait_seconds,
            # A safety net above our own limit: a message that crashes the process every time
            # stops being redelivered instead of looping forever.
            max_deliver=settings.consumer_max_deliver + 2,
            # Back-pressure: the server hands out no more than this many unacked messages.
            max_ack_pending=settings.consumer_batch_size * 10,
        )

    async def run(self, js: JetStreamContext) -> None:
        """Catch up if the store is behind, then pull and process batches until `stopping`."""
        await self._catch_up(js)
        if not self.stopping:
            await self._consume(js)

    async def _catch_up(self, js: JetStreamContext) -> None:
        """Compare the store with the durable consumer and replay the gap, if there is one,
        before resuming; NATS or the database failing meanwhile only delays it."""
        gap: catchup.Gap | None = None
        while not self.stopping:
            try:
                if not self.checked:
                    gap = await catchup.find_gap(js, self.bus.db, self.stream.name, self.durable)
                    self.checked = True
                if gap is not None and gap.through <= gap.after:
                    # Restored, but nothing was delivered after its floor: nothing to replay.
                    await catchup.caught_up(self.bus.db, self.durable)
                elif gap is not None:
                    await self._replay(js, gap)
                return
            except Exception as exc:
                log.warning("catching up failed; retrying", consumer=self.durable, error=repr(exc))
                await asyncio.sleep(1.0)

    async def _replay(self, js: JetStreamContext, gap: catchup.Gap) -> None:
        """Replay stream sequences `gap.after` + 1 … `gap.through` through a consumer of our own
        with the durable's acknowledgement policy, into the same handler and inbox."""
        log.warning(
            "store is behind its durable consumer; replaying the gap from the stream",
            consumer=self.durable,
            reason=gap.reason,
            store_position=gap.processed,
            acknowledged=gap.acknowledged,
            replay_from=gap.after + 1,
            replay_through=gap.through,
        )
        metrics.CATCH_UPS.labels(*self._labels).inc()
        first = int((await js.stream_info(self.stream.name)).state.first_seq or 0)
        if first > gap.after + 1:
            log.error(
                "the stream no longer holds part of the gap (older than its retention): "
                "the store will lack whatever those messages carried",
                consumer=self.durable,
                lost_from=gap.after + 1,
                lost_through=min(first - 1, gap.through),
            )
        started = time.perf_counter()
        name = catch_up_consumer(self.durable)
        with contextlib.suppress(NotFoundError):  # left by a catch-up cut short
            await js.delete_consumer(self.stream.name, name)
        config = replace(
            self._config(),
            durable_name=None,
            name=name,
            filter_subject=self.subject,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=gap.after + 1,
            ack_policy=AckPolicy.EXPLICIT,
            inactive_threshold=_CATCH_UP_INACTIVE_SECONDS,
        )
        await js.add_consumer(self.stream.name, config)
        pull = await self._pull(name)
        replayed = self.replayed = Counter()
        try:
            while not self.stopping and not await self._replayed(js, name, gap.through):
                # Briefly: an ack just sent may not show in the info yet.
                batch = await self._next_batch(pull, wait=_CATCH_UP_FETCH_SECONDS)
                if batch:
                    await self.process(batch)
        finally:
            self.replayed = None
            with contextlib.suppress(Exception):
                await _give_back(await pull.close())
            with contextlib.suppress(Exception):
                await js.delete_consumer(self.stream.name, name)
        if self.stopping:
            return
        await catchup.caught_up(self.bus.db, self.durable)
        log.warning(
            "caught up with the stream; resuming",
            consumer=self.durable,
            seconds=round(time.perf_counter() - started, 2),
            **replayed,
        )

    async def _replayed(self, js: JetStreamContext, name: str, through: int) -> bool:
        """Whether the catch-up consumer has acknowledged everything up to `through` (or has
        nothing left at all: the last messages up to it matched another filter)."""
        info = await js.consumer_info(self.stream.name, name)
        floor = (info.ack_floor.stream_seq if info.ack_floor else 0) or 0
        return floor >= through or (info.num_pending == 0 and info.num_ack_pending == 0)

    async def _consume(self, js: JetStreamContext) -> None:
        """Pull and process batches until `stopping`; one batch is processed at a time, and
        while a backlog lasts the next one is fetched meanwhile, so the server's round trips
        overlap the processing instead of adding to it."""
        config = replace(self._config(), name=self.durable, filter_subject=self.subject)
        await ensure_durable(js, self.stream.name, config)
        pull = await self._pull(self.durable)
        prefetch: asyncio.Task[list[Msg]] | None = None
        try:
            while not self.stopping:
                fetch, prefetch = prefetch or asyncio.create_task(self._next_batch(pull)), None
                try:
                    batch = await fetch
                except Exception as exc:  # disconnected: nats-py reconnects, we ask again
                    log.warning("fetch failed", consumer=self.durable, error=repr(exc))
                    await asyncio.sleep(1.0)
                    continue
                if not batch:
                    continue
                if batch[-1].metadata.num_pending > 0:
                    prefetch = asyncio.create_task(self._next_batch(pull))
                self.busy = True
                try:
                    await self.process(batch)
                except Exception as exc:  # unacked messages come back after ack_wait
                    log.error("batch processing failed", consumer=self.durable, error=repr(exc))
                finally:
                    self.busy = False
        finally:
            if prefetch is not None:
                prefetch.cancel()
                with contextlib.suppress(BaseException):
                    await _give_back(await prefetch)
            with contextlib.suppress(Exception):
                await _give_back(await pull.close())

    async def _pull(self, consumer: str) -> Pull:
        within = self.bus.settings.consumer_batch_timeout_seconds
        return await Pull(self.bus.broker.connection, self.stream.name, consumer, within).start()

    async def _next_batch(self, pull: Pull, wait: float = _IDLE_FETCH_SECONDS) -> list[Msg]:
        """Wait for one message, then take at once whatever else is already pending: single
        messages go through without waiting for a batch to fill, and a backlog goes in batches."""
        first = await pull.fetch(1, wait)
        pending = first[-1].metadata.num_pending if first else 0
        wanted = min(pending, self.bus.settings.consumer_batch_size - len(first))
        if wanted <= 0:
            return first
        return first + await pull.fetch(wanted)

    async def process(self, raws: list[Msg]) -> None:
        started = time.perf_counter()
        valid: dict[str, tuple[Msg, Envelope[DataT]]] = {}
        for raw in raws:
            if (raw.metadata.num_delivered or 1) > 1:
                metrics.REDELIVERED.labels(*self._labels).inc()
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
        batch: list[tuple[Msg, Envelope[DataT]]] = []
        alone: list[tuple[Msg, Envelope[DataT]]] = []
        for item in valid.values():
            (batch if (item[0].metadata.num_delivered or 1) == 1 else alone).append(item)
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
        """One transaction for `items`. A lone message gets a span in its producer's trace; a
        batch gets one span linked to every message's trace (a span per message cost more than
        the rest of the runtime's work). The current span is the one the handler's events
        continue."""
        span = self._span(*items[0]) if len(items) == 1 else self._batch_span(items)
        try:
            with trace.use_span(span, end_on_exit=False), self._acting(items):
                async with self.bus.db.session() as session, session.begin():
                    fresh = await claim(session, self.durable, (env.id for _, env in items))
                    fresh_ones = [_traced(raw, env) for raw, env in items if env.id in fresh]
                    await self.handler(session, fresh_ones)
                    await advance(session, self.durable, max(_sequence(raw) for raw, _ in items))
            if wrote_outbox(session):
                self.bus.outbox_written()
            # Acked after the commit, each message; counted once for the batch.
            for raw, _ in items:
                await raw.ack()
            self._count("ok", len(fresh))
            self._count("duplicate", len(items) - len(fresh))
            metrics.LAST_SUCCESS.labels(*self._labels).set(time.time())
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, repr(exc)))
            raise
        finally:
            span.end()

    def _acting(
        self, items: list[tuple[Msg, Envelope[DataT]]]
    ) -> contextlib.AbstractContextManager[None]:
        if self.audit_as is None:
            return contextlib.nullcontext()
        return audit.acting(self.audit_as([envelope for _, envelope in items]))

    def _span(self, raw: Msg, envelope: Envelope[DataT]) -> Span:
        return tracing.tracer.start_span(
            f"process {subjects.template(raw.subject)}",
            context=tracing.context_from(raw.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                **self._span_attributes,
                "messaging.destination.name": raw.subject,
                "messaging.message.id": envelope.id,
                "messaging.message.delivery_count": raw.metadata.num_delivered or 1,
            },
        )

    def _batch_span(self, items: list[tuple[Msg, Envelope[DataT]]]) -> Span:
        return tracing.tracer.start_span(
            f"process batch {self.durable}",
            kind=SpanKind.CONSUMER,
            # Without attributes: the SDK's copying each link's was 7% of a no-op consumer's
            # profile; the linked producer span carries the message id.
            links=[Link(tracing.span_context_from(raw.headers)) for raw, _ in items]
            if tracing.exporting()
            else None,
            attributes={**self._span_attributes, "messaging.batch.message_count": len(items)},
        )

    @property
    def _span_attributes(self) -> dict[str, str]:
        return {
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": self.durable,
        }

    async def _handle_alone(self, item: tuple[Msg, Envelope[DataT]]) -> None:
        raw, envelope = item
        try:
            await self._handle([item])
        except Exception as exc:
            attempt = raw.metadata.num_delivered or 1
            if not await self.bus.db.ping():
                # The database is down, not the message: retrying on a schedule would spend the
                # attempts of every healthy message and dead-letter it in a longer outage.
                await raw.nak(delay=self.bus.settings.retry_base_delay_seconds)
                await self._wait_for_database()
                return
            if attempt >= self.bus.settings.consumer_max_deliver:
                await self.bus.dead_letter(raw, self.durable, Reason.RETRIES_EXHAUSTED, repr(exc))
                await self._passed(raw)
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

    async def _wait_for_database(self) -> None:
        """Hold this consumer (no fetch, so no redelivery) until the database answers again."""
        log.warning("database unreachable; consumer waits", consumer=self.durable)
        while not self.stopping:
            if await self.bus.db.ping():
                return
            await asyncio.sleep(1.0)

    async def _passed(self, raw: Msg) -> None:
        """Advance the position past a message dealt with outside a transaction (dead-lettered),
        so that it alone never makes the store look behind; best effort, as a position short of
        it only costs a replay that skips it."""
        try:
            async with self.bus.db.session() as session, session.begin():
                await advance(session, self.durable, _sequence(raw))
        except Exception as exc:
            log.warning("could not record the position", consumer=self.durable, error=repr(exc))

    async def _refuse(self, raw: Msg, error: ContractError) -> None:
        if self.replaying:
            # It was dead-lettered or answered when first delivered; a replay only passes it.
            await self._ack(raw, "skipped")
            return
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
                    await advance(session, self.durable, _sequence(raw))
                if wrote_outbox(session):
                    self.bus.outbox_written()
            except Exception as exc:
                log.warning(
                    "could not answer a refused message", consumer=self.durable, error=repr(exc)
                )
        if not answered or error.reason in _UNREADABLE:
            await self.bus.dead_letter(raw, self.durable, error.reason, error.detail)
            if not answered:
                await self._passed(raw)
            await self._ack(raw, "dead_lettered")
        else:
            await self._ack(raw, "rejected")

    async def _ack(self, raw: Msg, outcome: str) -> None:
        await raw.ack()
        self._count(outcome)

    def _count(self, outcome: str, messages: int = 1) -> None:
        if not messages:
            return
        if self.replayed is not None:
            replayed = "recovered" if outcome == "ok" else outcome
            self.replayed[replayed] += messages
            metrics.CATCH_UP_MESSAGES.labels(*self._labels, replayed).inc(messages)
        else:
            metrics.MESSAGES.labels(*self._labels, self.model.NAME, outcome).inc(messages)


def _sequence(raw: Msg) -> int:
    """The message's stream sequence."""
    return int(raw.metadata.sequence.stream or 0)


async def _give_back(messages: list[Msg]) -> None:
    """Messages received but not processed (the consumer is stopping) go back to the server at
    once rather than after ack_wait."""
    for raw in messages:
        with contextlib.suppress(Exception):
            await raw.nak()


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
            nats_servers(settings.nats_url),
            name=f"fivetype-{self.service}",
            connect_timeout=2,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            graceful_timeout=settings.shutdown_grace_seconds,
            # Closing drains every subscription; nats-py would otherwise wait up to 30 s for it.
            drain_timeout=max(1, int(settings.shutdown_grace_seconds * GRACE_SHARES["jobs"])),
            logger=None,
            **settings.nats_options,
        )
        self._ready = asyncio.Event()
        self._js: JetStreamContext | None = None
        self._consumers: list[Consumer[Any]] = []
        self._consumer_tasks: list[asyncio.Task[None]] = []

    @property
    def provisioned(self) -> bool:
        """Streams and consumers were set up once since the process started."""
        return self._ready.is_set()

    @property
    def connected(self) -> bool:
        return self._ready.is_set() and self.broker.connection.is_connected

    def jetstream(self) -> JetStreamContext | None:
        return self._js if self.connected else None

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
        audit_as: AuditAs[DataT] | None = None,
    ) -> None:
        """Register a durable pull consumer; call before `run`. With `audit_as`, what a batch
        changes is journaled in the audit trail like an HTTP request's changes."""
        self._consumers.append(
            Consumer(self, subject, stream, durable, model, handler, on_invalid, audit_as)
        )

    async def run(self) -> None:
        """Connect, provision streams and start consumers; retries until NATS is reachable."""
        delay = 0.5
        while True:
            try:
                await self.broker.connect()
                js = self.broker.connection.jetstream()
                await ensure_streams(js, self.settings.stream_replicas)
            except Exception as exc:
                log.warning(
                    "NATS not ready; retrying",
                    url=without_credentials(self.settings.nats_url),
                    error=repr(exc),
                    retry_in=delay,
                )
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._js = js
            self._consumer_tasks = [
                asyncio.create_task(consumer.run(js), name=consumer.durable)
                for consumer in self._consumers
            ]
            self._ready.set()
            log.info("bus ready", url=without_credentials(self.settings.nats_url))
            return

    async def sample_metrics(self) -> None:
        """Consumer lag, dead-letter depth and stream sizes, read from the server."""
        js = self.jetstream()
        if js is None:
            return
        for consumer in self._consumers:
            info = await js.consumer_info(consumer.stream.name, consumer.durable)
            labels = (self.service, consumer.durable)
            metrics.CONSUMER_PENDING.labels(*labels).set(info.num_pending or 0)
            metrics.CONSUMER_ACK_PENDING.labels(*labels).set(info.num_ack_pending or 0)
            dead = await js.stream_info(
                streams.DEAD_LETTERS.name, subjects_filter=subjects.dead_letter(consumer.durable)
            )
            depth = (dead.state.subjects or {}).get(subjects.dead_letter(consumer.durable), 0)
            metrics.DEAD_LETTER_DEPTH.labels(*labels).set(depth)
        for spec in streams.ALL:
            state = (await js.stream_info(spec.name)).state
            metrics.STREAM_MESSAGES.labels(self.service, spec.name).set(state.messages)
            metrics.STREAM_BYTES.labels(self.service, spec.name).set(state.bytes)

    async def record_floors(self) -> None:
        """Keep each consumer's ack floor in the store, as where a later catch-up may start;
        only for consumers that found their store in step with the server since start."""
        js = self.jetstream()
        if js is None:
            return
        floors = {}
        for consumer in self._consumers:
            if not consumer.checked:
                continue
            try:
                info = await js.consumer_info(consumer.stream.name, consumer.durable)
            except NotFoundError:  # being created: nothing acknowledged yet
                continue
            floors[consumer.durable] = (info.ack_floor.stream_seq if info.ack_floor else 0) or 0
        await catchup.record_floors(self.db, floors)

    @property
    def catching_up(self) -> list[str]:
        return [consumer.durable for consumer in self._consumers if consumer.replaying]

    async def dead_letter(self, raw: Msg, consumer: str, reason: Reason, detail: str) -> None:
        assert self._js is not None
        sequence = raw.metadata.sequence.stream if raw.reply else 0
        await self._js.publish(
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
        """Stop pulling; a batch in flight finishes (within the grace period) and acks, anything
        unacked is redelivered after ack_wait. Publishing still works afterwards."""
        for consumer in self._consumers:
            consumer.stopping = True
        # No tasks when NATS was never reached: the consumers were registered but not started.
        if self._consumer_tasks:
            for consumer, task in zip(self._consumers, self._consumer_tasks, strict=True):
                if not consumer.busy:
                    task.cancel()  # only waiting for a message: nothing to lose
            _done, late = await asyncio.wait(
                self._consumer_tasks,
                timeout=self.settings.shutdown_grace_seconds * GRACE_SHARES["consumers"],
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*self._consumer_tasks, return_exceptions=True)

    async def close(self) -> None:
        self._ready.clear()
        with contextlib.suppress(Exception):
            await self.broker.stop()


def _traced(raw: Msg, envelope: Envelope[DataT]) -> Envelope[DataT]:
    """The envelope with its producer's trace context, from the message headers when the
    producer did not put it in the envelope: handlers that defer work link back to it."""
    if envelope.traceparent or not raw.headers or "traceparent" not in raw.headers:
        return envelope
    return envelope.model_copy(update={"traceparent": raw.headers["traceparent"][:128]})
