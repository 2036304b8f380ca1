"""What scoring asks JetStream directly: whether its consumers have caught up with the stream
(before a period is closed), and every retained event from the start (for a rebuild)."""

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts import streams, subjects
from services.runtime.pull import Pull

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

    An ephemeral consumer without acks, pulled one batch at a time while the previous one is
    processed: memory stays flat however long the stream is, and the server forgets the
    consumer a minute after the replay ends."""
    js = connection.jetstream()
    state = (await js.stream_info(_EVENTS)).state
    if not state.messages:
        return
    through = int(state.last_seq)
    consumer = await js.add_consumer(
        _EVENTS,
        ConsumerConfig(
            filter_subject=f"{subjects.EVENTS}.>",
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=60.0,
        ),
    )
    # In a cluster the new consumer's leader is elected after its creation is confirmed.
    pull = await Pull(connection, _EVENTS, consumer.name, leader_within=_PULL_WAIT_SECONDS).start()
    # The first message tells how many are left; each batch then asks for no more than that,
    # so the server never holds a request open waiting for messages that will not come.
    ahead = asyncio.create_task(pull.fetch(1, _PULL_WAIT_SECONDS))
    try:
        while True:
            messages = await ahead
            if not messages:  # never a partial rebuild
                raise RuntimeError(f"replay stopped before sequence {through}")
            last = messages[-1].metadata
            left = min(batch_size, last.num_pending)
            if last.sequence.stream < through and left:
                ahead = asyncio.create_task(pull.fetch(left, _PULL_WAIT_SECONDS))
            batch = [
                m
                for m in messages
                if m.metadata.sequence.stream <= through and m.subject.split(".", 3)[2] in tokens
            ]
            if batch:
                yield batch
            if last.sequence.stream >= through or not left:
                return
    finally:
        ahead.cancel()
        await pull.close()


_PULL_WAIT_SECONDS = 30.0
