"""The disaster-recovery drill: a load runs, `fivetype backup` is taken in the middle of it, the
load goes on; then scoring's store, and after it measures', is replaced by the backup while the
other services keep running, and the service started again catches up from the stream. Every
acknowledged input is then accounted for message by message, nothing counted twice, the cards
equal an offline rebuild and `fivetype audit verify` passes, its journal saying it was restored.

What a restore cannot bring back is what reached a store through its own API after the backup
and through no stream: measures' progress reports accepted over HTTP. Their events are on the
stream and scored; the drill checks that each one missing was acknowledged after the backup
began, and sends it again, as the unit's system is asked to: its report id makes that safe."""

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner, Result

from fivetype.cli import app
from fivetype.stack import Stack
from services.runtime.db import Database
from services.runtime.messaging import positions
from tests.conftest import Databases, eventually_async, scaled, start_nats
from tests.reliability import faults
from tests.reliability.checker import Row, compare_scores, database_url, settle
from tests.reliability.conftest import SCALE, Report
from tests.reliability.load import Input, Kind, Load, client, prepare
from tests.reliability.test_faults import assert_exact, platform

LOAD_SECONDS = 2 * SCALE  # before the backup, and again after it
RATE = 6.0
SETTLE_SECONDS = 90.0


def fivetype(stack: Stack, directory: Path, *args: str) -> Result:
    """A `fivetype` command as the operator runs it next to this platform: the services'
    database settings and NATS in the environment, the data folder the test's."""
    env = {
        f"FIVETYPE_{s.name.upper()}_DATABASE_URL": database_url(stack, s.name)
        for s in stack.services
    }
    env |= {
        "NATS_URL": stack.nats_url,
        "FIVETYPE_DATA_DIR": str(directory),
        "LC_ALL": "en_US.UTF-8",
    }
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@dataclass
class Figures:
    """What the drill measures, for docs/reliability.md."""

    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)


async def behind(url: str) -> int:
    """How many of a store's consumers are still marked behind (-1 before it is migrated)."""
    database = Database(url)
    try:
        async with database.session() as session:
            return int(
                await session.scalar(
                    sa.select(sa.func.count()).where(positions.c.behind_since.is_not(None))
                )
                or 0
            )
    except sa.exc.OperationalError:
        return -1
    finally:
        await database.dispose()


async def recovered(stack: Stack, service: str) -> float:
    """Messages the service's consumers replayed that its store lacked, from its /metrics."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(stack.service(service).metrics_url)).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "fivetype_consumer_catch_up_messages"
        for sample in family.samples
        if sample.labels.get("outcome") == "recovered"
    )


async def restore_alone(
    stack: Stack, directory: Path, backup: Path, service: str, figures: Figures
) -> None:
    """Kill one service (its store is lost), put the store back from the backup, start it
    again and wait until every consumer has caught up."""
    process = stack.service(service)
    assert process.process is not None
    process.process.kill()
    await asyncio.to_thread(process.wait, 10)
    logged = process.log_file.stat().st_size
    began = time.monotonic()
    result = await asyncio.to_thread(
        fivetype, stack, directory, "restore", str(backup), "--service", service
    )
    assert result.exit_code == 0, result.output
    figures.seconds[f"{service}_restore"] = round(time.monotonic() - began, 2)
    began = time.monotonic()
    await faults.restart(process)
    figures.seconds[f"{service}_start_until_ready"] = round(time.monotonic() - began, 2)
    url = database_url(stack, service)

    async def caught_up() -> bool:
        return await behind(url) == 0

    await eventually_async(caught_up, within=SETTLE_SECONDS)
    with process.log_file.open("rb") as log:
        log.seek(logged)
        lines = log.read().decode(errors="replace")
    # Each consumer catches up on its own, at once: the longest is the service's.
    spent = [float(s) for s in re.findall(r"caught up with the stream.*?seconds=([\d.]+)", lines)]
    figures.seconds[f"{service}_catch_up"] = max(spent, default=0.0)
    figures.counts[f"{service}_recovered_messages"] = await recovered(stack, service)


async def lost_with_measures(stack: Stack, inputs: list[Input]) -> list[Input]:
    """The progress reports accepted over HTTP that measures' store no longer holds."""
    missing = []
    async with client(stack.service("measures").url) as http:
        for item in inputs:
            if item.kind is Kind.PROGRESS_HTTP and item.acknowledged:
                path = f"/v1/units/{item.unit}/progress-reports/{item.key}"
                if (await http.get(path)).status_code == 404:
                    missing.append(item)
    return missing


async def restore_journaled(stack: Stack, directory: Path, service: str) -> None:
    """The restored service journals its restore in its periodic audit checkpoint, which a busy
    machine may run only after the store has caught up: until then `audit verify` finds the
    journal behind its last checkpoint. Wait for the entry, then the journal verifies."""

    async def journaled() -> bool:
        result = await asyncio.to_thread(
            fivetype,
            stack,
            directory,
            "audit",
            "verify",
            "--service",
            service,
            "--database-url",
            database_url(stack, service),
        )
        return result.exit_code == 0 and "restored from backup" in result.output

    await eventually_async(journaled, within=30)


async def test_a_restored_store_catches_up_from_the_stream(
    databases: Databases, tmp_path: Path, report: Report
) -> None:
    nats = start_nats(tmp_path)
    try:
        stack = await platform(tmp_path, nats.url, databases)
        try:
            row, figures = await drill(stack, tmp_path, databases.backend)
        finally:
            await asyncio.to_thread(stack.stop, 5)
    finally:
        nats.stop()
    report.add(row)
    report.note(f"restore drill ({databases.backend})", {**figures.seconds, **figures.counts})
    assert_exact(row)


async def drill(stack: Stack, directory: Path, backend: str) -> tuple[Row, Figures]:
    figures = Figures()
    started = time.monotonic()
    backup = directory / "backup"
    await prepare(stack.service("measures").url)
    load = Load(
        stack.service("measures").url,
        stack.service("inspections").url,
        stack.nats_url,
        RATE,
        label=f"drill-{backend}",
    )
    stop = asyncio.Event()
    loading = asyncio.create_task(load.run(stop))
    await asyncio.sleep(LOAD_SECONDS)
    backup_began = time.time()
    result = await asyncio.to_thread(fivetype, stack, directory, "backup", str(backup))
    assert result.exit_code == 0, result.output
    figures.seconds["backup"] = round(time.time() - backup_began, 2)
    await asyncio.sleep(LOAD_SECONDS)
    stop.set()
    await loading
    manifest = json.loads((backup / "manifest.json").read_text())
    figures.counts["backup_bytes"] = sum(
        copy["bytes"] for copy in manifest["databases"] + manifest["streams"]
    )
    figures.counts["events_in_backup"] = next(
        s["state"]["messages"] for s in manifest["streams"] if s["name"] == "FIVETYPE_EVENTS"
    )
    figures.counts["inputs_after_backup"] = sum(
        1 for i in load.sent if i.acknowledged_at and i.acknowledged_at > backup_began
    )

    row = Row(f"store restored from a backup ({backend})")
    await settle(stack, row, load.sent, scaled(SETTLE_SECONDS))
    assert (row.lost, row.double_counted) == (0, 0), row.problems[:20]

    await restore_alone(stack, directory, backup, "scoring", figures)
    await settle(stack, row, load.sent, scaled(SETTLE_SECONDS))
    assert (row.lost, row.double_counted) == (0, 0), row.problems[:20]
    await restore_journaled(stack, directory, "scoring")

    await restore_alone(stack, directory, backup, "measures", figures)
    missing = await lost_with_measures(stack, load.sent)
    assert all((i.acknowledged_at or 0) > backup_began for i in missing), missing
    for item in missing:  # the unit's system sends what it sent since the backup again
        assert await load.send_again(item) == 0, item
    figures.counts["http_reports_sent_again"] = len(missing)
    await settle(stack, row, load.sent, scaled(SETTLE_SECONDS))
    await compare_scores(stack, row, directory, scaled(SETTLE_SECONDS))
    await restore_journaled(stack, directory, "measures")
    await restore_journaled(stack, directory, "scoring")
    row.detail = f"scoring, then measures; {len(missing)} HTTP reports sent again"
    row.seconds = round(time.monotonic() - started, 1)
    return row, figures
