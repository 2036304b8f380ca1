"""Time the deadline watcher's sweep over 1,000,000 open milestones (SQLite, and PostgreSQL when
reachable), with the service's own sweep code and default settings.

The milestones are due over the coming year (about 2,740 a day, under 10,000 assignments), in
the state the watcher leaves them after sweeping until yesterday. Three sweeps are timed:

- the first sweep of the day: the day's misses and its 7-, 3- and 1-day reminders (~11,000
  events staged in the outbox, ~2,740 journal entries), in transactions of `--batch` milestones;
- the next sweep, with nothing left to say (what every other run of the day costs);
- the index range query alone, for reference.

    .venv/bin/python bench/deadline_sweep.py --milestones 1000000 --database both
"""

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlmodel import col

from services.measures.adapters import repository
from services.measures.adapters.reference import ReferenceStore
from services.measures.adapters.tables import Assignment, Milestone
from services.measures.bootstrap import MIGRATIONS
from services.measures.domain.deadlines import next_alert_on
from services.measures.handlers import watcher
from services.measures.handlers.common import Context
from services.measures.settings import MeasuresSettings
from services.runtime.db import Database, migrate, sync_url

TODAY = date(2026, 7, 1)
NOW = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 09:00 in Nanchang
OFFSETS = (7, 3, 1)
PER_ASSIGNMENT = 100
DAYS = 365
POSTGRES = os.environ.get(
    "FIVETYPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def database(kind: str, directory: Path) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'sweep.db'}", lambda: None
    name = f"bench_sweep_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return POSTGRES.rsplit("/", 1)[0] + "/" + name, drop


def steady_state(due: date) -> tuple[int | None, date]:
    """The milestone as the watcher left it after yesterday's sweeps."""
    yesterday = TODAY - timedelta(days=1)
    crossed = [o for o in OFFSETS if due - timedelta(days=o) <= yesterday]
    reminded = min(crossed) if crossed else None
    return reminded, next_alert_on(due, OFFSETS, reminded)


def assignment_rows(count: int) -> Iterator[dict[str, object]]:
    for n in range(count):
        yield {
            "id": n + 1,
            "assignment_id": f"bench-{n}",
            "year": 2026,
            "measure_code": "M13",
            "measure_root": "M13",
            "measure_type": "service",
            "title_zh": "切实加强和改进政务服务",
            "title_en": "Strengthen and improve government services",
            "lead_unit": "360102",
            "co_units": [],
            "start_on": date(2026, 1, 1),
            "reported_percent": 0.0,
            "note": "",
            "fingerprint": "0" * 64,
            "created_by": "bench",
            "created_at": NOW,
        }


def milestone_rows(count: int) -> Iterator[dict[str, object]]:
    first_due = TODAY - timedelta(days=1)  # yesterday's are missed today
    for n in range(count):
        due = first_due + timedelta(days=n % DAYS)
        reminded, alert_on = steady_state(due)
        yield {
            "assignment_pk": n // PER_ASSIGNMENT + 1,
            "milestone_id": f"m{n % PER_ASSIGNMENT}",
            "unit": "360102",
            "title": f"节点 {n}",
            "due_date": due,
            "original_due_date": due,
            "expected_percent": 100.0,
            "percent_complete": 0.0,
            "reminded_offset": reminded,
            "alert_on": alert_on,
        }


def chunks(rows: Iterator[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    chunk: list[dict[str, object]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(url: str, milestones: int) -> None:
    engine = sa.create_engine(sync_url(url))
    assignments = sa.Table("assignments", sa.MetaData(), autoload_with=engine)
    rows = sa.Table("milestones", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for chunk in chunks(assignment_rows(-(-milestones // PER_ASSIGNMENT)), 5000):
            connection.execute(assignments.insert(), chunk)
        for chunk in chunks(milestone_rows(milestones), 20_000):
            connection.execute(rows.insert(), chunk)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE milestones"))
            connection.execute(sa.text("ANALYZE assignments"))
    engine.dispose()


async def timed_sweeps(url: str, batch: int) -> list[tuple[str, float, str]]:
    db = Database(url)
    ctx = Context(ReferenceStore(), lambda: NOW, timedelta(seconds=300), OFFSETS)
    async with db.session() as session:  # a running service's connections are open already
        await repository.due_alerts(session, TODAY - timedelta(days=DAYS), batch)
    results = []
    for label in ("first sweep of the day", "next sweep (nothing due)"):
        started = time.perf_counter()
        swept = await watcher.sweep(db, ctx, batch)
        elapsed = time.perf_counter() - started
        results.append((label, elapsed, f"{swept.missed} missed, {swept.reminded} reminders"))
    started = time.perf_counter()
    async with db.session() as session:
        due = await repository.due_alerts(session, TODAY, batch)
    results.append(("the alert query alone", time.perf_counter() - started, f"{len(due)} rows"))
    async with db.session() as session:
        counts = await session.execute(
            sa.select(sa.func.count())
            .select_from(Milestone)
            .where(col(Milestone.completed_at).is_(None))
        )
        assignments = await session.scalar(sa.select(sa.func.count()).select_from(Assignment))
        results.append(("open milestones", counts.scalar_one(), f"{assignments} assignments"))
    await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=1_000_000)
    parser.add_argument(
        "--batch",
        type=int,
        default=MeasuresSettings.model_fields["deadline_batch_size"].default,
        help="milestones per transaction (default: the service's)",
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            try:
                url, drop = database(kind, Path(tmp))
            except psycopg.OperationalError as exc:
                print(f"{kind}: not reachable ({exc}); skipped")
                continue
            try:
                migrate(url, MIGRATIONS)
                started = time.perf_counter()
                load(url, args.milestones)
                loaded = time.perf_counter() - started
                print(f"{kind}: loaded {args.milestones} milestones in {loaded:.0f} s")
                for label, value, note in asyncio.run(timed_sweeps(url, args.batch)):
                    shown = f"{value:8.3f} s" if isinstance(value, float) else f"{value:8d}  "
                    print(f"  {label:28} {shown}  ({note})")
            finally:
                drop()


if __name__ == "__main__":
    main()
