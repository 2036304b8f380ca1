"""`fivetype backup DIR`, `fivetype restore DIR` and `fivetype restored SERVICE`: the work is
in fivetype/backup.py, imported when a command runs."""

import asyncio
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fivetype import exits, state
from fivetype.commands._nats import NatsUrl, NkeyFile
from fivetype.commands._options import DATA_DIR, DataDir
from fivetype.lang import Lang, say
from fivetype.state import SERVICES

if TYPE_CHECKING:
    from fivetype.backup import NatsTarget, Refused

console = Console()
Directory = Annotated[Path, typer.Argument(help="The backup's folder.")]
Services = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        help=f"Only this service's store (repeatable; one of {', '.join(SERVICES)}); the "
        "streams are left as they are. Default: every store and the streams.",
    ),
]


def _refused(refusal: "Refused", lang: str) -> typer.Exit:
    text = say(
        lang, f"拒绝（{refusal.code}）：{refusal.zh}", f"refused ({refusal.code}): {refusal.en}"
    )
    console.print(text, style="red", markup=False, soft_wrap=True)
    codes = {"not_found": exits.NOT_FOUND, "unreachable": exits.UNREACHABLE}
    return typer.Exit(codes.get(refusal.code, exits.FAILURE))


def _failed(error: RuntimeError, lang: str) -> typer.Exit:
    """A step that broke off (a tool or the server said no): what it said, as it said it."""
    console.print(say(lang, f"失败：{error}", f"failed: {error}"), style="red", markup=False)
    return typer.Exit(exits.FAILURE)


def _services(names: list[str] | None, lang: str) -> list[str]:
    unknown, known = ", ".join(sorted(set(names or []) - set(SERVICES))), ", ".join(SERVICES)
    if unknown:
        message = say(
            lang, f"没有服务 {unknown}；可选：{known}", f"unknown service {unknown}; one of {known}"
        )
        console.print(message, style="red", markup=False)
        raise typer.Exit(exits.USAGE)
    return [name for name in SERVICES if not names or name in names]


def _nats(
    data_dir: Path, nats_url: str | None, nkey_file: Path | None
) -> AbstractContextManager["NatsTarget"]:
    """The stack's NATS (or NATS_URL's); while the stack is stopped, its JetStream store
    served by a nats-server of our own for the time of the command."""
    from fivetype.backup import NatsTarget, embedded_nats

    running = state.read(data_dir)
    if nats_url:
        return nullcontext(NatsTarget(nats_url, nkey_file))
    if running is not None:
        seed = nkey_file or (Path(running.operator_seed) if running.operator_seed else None)
        return nullcontext(NatsTarget(running.nats_url, seed))
    return embedded_nats(data_dir)


def backup(
    directory: Directory,
    data_dir: DataDir = DATA_DIR,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    lang: Lang = None,
) -> None:
    """Back up every service's store and the JetStream streams into a new folder, while the
    platform runs (or not)."""
    from fivetype import backup as backups

    assert lang is not None  # the option's callback chose one
    try:
        with _nats(data_dir, nats_url, nkey_file) as nats:
            targets = backups.service_stores(data_dir, SERVICES)
            manifest = asyncio.run(backups.take(directory, targets, nats))
    except backups.Refused as refusal:
        raise _refused(refusal, lang) from refusal
    except RuntimeError as error:
        raise _failed(error, lang) from error
    for copy in manifest.databases:
        console.print(
            say(
                lang,
                f"{copy.service}：{copy.bytes:,} 字节，结构版本 {copy.schema_revision}，"
                f"审计日志 {copy.audit_entries} 条，{copy.seconds:.1f} 秒",
                f"{copy.service}: {copy.bytes:,} bytes, schema {copy.schema_revision}, "
                f"{copy.audit_entries} audit entries, {copy.seconds:.1f} s",
            )
        )
    for stream in manifest.streams:
        messages, last = stream.state.get("messages", 0), stream.state.get("last_seq", 0)
        console.print(
            say(
                lang,
                f"{stream.name}：{messages} 条消息（至序号 {last}），{stream.bytes:,} 字节，"
                f"{stream.seconds:.1f} 秒",
                f"{stream.name}: {messages} messages (through sequence {last}), "
                f"{stream.bytes:,} bytes, {stream.seconds:.1f} s",
            )
        )
    seconds = (manifest.finished_at - manifest.taken_at).total_seconds()
    console.print(
        say(
            lang,
            f"备份 {manifest.id} 已写入 {directory}（{seconds:.1f} 秒）",
            f"backup {manifest.id} written to {directory} in {seconds:.1f} s",
        )
    )


def restore(
    directory: Directory,
    services: Services = None,
    data_dir: DataDir = DATA_DIR,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    lang: Lang = None,
) -> None:
    """Put a backup back on a stopped platform: every store and the streams, or only the
    stores named with --service (while the other services may run). Checks the whole backup
    first and touches nothing if it is incomplete, damaged or of another schema."""
    from fivetype import backup as backups

    assert lang is not None  # the option's callback chose one
    chosen = _services(services, lang)
    whole = not services
    try:
        manifest = backups.read_manifest(directory)
        backups.check_schemas(manifest, chosen)
        targets = backups.service_stores(data_dir, chosen)
        backups.check_stopped(data_dir, targets)
        with _nats(data_dir, nats_url, nkey_file) if whole else nullcontext(None) as nats:
            done = asyncio.run(backups.restore(directory, manifest, targets, nats))
    except backups.Refused as refusal:
        raise _refused(refusal, lang) from refusal
    except RuntimeError as error:
        raise _failed(error, lang) from error
    for name, seconds in {**done.streams, **done.databases}.items():
        console.print(
            say(lang, f"{name}：已恢复，{seconds:.1f} 秒", f"{name}: restored in {seconds:.1f} s")
        )
    console.print(
        say(
            lang,
            f"已恢复到备份 {manifest.id}（{manifest.taken_at:%Y-%m-%d %H:%M:%S} UTC）。"
            "各服务启动时从消息流补上备份之后的消息，审计日志记下这次恢复。",
            f"restored to backup {manifest.id} ({manifest.taken_at:%Y-%m-%d %H:%M:%S} UTC). "
            "On start each service catches up from the stream on what came after it, and its "
            "audit journal records the restore.",
        )
    )


def _moment(text: str | None) -> datetime | None:
    from services.runtime.workdays import PROGRAMME_TZ

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {text!r}", param_hint="--as-of") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=PROGRAMME_TZ)


def restored(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}")],
    database_url: Annotated[
        str | None, typer.Option(help="Default: the service's own setting.")
    ] = None,
    note: Annotated[
        str, typer.Option(help="What was done, for the audit journal (64 characters).")
    ] = "point-in-time recovery",
    as_of: Annotated[
        str | None,
        typer.Option(
            help="The moment the store was brought back to, ISO 8601 (China time unless it "
            "names an offset), e.g. 2026-12-03T02:00:00+08:00."
        ),
    ] = None,
    data_dir: DataDir = DATA_DIR,
    lang: Lang = None,
) -> None:
    """Record that a service's store was restored by other means (PostgreSQL point-in-time
    recovery, a copied file): on start it catches up from the stream and journals it."""
    from fivetype import backup as backups

    assert lang is not None  # the option's callback chose one
    (name,) = _services([service], lang)
    moment = _moment(as_of)
    (target,) = backups.service_stores(data_dir, [name])
    url = database_url or target.url
    try:
        backups.check_stopped(data_dir, [backups.Store(name, url)])
    except backups.Refused as refusal:
        raise _refused(refusal, lang) from refusal
    backups.mark_restored(url, note, moment)
    console.print(
        say(
            lang,
            f"{name}：已记下恢复（{note}）；启动时从消息流补齐，并写入审计日志",
            f"{name}: the restore ({note}) is recorded; on start it catches up from the stream "
            "and journals it",
        )
    )
