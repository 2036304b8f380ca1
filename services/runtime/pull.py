"""Pulling a JetStream consumer's messages into a subscription callback.

nats-py's `fetch` waits for every message on a task of its own (`next_msg` under `wait_for`):
with batches of a hundred that was a tenth of a consumer's CPU (docs/performance.md). Here the
subscription's callback appends the messages of a pull request, and the request's end (its count
reached, or the server's status: no messages, expired) wakes the one waiter.
"""

import asyncio
import json

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from contracts.permissions import JS_API

# The server's answers that end a pull request without an error.
_NO_MESSAGES = "404"
_EXPIRED = "408"
_HEARTBEAT = "100"
_NO_RESPONDERS = "503"


class PullFailed(Exception):
    """The server ended a pull with an error (the consumer deleted, a leader change, ...)."""

    def __init__(self, status: str, description: str = "") -> None:
        super().__init__(f"{status} {description}".strip())
        self.status = status

    @property
    def leaderless(self) -> bool:
        """No server answered for the consumer: nothing was delivered, and its leader, being
        elected after the consumer's creation or a failover, may answer a moment later."""
        return self.status == _NO_RESPONDERS


async def ensure_durable(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Create the durable consumer `config` describes if the stream does not have it yet; an
    existing one is left as it is (as nats-py's `pull_subscribe` does)."""
    try:
        await js.consumer_info(stream, config.durable_name or "")
    except NotFoundError:
        await js.add_consumer(stream, config)


class Pull:
    """One pull consumer's messages, one request at a time."""

    def __init__(
        self,
        connection: NATS,
        stream: str,
        consumer: str,
        answer_within: float = 2.0,
        leader_within: float = 0.0,
    ) -> None:
        """`answer_within`: how long past its own expiry a request's end is waited for (it can
        be lost with the connection); what comes later is handed out by the next fetch.
        `leader_within`: how long a request is asked again while the consumer has no leader."""
        self._connection = connection
        self._answer_within = answer_within
        self._leader_within = leader_within
        self._next = f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = connection.new_inbox()
        self._subscription: Subscription | None = None
        self._messages: list[Msg] = []
        self._wanted = 0
        self._ended: asyncio.Future[None] | None = None

    async def start(self) -> "Pull":
        self._subscription = await self._connection.subscribe(self._inbox, cb=self._receive)
        return self

    async def fetch(self, batch: int, wait: float | None = None) -> list[Msg]:
        """Up to `batch` messages. With `wait`, the server holds the request up to `wait`
        seconds for the first; without, it answers at once with what it has. An empty list
        when nothing came."""
        if not self._messages:
            await self._request_until_led(batch, wait)
        taken, self._messages = self._messages[:batch], self._messages[batch:]
        return taken

    async def _request_until_led(self, batch: int, wait: float | None) -> None:
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self._leader_within, 0.05
        while True:
            try:
                return await self._request(batch, wait)
            except PullFailed as failed:
                if not failed.leaderless or loop.time() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def _request(self, batch: int, wait: float | None) -> None:
        request: dict[str, object] = {"batch": batch}
        if wait is None:
            request["no_wait"] = True
        else:  # expiring just before our own wait does, so its end normally comes first
            request["expires"] = max(int(wait * 1e9) - 100_000, 1_000_000)
        self._wanted = batch
        ended = self._ended = asyncio.get_running_loop().create_future()
        await self._connection.publish(self._next, json.dumps(request).encode(), self._inbox)
        try:
            async with asyncio.timeout((wait or 0.0) + self._answer_within):
                await ended
        except TimeoutError:  # the request or its end was lost (a reconnect): ask again later
            pass
        finally:
            self._ended = None

    async def _receive(self, message: Msg) -> None:
        status = message.headers.get("Status") if message.headers and not message.data else None
        if status is None:
            # Kept even when no request waits (one given up on): it is ours until acked.
            self._messages.append(message)
            if len(self._messages) >= self._wanted:
                self._end()
        elif status in (_NO_MESSAGES, _EXPIRED):
            self._end()
        elif status != _HEARTBEAT:
            description = (message.headers or {}).get("Description", "")
            self._end(PullFailed(status, description))

    def _end(self, error: Exception | None = None) -> None:
        ended = self._ended
        if ended is None or ended.done():
            return
        if error is None:
            ended.set_result(None)
        else:
            ended.set_exception(error)

    async def close(self) -> list[Msg]:
        """Stop receiving; the messages received but never handed out are returned, for the
        caller to give back (nak) rather than leave them to their ack wait."""
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None
        left, self._messages = self._messages, []
        return left
