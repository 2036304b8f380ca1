"""`fivetype audit verify`: walk a service's hash-chained audit trail, check each entry's
authentication code with the service's key, and compare the journal with the last checkpoint the
service anchored in NATS; report the first entry modified, deleted, moved or rewritten, or the
checkpoint the journal contradicts (entries cut off, everything deleted, an older copy restored).
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fivetype import exits
from fivetype.apiclient import console
from fivetype.commands._nats import NatsUrl, NkeyFile
from fivetype.lang import Lang, say
from fivetype.state import SERVICES

if TYPE_CHECKING:
    from services.runtime import audit
    from services.runtime.audit_checkpoints import Checkpoint, Contradiction
    from services.runtime.settings import ServiceSettings

app = typer.Typer(help="The audit trail (审计日志).", no_args_is_help=True)


def _settings(service: str) -> "ServiceSettings":
    import importlib

    module = importlib.import_module(f"services.{service}.settings")
    settings: ServiceSettings = getattr(module, f"{service.capitalize()}Settings")()
    return settings


def _keys(service: str, settings: "ServiceSettings", retired: list[Path]) -> dict[str, "audit.Key"]:
    """The service's current key and those of the retired secrets given, by key id."""
    from services.runtime import audit

    secrets = [settings.audit_secret_value(), *(path.read_text().strip() for path in retired)]
    keys = [audit.Key.derive(secret, service) for secret in secrets if secret]
    return {key.id: key for key in keys}


@dataclass(frozen=True)
class Outcome:
    verdict: "audit.Verdict"
    checkpoint: "Checkpoint | None"
    contradiction: "Contradiction | None"
    restores: list["audit.RestoreEntry"]


async def _checkpoint(
    service: str, nats_url: str | None, nkey_file: Path | None
) -> "Checkpoint | None":
    from fivetype.commands._nats import connection
    from services.runtime.audit_checkpoints import last

    async with connection(nats_url, nkey_file) as nc:
        return await last(nc.jetstream(), service)


async def _verify(
    service: str, url: str, keys: dict[str, "audit.Key"], checkpoint: "Checkpoint | None"
) -> Outcome:
    from services.runtime import audit
    from services.runtime.audit_checkpoints import contradiction
    from services.runtime.db import Database

    database = Database(url)
    try:
        async with database.session() as session:
            remember = frozenset({checkpoint.seq}) if checkpoint else frozenset()
            verdict = await audit.verify(session, keys, remember)
            restores = await audit.restore_entries(session)
    finally:
        await database.dispose()
    problem = None
    if checkpoint is not None and verdict.broken is None:
        problem = contradiction(checkpoint, verdict.hashes.get(checkpoint.seq), verdict.entries)
    return Outcome(verdict, checkpoint, problem, restores)


def _restore_lines(service: str, entries: list["audit.RestoreEntry"], lang: str) -> list[str]:
    """Each restore the journal records: from which backup, where the journal continues from,
    and which checkpoint of the journal it replaced."""
    lines = []
    for entry in entries:
        superseded = entry.details.get("supersedes") or {}
        replaced = (
            say(
                lang,
                f"，取代了 {superseded.get('at')} 的检查点 {superseded.get('seq')}",
                f"; it superseded checkpoint {superseded.get('seq')} of {superseded.get('at')}",
            )
            if superseded
            else ""
        )
        lines.append(
            say(
                lang,
                f"{service}：第 {entry.seq - 1} 条之后从备份 {entry.target} 恢复"
                f"（{entry.at:%Y-%m-%d %H:%M:%S} UTC），日志由第 {entry.seq} 条接续{replaced}",
                f"{service}: restored from backup {entry.target} at {entry.at:%Y-%m-%d %H:%M:%S} "
                f"UTC; the journal continues from entry {entry.seq - 1} with entry "
                f"{entry.seq}{replaced}",
            )
        )
    return lines


def _intact(entries: int, lang: str) -> str:
    if not entries:
        return say(lang, "此前没有完好的条目", "no entry before it intact")
    return say(lang, f"第 1-{entries} 条完好", f"entries 1-{entries} intact")


def _summary(service: str, outcome: Outcome, offline: bool, lang: str) -> str:
    """A journal found whole: how many entries, whether it continues its checkpoint, its head."""
    verdict, checkpoint = outcome.verdict, outcome.checkpoint
    if offline:
        anchored = say(
            lang, "未与检查点比对（--offline）", "not compared with a checkpoint (--offline)"
        )
    elif checkpoint:
        anchored = say(
            lang, f"与检查点 {checkpoint.seq} 一致", f"checkpoint {checkpoint.seq} matches"
        )
    else:
        anchored = say(lang, "尚无检查点", "no checkpoint yet")
    unkeyed = verdict.unkeyed
    return say(
        lang,
        f"{service}：{verdict.entries} 条完好"
        + (f"，其中 {unkeyed} 条早于启用密钥" if unkeyed else "")
        + f"；{anchored}；最新哈希 {verdict.head}",
        f"{service}: {verdict.entries} entries intact"
        + (f", {unkeyed} of them from before keys" if unkeyed else "")
        + f"; {anchored}; head {verdict.head}",
    )


@app.command()
def verify(
    service: Annotated[str, typer.Option(help=f"One of: {', '.join(SERVICES)}")],
    database_url: Annotated[
        str | None, typer.Option(help="Default: the service's own setting (its env variables).")
    ] = None,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    retired_secret_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--retired-secret-file",
            help="A secret the service's audit key was derived from before a rotation "
            "(repeatable); the current one comes from the service's settings.",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(help="Skip the checkpoint: cut-off or rolled-back entries go unnoticed."),
    ] = False,
    lang: Lang = None,
) -> None:
    """Exit 0 when the chain is whole, authentic and continues its checkpoint; 1 otherwise."""
    assert lang is not None  # the option's callback chose one
    if service not in SERVICES:
        choices = ", ".join(SERVICES)
        said = say(
            lang,
            f"未知服务 {service!r}；可选：{choices}",
            f"unknown service {service!r}; choose one of {choices}",
        )
        console.print(said, style="red", markup=False)
        raise typer.Exit(exits.USAGE)
    settings = _settings(service)
    keys = _keys(service, settings, retired_secret_files or [])
    checkpoint = None if offline else asyncio.run(_checkpoint(service, nats_url, nkey_file))
    url = database_url or settings.resolved_database_url
    outcome = asyncio.run(_verify(service, url, keys, checkpoint))
    verdict = outcome.verdict
    intact = _intact(verdict.entries, lang)
    if (broken := verdict.broken) is not None:
        said = say(
            lang,
            f"{service}：审计日志在第 {broken.seq} 条处断裂：{broken.reason_zh}（{intact}）",
            f"{service}: audit trail broken at entry {broken.seq}: {broken.reason} ({intact})",
        )
        console.print(said, style="red", markup=False)
        raise typer.Exit(exits.FAILURE)
    if (contradicts := outcome.contradiction) is not None:
        said = say(
            lang,
            f"{service}：审计日志与其检查点矛盾：{contradicts.zh}（单看日志本身，{intact}）",
            f"{service}: audit trail contradicts its checkpoint: {contradicts.en} "
            f"({intact} by themselves)",
        )
        console.print(said, style="red", markup=False)
        raise typer.Exit(exits.FAILURE)
    print(_summary(service, outcome, offline, lang))
    for line in _restore_lines(service, outcome.restores, lang):
        print(line)
