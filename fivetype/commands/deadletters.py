"""`fivetype dead-letters`: list, inspect and replay what consumers could not process.

Replay publishes the original message again on its original subject (every consumer of that
subject sees it again; those that had processed it skip it by their inbox) and removes it from
the dead-letter stream once JetStream has acknowledged the replay.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from contracts import streams
from fivetype import exits
from fivetype.commands._nats import NatsUrl, NkeyFile, connection
from fivetype.commands._tables import Column, add_row, moment, table
from fivetype.lang import Lang, Wide, from_locale, say

if TYPE_CHECKING:
    from nats.js import JetStreamContext
    from nats.js.api import RawStreamMsg

app = typer.Typer(help="Messages a consumer could not process.", no_args_is_help=True)
console = Console()
T = TypeVar("T")

Consumer = Annotated[str | None, typer.Option(help="Only this consumer's dead letters.")]
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
    def of(cls, raw: "RawStreamMsg") -> "DeadLetter":
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


def _with_jetstream(
    url: str | None, nkey_file: NkeyFile, work: Callable[["JetStreamContext"], Awaitable[T]]
) -> T:
    async def run() -> T:
        async with connection(url, nkey_file) as nc:
            return await work(nc.jetstream())

    return asyncio.run(run())


async def _letters(js: "JetStreamContext", consumer: str | None, limit: int) -> list[DeadLetter]:
    """Oldest first, walking the stream by subject."""
    from nats.js.errors import NotFoundError

    from contracts import subjects

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


async def _letter(js: "JetStreamContext", sequence: int) -> DeadLetter | None:
    from nats.js.errors import NotFoundError

    try:
        return DeadLetter.of(await js.get_msg(DLQ, seq=sequence))
    except NotFoundError:
        return None


@app.command("list")
def list_letters(
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    consumer: Consumer = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    lang: Lang = None,
    wide: Wide = False,
) -> None:
    """List dead letters, oldest first."""
    assert lang is not None  # the option's callback chose one
    letters = _with_jetstream(nats_url, nkey_file, lambda js: _letters(js, consumer, limit))
    if as_json:
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False))
        return
    console.print(letters_table(letters, lang, wide))


LETTER_COLUMNS = [
    Column("序号/时间", "seq/time"),
    Column("消费者", "consumer", max_width=16),
    Column("原因", "reason", max_width=18),
    Column("原主题", "subject", wide_only=True),
    Column("说明", "detail"),
]
DETAIL_CUT = 30  # characters of the detail shown at 80 columns: two lines of its column


def letters_table(letters: list[DeadLetter], lang: str, wide: bool) -> Table:
    """At 80 columns: which, when, whose and why, with the detail cut to two lines (`show
    SEQ`, `--wide` or `--json` give it whole)."""
    title = say(lang, f"死信 {len(letters)} 条", f"{len(letters)} dead letter(s)")
    result, shown = table(title, LETTER_COLUMNS, lang, wide)
    for letter in letters:
        detail = letter.detail
        if not wide and len(detail) > DETAIL_CUT:
            detail = detail[: DETAIL_CUT - 1] + "…"
        which = f"{letter.sequence}\n{moment(letter.time, lang)}"
        add_row(
            result, shown, which, letter.consumer, letter.reason, letter.original_subject, detail
        )
    return result


@app.command()
def show(
    sequence: Annotated[int, typer.Argument(help="Sequence number from `list`.")],
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
) -> None:
    """Print one dead letter: why it is here and the message as it arrived."""
    letter = _with_jetstream(nats_url, nkey_file, lambda js: _letter(js, sequence))
    if letter is None:
        console.print(
            f"[red]{say(from_locale(), '没有序号为', 'no dead letter with sequence')} {sequence}[/]"
        )
        raise typer.Exit(exits.NOT_FOUND)
    for key, value in letter.summary().items():
        console.print(f"{key}: {value}", markup=False)
    console.print()
    console.print(letter.data.decode("utf-8", errors="replace"), markup=False)


async def _replay(js: "JetStreamContext", letters: list[DeadLetter]) -> int:
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
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    consumer: Consumer = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter (of --consumer).")] = False,
) -> None:
    """Publish dead letters again on their original subjects, after the cause is fixed."""
    if bool(sequences) == all_:
        usage = say(from_locale(), "请给出序号或使用 --all", "name sequence numbers or pass --all")
        console.print(f"[red]{usage}[/]")
        raise typer.Exit(exits.USAGE)

    async def work(js: "JetStreamContext") -> int:
        if all_:
            letters = await _letters(js, consumer, 100_000)
        else:
            letters = [letter for s in sequences or [] if (letter := await _letter(js, s))]
            if len(letters) < len(sequences or []):
                missing = say(
                    from_locale(),
                    "部分序号不在死信队列中",
                    "some sequence numbers are not in the dead-letter stream",
                )
                console.print(f"[red]{missing}[/]")
                raise typer.Exit(exits.NOT_FOUND)
        return await _replay(js, letters)

    count = _with_jetstream(nats_url, nkey_file, work)
    console.print(say(from_locale(), f"已重放死信 {count} 条", f"replayed {count} dead letter(s)"))
