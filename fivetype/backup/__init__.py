"""Backups of the one-machine platform, and putting one back (`fivetype backup`, `fivetype
restore`).

A backup is a folder: a consistent copy of each service's store (SQLite's online backup API, or
`pg_dump` in the snapshot of one transaction for a PostgreSQL URL), a snapshot of each JetStream
stream with its consumers (`$JS.API.STREAM.SNAPSHOT`), and `manifest.json`, written last, that
says what was copied when: sizes and SHA-256 of every file, each store's schema revision and
audit head and how far each of its consumers had got, each stream's sequences and its consumers'.
The stores are copied before the streams, so every stream holds at least what the stores had
processed and published: after a whole restore the stores only ever catch up, never run ahead.

A restore checks everything before it touches anything: the manifest is there and readable, every
file it lists is there with its size and checksum, each store's schema is the one this version of
fivetype migrates to, and nothing still uses a store (a running stack, a process holding the
SQLite file, a session on the PostgreSQL database). It then puts the stores back (and, for a whole
restore, the streams) and marks each restored store: its consumers are behind (they replay the gap
from the stream at start, services/runtime/catchup.py) and its audit journal is to say it was
restored (services/runtime/audit_checkpoints.py).
"""

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from contracts import streams as specs
from fivetype import state
from fivetype.backup.manifest import (
    FORMAT,
    MANIFEST,
    SERVICES_ROOT,
    Manifest,
    Refused,
    check_schemas,
    read_manifest,
)
from fivetype.backup.stores import (
    Store,
    copy_store,
    mark_restored,
    restore_store,
    service_stores,
    users,
)
from fivetype.backup.streams import (
    NatsTarget,
    connected,
    embedded_nats,
    restore_stream,
    snapshot,
)

__all__ = [
    "MANIFEST",
    "SERVICES_ROOT",
    "Manifest",
    "NatsTarget",
    "Refused",
    "Restored",
    "Store",
    "check_schemas",
    "check_stopped",
    "embedded_nats",
    "mark_restored",
    "read_manifest",
    "restore",
    "service_stores",
    "take",
]


@dataclass
class Restored:
    databases: dict[str, float] = field(default_factory=dict)  # service -> seconds
    streams: dict[str, float] = field(default_factory=dict)  # stream -> seconds


async def take(directory: Path, targets: list[Store], nats: NatsTarget) -> Manifest:
    """Copy every store, then snapshot every stream, into `directory` (new or empty)."""
    _prepare(directory)
    taken_at = datetime.now(UTC)
    databases = [await asyncio.to_thread(copy_store, directory, store) for store in targets]
    async with connected(nats) as connection:
        copies = [await snapshot(connection, directory, spec.name) for spec in specs.ALL]
    manifest = Manifest(
        format=FORMAT,
        id=taken_at.strftime("%Y%m%dT%H%M%SZ"),
        taken_at=taken_at,
        finished_at=datetime.now(UTC),
        databases=databases,
        streams=[copy for copy in copies if copy is not None],
    )
    staging = directory / f"{MANIFEST}.tmp"
    staging.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    staging.replace(directory / MANIFEST)  # last, whole or not at all: it marks a finished backup
    return manifest


def _prepare(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise Refused(
            "not_empty",
            f"备份目录 {directory} 不是空的：每次备份用一个新目录",
            f"{directory} is not empty: each backup goes into a folder of its own",
        )
    (directory / "databases").mkdir(parents=True, exist_ok=True)
    (directory / "streams").mkdir(exist_ok=True)


def check_stopped(data_dir: Path, targets: list[Store]) -> None:
    """Refuse while anything still uses a store about to be replaced."""
    running = state.read(data_dir)
    if running is not None:
        raise Refused(
            "running",
            f"平台正在运行（{data_dir}，进程 {running.pid}）："
            "先停止（fivetype stack stop 或 Ctrl-C）",
            f"the platform is running from {data_dir} (pid {running.pid}): stop it first "
            "(fivetype stack stop, or Ctrl-C)",
        )
    for store in targets:
        holders = users(store)
        if holders:
            raise Refused(
                "running",
                f"{store.service} 的数据库仍在使用中（{holders}）：先停止该服务",
                f"the store of {store.service} is still in use ({holders}): stop the service first",
            )


async def restore(
    directory: Path,
    manifest: Manifest,
    targets: list[Store],
    nats: NatsTarget | None,
) -> Restored:
    """Put the streams back (when `nats` is given: a whole restore), then the stores, each
    marked as restored. Call after `read_manifest`, `check_schemas` and `check_stopped`."""
    done = Restored()
    if nats is not None:
        async with connected(nats) as connection:
            for copy in manifest.streams:
                started = time.perf_counter()
                await restore_stream(connection, directory, copy)
                done.streams[copy.name] = round(time.perf_counter() - started, 3)
    restored_at = datetime.now(UTC)
    for store in targets:
        kept = manifest.database(store.service)
        assert kept is not None  # check_schemas refused otherwise
        started = time.perf_counter()
        await asyncio.to_thread(restore_store, directory, kept, store, manifest, restored_at)
        done.databases[store.service] = round(time.perf_counter() - started, 3)
    return done
