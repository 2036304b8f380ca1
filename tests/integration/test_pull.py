"""The runtime's pull (services/runtime/pull.py) on a real nats-server: a request ends as soon as
its count is reached or the server says there is nothing (more), a lingering request returns the
first message as it arrives, messages of a request given up on are kept, an error from the
server is raised rather than read as "no messages", and a consumer without a leader is asked
again."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from nats import connect
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from fivetype.natsserver import NatsServer
from services.runtime.pull import Pull, PullFailed, ensure_durable
from tests.conftest import scaled

STREAM = "PULLTEST"


@pytest.fixture
async def connection(nats: NatsServer) -> AsyncIterator[Client]:
    client = await connect(nats.url)
    await client.jetstream().add_stream(StreamConfig(name=STREAM, subjects=["pull.>"]))
    yield client
    await client.close()


async def durable(connection: Client, name: str = "worker") -> Pull:
    config = ConsumerConfig(
        durable_name=name, name=name, filter_subject="pull.>", ack_policy=AckPolicy.EXPLICIT
    )
    await ensure_durable(connection.jetstream(), STREAM, config)
    return await Pull(connection, STREAM, name).start()


async def lingering(connection: Client, pull: Pull) -> "asyncio.Task[list[Msg]]":
    """A fetch that waits for a message, once the server holds its request."""
    waiting = asyncio.create_task(pull.fetch(1, wait=scaled(10)))
    js = connection.jetstream()
    deadline = time.monotonic() + scaled(5)
    while (await js.consumer_info(STREAM, "worker")).num_waiting < 1:
        assert time.monotonic() < deadline, "the server never held the pull request"
    return waiting


async def publish(connection: Client, count: int, first: int = 0) -> None:
    js = connection.jetstream()
    for n in range(first, first + count):
        await js.publish(f"pull.{n}", str(n).encode())


async def test_a_request_without_wait_returns_what_there_is_at_once(connection: Client) -> None:
    pull = await durable(connection)
    assert await pull.fetch(10) == []  # the server's "no messages", not a client timeout
    await publish(connection, 3)
    started = time.monotonic()
    messages = await pull.fetch(10)
    assert [m.data for m in messages] == [b"0", b"1", b"2"]
    assert time.monotonic() - started < scaled(1.5)  # the server's end, not our grace
    await publish(connection, 5, first=3)
    assert [m.data for m in await pull.fetch(2)] == [b"3", b"4"]
    assert [m.data for m in await pull.fetch(10)] == [b"5", b"6", b"7"]
    for message in messages:
        await message.ack()
    assert await pull.close() == []


async def test_a_lingering_request_returns_the_first_message_when_it_comes(
    connection: Client,
) -> None:
    pull = await durable(connection)
    waiting = await lingering(connection, pull)
    assert not waiting.done()
    await publish(connection, 1)
    assert [m.data for m in await asyncio.wait_for(waiting, scaled(5))] == [b"0"]
    # An expired request is an empty answer.
    assert await pull.fetch(1, wait=0.3) == []
    await pull.close()


async def test_messages_of_a_request_given_up_on_are_kept_and_handed_back(
    connection: Client,
) -> None:
    pull = await durable(connection)
    waiting = await lingering(connection, pull)
    waiting.cancel()  # as a stopping consumer does; the request stays on the server
    await publish(connection, 1)
    left: list[Msg] = []
    deadline = time.monotonic() + scaled(5)
    while not left and time.monotonic() < deadline:  # it comes on the old request, not a new one
        left = await pull.fetch(1)
    assert [m.data for m in left] == [b"0"]
    assert await pull.close() == []


async def test_an_error_from_the_server_is_raised(connection: Client) -> None:
    pull = await durable(connection)
    await connection.jetstream().delete_consumer(STREAM, "worker")
    with pytest.raises(PullFailed):
        await pull.fetch(5, wait=scaled(5))
    await pull.close()


async def test_ensure_durable_leaves_an_existing_consumer_as_it_is(connection: Client) -> None:
    js = connection.jetstream()
    await durable(connection)
    changed = ConsumerConfig(
        durable_name="worker", name="worker", filter_subject="pull.>", max_ack_pending=7
    )
    await ensure_durable(js, STREAM, changed)
    assert (await js.consumer_info(STREAM, "worker")).config.max_ack_pending != 7


async def test_a_consumer_without_a_leader_yet_is_asked_again(
    connection: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish(connection, 2)
    early = await Pull(connection, STREAM, "late").start()
    with pytest.raises(PullFailed) as failed:  # nobody answers for a consumer not there yet
        await early.fetch(2, wait=scaled(5))
    assert failed.value.leaderless
    await early.close()

    asked: list[str] = []
    send = connection.publish

    async def counted(subject: str, *args: object, **kwargs: object) -> None:
        asked.append(subject)
        await send(subject, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connection, "publish", counted)
    patient = await Pull(connection, STREAM, "late", leader_within=scaled(10)).start()
    fetching = asyncio.create_task(patient.fetch(2, wait=scaled(5)))
    deadline = time.monotonic() + scaled(5)
    while len(asked) < 2:  # refused once and asked again, as during a leader's election
        assert time.monotonic() < deadline and not fetching.done()
        await asyncio.sleep(0.01)
    await durable(connection, "late")
    assert [m.data for m in await fetching] == [b"0", b"1"]
    await patient.close()
