"""What scoring asks JetStream directly: whether its consumers have caught up with the stream
(before a period is closed), and every retained event from the start (for a rebuild)."""

import asyncio
import json
from collections.abc import AsyncIterator, Collection, Iterable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts import streams, subjects

_EVENTS = streams.EVENTS.name


async def last_sequence(js: JetStreamContext) -> int:
    return int((await js.stream_info(_EVENTS)).state.last_seq)


async def caught_up(js: JetStreamContext, durables: Iterable[str], through: int) -> bool:
    """Whether every consumer has processed (and acknowledged) all its messages up to stream
    sequence `through`."""
    for durable in durables:
        try:
            info = await js.consumer_info(_EVENTS, durable)
        except NotFoundError:
            return False
        delivered = info.delivered.stream_seq if info.delivered else 0
        acked = info.ack_floor.stream_seq if info.ack_floor else 0
        if not (
            (info.num_pending == 0 or (delivered or 0) >= through)
            and (info.num_ack_pending == 0 or (acked or 0) >= through)
        ):
            return False
    return True


async def wait_caught_up(
    js: JetStreamContext, durables: Iterable[str], within: float, interval: float = 0.1
) -> bool:
    through = await last_sequence(js)
    names = list(durables)
    try:
        async with asyncio.timeout(within):
            # JetStream has no notification for a consumer's progress: poll its info.
            while not await caught_up(js, names, through):  # noqa: ASYNC110
                await asyncio.sleep(interval)
    except TimeoutError:
        return False
    return True


async def replay(
    connection: NATS, tokens: Collection[str], batch_size: int = 2000
) -> AsyncIterator[list[Msg]]:
    """Every retained event whose message token (fivetype.events.<token>.<unit>) is in `tokens`,
    in stream order and in batches, up to the last event the stream held when the replay began.

    An ephemeral consumer without acks, pulled one batch at a time: memory stays flat however
    long the stream is, and the server forgets the consumer a minute after the replay ends. The
    pulled messages go to a subscription callback rather than through nats-py's `fetch`, which
    waits on a task per message: three times the rate on the same server."""
    js = connection.jetstream()
    state = (await js.stream_info(_EVENTS)).state
    if not state.messages:
        return
    consumer = await js.add_consumer(
        _EVENTS,
        ConsumerConfig(
            filter_subject=f"{subjects.EVENTS}.>",
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=60.0,
        ),
    )
    pull = _Pull(connection, consumer.name, int(state.last_seq), tokens, batch_size)
    subscription = await connection.subscribe(pull.inbox, cb=pull.receive)
    try:
        await pull.request()
        while (batch := await pull.batches.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            if batch:
                yield batch
    finally:
        await subscription.unsubscribe()


class _Pull:
    """Collects pulled messages into batches; the next pull goes out when one is complete, and
    waits while the reader still holds a finished batch (at most three batches in memory)."""

    def __init__(
        self,
        connection: NATS,
        consumer: str,
        through: int,
        tokens: Collection[str],
        batch_size: int,
    ) -> None:
        self._connection = connection
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{_EVENTS}.{consumer}"
        self._through = through
        self._tokens = tokens
        self._size = batch_size
        self.inbox = connection.new_inbox()
        self.batches: asyncio.Queue[list[Msg] | BaseException | None] = asyncio.Queue(1)
        self._batch: list[Msg] = []
        self._received = 0  # of the pull in flight

    async def request(self) -> None:
        self._received = 0
        body = json.dumps({"batch": self._size, "expires": _PULL_EXPIRES_NS}).encode()
        await self._connection.publish(self._next, body, reply=self.inbox)

    async def receive(self, message: Msg) -> None:
        status = message.headers.get("Status") if message.headers else None
        if status is not None and not message.data:
            if status == "408" and self._received:  # expired before the batch filled
                await self.request()
            else:  # an error, or a whole pull without a message: never a partial rebuild
                problem = f"replay stopped before sequence {self._through}: status {status}"
                await self.batches.put(RuntimeError(problem))
            return
        self._received += 1
        sequence = message.metadata.sequence.stream
        if sequence <= self._through and message.subject.split(".", 3)[2] in self._tokens:
            self._batch.append(message)
        if sequence >= self._through:
            await self.batches.put(self._batch)
            await self.batches.put(None)
        elif self._received == self._size:
            batch, self._batch = self._batch, []
            await self.batches.put(batch)
            await self.request()


_PULL_EXPIRES_NS = 30 * 1_000_000_000
