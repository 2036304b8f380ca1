"""Each service's store: where it is, a consistent copy of it (SQLite's online backup API, or
`pg_dump` in the snapshot of one transaction), who still uses it, putting a copy back, and
marking a store as restored (its consumers catch up, its journal records the restore)."""

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fivetype.backup.manifest import DatabaseCopy, Manifest, Refused, digest
from services.runtime import audit, messaging
from services.runtime.db import is_sqlite, sync_url


@dataclass(frozen=True)
class Store:
    """One service's database."""

    service: str
    url: str


def service_stores(data_dir: Path, services: Iterable[str]) -> list[Store]:
    """Where each service keeps its store, as the service itself would resolve it: its
    DATABASE_URL setting, else its SQLite file in the data folder."""
    import importlib

    found = []
    for service in services:
        module = importlib.import_module(f"services.{service}.settings")
        settings = getattr(module, f"{service.capitalize()}Settings")(data_dir=data_dir)
        found.append(Store(service, settings.resolved_database_url))
    return found


def copy_store(directory: Path, store: Store) -> DatabaseCopy:
    started = time.perf_counter()
    if is_sqlite(store.url):
        relative = f"databases/{store.service}.sqlite3"
        figures = _copy_sqlite(_sqlite_path(store.url), directory / relative)
        backend: Literal["sqlite", "postgresql"] = "sqlite"
    else:
        relative = f"databases/{store.service}.pgdump"
        figures = _dump_postgres(store.url, directory / relative)
        backend = "postgresql"
    size, sha256 = digest(directory / relative)
    revision, entries, positions = figures
    return DatabaseCopy(
        service=store.service,
        backend=backend,
        file=relative,
        bytes=size,
        sha256=sha256,
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


def users(store: Store) -> str:
    """Who still uses the store, if anyone (empty if no one)."""
    return _sqlite_users(store.url) if is_sqlite(store.url) else _postgres_users(store.url)


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


def restore_store(
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
