"""`fivetype dead-letters`: list, inspect and replay what consumers could not process.

Replay publishes the original message again on its original subject (every consumer of that
subject sees it again; those that had processed it skip it by their inbox) and removes it from
the dead-letter stream once JetStream has acknowledged the replay.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

import nats
import typer
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.table import Table

from contracts import streams, subjects
from services.runtime.settings import nats_servers

app = typer.Typer(help="Messages a consumer could not process.", no_args_is_help=True)
console = Console()
T = TypeVar("T")

NatsUrl = Annotated[str, typer.Option(envvar="NATS_URL", help="NATS server of the platform.")]
Consumer = Annotated[str | None, typer.Option(help="Only this consumer's dead letters.")]
EXIT_UNREACHABLE, EXIT_NOT_FOUND = 1, 3
DLQ = streams.DEAD_LETTERS.name


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    time: datetime | None
    consumer: str
    reason: str
    detail: str
    original_subject: str
    data: bytes

    @classmethod
    def of(cls, raw: RawStreamMsg) -> "DeadLetter":
        headers = raw.headers or {}
        return cls(
            sequence=raw.seq or 0,
            time=raw.time,
            consumer=headers.get("Fivetype-Consumer", ""),
            reason=headers.get("Fivetype-Reason", ""),
            detail=headers.get("Fivetype-Detail", ""),
            original_subject=headers.get("Fivetype-Original-Subject", ""),
            data=raw.data or b"",
        )

    def summary(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "time": self.time.isoformat() if self.time else None,
            "consumer": self.consumer,
            "reason": self.reason,
            "detail": self.detail,
            "subject": self.original_subject,
        }


async def _quiet(_error: Exception) -> None:
    """nats-py would log every failed attempt with a traceback; we report the outcome once."""


@asynccontextmanager
async def _jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    try:
        # nats-py retries a first connection forever unless attempts are bounded (0 = forever).
        connection = await nats.connect(
            nats_servers(url),
            connect_timeout=3,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            error_cb=_quiet,
        )
    except Exception as exc:
        console.print(f"[red]cannot reach NATS at {url}: {exc}[/]")
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


def _with_jetstream(url: str, work: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    async def run() -> T:
        async with _jetstream(url) as js:
            return await work(js)

    return asyncio.run(run())


async def _letters(js: JetStreamContext, consumer: str | None, limit: int) -> list[DeadLetter]:
    """Oldest first, walking the stream by subject."""
    subject = subjects.dead_letter(consumer or "*")
    found: list[DeadLetter] = []
    sequence = (await js.stream_info(DLQ)).state.first_seq
    while len(found) < limit:
        try:
            raw = await js.get_msg(DLQ, seq=sequence, subject=subject, next=True)
        except NotFoundError:
            break
        found.append(DeadLetter.of(raw))
        sequence = found[-1].sequence + 1
    return found


async def _letter(js: JetStreamContext, sequence: int) -> DeadLetter | None:
    try:
        return DeadLetter.of(await js.get_msg(DLQ, seq=sequence))
    except NotFoundError:
        return None


@app.command("list")
def list_letters(
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
    consumer: Consumer = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List dead letters, oldest first."""
    letters = _with_jetstream(nats_url, lambda js: _letters(js, consumer, limit))
    if as_json:
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False))
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for column in ("seq", "time", "consumer", "reason", "subject", "detail"):
        table.add_column(column)
    for letter in letters:
        when = letter.time.strftime("%Y-%m-%d %H:%M:%S") if letter.time else ""
        table.add_row(
            str(letter.sequence),
            when,
            letter.consumer,
            letter.reason,
            letter.original_subject,
            letter.detail[:80],
        )
    console.print(table)


@app.command()
def show(
    sequence: Annotated[int, typer.Argument(help="Sequence number from `list`.")],
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
) -> None:
    """Print one dead letter: why it is here and the message as it arrived."""
    letter = _with_jetstream(nats_url, lambda js: _letter(js, sequence))
    if letter is None:
        console.print(f"[red]no dead letter with sequence {sequence}[/]")
        raise typer.Exit(EXIT_NOT_FOUND)
    for key, value in letter.summary().items():
        console.print(f"{key}: {value}", markup=False)
    console.print()
    console.print(letter.data.decode("utf-8", errors="replace"), markup=False)


async def _replay(js: JetStreamContext, letters: list[DeadLetter]) -> int:
    for letter in letters:
        # The id makes a repeated replay of the same dead letter collapse in JetStream.
        await js.publish(
            letter.original_subject,
            letter.data,
            headers={"Nats-Msg-Id": f"replay:{DLQ}:{letter.sequence}"},
        )
        await js.delete_msg(DLQ, letter.sequence)
    return len(letters)


@app.command()
def replay(
    sequences: Annotated[
        list[int] | None, typer.Argument(help="Sequence numbers to replay.")
    ] = None,
    nats_url: NatsUrl = "nats://127.0.0.1:4222",
    consumer: Consumer = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter (of --consumer).")] = False,
) -> None:
    """Publish dead letters again on their original subjects, after the cause is fixed."""
    if bool(sequences) == all_:
        console.print("[red]name sequence numbers or pass --all[/]")
        raise typer.Exit(2)

    async def work(js: JetStreamContext) -> int:
        if all_:
            letters = await _letters(js, consumer, 100_000)
        else:
            letters = [letter for s in sequences or [] if (letter := await _letter(js, s))]
            if len(letters) < len(sequences or []):
                console.print("[red]some sequence numbers are not in the dead-letter stream[/]")
                raise typer.Exit(EXIT_NOT_FOUND)
        return await _replay(js, letters)

    count = _with_jetstream(nats_url, work)
    console.print(f"replayed {count} dead letter(s)")
