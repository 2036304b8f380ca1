"""`fivetype backup` and `fivetype restore` on a stopped one-machine platform: the whole restore
puts the streams and every store back as they were, each store marked to catch up; and a restore
refuses, touching nothing, a backup that is incomplete, damaged or of another schema, and a
platform that still runs."""

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from nats import connect as connect_nats
from typer.testing import CliRunner, Result

from contracts import streams, subjects
from fivetype import backup, state
from fivetype.cli import app
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from fivetype.stack import SERVICES
from services.runtime import audit, messaging
from services.runtime.bus import provision_streams
from services.runtime.db import migrate, sync_url
from tests.conftest import Databases
from tests.integration.test_consumer_policy import UNIT, event


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every service's SQLite store, migrated once; each test works on copies."""
    folder = tmp_path_factory.mktemp("migrated")
    for service in SERVICES:
        migrate(
            f"sqlite:///{folder / f'{service}.db'}", backup.SERVICES_ROOT / service / "migrations"
        )
    return folder


@pytest.fixture
def data_dir(migrated: Path, tmp_path: Path) -> Path:
    """A stopped embedded stack's data folder: the stores and a JetStream store with events."""
    folder = tmp_path / "data"
    shutil.copytree(migrated, folder)
    with nats_server(folder) as url:
        asyncio.run(_publish(url, ["before-1", "before-2", "before-3"]))
    return folder


@pytest.fixture
def taken(data_dir: Path) -> Path:
    """A backup of the stopped platform."""
    result = fivetype(data_dir, "backup", str(data_dir.parent / "backup"))
    assert result.exit_code == 0, result.output
    return data_dir.parent / "backup"


def fivetype(data_dir: Path, *args: str) -> Result:
    env = {"FIVETYPE_DATA_DIR": str(data_dir), "LC_ALL": "en_US.UTF-8", "NATS_URL": ""}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@contextmanager
def nats_server(data_dir: Path) -> Iterator[str]:
    """The data folder's JetStream store served by a nats-server, as the stack would."""
    server = NatsServer(data_dir / "nats", free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def _publish(url: str, names: list[str]) -> None:
    connection = await connect_nats(url)
    try:
        js = connection.jetstream()
        await provision_streams(js, 1)
        for name in names:
            await js.publish(subjects.event("ProgressReported", UNIT), event(name))
    finally:
        await connection.close()


async def _events(url: str) -> int:
    connection = await connect_nats(url)
    try:
        return int((await connection.jetstream().stream_info(streams.EVENTS.name)).state.messages)
    finally:
        await connection.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scoring_db(data_dir: Path) -> Path:
    return data_dir / "scoring.db"


def _write_into(path: Path) -> None:
    """A change made after the backup, which a restore undoes."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO processed_messages VALUES ('scoring-progress', 'after', '2026-12-03')"
        )


# ----------------------------------------------------------------------------- the whole restore


def test_a_whole_restore_puts_streams_and_stores_back_and_marks_them(
    data_dir: Path, taken: Path
) -> None:
    manifest = json.loads((taken / backup.MANIFEST).read_text())
    assert {copy["service"] for copy in manifest["databases"]} == set(SERVICES)
    events = next(s for s in manifest["streams"] if s["name"] == streams.EVENTS.name)
    assert events["state"]["messages"] == 3
    with nats_server(data_dir) as url:
        asyncio.run(_publish(url, ["after-1", "after-2"]))
        assert asyncio.run(_events(url)) == 5
    _write_into(scoring_db(data_dir))

    result = fivetype(data_dir, "restore", str(taken))
    assert result.exit_code == 0, result.output
    assert "restored to backup" in result.output
    with nats_server(data_dir) as url:
        assert asyncio.run(_events(url)) == 3  # the stream as it was at the backup
    engine = sa.create_engine(sync_url(f"sqlite:///{scoring_db(data_dir)}"))
    with engine.connect() as connection:
        inbox = connection.execute(sa.select(messaging.processed.c.message_id)).scalars().all()
        (restore,) = connection.execute(sa.select(audit.restores)).all()
    engine.dispose()
    assert "after" not in inbox
    assert restore.backup == manifest["id"] and restore.journaled_at is None


def test_restoring_one_store_leaves_the_streams_and_the_others(data_dir: Path, taken: Path) -> None:
    with nats_server(data_dir) as url:
        asyncio.run(_publish(url, ["after-1"]))
    _write_into(scoring_db(data_dir))
    measures = digest(data_dir / "measures.db")
    result = fivetype(data_dir, "restore", str(taken), "--service", "scoring")
    assert result.exit_code == 0, result.output
    with nats_server(data_dir) as url:
        assert asyncio.run(_events(url)) == 4
    assert digest(data_dir / "measures.db") == measures
    with sqlite3.connect(scoring_db(data_dir)) as connection:
        assert connection.execute("SELECT count(*) FROM restores").fetchone() == (1,)


# ----------------------------------------------------------------------------- refusals


def refused(data_dir: Path, taken: Path, code: str, *args: str) -> str:
    """Restore and expect the refusal `code`, with every store and the stream untouched."""
    before = {service: digest(data_dir / f"{service}.db") for service in SERVICES}
    result = fivetype(data_dir, "restore", str(taken), *args)
    assert result.exit_code == 1, result.output
    assert f"({code})" in result.output, result.output
    assert {service: digest(data_dir / f"{service}.db") for service in SERVICES} == before
    return result.output


def test_a_backup_without_its_manifest_is_incomplete(data_dir: Path, taken: Path) -> None:
    (taken / backup.MANIFEST).unlink()
    assert "did not finish" in refused(data_dir, taken, "incomplete")


def test_a_backup_missing_a_file_is_incomplete(data_dir: Path, taken: Path) -> None:
    (taken / "streams" / f"{streams.EVENTS.name}.snapshot").unlink()
    assert "is missing" in refused(data_dir, taken, "incomplete")


def test_a_file_with_a_bad_checksum_is_damaged(data_dir: Path, taken: Path) -> None:
    copy = taken / "databases" / "notifications.sqlite3"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    assert "checksum" in refused(data_dir, taken, "damaged")


def test_an_unreadable_manifest_is_damaged(data_dir: Path, taken: Path) -> None:
    manifest = taken / backup.MANIFEST
    manifest.write_text(manifest.read_text()[:200])
    refused(data_dir, taken, "damaged")


def test_a_store_of_another_schema_version_is_refused(migrated: Path, tmp_path: Path) -> None:
    """A backup taken by a version of fivetype whose migrations ended earlier."""
    data_dir = tmp_path / "data"
    shutil.copytree(migrated, data_dir)
    config = Config()
    config.set_main_option("script_location", str(backup.SERVICES_ROOT / "scoring" / "migrations"))
    config.attributes["url"] = sync_url(f"sqlite:///{scoring_db(data_dir)}")
    command.downgrade(config, "-1")
    with nats_server(data_dir) as url:
        asyncio.run(_publish(url, ["before"]))
    taken = tmp_path / "old-backup"
    assert fivetype(data_dir, "backup", str(taken)).exit_code == 0
    migrate(f"sqlite:///{scoring_db(data_dir)}", backup.SERVICES_ROOT / "scoring" / "migrations")
    output = refused(data_dir, taken, "other_schema", "--service", "scoring")
    assert "schema revision 0006" in output and "0007" in output


def test_a_running_stack_is_refused(data_dir: Path, taken: Path) -> None:
    state.write(data_dir, state.StackState(pid=os.getpid(), nats_url="nats://x", services={}))
    try:
        assert "is running" in refused(data_dir, taken, "running")
    finally:
        state.remove(data_dir)


def test_a_store_held_open_by_a_service_is_refused(data_dir: Path, taken: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('SELECT 1 FROM alembic_version').fetchall(); print('open', flush=True); "
            "time.sleep(60)",
            str(scoring_db(data_dir)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        output = refused(data_dir, taken, "running", "--service", "scoring")
        assert f"pid {holder.pid}" in output
    finally:
        holder.kill()
        holder.wait()


def test_a_restore_made_by_other_means_is_recorded(data_dir: Path) -> None:
    """After a point-in-time recovery: the store is marked behind and the restore is to be
    journaled, as `fivetype restore` leaves it."""
    with sqlite3.connect(scoring_db(data_dir)) as connection:
        connection.execute(
            "INSERT INTO consumer_positions VALUES ('scoring-progress', 9, 7, NULL, '2026-12-03')"
        )
    result = fivetype(
        data_dir, "restored", "scoring", "--note", "PITR 02:00", "--as-of", "2026-12-03T02:00:00"
    )
    assert result.exit_code == 0, result.output
    with sqlite3.connect(scoring_db(data_dir)) as connection:
        (backup_note, taken_at) = connection.execute(
            "SELECT backup, taken_at FROM restores"
        ).fetchone()
        (behind,) = connection.execute("SELECT behind_since FROM consumer_positions").fetchone()
    assert backup_note == "PITR 02:00" and taken_at.startswith("2026-12-02 18:00")  # UTC
    assert behind is not None


def test_a_backup_folder_is_never_reused(data_dir: Path, taken: Path) -> None:
    result = fivetype(data_dir, "backup", str(taken))
    assert result.exit_code == 1 and "(not_empty)" in result.output


@pytest.mark.postgres
def test_a_postgresql_store_with_a_session_open_is_refused(postgres: str, tmp_path: Path) -> None:
    import psycopg

    databases = Databases("postgres", tmp_path, postgres)
    try:
        url = databases.url("scoring")
        with (
            psycopg.connect(url, application_name="fivetype-scoring"),
            pytest.raises(backup.Refused) as refusal,
        ):
            backup.check_stopped(tmp_path, [backup.Store("scoring", url)])
        assert refusal.value.code == "running" and "fivetype-scoring" in refusal.value.en
        backup.check_stopped(tmp_path, [backup.Store("scoring", url)])  # closed: no refusal
    finally:
        databases.drop_all()
