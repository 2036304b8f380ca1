"""The JetStream streams: a snapshot of each with its consumers (`$JS.API.STREAM.SNAPSHOT`,
each chunk acknowledged, which is the server's flow control), putting one back
(`$JS.API.STREAM.RESTORE`), and the embedded stack's store served while the stack is stopped."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fivetype.backup.manifest import Refused, StreamCopy, digest
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port

CHUNK_BYTES = 128 * 1024


@dataclass(frozen=True)
class NatsTarget:
    url: str
    seed: Path | None = None  # the operator's nkey seed, when the server asks for one


@asynccontextmanager
async def connected(nats: NatsTarget) -> AsyncIterator[Any]:
    from fivetype.commands._nats import connect

    try:
        connection = await connect(nats.url, nats.seed)
    except Exception as exc:
        raise Refused(
            "unreachable",
            f"连不上 NATS（{nats.url}）：{exc}",
            f"cannot reach NATS at {nats.url}: {exc}",
        ) from exc
    try:
        yield connection
    finally:
        await connection.close()


async def snapshot(connection: Any, directory: Path, stream: str) -> StreamCopy | None:
    """The stream's snapshot, with its consumers, written to a file as the chunks arrive (each
    acknowledged, which is the server's flow control); None if the stream does not exist."""
    from nats.js.errors import NotFoundError

    js = connection.jetstream()
    started = time.perf_counter()
    try:
        consumers = {
            info.name: {
                "delivered": int(info.delivered.stream_seq or 0) if info.delivered else 0,
                "ack_floor": int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0,
            }
            for info in await js.consumers_info(stream)
        }
    except NotFoundError:
        return None
    relative = f"streams/{stream}.snapshot"
    received: asyncio.Queue[tuple[bytes, str | None] | None] = asyncio.Queue()

    async def chunk(message: Any) -> None:
        if message.data:
            await received.put((message.data, message.reply or None))
            return
        status = (message.headers or {}).get("Status")
        await received.put(None if status in (None, "204") else (b"", status))

    inbox = connection.new_inbox()
    subscription = await connection.subscribe(inbox, cb=chunk)
    try:
        request = {"deliver_subject": inbox, "no_consumers": False, "chunk_size": CHUNK_BYTES}
        answer = await _api(connection, f"$JS.API.STREAM.SNAPSHOT.{stream}", request)
        with (directory / relative).open("wb") as file:
            while (item := await asyncio.wait_for(received.get(), 60)) is not None:
                data, reply = item
                if not data:
                    raise RuntimeError(f"the snapshot of {stream} broke off: status {reply}")
                file.write(data)
                if reply:
                    await connection.publish(reply, b"")
    finally:
        await subscription.unsubscribe()
    size, sha256 = digest(directory / relative)
    return StreamCopy(
        name=stream,
        file=relative,
        bytes=size,
        sha256=sha256,
        config=answer["config"],
        state=answer["state"],
        consumers=consumers,
        seconds=round(time.perf_counter() - started, 3),
    )


async def _api(connection: Any, subject: str, request: dict[str, Any]) -> dict[str, Any]:
    reply = await connection.request(subject, json.dumps(request).encode(), timeout=30)
    answer: dict[str, Any] = json.loads(reply.data)
    if "error" in answer:
        raise RuntimeError(f"{subject}: {answer['error'].get('description', answer['error'])}")
    return answer


async def restore_stream(connection: Any, directory: Path, copy: StreamCopy) -> None:
    """Replace the stream with its snapshot (the restore API creates it, so the current one,
    if any, is deleted first; its retention rules do not guard the stream itself)."""
    from nats.js.errors import NotFoundError

    with suppress(NotFoundError):
        await connection.jetstream().delete_stream(copy.name)
    request = {"config": copy.config, "state": copy.state}
    answer = await _api(connection, f"$JS.API.STREAM.RESTORE.{copy.name}", request)
    deliver = answer["deliver_subject"]
    with (directory / copy.file).open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            reply = await connection.request(deliver, chunk, timeout=30)
            _raise_for(reply.data, copy.name)
    # The server rebuilds the stream once it has the last chunk: that can take a while.
    final = await connection.request(deliver, b"", timeout=600)
    _raise_for(final.data, copy.name)


def _raise_for(data: bytes, stream: str) -> None:
    if not data:
        return
    answer = json.loads(data)
    if "error" in answer:
        raise RuntimeError(f"restoring {stream}: {answer['error'].get('description')}")


@contextmanager
def embedded_nats(data_dir: Path) -> Iterator[NatsTarget]:
    """The embedded stack's JetStream store served by a nats-server of our own, on a free
    loopback port and for as long as the backup or restore takes (the stack is stopped)."""
    data_dir = data_dir.resolve()
    server = NatsServer(data_dir / "nats", free_port(), data_dir / "logs" / "nats-server.log")
    server.start()
    try:
        yield NatsTarget(server.url)
    finally:
        server.stop()
