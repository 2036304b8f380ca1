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
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from contracts import streams
from fivetype import state
from fivetype.natsserver import NatsServer, free_port
from services.runtime import audit, messaging
from services.runtime.db import is_sqlite, sync_url

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK_BYTES = 128 * 1024
SERVICES_ROOT = Path(__file__).resolve().parents[1] / "services"


class Refused(Exception):
    """A backup or restore that cannot be done as asked, said in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


class DatabaseCopy(BaseModel):
    service: str
    backend: Literal["sqlite", "postgresql"]
    file: str  # relative to the backup folder
    bytes: int
    sha256: str
    schema_revision: str  # the Alembic revision the copy is at
    audit_entries: int  # the head of its audit journal
    positions: dict[str, int]  # per durable consumer: the stream sequence it had processed
    seconds: float


class StreamCopy(BaseModel):
    name: str
    file: str
    bytes: int
    sha256: str
    config: dict[str, Any]  # as the snapshot gave them: what the restore request sends back
    state: dict[str, Any]
    consumers: dict[str, dict[str, int]]  # per consumer: delivered and ack floor (stream seq)
    seconds: float


class Manifest(BaseModel):
    format: int
    id: str
    taken_at: datetime
    finished_at: datetime
    databases: list[DatabaseCopy]
    streams: list[StreamCopy]

    def database(self, service: str) -> DatabaseCopy | None:
        return next((copy for copy in self.databases if copy.service == service), None)


@dataclass(frozen=True)
class Store:
    """One service's database."""

    service: str
    url: str


@dataclass(frozen=True)
class NatsTarget:
    url: str
    seed: Path | None = None  # the operator's nkey seed, when the server asks for one


@dataclass
class Restored:
    databases: dict[str, float] = field(default_factory=dict)  # service -> seconds
    streams: dict[str, float] = field(default_factory=dict)  # stream -> seconds


def code_revision(service: str) -> str:
    """The Alembic head this version of fivetype migrates the service's store to."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SERVICES_ROOT / service / "migrations"))
    return "+".join(sorted(ScriptDirectory.from_config(config).get_heads()))


def stores(data_dir: Path, services: Iterable[str]) -> list[Store]:
    """Where each service keeps its store, as the service itself would resolve it: its
    DATABASE_URL setting, else its SQLite file in the data folder."""
    import importlib

    found = []
    for service in services:
        module = importlib.import_module(f"services.{service}.settings")
        settings = getattr(module, f"{service.capitalize()}Settings")(data_dir=data_dir)
        found.append(Store(service, settings.resolved_database_url))
    return found


# ----------------------------------------------------------------------------- taking one


async def take(directory: Path, targets: list[Store], nats: NatsTarget) -> Manifest:
    """Copy every store, then snapshot every stream, into `directory` (new or empty)."""
    _prepare(directory)
    taken_at = datetime.now(UTC)
    databases = [await asyncio.to_thread(_copy_store, directory, store) for store in targets]
    async with _connected(nats) as connection:
        copies = [await _snapshot(connection, directory, spec.name) for spec in streams.ALL]
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


def _copy_store(directory: Path, store: Store) -> DatabaseCopy:
    started = time.perf_counter()
    if is_sqlite(store.url):
        relative = f"databases/{store.service}.sqlite3"
        figures = _copy_sqlite(_sqlite_path(store.url), directory / relative)
        backend: Literal["sqlite", "postgresql"] = "sqlite"
    else:
        relative = f"databases/{store.service}.pgdump"
        figures = _dump_postgres(store.url, directory / relative)
        backend = "postgresql"
    size, digest = _digest(directory / relative)
    revision, entries, positions = figures
    return DatabaseCopy(
        service=store.service,
        backend=backend,
        file=relative,
        bytes=size,
        sha256=digest,
        schema_revision=revision,
        audit_entries=entries,
        positions=positions,
        seconds=round(time.perf_counter() - started, 3),
    )


Figures = tuple[str, int, dict[str, int]]  # schema revision, audit entries, positions


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _copy_sqlite(source: Path, target: Path) -> Figures:
    """SQLite's online backup API: a consistent copy while the service keeps writing."""
    if not source.is_file():
        raise Refused("no_store", f"找不到数据库 {source}", f"there is no database at {source}")
    live = sqlite3.connect(source)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)
        return _figures(copy.execute, "SELECT name FROM sqlite_master WHERE type = 'table'")
    finally:
        copy.close()
        live.close()


def _figures(execute: Any, tables_query: str) -> Figures:
    """What the manifest says of a store: its schema revision, audit head, positions (a store
    of an older schema may lack the tables of the last two)."""
    tables = {row[0] for row in execute(tables_query)}
    versions = execute("SELECT version_num FROM alembic_version")
    revision = "+".join(sorted(row[0] for row in versions))
    entries = 0
    if "audit_log" in tables:
        entries = execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
    positions = {}
    if "consumer_positions" in tables:
        rows = execute("SELECT consumer, processed_seq FROM consumer_positions")
        positions = {consumer: int(seq) for consumer, seq in rows}
    return revision, int(entries), positions


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it (a password on
    the command line would show in the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Refused(
            "missing_tool",
            f"找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client）",
            f"{name} not found: install the PostgreSQL client tools (postgresql-client)",
        )
    return found


def _dump_postgres(url: str, target: Path) -> Figures:
    """`pg_dump` in the snapshot of a read-only transaction, in which the figures are read
    too, so the manifest describes exactly what was dumped."""
    import psycopg

    dump = _tool("pg_dump")
    conninfo, env = _libpq(url)
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=False) as session:
        session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = session.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        figures = _figures(
            session.execute, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        command = [dump, "--format=custom", "--no-owner", "--no-privileges"]
        command += [f"--snapshot={snapshot[0]}", f"--file={target}", f"--dbname={conninfo}"]
        _run(command, env)
    return figures


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@asynccontextmanager
async def _connected(nats: NatsTarget) -> AsyncIterator[Any]:
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


async def _snapshot(connection: Any, directory: Path, stream: str) -> StreamCopy | None:
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
    size, digest = _digest(directory / relative)
    return StreamCopy(
        name=stream,
        file=relative,
        bytes=size,
        sha256=digest,
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


# ----------------------------------------------------------------------------- checking one


def read_manifest(directory: Path) -> Manifest:
    """The backup's manifest, once every file it lists is there, whole, with its checksum, and
    every store's schema is the one this version migrates to; else Refused, touching nothing."""
    if not directory.is_dir():
        raise Refused("not_found", f"没有备份目录 {directory}", f"there is no folder {directory}")
    path = directory / MANIFEST
    if not path.is_file():
        raise Refused(
            "incomplete",
            f"{directory} 中没有 {MANIFEST}：备份没有完成，不能用它恢复",
            f"{directory} has no {MANIFEST}: the backup did not finish and cannot be restored",
        )
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise Refused(
            "damaged",
            f"{MANIFEST} 已损坏，无法读取",
            f"{MANIFEST} is damaged and cannot be read ({str(exc).splitlines()[0]})",
        ) from exc
    if manifest.format != FORMAT:
        raise Refused(
            "other_format",
            f"备份格式 {manifest.format} 不是本版本使用的格式 {FORMAT}",
            f"the backup is in format {manifest.format}; this version reads format {FORMAT}",
        )
    items: list[DatabaseCopy | StreamCopy] = [*manifest.databases, *manifest.streams]
    for item in items:
        _check_file(directory, item)
    return manifest


def _check_file(directory: Path, item: DatabaseCopy | StreamCopy) -> None:
    relative = item.file
    path = directory / relative
    if not path.is_file():
        raise Refused(
            "incomplete",
            f"备份不完整：缺少 {relative}",
            f"the backup is incomplete: {relative} is missing",
        )
    found_size, found = _digest(path)
    if (found_size, found) != (item.bytes, item.sha256):
        raise Refused(
            "damaged",
            f"{relative} 已损坏：校验和与清单不符",
            f"{relative} is damaged: its checksum does not match the manifest",
        )


def check_schemas(manifest: Manifest, services: Iterable[str]) -> None:
    for service in services:
        copy = manifest.database(service)
        if copy is None:
            raise Refused(
                "not_in_backup",
                f"备份中没有 {service} 的数据库",
                f"the backup holds no store of {service}",
            )
        expected = code_revision(service)
        if copy.schema_revision != expected:
            raise Refused(
                "other_schema",
                f"{service} 的备份是数据库结构版本 {copy.schema_revision}，本版本为 {expected}："
                "请用做备份的那个版本恢复，再升级",
                f"the backup of {service} is at schema revision {copy.schema_revision}, this "
                f"version at {expected}: restore it with the version that took it, then upgrade",
            )


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
        users = _sqlite_users(store.url) if is_sqlite(store.url) else _postgres_users(store.url)
        if users:
            raise Refused(
                "running",
                f"{store.service} 的数据库仍在使用中（{users}）：先停止该服务",
                f"the store of {store.service} is still in use ({users}): stop the service first",
            )


def _sqlite_users(url: str) -> str:
    """The processes that hold the SQLite file open (Linux: /proc), but this one."""
    path = _sqlite_path(url).resolve()
    names = {str(path), f"{path}-wal", f"{path}-shm"}
    pids = set()
    for descriptor in Path("/proc").glob("[0-9]*/fd/*"):
        with suppress(OSError):
            if os.readlink(descriptor) in names:
                pids.add(int(descriptor.parts[2]))
    pids.discard(os.getpid())
    return ", ".join(f"pid {pid}" for pid in sorted(pids))


def _postgres_users(url: str) -> str:
    import psycopg

    conninfo, env = _libpq(url)
    try:
        with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), connect_timeout=5) as db:
            rows = db.execute(
                "SELECT coalesce(nullif(application_name, ''), client_addr::text, 'local'),"
                " count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1"
            ).fetchall()
    except psycopg.OperationalError as exc:
        raise Refused(
            "unreachable",
            f"连不上数据库：{exc}（恢复前须先建好空数据库）",
            f"cannot reach the database: {exc} (create an empty one before restoring into it)",
        ) from exc
    return ", ".join(f"{count} × {name}" for name, count in rows)


# ----------------------------------------------------------------------------- restoring one


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
        async with _connected(nats) as connection:
            for copy in manifest.streams:
                started = time.perf_counter()
                await _restore_stream(connection, directory, copy)
                done.streams[copy.name] = round(time.perf_counter() - started, 3)
    restored_at = datetime.now(UTC)
    for store in targets:
        kept = manifest.database(store.service)
        assert kept is not None  # check_schemas refused otherwise
        started = time.perf_counter()
        await asyncio.to_thread(_restore_store, directory, kept, store, manifest, restored_at)
        done.databases[store.service] = round(time.perf_counter() - started, 3)
    return done


async def _restore_stream(connection: Any, directory: Path, copy: StreamCopy) -> None:
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


def _restore_store(
    directory: Path, copy: DatabaseCopy, store: Store, manifest: Manifest, restored_at: datetime
) -> None:
    source = directory / copy.file
    if copy.backend == "sqlite":
        if not is_sqlite(store.url):
            raise Refused(
                "other_backend",
                f"{store.service} 的备份是 SQLite，而它现在用 PostgreSQL",
                f"the backup of {store.service} is SQLite; it now uses PostgreSQL",
            )
        target = _sqlite_path(store.url)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f"{target.name}.restoring")
        shutil.copyfile(source, staging)
        mark_restored(f"sqlite:///{staging}", manifest.id, manifest.taken_at, restored_at)
        for suffix in ("-wal", "-shm"):  # the replaced database's, never to be replayed onto it
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        staging.replace(target)
        return
    if is_sqlite(store.url):
        raise Refused(
            "other_backend",
            f"{store.service} 的备份是 PostgreSQL，而它现在用 SQLite",
            f"the backup of {store.service} is PostgreSQL; it now uses SQLite",
        )
    conninfo, env = _libpq(store.url)
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(source)]
    _run(command, env)
    mark_restored(store.url, manifest.id, manifest.taken_at, restored_at)


def mark_restored(
    url: str, backup: str, taken_at: datetime | None, restored_at: datetime | None = None
) -> None:
    """Record in a store that it was restored: every consumer is behind until it has replayed
    the gap, and the service journals the restore when it starts."""
    now = restored_at or datetime.now(UTC)
    engine = sa.create_engine(sync_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(
                audit.restores.insert().values(
                    backup=backup[:64], taken_at=taken_at, restored_at=now
                )
            )
            connection.execute(messaging.positions.update().values(behind_since=now))
    finally:
        engine.dispose()


# ----------------------------------------------------------------------------- NATS


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
