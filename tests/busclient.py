"""What a unit's system or an operator does with a plain nats-py client, for the tests."""

import asyncio
import json
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy


async def _publish(url: str, subject: str, payload: bytes, headers: dict[str, str] | None) -> None:
    connection = await nats.connect(url)
    try:
        await connection.jetstream().publish(subject, payload, headers=headers)
    finally:
        await connection.close()


def publish(
    url: str, subject: str, payload: bytes | dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    asyncio.run(_publish(url, subject, body, headers))


async def _read(url: str, subject: str, stream: str) -> list[Msg]:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await js.stream_info(stream)  # fails loudly if the stream was never provisioned
        subscription = await js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        messages: list[Msg] = []
        try:
            while True:
                messages.append(await subscription.next_msg(timeout=0.5))
        except nats.errors.TimeoutError:
            pass
        return messages
    finally:
        await connection.close()


def read(url: str, subject: str, stream: str) -> list[Msg]:
    """Every message currently stored on `subject` (wildcards allowed)."""
    return asyncio.run(_read(url, subject, stream))


def data_of(message: Msg) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(message.data)
    return body
