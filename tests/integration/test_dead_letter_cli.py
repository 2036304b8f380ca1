"""Dead letters are listed, inspected and replayed from the command line after a fix, with exit
codes a script can rely on."""

import asyncio
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from contracts import streams, subjects
from contracts.envelope import Envelope, wrap
from contracts.measures import ProgressReported
from fivetype.cli import app
from fivetype.natsserver import NatsServer
from fivetype.ports import free_port
from services.runtime.messaging import processed
from services.runtime.service import ServiceRuntime
from tests.conftest import Databases, eventually_async
from tests.integration.runtime_probe import probe, running

UNIT = "360102"
runner = CliRunner()


async def cli(*args: str) -> tuple[int, str]:
    # Chinese, as the office reads it, whatever the machine's locale.
    result = await asyncio.to_thread(runner.invoke, app, list(args), env={"LC_ALL": "C.UTF-8"})
    return result.exit_code, result.output


async def test_list_show_replay_after_the_cause_is_fixed(
    nats: NatsServer, databases: Databases
) -> None:
    runtime = probe(nats.url, databases.url("probe"))
    outage = {"on": True}

    async def handler(session: AsyncSession, batch: list[Envelope[ProgressReported]]) -> None:
        if outage["on"]:
            raise ConnectionError("the scoring database is down")

    runtime.bus.consume(
        ProgressReported,
        subjects.event("ProgressReported"),
        streams.EVENTS,
        "probe-progress",
        handler,
    )
    event = wrap(
        ProgressReported(
            report_id="r-1",
            unit=UNIT,
            unit_name="东湖区",
            measure_code="M07",
            measure_title="t",
            percent_complete=10,
            reported_at=datetime(2026, 11, 1, tzinfo=UTC),
            reporter="r",
        ),
        subject=UNIT,
        source="test",
    )
    url = ["--nats-url", nats.url]
    async with running(runtime):
        await eventually_async(lambda: _true(runtime.bus.connected))
        js = runtime.bus.jetstream()
        assert js is not None
        await js.publish(subjects.event("ProgressReported", UNIT), event.to_json())

        async def listed() -> list[dict[str, object]]:
            code, output = await cli("dead-letters", "list", "--json", *url)
            assert code == 0, output
            return [json.loads(line) for line in output.splitlines()]

        letter = (await eventually_async(listed))[0]
        assert (letter["consumer"], letter["reason"]) == ("probe-progress", "retries_exhausted")
        assert letter["subject"] == f"fivetype.events.progress_reported.{UNIT}"
        code, output = await cli("dead-letters", "show", str(letter["sequence"]), *url)
        assert code == 0 and "the scoring database is down" in output and '"r-1"' in output

        outage["on"] = False
        code, output = await cli(
            "dead-letters", "replay", "--all", "--consumer", "probe-progress", *url
        )
        assert (code, output.strip()) == (0, "已重放死信 1 条")
        await eventually_async(lambda: _processed(runtime, event.id))
        assert await listed() == []
        assert (await cli("dead-letters", "replay", str(letter["sequence"]), *url))[0] == 4
        assert (await cli("dead-letters", "show", "999999", *url))[0] == 4
        assert (await cli("dead-letters", "replay", *url))[0] == 2
    unreachable = ["--nats-url", f"nats://127.0.0.1:{free_port()}"]
    assert (await cli("dead-letters", "list", *unreachable))[0] == 3


async def _true(value: bool) -> bool:
    return value


async def _processed(runtime: ServiceRuntime, message_id: str) -> bool:
    async with runtime.db.session() as session:
        found = await session.scalar(
            sa.select(processed.c.message_id).where(processed.c.message_id == message_id)
        )
    return found is not None
